/**
 * Cluster.open's recovery options in process: `forceNewCluster` refused with a typed error on an
 * empty directory, a worker's directory or a bad value; `waitForUnlock` serves the locked control
 * socket (every call ClusterLockedError, a wrong key refused) until `unlockControlSocket` gives the
 * right key, then resolves with the running manager; an abort gives up waiting.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ClusterLockedError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@swarmkit-ts/api'
import { generateUnlockKey } from '@swarmkit-ts/pki'
import { Cluster, unlockControlSocket } from '../../src/cluster/index.ts'
import { connectControlSocket } from '../../src/control/index.ts'
import { ClusterRig, FAST, until } from './rig.ts'

const rig = new ClusterRig()

describe('Cluster.open recovery options', () => {
  it('forceNewCluster is refused on an empty directory (NotFoundError), a worker’s (FailedPreconditionError not-a-manager) and as a non-boolean (InvalidArgumentError)', async () => {
    const empty = await rig.dir()
    await expect(Cluster.open({ stateDir: empty, forceNewCluster: true, ...FAST })).rejects.toMatchObject({ name: NotFoundError.name, message: `forceNewCluster: ${empty} holds no node to restore a cluster from` })
    const m1 = await rig.init()
    const w1 = await rig.joinWorker(m1)
    rig.forget(w1)
    await w1.close()
    const refused = await Cluster.open({ stateDir: w1.stateDir, forceNewCluster: true, ...FAST }).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(FailedPreconditionError)
    expect(refused).toMatchObject({ reason: 'not-a-manager', message: `forceNewCluster: ${w1.stateDir} holds a worker, not a manager: only a manager's state (a backup of one) can start a new cluster` })
    await expect(Cluster.open({ stateDir: w1.stateDir, forceNewCluster: 'yes' as unknown as boolean, ...FAST })).rejects.toMatchObject({ name: InvalidArgumentError.name, field: 'forceNewCluster' })
  })

  it('waitForUnlock: the locked manager refuses control calls and a wrong key, opens with the right key; an abort gives up', async () => {
    const m1 = await rig.init({ autolock: true })
    const key = await m1.unlockKey()
    if (key === undefined) throw new Error('no unlock key')
    const { stateDir, nodeId } = m1
    rig.forget(m1)
    await m1.close()

    const locked: string[] = []
    const opening = Cluster.open({ stateDir, waitForUnlock: true, onLocked: (path) => locked.push(path), ...FAST })
    await until(() => locked.length === 1, 'the manager waiting locked')
    const socket = join(stateDir, 'control.sock')
    expect(locked).toEqual([socket])
    const client = connectControlSocket(socket)
    try {
      await expect(client.services.list()).rejects.toBeInstanceOf(ClusterLockedError)
    } finally {
      client.close()
    }
    await expect(unlockControlSocket(socket, generateUnlockKey())).rejects.toBeInstanceOf(ClusterLockedError)
    await unlockControlSocket(socket, key)
    const node = rig.track(await opening)
    expect(node).toMatchObject({ role: 'manager', nodeId })
    if (node.role !== 'manager') throw new Error('not a manager')
    expect(await node.services.list()).toEqual([])
    await expect(unlockControlSocket(socket, key)).rejects.toMatchObject({ name: FailedPreconditionError.name, reason: 'not-locked' })
    rig.forget(node)
    await node.close()

    const abort = new AbortController()
    const waiting = Cluster.open({ stateDir, waitForUnlock: true, signal: abort.signal, ...FAST })
    abort.abort(new Error('gave up'))
    await expect(waiting).rejects.toThrow('gave up')
  })
})
