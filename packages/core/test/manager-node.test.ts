/**
 * ManagerNode over real gRPC with mutual TLS on 127.0.0.1: three managers in one process,
 * certificates minted by a test root CA, state in temporary directories.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FailedPreconditionError, cryptoRandom, generateId } from '@swarmkit-ts/api'
import { ManagerNode } from '../src/manager/index.ts'
import { CLUSTER_ID, FAST_RAFT, TermRecorder, cleanupAfterEach, managerInit, until } from './helpers/manager-rig.ts'

const cleanup = cleanupAfterEach()

/** Node ids of the three managers (certificate CNs). */
const [N1, N2, N3] = [0, 1, 2].map(() => generateId(cryptoRandom)) as [string, string, string]

/** Keeps `m` closed after the test. */
function track(m: ManagerNode): ManagerNode {
  cleanup.push(() => m.close())
  return m
}

/** Three managers: m1 inits, m2 joins through m1, m3 joins through m2 (a follower: redirected to the leader). */
async function threeManagers(recorder?: TermRecorder): Promise<[ManagerNode, ManagerNode, ManagerNode]> {
  const leaderComponents = recorder === undefined ? undefined : [recorder.component()]
  const m1 = track(await ManagerNode.init({ ...(await managerInit(cleanup, N1, { leaderComponents })) }))
  const m2 = track(await ManagerNode.join({ ...(await managerInit(cleanup, N2, { leaderComponents })), joinAddress: m1.server.address }))
  await until(() => m2.leaderAddress() !== undefined, 'm2 to know the leader')
  const m3 = track(await ManagerNode.join({ ...(await managerInit(cleanup, N3, { leaderComponents })), joinAddress: m2.server.address }))
  const all: [ManagerNode, ManagerNode, ManagerNode] = [m1, m2, m3]
  await until(() => all.every((m) => m.leaderAddress() === m1.server.address), 'every manager to follow m1')
  return all
}

async function createSecret(m: ManagerNode, name: string): Promise<string> {
  const id = generateId(cryptoRandom)
  await m.store.update((tx) => tx.secrets.create({ id, spec: { annotations: { name }, data: new TextEncoder().encode(`value of ${name}`) } }))
  return id
}

const secretName = (m: ManagerNode, id: string): string | undefined => m.store.view((tx) => tx.secrets.get(id))?.spec.annotations.name

describe('ManagerNode: a three-manager cluster over gRPC with mTLS', () => {
  it('elects one leader that runs the leader loops, and replicates its writes to the followers', async () => {
    const recorder = new TermRecorder()
    const all = await threeManagers(recorder)
    const [m1, , m3] = all
    expect(all.map((m) => m.isLeader)).toEqual([true, false, false])
    await m1.leaderLoopsSettled()
    expect(all.map((m) => m.dispatcher() !== undefined)).toEqual([true, false, false])
    expect([...recorder.running]).toEqual([N1])
    expect(new Set(m1.members().map((x) => x.nodeId))).toEqual(new Set([N1, N2, N3]))

    const id = await createSecret(m1, 'db-password')
    await until(() => all.every((m) => secretName(m, id) === 'db-password'), 'the secret on every manager')
    // The cluster object and the ingress network (the allocator's bootstrap) reached the followers too.
    expect(m3.store.view((tx) => tx.clusters.get(CLUSTER_ID)?.id)).toBe(CLUSTER_ID)
    await until(() => m3.store.view((tx) => tx.networks.find().some((n) => n.spec.annotations.name === 'ingress')), 'the ingress network on m3')
    expect(m3.store.view((tx) => tx.nodes.get(N3)?.role)).toBe('manager')
    // The leader records who leads in the managers' Nodes.
    await until(() => m3.store.view((tx) => tx.nodes.get(N1)?.managerStatus?.leader === true && tx.nodes.get(N2)?.managerStatus?.leader === false), 'the leader flags')
  })

  it('a write on a follower fails with NotLeaderError naming the leader', async () => {
    const [m1, m2] = await threeManagers()
    await expect(createSecret(m2, 'x')).rejects.toMatchObject({ name: 'NotLeaderError', leaderAddr: m1.server.address })
  })

  it('closing the leader: a new leader starts its loops, the old one stopped its own', async () => {
    const recorder = new TermRecorder()
    const [m1, m2, m3] = (await threeManagers(recorder))
    await m1.leaderLoopsSettled()
    const events: { node: string; isLeader: boolean }[] = []
    for (const m of [m2, m3]) m.on('leader', (e) => events.push({ node: m.nodeId, isLeader: e.isLeader }))
    await m1.close()
    expect(m1.leaderLoopsRunning).toBe(false)
    expect(recorder.events.filter((e) => e.endsWith(N1))).toEqual([`start ${N1}`, `stop ${N1}`])
    await until(() => [m2, m3].some((m) => m.isLeader && m.leaderLoopsRunning), 'a new leader running its loops')
    const next = m2.isLeader ? m2 : m3
    expect(events).toContainEqual({ node: next.nodeId, isLeader: true })
    expect(next.dispatcher()).toBeDefined()
    expect([...recorder.running]).toEqual([next.nodeId])
    // The new leader accepts writes and the other survivor sees them.
    const other = next === m2 ? m3 : m2
    const id = await createSecret(next, 'after-failover')
    await until(() => secretName(other, id) === 'after-failover', 'the write on the other survivor')
  })

  it('a manager leaves: the leader removes it from the Raft group and its Node becomes a worker', async () => {
    const [m1, m2, m3] = (await threeManagers())
    await m3.leave()
    expect(m1.members().map((x) => x.nodeId).sort()).toEqual([N1, N2].sort())
    const node = m1.store.view((tx) => tx.nodes.get(N3))
    expect({ role: node?.role, desired: node?.spec.desiredRole, managerStatus: node?.managerStatus }).toEqual({ role: 'worker', desired: 'worker', managerStatus: undefined })
    // The two left still commit.
    const id = await createSecret(m1, 'two-managers')
    await until(() => secretName(m2, id) === 'two-managers', 'the write on m2')
  })

  it('the leader leaving hands leadership over first', async () => {
    const [m1, m2, m3] = (await threeManagers())
    await m1.leave()
    await until(() => [m2, m3].some((m) => m.isLeader), 'a new leader')
    const next = m2.isLeader ? m2 : m3
    expect(next.members().map((x) => x.nodeId).sort()).toEqual([N2, N3].sort())
  })

  it('refuses a demotion or leave that would lose quorum, and allows removing the manager that is down', async () => {
    const [m1, m2, m3] = (await threeManagers())
    await m3.close()
    await until(() => m1.members().some((x) => x.nodeId === N3 && !x.reachable), 'the leader to see m3 unreachable')
    const node2 = m1.store.view((tx) => tx.nodes.get(N2))
    const node3 = m1.store.view((tx) => tx.nodes.get(N3))
    if (node2 === undefined || node3 === undefined) throw new Error('manager nodes missing')
    const refusal = await m1.membershipHooks().demote(node2).then(() => undefined, (err: unknown) => err)
    expect(refusal).toBeInstanceOf(FailedPreconditionError)
    expect(refusal).toMatchObject({ reason: 'quorum' })
    await expect(m2.leave()).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'quorum' })
    expect(m1.members()).toHaveLength(3)
    await expect(m1.membershipHooks().demote(node3)).resolves.toBeUndefined()
    // The leader's periodic round records the manager that is down as unreachable.
    await until(() => m1.store.view((tx) => tx.nodes.get(N3)?.managerStatus?.reachability) === 'unreachable', 'm3 recorded unreachable')
    await expect(m1.membershipHooks().remove(node3)).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'raft-member' })
  })

  it('a demotion committed to the store is reconciled: the member leaves the Raft group, the role follows', async () => {
    const [m1] = (await threeManagers())
    await m1.store.update((tx) => tx.nodes.update(N3, (d) => void (d.spec.desiredRole = 'worker')))
    await until(() => m1.store.view((tx) => tx.nodes.get(N3)?.role) === 'worker', 'the role manager to demote the third manager')
    expect(m1.members().map((x) => x.nodeId).sort()).toEqual([N1, N2].sort())
    expect(m1.store.view((tx) => tx.nodes.get(N3)?.managerStatus)).toBeUndefined()
  })

  it('demoting the leader hands leadership over, and the next leader completes the demotion', async () => {
    const [m1, m2, m3] = await threeManagers()
    await m1.store.update((tx) => tx.nodes.update(N1, (d) => void (d.spec.desiredRole = 'worker')))
    await until(() => [m2, m3].some((m) => m.isLeader && m.store.view((tx) => tx.nodes.get(N1)?.role) === 'worker'), 'a new leader to complete the demotion')
    const next = m2.isLeader ? m2 : m3
    expect(next.members().map((x) => x.nodeId).sort()).toEqual([N2, N3].sort())
    expect(m1.isLeader).toBe(false)
  })
})

describe('ManagerNode: restart from the state directory', () => {
  it('a follower restarted from its state dir keeps its identity and catches up on what it missed', async () => {
    const m1 = track(await ManagerNode.init(await managerInit(cleanup, N1)))
    const init2 = await managerInit(cleanup, N2)
    const m2 = track(await ManagerNode.join({ ...init2, joinAddress: m1.server.address }))
    const m3 = track(await ManagerNode.join({ ...(await managerInit(cleanup, N3)), joinAddress: m1.server.address }))
    const before = await createSecret(m1, 'before-restart')
    await until(() => secretName(m2, before) === 'before-restart', 'the first write on m2')
    await m2.close()
    const during = await createSecret(m1, 'while-m2-was-down')
    // Same state dir, same certificate, a new port: the group learns the new address (rejoin).
    const again = track(await ManagerNode.open(init2))
    expect(again.server.address).not.toBe(m2.server.address)
    expect(again.raftId).toBe(m2.raftId)
    await until(() => secretName(again, during) === 'while-m2-was-down' && secretName(again, before) === 'before-restart', 'the restarted follower to catch up')
    const after = await createSecret(m1, 'after-restart')
    await until(() => secretName(again, after) === 'after-restart' && secretName(m3, after) === 'after-restart', 'a later write everywhere')
  })

  it('restores the store from encrypted Raft files in which no secret name can be found', async () => {
    const init = await managerInit(cleanup, N1, { raft: { ...FAST_RAFT, snapshotInterval: 5 } })
    const m = track(await ManagerNode.init(init))
    const ids: string[] = []
    // Enough writes for a snapshot (every 5 entries) as well as WAL records.
    for (let i = 0; i < 8; i++) ids.push(await createSecret(m, `findme-secret-${i}`))
    await m.close()

    const raftDir = join(init.stateDir, 'raft')
    const files = await readdir(raftDir, { recursive: true, withFileTypes: true })
    const contents = await Promise.all(files.filter((f) => f.isFile()).map((f) => readFile(join(f.parentPath, f.name))))
    expect(contents.length).toBeGreaterThan(1)
    expect(contents.filter((c) => c.includes('findme-secret'))).toHaveLength(0)
    expect(contents.filter((c) => c.includes('value of'))).toHaveLength(0)

    const again = track(await ManagerNode.open(init))
    await until(() => again.isLeader, 'the restarted manager to lead again')
    expect(ids.map((id) => secretName(again, id))).toEqual(ids.map((_, i) => `findme-secret-${i}`))
    expect(again.raftId).toBe(m.raftId)
  })

  it('refuses to init over an existing manager state directory', async () => {
    const init = await managerInit(cleanup, N1)
    const m = track(await ManagerNode.init(init))
    await m.close()
    await expect(ManagerNode.init(init)).rejects.toMatchObject({ name: 'AlreadyExistsError' })
  })
})
