/**
 * Role changes of running nodes (every node in this process, real gRPC over mTLS on 127.0.0.1):
 * a promoted worker becomes a Raft voter serving the control API beside the same running tasks;
 * a demoted follower, and a demoted leader, go on as workers with their tasks untouched; a
 * demotion that would lose quorum is refused.
 */
import { access, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FailedPreconditionError, NotLeaderError, TaskState, UnavailableError } from '@swarmkit-ts/api'
import { ManagerKeyStore } from '@swarmkit-ts/pki'
import { Cluster, connectControlSocket, NodeCertificateStore, renewNodeCertificate, type ClusterNode, type ManagerCluster, type RoleEvent, type WorkerCluster } from '../../src/index.ts'
import { readClusterNodeState, writeClusterNodeState } from '../../src/cluster/node-state.ts'
import { ClusterRig, FAST, guard, sleeper, until as untilHolds } from './rig.ts'

const rig = new ClusterRig()

/** Whether `err` is the passing refusal of an election (a membership change starts one on a loaded machine). */
const transient = (err: unknown): boolean => err instanceof NotLeaderError || err instanceof UnavailableError

/** `op`, again while it fails with a transient refusal (the guard ends it). */
async function settled<T>(op: () => Promise<T>, guardMs = 60_000): Promise<T> {
  const deadline = Date.now() + guardMs
  for (;;) {
    try {
      return await op()
    } catch (err) {
      if (!transient(err) || Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

/** Waits until `cond` holds, a transient refusal counting as not yet. */
function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  return untilHolds(async () => {
    try {
      return await cond()
    } catch (err) {
      if (transient(err)) return false
      throw err
    }
  }, what)
}

/** The next `role` event of `node`, its new node tracked for cleanup. */
function nextRole(node: ClusterNode): Promise<RoleEvent> {
  return new Promise((resolve, reject) => {
    const signal = guard()
    signal.addEventListener('abort', () => reject(new Error(`no role event from ${node.nodeId}`)), { once: true })
    const listener = (e: RoleEvent): void => {
      rig.track(e.node)
      resolve(e)
    }
    if (node.role === 'manager') node.once('role', listener)
    else node.once('role', listener)
  })
}

/** Task id → container id of what `node` runs now. */
function containers(node: ClusterNode): Map<string, string> {
  return new Map([...node.worker.tasks()].map((t) => [t.task.id, t.containerId]))
}

/** The ids of the service's tasks running with desired state RUNNING, as `manager` sees them. */
async function runningIds(manager: ManagerCluster, serviceId: string): Promise<string[]> {
  const tasks = await manager.tasks.list({ serviceIds: [serviceId] })
  return tasks
    .filter((t) => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING)
    .map((t) => t.id)
    .sort()
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  )

/** Which role's files the state directory holds. */
async function stateFiles(stateDir: string): Promise<{ role: string; workerKey: boolean; managerKeys: boolean; raft: boolean }> {
  return {
    role: (await readClusterNodeState(stateDir)).role,
    workerKey: await exists(join(stateDir, 'certificates', 'swarm-node.key')),
    managerKeys: await exists(join(stateDir, 'manager-keys.json')),
    raft: await exists(join(stateDir, 'raft')),
  }
}

describe('Cluster role changes', () => {
  it('a promoted worker becomes a Raft voter serving its control socket, with the same tasks in the same containers', async () => {
    const m1 = await rig.init()
    const w1 = await rig.joinWorker(m1)
    await until(async () => (await m1.nodes.list()).filter((n) => n.status.state === 'ready').length === 2, 'two nodes ready')
    const web = await m1.services.create(sleeper('web', 4))
    await m1.services.waitConverged(web.id, { signal: guard() })
    await until(() => containers(w1).size > 0 && containers(w1).size + containers(m1).size === 4, 'the four tasks running, some on the worker')
    const before = containers(w1)
    const tasksBefore = await settled(() => runningIds(m1, web.id))

    const promoted = nextRole(w1)
    await settled(() => m1.nodes.promote(w1.nodeId))
    const event = await promoted
    expect(event.role).toBe('manager')
    const m2 = event.node as ManagerCluster
    expect([m2.role, m2.nodeId, m2.stateDir]).toEqual(['manager', w1.nodeId, w1.stateDir])
    expect(m1.manager.replicated.raft.status().config.voters).toContain(m2.manager.raftId)
    expect(m2.worker).toBe(w1.worker) // the same running worker half

    const socket = connectControlSocket(m2.controlSocketPath)
    try {
      await until(async () => (await socket.nodes.get(m2.nodeId)).managerStatus?.reachability === 'reachable', 'the new manager reachable, through its own socket')
      expect((await settled(() => socket.nodes.get(m2.nodeId))).role).toBe('manager')
    } finally {
      socket.close()
    }
    expect(containers(m2)).toEqual(before)
    expect(await settled(() => runningIds(m1, web.id))).toEqual(tasksBefore)
    expect(await stateFiles(m2.stateDir)).toEqual({ role: 'manager', workerKey: false, managerKeys: true, raft: true })
    await expect(w1.leave()).rejects.toThrow(UnavailableError)
  }, 240_000)

  it('a demoted follower, then the demoted leader, go on as workers with their tasks untouched', async () => {
    const m1 = await rig.init()
    const m2 = await rig.joinManager(m1)
    const m3 = await rig.joinManager(m1)
    await until(async () => (await m1.nodes.list()).filter((n) => n.status.state === 'ready').length === 3, 'three nodes ready')
    const web = await m1.services.create(sleeper('web', 6))
    await m1.services.waitConverged(web.id, { signal: guard() })
    await until(() => [m1, m2, m3].every((m) => containers(m).size > 0) && containers(m1).size + containers(m2).size + containers(m3).size === 6, 'the six tasks running, some on each manager')
    const tasksBefore = await settled(() => runningIds(m1, web.id))

    const m3Before = containers(m3)
    const m3Demoted = nextRole(m3)
    await settled(() => m2.nodes.demote(m3.nodeId))
    const w3 = (await m3Demoted).node as WorkerCluster
    expect([w3.role, w3.nodeId]).toEqual(['worker', m3.nodeId])
    expect(containers(w3)).toEqual(m3Before)
    expect(m1.manager.replicated.raft.status().config.voters).not.toContain(m3.manager.raftId)
    expect(await stateFiles(w3.stateDir)).toEqual({ role: 'worker', workerKey: true, managerKeys: false, raft: false })
    const closed = m3.services.list()
    await expect(closed).rejects.toThrow(UnavailableError)
    await expect(closed).rejects.toThrow(/'role' event/)
    await until(async () => (await m1.nodes.get(m3.nodeId)).role === 'worker', 'the node object says worker')

    const m1Before = containers(m1)
    const m1Demoted = nextRole(m1)
    await settled(() => m2.nodes.demote(m1.nodeId))
    const w1 = (await m1Demoted).node as WorkerCluster
    expect(w1.role).toBe('worker')
    expect(containers(w1)).toEqual(m1Before)
    await until(() => m2.isLeader, 'the remaining manager leads')
    expect(m2.manager.replicated.raft.status().config.voters).toEqual([m2.manager.raftId])
    await until(async () => (await runningIds(m2, web.id)).length === 6 && w1.connected && w3.connected, 'six tasks running, both workers connected')
    expect(await settled(() => runningIds(m2, web.id))).toEqual(tasksBefore)
    expect(await stateFiles(w1.stateDir)).toEqual({ role: 'worker', workerKey: true, managerKeys: false, raft: false })
  }, 240_000)

  it('a worker promoted while it was stopped opens as a worker, renews, and becomes a manager', async () => {
    const m1 = await rig.init()
    const w1 = await rig.joinWorker(m1)
    await until(() => w1.connected, 'the worker connected')
    await w1.close()
    await settled(() => m1.nodes.promote(w1.nodeId))
    await until(async () => (await m1.nodes.get(w1.nodeId)).role === 'manager', 'the role manager made it a manager')
    const reopened = rig.track(await Cluster.open({ stateDir: w1.stateDir, ...FAST }))
    expect(reopened.role).toBe('worker')
    const event = await nextRole(reopened)
    expect([event.role, event.node.nodeId]).toEqual(['manager', w1.nodeId])
    expect(m1.manager.replicated.raft.status().config.voters).toContain((event.node as ManagerCluster).manager.raftId)
    expect(await stateFiles(w1.stateDir)).toEqual({ role: 'manager', workerKey: false, managerKeys: true, raft: true })
  }, 240_000)

  it('Cluster.open of a worker that crashed after joining the Raft group, before recording the promotion, reopens that member as a manager', async () => {
    const m1 = await rig.init()
    const w1 = await rig.joinWorker(m1)
    const promoted = nextRole(w1)
    await settled(() => m1.nodes.promote(w1.nodeId))
    const m2 = (await promoted).node as ManagerCluster
    const raftId = m2.manager.raftId
    await m2.close()
    // The state a crash right before the commit leaves: manager state, the key still in the worker's file,
    // the address the member listens on recorded.
    const keys = await ManagerKeyStore.open(join(m2.stateDir, 'manager-keys.json'))
    await writeFile(join(m2.stateDir, 'certificates', 'swarm-node.key'), keys.tlsKeyPem, { mode: 0o600 })
    await writeClusterNodeState(m2.stateDir, { role: 'worker', listenAddr: m2.address, managers: [m1.address] })

    const reopened = rig.track(await Cluster.open({ stateDir: m2.stateDir, ...FAST }))
    expect(reopened.role).toBe('worker')
    const again = (await nextRole(reopened)).node as ManagerCluster
    expect(again.manager.raftId).toBe(raftId) // the member it had joined as, not a second one
    await until(() => m1.manager.members().filter((m) => m.reachable).length === 2, 'both managers reachable')
    expect(m1.manager.replicated.raft.status().config.voters).toHaveLength(2)
    expect(await stateFiles(m2.stateDir)).toEqual({ role: 'manager', workerKey: false, managerKeys: true, raft: true })
  }, 240_000)

  it('a manager demoted while it was stopped opens, learns from another manager that it is a worker, and goes on as one', async () => {
    const m1 = await rig.init()
    const m2 = await rig.joinManager(m1)
    const m3 = await rig.joinManager(m1)
    await until(() => m1.manager.members().filter((m) => m.reachable).length === 3, 'three managers reachable')
    await m3.close()
    await settled(() => m2.nodes.demote(m3.nodeId))
    await until(async () => (await m1.nodes.get(m3.nodeId)).role === 'worker', 'the role manager removed its member and made it a worker')
    const reopened = rig.track(await Cluster.open({ stateDir: m3.stateDir, ...FAST }))
    expect(reopened.role).toBe('manager')
    const event = await nextRole(reopened)
    const w3 = event.node as WorkerCluster
    expect([event.role, w3.nodeId]).toEqual(['worker', m3.nodeId])
    await until(() => w3.connected, 'the demoted node connected as a worker')
    expect(await stateFiles(m3.stateDir)).toEqual({ role: 'worker', workerKey: true, managerKeys: false, raft: false })
  }, 240_000)

  it('Cluster.open of a manager that crashed holding its new worker certificate finishes the demotion and runs as a worker', async () => {
    const m1 = await rig.init()
    const m2 = await rig.joinManager(m1)
    const m3 = await rig.joinManager(m1)
    await until(() => m1.manager.members().filter((m) => m.reachable).length === 3, 'three managers reachable')
    await m3.close()
    await settled(() => m2.nodes.demote(m3.nodeId))
    await until(async () => (await m1.nodes.get(m3.nodeId)).role === 'worker', 'the role manager made it a worker')
    // The state a crash right after the worker certificate's renewal leaves: the key in the manager key store.
    const keys = await ManagerKeyStore.open(join(m3.stateDir, 'manager-keys.json'))
    const certificates = new NodeCertificateStore({ stateDir: m3.stateDir, keyStorage: { load: () => Promise.resolve(keys.tlsKeyPem), save: (k) => keys.setTlsKey(k) } })
    await certificates.load()
    await renewNodeCertificate({ managerAddr: m1.address, certificates })
    expect([certificates.identity?.role, (await readClusterNodeState(m3.stateDir)).role]).toEqual(['worker', 'manager'])

    const reopened = rig.track(await Cluster.open({ stateDir: m3.stateDir, ...FAST }))
    expect([reopened.role, reopened.nodeId]).toEqual(['worker', m3.nodeId])
    await until(() => reopened.role === 'worker' && reopened.connected, 'connected as a worker')
    expect(await stateFiles(m3.stateDir)).toEqual({ role: 'worker', workerKey: true, managerKeys: false, raft: false })
  }, 240_000)

  it('demoting a manager while another manager is down is refused (FailedPreconditionError, reason quorum)', async () => {
    const m1 = await rig.init()
    const m2 = await rig.joinManager(m1)
    const m3 = await rig.joinManager(m1)
    await until(() => m1.manager.members().filter((m) => m.reachable).length === 3, 'three managers reachable')
    await m3.close()
    await until(() => m1.manager.members().filter((m) => m.reachable).length === 2, 'the closed manager unreachable')
    const refused = m1.nodes.demote(m2.nodeId)
    await expect(refused).rejects.toThrow(FailedPreconditionError)
    await expect(refused).rejects.toMatchObject({ reason: 'quorum' })
    expect((await settled(() => m1.nodes.get(m2.nodeId))).spec.desiredRole).toBe('manager')
  }, 240_000)
})
