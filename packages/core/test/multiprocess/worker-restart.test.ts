/**
 * A worker process on the real 'process' runtime killed with -9 and reopened: its task processes
 * (detached, like containers of an engine) outlive it, the reopened worker adopts them, and the
 * cluster keeps the same tasks — none duplicated, none replaced.
 */
import { describe, expect, it } from 'vitest'
import { NodeState, TaskState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { alive, controlOf, ProcessRig, taskPids, until } from './processes.ts'

const sleepers: ServiceSpec = {
  annotations: { name: 'sleepers' },
  mode: { replicated: { replicas: 3 } },
  task: { container: { image: 'busybox', command: ['sh', '-c', 'exec sleep 3600'] }, placement: { constraints: ['node.role == worker'] } },
}

describe('multi-process worker restart', () => {
  const rig = new ProcessRig()

  it('a worker killed with -9 and reopened adopts its running task processes: same tasks, same pids, none added', async () => {
    // A 5 s heartbeat: the worker is DOWN only after 15 s without one, longer than its restart.
    const m1 = await rig.init('m1', ['--heartbeat-period-ms', '5000'])
    const w1 = await rig.join('w1', m1, 'worker', ['--runtime', 'process'])
    const control = controlOf(m1)
    const service = await control.services.create(sleepers)
    const running = async (): Promise<string[]> => {
      const tasks = await control.tasks.list({ serviceIds: [service.id] })
      return tasks.filter((t) => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING && t.nodeId === w1.ready.nodeId).map((t) => t.id)
    }
    await until(async () => (await running()).length === 3, 'three tasks running on the worker')
    const before = await running()
    const pids = await taskPids(w1.stateDir)
    expect(pids.size).toBe(3)

    await rig.kill(w1)
    expect([...pids.values()].map(alive)).toEqual([true, true, true]) // the task processes outlive the worker

    const back = await rig.reopen(w1, ['--runtime', 'process'])
    expect([back.ready.nodeId, back.ready.role]).toEqual([w1.ready.nodeId, 'worker'])
    await until(async () => (await control.nodes.get(back.ready.nodeId)).status.state === NodeState.READY, 'the worker ready again')
    await until(async () => (await running()).length === 3, 'three tasks running after the restart')
    expect(await running()).toEqual(before)
    expect(await control.tasks.list({ serviceIds: [service.id] })).toHaveLength(3)
    expect(await taskPids(w1.stateDir)).toEqual(pids) // adopted, not started again

    await control.services.remove(service.id)
    await until(() => [...pids.values()].every((pid) => !alive(pid)), 'the task processes stopped once the service is removed')
  }, 120_000)
})
