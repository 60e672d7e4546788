/**
 * Cluster.open: a manager restarted from its state directory rejoins on its address and catches
 * up; a worker restarted reconnects and keeps its tasks; an autolocked manager stays locked
 * (ClusterLockedError) until given its unlock key, and keeps no secret readable on disk.
 */
import { access, readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ClusterLockedError, NotFoundError, TaskState } from '@swarmkit-ts/api'
import { FakeRuntime } from '@swarmkit-ts/engine-adapter'
import { generateUnlockKey, joinTokenDigest, parseJoinToken } from '@swarmkit-ts/pki'
import { Cluster, type ManagerCluster } from '../../src/cluster/index.ts'
import { pemText, startRootRotation } from '../../src/ca/index.ts'
import { connectControlSocket } from '../../src/control/index.ts'
import { ClusterRig, FAST, guard, sleeper, until } from './rig.ts'

const rig = new ClusterRig()

const missing = (path: string): Promise<boolean> =>
  access(path).then(
    () => false,
    () => true,
  )

describe('Cluster.open', () => {
  it('a manager restarted with Cluster.open rejoins on its address, catches up, and serves control again', async () => {
    const m1 = await rig.init()
    const m2 = await rig.joinManager(m1)
    const m3 = await rig.joinManager(m1)
    const { stateDir, address, nodeId } = m3
    rig.forget(m3)
    await m3.close()

    const web = await m1.services.create(sleeper('web', 2))
    const again = rig.track(await Cluster.open({ stateDir, ...FAST }))
    if (again.role !== 'manager') throw new Error('reopened as a worker')
    expect(again.nodeId).toBe(nodeId)
    expect(again.address).toBe(address)
    await until(() => again.manager.store.view((tx) => tx.services.get(web.id)) !== undefined, 'the restarted manager caught up')
    expect((await again.services.get('web')).id).toBe(web.id)
    expect(m2.manager.members().map((m) => m.nodeId).sort()).toEqual([m1.nodeId, m2.nodeId, nodeId].sort())
    expect(await again.services.waitConverged('web', { signal: guard() })).toMatchObject({ desired: 2, running: 2, converged: true })
  })

  it('a worker restarted with Cluster.open reconnects and runs the same tasks again (no duplicates)', async () => {
    // The runtime outlives the node (as a 'process' or 'docker' runtime's containers outlive the node process):
    // a FakeRuntime opened by kind keeps its containers in that instance only, so the test hands the same one to both.
    const runtime = new FakeRuntime()
    onTestFinished(() => runtime.close())
    const m1 = await rig.init()
    const joined = await rig.join(m1, 'worker', { runtime })
    if (joined.role !== 'worker') throw new Error('joined as a manager')
    const w1 = joined
    await m1.nodes.setAvailability(m1.nodeId, 'drain')
    const web = await m1.services.create(sleeper('web', 2))
    await m1.services.waitConverged(web.id, { signal: guard() })
    const before = (await m1.tasks.list({ serviceIds: [web.id], desiredStates: [TaskState.RUNNING] })).map((t) => t.id).sort()
    expect(before.length).toBe(2)
    rig.forget(w1)
    await w1.close()

    const containers = (await runtime.list({})).map((c) => c.id).sort()
    expect(containers.length).toBe(2)
    const again = rig.track(await Cluster.open({ stateDir: w1.stateDir, ...FAST, runtime }))
    expect(again.role).toBe('worker')
    expect(again.nodeId).toBe(w1.nodeId)
    await until(() => again.role === 'worker' && again.connected, 'the worker connected again')
    expect(await m1.services.waitConverged(web.id, { signal: guard() })).toMatchObject({ running: 2, converged: true })
    const after = (await m1.tasks.list({ serviceIds: [web.id], desiredStates: [TaskState.RUNNING] })).map((t) => t.id).sort()
    expect(after).toEqual(before)
    expect((await runtime.list({})).map((c) => c.id).sort()).toEqual(containers) // adopted, none added
  })

  it('autolock: Cluster.open without the key, or with a wrong one, is ClusterLockedError; with the key the manager opens with its data', async () => {
    const m1 = await rig.init({ autolock: true })
    const key = await m1.unlockKey()
    expect(key).toMatch(/^SWMKEY-1-/)
    await m1.secrets.create({ annotations: { name: 'db-password' }, data: new TextEncoder().encode('s3cr3t-value') })
    const { stateDir } = m1
    rig.forget(m1)
    await m1.close()

    expect(await missing(join(stateDir, 'certificates', 'swarm-node.key'))).toBe(true)
    for (const file of await readdir(join(stateDir, 'raft'), { recursive: true })) {
      const bytes = await readFile(join(stateDir, 'raft', file)).catch(() => Buffer.alloc(0))
      expect(bytes.includes('s3cr3t-value')).toBe(false)
    }
    await expect(Cluster.open({ stateDir, ...FAST })).rejects.toBeInstanceOf(ClusterLockedError)
    await expect(Cluster.open({ stateDir, unlockKey: generateUnlockKey(), ...FAST })).rejects.toBeInstanceOf(ClusterLockedError)
    const again = rig.track(await Cluster.open({ stateDir, unlockKey: key, ...FAST })) as ManagerCluster
    expect(again.role).toBe('manager')
    expect((await again.secrets.get('db-password')).spec.annotations.name).toBe('db-password')
    await expect(again.unlockKey()).resolves.toBe(key)
  })

  it('the local control socket serves the control API without certificates', async () => {
    const m1 = await rig.init()
    expect(m1.controlSocketPath).toBe(join(m1.stateDir, 'control.sock'))
    const cli = connectControlSocket(m1.controlSocketPath)
    try {
      const web = await cli.services.create(sleeper('web', 1))
      expect((await m1.services.get('web')).id).toBe(web.id)
    } finally {
      cli.close()
    }
  })
  it('leave: a manager (follower, then the leader) leaves the Raft group, a worker forgets its membership; their state directories do not open again; the last manager may not leave', async () => {
    const m1 = await rig.init()
    const m2 = await rig.joinManager(m1)
    const m3 = await rig.joinManager(m1)
    const w1 = await rig.joinWorker(m1)
    rig.forget(m3)
    await m3.leave()
    await until(() => m1.manager.members().length === 2 && m2.manager.members().length === 2, 'two managers left')
    await expect(Cluster.open({ stateDir: m3.stateDir, ...FAST })).rejects.toBeInstanceOf(NotFoundError)
    rig.forget(w1)
    await w1.leave()
    await expect(Cluster.open({ stateDir: w1.stateDir, ...FAST })).rejects.toBeInstanceOf(NotFoundError)
    rig.forget(m1)
    await m1.leave() // the leader hands over to m2 first
    await until(() => m2.isLeader && m2.manager.members().length === 1, 'm2 leads alone')
    await expect(m2.leave()).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'last-manager' })
    expect((await m2.services.list()).length).toBe(0)
  })
  it('a root CA rotation completes with every node renewing (managers from the store, the worker from its session), the cluster keeps working on the new root, and a renewed manager reopens with its new key', async () => {
    const m1 = await rig.init()
    const m2 = await rig.joinManager(m1)
    const w1 = await rig.joinWorker(m1)
    await until(() => w1.connected, 'the worker connected')
    const next = await startRootRotation(m1.manager.store)
    await until(() => m2.manager.store.view((tx) => tx.clusters.find()[0]?.rootCa.rootRotation === undefined && pemText(tx.clusters.find()[0]?.rootCa.caCert ?? new Uint8Array()) === next.certPem), 'the rotation completed', 90_000)

    const tokens = await m2.joinTokens()
    expect(parseJoinToken(tokens.worker).digest).toBe(joinTokenDigest(next.certPem))
    const w2 = await rig.joinWorker(m2)
    const web = await m2.services.create(sleeper('web', 4))
    await until(async () => (await m1.tasks.list({ serviceIds: [web.id], nodeIds: [w1.nodeId, w2.nodeId] })).length > 0, 'tasks on the workers')
    expect(await m1.services.waitConverged(web.id, { signal: guard() })).toMatchObject({ running: 4, converged: true })

    // The managers' renewed keys went to their key stores (never in clear): both reopen with them.
    for (const m of [m1, m2]) expect(await missing(join(m.stateDir, 'certificates', 'swarm-node.key'))).toBe(true)
    rig.forget(m2)
    await m2.close()
    const m2again = rig.track(await Cluster.open({ stateDir: m2.stateDir, ...FAST })) as ManagerCluster
    expect((await m2again.services.get('web')).id).toBe(web.id)
  })
})
