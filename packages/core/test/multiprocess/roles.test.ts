/**
 * Promotion and demotion of running node processes: three managers and two workers as separate
 * manager-binary processes (fake runtime), gRPC over mutual TLS on 127.0.0.1, driven through the
 * managers' control sockets. Each role change is the binary's next ready line.
 */
import { describe, expect, it } from 'vitest'
import { NodeState, TaskState } from '@swarmkit-ts/api'
import type { NodeRole, ServiceSpec } from '@swarmkit-ts/api'
import type { ControlClient } from '../../src/index.ts'
import { controlOf, leaderOf, ProcessRig, settled, until, type TestNode } from './processes.ts'

const REPLICAS = 20

const web: ServiceSpec = {
  annotations: { name: 'web' },
  mode: { replicated: { replicas: REPLICAS } },
  task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'] } },
}

/** Sets the node's desired role (what `docker node promote / demote` do), read again past a concurrent write. */
async function setRole(control: ControlClient, nodeId: string, role: NodeRole): Promise<void> {
  await settled(async () => {
    const node = await control.nodes.get(nodeId)
    await control.nodes.update(nodeId, { ...node.spec, desiredRole: role }, { version: node.meta.version.index })
  })
}

/** The service's running tasks (desired and observed RUNNING): id → node id. */
async function running(control: ControlClient, serviceId: string): Promise<Map<string, string>> {
  const tasks = await control.tasks.list({ serviceIds: [serviceId], desiredStates: [TaskState.RUNNING] })
  return new Map(tasks.filter((t) => t.status.state === TaskState.RUNNING).map((t) => [t.id, t.nodeId]))
}

/** The managers reachable in the node list `control` returns, by node id. */
async function reachableManagers(control: ControlClient): Promise<string[]> {
  const managers = await control.nodes.list({ roles: ['manager'] })
  return managers
    .filter((n) => n.managerStatus?.reachability === 'reachable')
    .map((n) => n.id)
    .sort()
}

const ids = (nodes: readonly TestNode[]): string[] => nodes.map((n) => n.ready.nodeId).sort()

describe('multi-process role changes (3 managers, 2 workers)', () => {
  const rig = new ProcessRig()

  it('promotes a worker, demotes the leader and a follower, promotes it back: roles follow, the service stays at 20 running tasks, none replaced or duplicated', async () => {
    const m1 = await rig.init('m1')
    const m2 = await rig.join('m2', m1, 'manager')
    const m3 = await rig.join('m3', m1, 'manager')
    const [w1, w2] = await Promise.all([rig.join('w1', m1, 'worker'), rig.join('w2', m1, 'worker')])
    await until(async () => (await controlOf(m1).nodes.list()).filter((n) => n.status.state === NodeState.READY).length === 5, 'five nodes ready')
    const service = await settled(() => controlOf(m1).services.create(web))
    await until(async () => (await running(controlOf(m1), service.id)).size === REPLICAS, `${REPLICAS} replicas running`)
    const tasks = await settled(() => running(controlOf(m1), service.id))
    expect(new Set(tasks.values()).size).toBe(5)

    // The worker w1 becomes a manager: its control socket answers, four managers are reachable.
    await setRole(controlOf(m2), w1.ready.nodeId, 'manager')
    const w1Id = w1.ready.nodeId
    const promoted = await rig.roleChanged(w1, 'manager')
    expect([promoted.nodeId, promoted.role, promoted.controlSocket]).toEqual([w1Id, 'manager', `${w1.stateDir}/control.sock`])
    let managers = [m1, m2, m3, w1]
    await until(async () => (await reachableManagers(controlOf(w1))).join() === ids(managers).join(), 'four managers reachable, seen through the promoted one')
    expect(await settled(() => running(controlOf(w1), service.id))).toEqual(tasks)

    // The leader is demoted: another manager leads, the old leader works on with its tasks.
    const leader = await settled(() => leaderOf(controlOf(m2), managers))
    if (leader === undefined) throw new Error('no leader named in the node list')
    const others = managers.filter((m) => m !== leader)
    await setRole(controlOf(others[0] as TestNode), leader.ready.nodeId, 'worker')
    const asWorker = await rig.roleChanged(leader, 'worker')
    expect([asWorker.nodeId, asWorker.role, asWorker.controlSocket]).toEqual([leader.ready.nodeId, 'worker', undefined])
    managers = others
    await until(async () => {
      const now = await leaderOf(controlOf(others[1] as TestNode), managers)
      return now !== undefined && (await reachableManagers(controlOf(now))).join() === ids(managers).join()
    }, 'a new leader among the three managers left, all reachable')
    await until(async () => (await controlOf(others[0] as TestNode).nodes.get(leader.ready.nodeId)).status.state === NodeState.READY, 'the demoted leader ready as a worker')
    expect(await settled(() => running(controlOf(others[1] as TestNode), service.id))).toEqual(tasks)

    // A follower is demoted, then promoted back.
    const newLeader = await settled(() => leaderOf(controlOf(others[0] as TestNode), managers))
    const follower = managers.find((m) => m !== newLeader) as TestNode
    const via = managers.find((m) => m !== follower) as TestNode
    await setRole(controlOf(via), follower.ready.nodeId, 'worker')
    await rig.roleChanged(follower, 'worker')
    managers = managers.filter((m) => m !== follower)
    await until(async () => (await reachableManagers(controlOf(via))).join() === ids(managers).join(), 'two managers left')
    await setRole(controlOf(via), follower.ready.nodeId, 'manager')
    await rig.roleChanged(follower, 'manager')
    managers = [...managers, follower]
    await until(async () => (await reachableManagers(controlOf(follower))).join() === ids(managers).join(), 'three managers reachable, seen through the one promoted back')

    await until(async () => (await controlOf(follower).nodes.list()).filter((n) => n.status.state === NodeState.READY).length === 5, 'five nodes ready')
    expect(await settled(() => running(controlOf(follower), service.id))).toEqual(tasks)
    const slots = (await settled(() => controlOf(follower).tasks.list({ serviceIds: [service.id], desiredStates: [TaskState.RUNNING] }))).map((t) => t.slot)
    expect(new Set(slots).size).toBe(REPLICAS)
    expect(slots).toHaveLength(REPLICAS)
    expect(w2.ready.role).toBe('worker')
  }, 240_000)
})
