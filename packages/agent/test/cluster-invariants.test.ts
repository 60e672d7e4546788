/**
 * Control tests of the in-process cluster's invariant checks: each check finds the violation it
 * exists for (a checker that cannot fail proves nothing), and passes a converged cluster.
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Service, Task, TaskStatus } from '@swarmkit-ts/api'
import type { ContainerInfo } from '@swarmkit-ts/engine-adapter'
import { describe, expect, it } from 'vitest'
import { TASK_ID_LABEL, checkAcknowledged, checkCluster, checkReplicas } from './cluster/invariants.ts'
import type { ClusterSnapshot, NodeContainer } from './cluster/invariants.ts'

const meta = { version: { index: 1n }, createdAt: 0, updatedAt: 0 }

function service(id: string, replicas: number): Service {
  return { id, meta, spec: { annotations: { name: id }, mode: { replicated: { replicas } }, task: { container: { image: 'busybox:fake' } } } }
}

function task(id: string, serviceId: string, slot: number, nodeId: string, state: number = TaskState.RUNNING, desired: number = TaskState.RUNNING): Task {
  return {
    id,
    meta,
    serviceId,
    slot,
    nodeId,
    desiredState: desired,
    status: { timestamp: 0, state },
    spec: { container: { image: 'busybox:fake' } },
    serviceAnnotations: { name: serviceId },
  } as Task
}

function container(nodeId: string, taskId: string, state: ContainerInfo['state'] = 'running'): NodeContainer {
  return {
    nodeId,
    container: {
      id: `c-${taskId}-${nodeId}`,
      name: undefined,
      image: 'busybox:fake',
      labels: { [TASK_ID_LABEL]: taskId },
      state,
      createdAt: 0,
      startedAt: 0,
      finishedAt: undefined,
      exitCode: undefined,
      error: undefined,
      health: undefined,
      ports: [],
    },
  }
}

const converged: ClusterSnapshot = {
  services: [service('web', 2)],
  tasks: [task('t1', 'web', 1, 'n1'), task('t2', 'web', 2, 'n2'), task('t0', 'web', 1, 'n2', TaskState.SHUTDOWN, TaskState.SHUTDOWN)],
  containers: [container('n1', 't1'), container('n2', 't2'), container('n2', 't0', 'exited')],
  acked: [{ nodeId: 'n1', taskId: 't1', status: { timestamp: 0, state: TaskState.RUNNING } }],
}

describe('the in-process cluster invariants', () => {
  it('pass a converged cluster: each slot one RUNNING task in one running container, acknowledged statuses stored', () => {
    expect(checkCluster(converged)).toEqual([])
  })

  it('find a service running fewer tasks than its replicas', () => {
    const s = { ...converged, tasks: converged.tasks.filter((t) => t.id !== 't2'), containers: converged.containers.filter((c) => c.container.labels[TASK_ID_LABEL] !== 't2') }
    expect(checkReplicas(s)).toEqual(['service web: 1 tasks RUNNING, want 2'])
  })

  it('find two tasks RUNNING in one slot', () => {
    const s = { ...converged, tasks: [...converged.tasks, task('t3', 'web', 1, 'n2')], containers: [...converged.containers, container('n2', 't3')] }
    expect(checkReplicas(s)).toEqual(['service web: 3 tasks RUNNING, want 2', 'service web: slot 1 runs 2 tasks'])
  })

  it('find a task running in two containers (a duplicate after a restart)', () => {
    const s = { ...converged, containers: [...converged.containers, { ...container('n1', 't1'), container: { ...container('n1', 't1').container, id: 'dup' } }] }
    expect(checkReplicas(s)).toEqual(['task t1 runs in 2 containers (n1, n1)'])
  })

  it('find a container left running for a task that was shut down', () => {
    const s = { ...converged, containers: [...converged.containers.slice(0, 2), container('n2', 't0')] }
    expect(checkReplicas(s)).toEqual([`task t0 (slot 1) runs with desired state ${TaskState.SHUTDOWN}`])
  })

  it('find a container of a task deleted from the store, and a RUNNING task without a container', () => {
    const s = { ...converged, containers: [container('n1', 't1'), container('n2', 'gone')] }
    expect(checkReplicas(s)).toEqual(['a container of task gone runs on n2 but the task is gone from the store', 'service web: 1 RUNNING tasks have no running container'])
  })

  it('find an acknowledged status the store does not have (or moved back from)', () => {
    const s = { ...converged, acked: [{ nodeId: 'n2', taskId: 't2', status: { timestamp: 0, state: TaskState.FAILED } as TaskStatus }] }
    expect(checkAcknowledged(s)).toEqual([`task t2: acknowledged state ${TaskState.FAILED} from n2, the store has ${TaskState.RUNNING}`])
  })
})
