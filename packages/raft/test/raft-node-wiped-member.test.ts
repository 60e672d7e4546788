/**
 * Issue 12 #3: a member restarted with empty storage under its old id. Here it voted in term T
 * for B, lost its storage, came back under the same id and — unprotected — voted again in T
 * for A, so A and B both led term T and a write B had acknowledged vanished from A's log. With
 * storage incarnations bound in the log the wiped member is refused and stops itself with
 * `MemberIdentityError`; there is one leader per term and every acknowledged write is applied on
 * every live member, in order.
 */
import { describe, expect, it } from 'vitest'
import { SeededRandom } from '@swarmkit-ts/testkit'
import { MemberIdentityError, MemoryRaftStorage, RaftNode } from '../src/index.ts'
import { encodeNodeSnapshot } from '../src/driver/raft-node-codec.ts'
import { DriverCluster, KvStateMachine } from './helpers/driver-cluster.ts'
import type { DriverMember } from './helpers/driver-cluster.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const IDS = [1n, 2n, 3n]

interface Outcome {
  cluster: DriverCluster
  /** term → every member that led it. */
  leadersByTerm: Map<number, Set<bigint>>
  /** The member elected in term T with the wiped member's first vote, and the wiped one. */
  b: bigint
  wiped: bigint
  term: number
  failures: unknown[]
  refused: Array<[bigint, bigint, bigint]>
  oldIncarnation: bigint
  newIncarnation: bigint
}

function watchLeaders(m: DriverMember, leadersByTerm: Map<number, Set<bigint>>): void {
  m.node.on('state:changed', (role) => {
    if (role !== 'leader') return
    const term = m.node.status().hardState.term
    const set = leadersByTerm.get(term) ?? new Set<bigint>()
    set.add(m.id)
    leadersByTerm.set(term, set)
  })
}

/**
 * Runs the scenario of the issue: 1 leads; 1 is cut off; the other two elect B in term T (the
 * third, C, votes for B); B commits `w2` with C; B is cut off; C loses its storage and comes back
 * under its id (bootstrapped again, as on a first start); 1 returns and campaigns in term T.
 */
async function wipeAfterVoting(protect: boolean | 'default'): Promise<Outcome> {
  const random = new SeededRandom(7)
  // 'default': storages as a user makes them, `new MemoryRaftStorage()` (each a new disk).
  const storage = (): MemoryRaftStorage =>
    protect === 'default' ? new MemoryRaftStorage() : protect ? new MemoryRaftStorage({ random }) : new MemoryRaftStorage({ incarnation: null })
  const c = new DriverCluster()
  const leadersByTerm = new Map<number, Set<bigint>>()
  const failures: unknown[] = []
  const refused: Array<[bigint, bigint, bigint]> = []
  const track = (m: DriverMember): void => {
    watchLeaders(m, leadersByTerm)
    m.node.on('node:failed', (err) => failures.push(err))
    m.node.on('member:refused', (member, incarnation) => refused.push([m.id, member, incarnation]))
  }
  for (const id of IDS) {
    const m = c.create(id, storage())
    m.node.bootstrap(IDS.map((p) => ({ id: p, address: `node-${p}` })))
    track(m)
  }
  for (const id of IDS) await c.get(id).node.start()
  c.get(1n).node.campaign()
  const first = await c.waitLeader()
  expect(first.id).toBe(1n)
  await c.settle(first.node.propose(enc('w=1')))
  await c.run(1000)
  if (protect) for (const id of IDS) expect([...c.get(id).node.memberIncarnations.keys()].sort()).toEqual(IDS)

  // 1 is cut off; 2 and 3 elect one of them, B, with the vote of the other, C.
  const term1 = c.get(1n).node.status().hardState.term
  c.bus.isolated.add(1n)
  const b = await c.waitLeader()
  const wiped = IDS.find((id) => id !== 1n && id !== b.id) as bigint
  const term = b.node.status().hardState.term
  expect(term).toBe(term1 + 1)
  expect(c.get(wiped).node.status().hardState.vote).toBe(b.id)
  // B commits w2 with C: acknowledged.
  expect(await c.settle(b.node.propose(enc('w=2')))).toBe('2')

  // B is cut off; C loses its storage and starts again under its id, as on a first start.
  c.bus.isolated.add(b.id)
  for (let t = 0; c.get(1n).node.status().softState.state === 'leader'; t += 100) {
    expect(t).toBeLessThan(10_000) // 1 steps down (check quorum)
    await c.run(100)
  }
  expect(c.get(1n).node.status().hardState.term).toBe(term1)
  const oldIncarnation = c.get(wiped).node.incarnation
  await c.get(wiped).node.stop()
  const fresh = c.create(wiped, storage())
  fresh.node.bootstrap(IDS.map((p) => ({ id: p, address: `node-${p}` })))
  track(fresh)
  await fresh.node.start()
  // 1 comes back and campaigns in term T (its pre-vote never left it while it was cut off).
  c.bus.isolated.delete(1n)
  await c.run(5000)
  return { cluster: c, leadersByTerm, b: b.id, wiped, term, failures, refused, oldIncarnation, newIncarnation: fresh.node.incarnation }
}

describe('a member wiped and restarted under its old id', () => {
  it('control: without storage incarnations it votes twice in one term and two members lead that term', async () => {
    const o = await wipeAfterVoting(false)
    expect([...(o.leadersByTerm.get(o.term) ?? [])].sort()).toEqual([1n, o.b].sort())
    expect(o.cluster.get(1n).sm.applied).not.toContain('w=2')
  })

  it('is refused and stops with MemberIdentityError; one leader per term; every acknowledged write applied everywhere', async () => {
    const o = await wipeAfterVoting(true)
    const c = o.cluster
    expect(o.newIncarnation).not.toBe(o.oldIncarnation)
    expect(o.newIncarnation).not.toBe(0n)
    // The wiped member stopped itself with a typed error that tells the operator what to do.
    expect(o.failures).toHaveLength(1)
    const err = o.failures[0] as MemberIdentityError
    expect(err).toBeInstanceOf(MemberIdentityError)
    expect([err.name, err.memberId, err.boundIncarnation, err.incarnation]).toEqual(['MemberIdentityError', o.wiped, o.oldIncarnation, o.newIncarnation])
    expect(err.message).toContain(`member ${o.wiped.toString(16)} lost its durable state`)
    expect(err.message).toContain('remove it from the cluster and add it back under a new ID')
    // Later calls reject like after any failure: RaftStoppedError, with the cause.
    const later = (await c.get(o.wiped).node.propose(enc('x=1')).catch((e: unknown) => e)) as Error
    expect([later.name, later.cause]).toEqual(['RaftStoppedError', err])
    // 1 did not win term T with the wiped member's second vote.
    expect([...(o.leadersByTerm.get(o.term) ?? [])]).toEqual([o.b])

    // B returns: 1 and B go on; everything acknowledged is applied on both, in order.
    c.bus.isolated.delete(o.b)
    const leader = await c.waitLeader()
    expect(leader.id).not.toBe(o.wiped)
    expect(await c.settle(leader.node.propose(enc('w=3')))).toBe('3')
    await c.run(2000)
    for (const id of [1n, o.b]) expect(c.get(id).sm.applied).toEqual(['w=1', 'w=2', 'w=3'])
    for (const [term, leaders] of o.leadersByTerm) expect([term, leaders.size]).toEqual([term, 1])
    // It stopped on the first message that named its old incarnation, before it could say anything.
    expect(o.refused).toEqual([])
  })

  it('the same with storages made as a user makes them (new MemoryRaftStorage() draws an incarnation)', async () => {
    const o = await wipeAfterVoting('default')
    expect(o.failures.map((e) => (e as Error).name)).toEqual(['MemberIdentityError'])
    expect([...(o.leadersByTerm.get(o.term) ?? [])]).toEqual([o.b])
    for (const [term, leaders] of o.leadersByTerm) expect([term, leaders.size]).toEqual([term, 1])
  })

  it('a wiped member that speaks first is refused by everyone (reported once each) and stops once it hears back', async () => {
    const random = new SeededRandom(11)
    const c = new DriverCluster()
    for (const id of IDS) {
      const m = c.create(id, new MemoryRaftStorage({ random }))
      m.node.bootstrap(IDS.map((p) => ({ id: p, address: `node-${p}` })))
    }
    for (const id of IDS) await c.get(id).node.start()
    const leader = await c.waitLeader()
    expect(await c.settle(leader.node.propose(enc('w=1')))).toBe('1')
    await c.run(1000)
    const wiped = c.follower(leader)
    const oldIncarnation = wiped.node.incarnation
    const refused: Array<[bigint, bigint, bigint]> = []
    for (const id of IDS) if (id !== wiped.id) c.get(id).node.on('member:refused', (member, incarnation) => refused.push([id, member, incarnation]))
    const commitBefore = leader.node.status().hardState.commit
    await wiped.node.stop()

    // The new process hears nothing at first (deaf), so it campaigns, again and again.
    let deaf = true
    const inner = c.bus.endpoint(wiped.id)
    const transport = { ...inner, start: (h: Parameters<typeof inner.start>[0]) => inner.start({ ...h, message: (m, origin) => (deaf ? undefined : h.message(m, origin)) }) }
    const fresh = new RaftNode({ id: wiped.id, storage: new MemoryRaftStorage({ random }), transport, stateMachine: new KvStateMachine(), clock: c.clock, random: c.random.fork(), tickMs: 100 })
    const failures: unknown[] = []
    fresh.on('node:failed', (err) => failures.push(err))
    fresh.bootstrap(IDS.map((p) => ({ id: p, address: `node-${p}` })))
    await fresh.start()
    await c.run(5000)
    const others = IDS.filter((id) => id !== wiped.id)
    expect(refused.sort((a, b) => (a[0] < b[0] ? -1 : 1))).toEqual(others.map((id) => [id, wiped.id, fresh.incarnation]))
    // Its pre-votes changed nothing: same leader, same term, and the cluster still commits.
    expect(c.get(leader.id).node.isLeader).toBe(true)
    expect(await c.settle(leader.node.propose(enc('w=2')))).toBe('2')
    expect(leader.node.status().hardState.commit).toBeGreaterThan(commitBefore)
    expect(failures).toEqual([])

    deaf = false
    await c.run(1000)
    expect(failures).toHaveLength(1)
    expect(failures[0]).toBeInstanceOf(MemberIdentityError)
    expect(failures[0]).toMatchObject({ memberId: wiped.id, boundIncarnation: oldIncarnation, incarnation: fresh.incarnation })
    await fresh.stop()
  })

  it('bindings travel in snapshots: a member that joins through a snapshot, and one restored from its own, know every incarnation', async () => {
    const random = new SeededRandom(13)
    const c = new DriverCluster({ snapshotInterval: 5, logEntriesForSlowFollowers: 0 })
    for (const id of IDS) {
      const m = c.create(id, new MemoryRaftStorage({ random }))
      m.node.bootstrap(IDS.map((p) => ({ id: p, address: `node-${p}` })))
    }
    for (const id of IDS) await c.get(id).node.start()
    const leader = await c.waitLeader()
    for (let i = 0; i < 12; i++) await c.settle(leader.node.propose(enc(`k${i}=${i}`)))
    const expected = new Map(IDS.map((id) => [id, c.get(id).storage.incarnation]))
    for (const id of IDS) expect(c.get(id).node.memberIncarnations).toEqual(expected)
    expect(leader.storage.firstIndex()).toBeGreaterThan(10) // the binding entries are compacted away

    const joiner = c.create(4n, new MemoryRaftStorage({ random }))
    await joiner.node.start()
    await c.settle(leader.node.addLearner(4n, 'node-4'))
    await c.run(2000)
    expect(joiner.storage.snapshot().metadata.index).toBeGreaterThan(0) // it caught up through a snapshot
    expect(joiner.node.memberIncarnations).toEqual(new Map([...expected, [4n, joiner.storage.incarnation]]))

    const follower = c.follower(leader)
    await follower.node.stop()
    const again = c.create(follower.id, follower.storage)
    expect(again.node.memberIncarnations.get(follower.id)).toBe(follower.storage.incarnation) // restored before start
    await again.node.start()
    await c.settle(leader.node.propose(enc('after=1')))
    await c.run(1000)
    expect(again.sm.data.get('after')).toBe('1')
    expect(again.node.memberIncarnations).toEqual(joiner.node.memberIncarnations)
  })

  it('a storage whose snapshot binds this member to another incarnation (its incarnation was lost, its log kept) is refused at construction', () => {
    const cs = { voters: IDS, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }
    const data = encodeNodeSnapshot({ members: new Map(IDS.map((id) => [id, `node-${id}`])), state: new KvStateMachine().snapshot(), sessions: new Map(), incarnations: new Map([[1n, 0xaaaan]]) })
    const storage = new MemoryRaftStorage({ incarnation: 0xbbbbn, snapshot: { metadata: { index: 5, term: 2, confState: cs }, data } })
    const c = new DriverCluster()
    expect(() => c.create(1n, storage)).toThrow(expect.objectContaining({ name: 'MemberIdentityError', memberId: 1n, boundIncarnation: 0xaaaan, incarnation: 0xbbbbn }))
    // With its own incarnation it starts as usual.
    const own = new MemoryRaftStorage({ incarnation: 0xaaaan, snapshot: { metadata: { index: 5, term: 2, confState: cs }, data } })
    expect(c.create(1n, own).node.memberIncarnations).toEqual(new Map([[1n, 0xaaaan]]))
  })
})
