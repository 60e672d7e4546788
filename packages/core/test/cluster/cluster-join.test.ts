/**
 * Cluster.join and the options of every start: a wrong token, another cluster's token and a
 * malformed one are refused with typed errors before the node exists; a rotated token stops
 * admitting; bad options name their field.
 */
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, PermissionDeniedError, UnavailableError } from '@swarmkit-ts/api'
import { Cluster, CLUSTER_NODE_FILE } from '../../src/cluster/index.ts'
import { ClusterRig, FAST, sleeper } from './rig.ts'

const rig = new ClusterRig()

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  )

/** `token` with another secret of the same form (the same root CA digest). */
function otherSecret(token: string): string {
  const secret = token.slice(token.lastIndexOf('-') + 1)
  const replaced = [...secret].map((c) => (c === '0' ? '1' : '0')).join('')
  return token.slice(0, token.length - secret.length) + replaced
}

describe('Cluster.join refusals', () => {
  it('a worker with a wrong token, or with a token of another cluster, is refused with PermissionDeniedError and leaves no node behind', async () => {
    const m1 = await rig.init()
    const other = await rig.init()
    const tokens = await m1.joinTokens()

    const wrongDir = await rig.dir()
    const wrong = Cluster.join({ stateDir: wrongDir, joinAddr: m1.address, token: otherSecret(tokens.worker), ...FAST })
    await expect(wrong).rejects.toBeInstanceOf(PermissionDeniedError)
    await expect(wrong).rejects.toThrow(/^token:/)
    expect(await exists(join(wrongDir, CLUSTER_NODE_FILE))).toBe(false)

    const foreignDir = await rig.dir()
    const foreign = Cluster.join({ stateDir: foreignDir, joinAddr: m1.address, token: (await other.joinTokens()).worker, ...FAST })
    await expect(foreign).rejects.toBeInstanceOf(PermissionDeniedError)
    await expect(foreign).rejects.toThrow(/^token:/)
    expect(await exists(join(foreignDir, CLUSTER_NODE_FILE))).toBe(false)
    expect((await m1.nodes.list()).map((n) => n.id)).toEqual([m1.nodeId])
  })

  it('a rotated worker token stops admitting workers; the new one admits them; nodes dispose with Symbol.asyncDispose and a closed manager\'s handles refuse with UnavailableError', async () => {
    const m1 = await rig.init()
    const before = await m1.joinTokens()
    const after = await m1.rotateJoinToken('worker')
    expect(after.manager).toBe(before.manager)
    expect(after.worker).not.toBe(before.worker)
    await expect(Cluster.join({ stateDir: await rig.dir(), joinAddr: m1.address, token: before.worker, ...FAST })).rejects.toBeInstanceOf(PermissionDeniedError)
    const worker = rig.track(await Cluster.join({ stateDir: await rig.dir(), joinAddr: m1.address, token: after.worker, ...FAST }))
    expect(worker.role).toBe('worker')
    expect(worker.clusterId).toBe(m1.clusterId)
    await worker[Symbol.asyncDispose]()
    expect(worker.role === 'worker' && worker.connected).toBe(false)
    await m1[Symbol.asyncDispose]()
    await expect(m1.services.list()).rejects.toBeInstanceOf(UnavailableError)
    await expect(m1.services.waitConverged('web')).rejects.toBeInstanceOf(UnavailableError)
  })

  it('a malformed token is InvalidArgumentError naming token, bad options name their field, waitConverged refuses an unknown service and rejects with the signal\'s reason', async () => {
    const m1 = await rig.init()
    const dir = await rig.dir()
    await expect(Cluster.join({ stateDir: dir, joinAddr: m1.address, token: 'SWMTKN-1-nope' })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'token' })
    await expect(Cluster.join({ stateDir: dir, joinAddr: 'nowhere', token: 'x' })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'joinAddr' })
    await expect(Cluster.join({ stateDir: '', joinAddr: m1.address, token: 'x' })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'stateDir' })
    await expect(Cluster.init({ stateDir: dir, listenAddr: '127.0.0.1' })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'listenAddr' })
    await expect(Cluster.init({ stateDir: dir, listenAddr: '127.0.0.1:0', runtime: 'podman' as 'fake' })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(Cluster.init({ stateDir: dir, listenAddr: '127.0.0.1:0', raft: { tickMs: 0 } })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'raft.tickMs' })
    const badSpec = { annotations: { name: 'c' }, orchestration: { taskHistoryRetentionLimit: 1.5 } }
    await expect(Cluster.init({ stateDir: dir, listenAddr: '127.0.0.1:0', clusterSpec: badSpec })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'clusterSpec.orchestration.taskHistoryRetentionLimit' })
    await expect(Cluster.open({ stateDir: dir })).rejects.toBeInstanceOf(NotFoundError)
    await expect(Cluster.init({ stateDir: m1.stateDir, listenAddr: '127.0.0.1:0', ...FAST })).rejects.toBeInstanceOf(AlreadyExistsError)
    await expect(m1.services.waitConverged('nope')).rejects.toBeInstanceOf(NotFoundError)
    const stuck = await m1.services.create({ ...sleeper('stuck', 1), task: { ...sleeper('stuck', 1).task, placement: { constraints: ['node.labels.zone == nowhere'] } } })
    const aborted = new AbortController()
    const waiting = m1.services.waitConverged(stuck.id, { signal: aborted.signal })
    aborted.abort(new Error('gave up'))
    await expect(waiting).rejects.toThrow('gave up')
  })
})
