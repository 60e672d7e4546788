/**
 * What a settled, healed cluster must show, as pure checks over a snapshot of the store, the
 * runtimes and the acknowledged statuses: each returns the violations it finds (empty when the
 * cluster converged), worded for a failing test's message.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Service, Task } from '@swarmkit-ts/api'
import type { ContainerInfo } from '@swarmkit-ts/engine-adapter'
import type { AckedStatus } from './ack-log.ts'

/** The label naming a container's task (Docker's, which the executor sets). */
export const TASK_ID_LABEL = 'com.docker.swarm.task.id'

/** A container as one node's runtime holds it. */
export interface NodeContainer {
  readonly nodeId: string
  readonly container: ContainerInfo
}

/** What the checks read. */
export interface ClusterSnapshot {
  readonly services: readonly Service[]
  readonly tasks: readonly Task[]
  /** Containers of every live node's runtime. */
  readonly containers: readonly NodeContainer[]
  readonly acked: readonly AckedStatus[]
}

/** Whether `t` is observed RUNNING and meant to run. */
export function isRunningTask(t: Task): boolean {
  return t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING
}

/**
 * Every replicated service runs exactly its replica count of tasks (observed RUNNING, desired
 * RUNNING), one per slot; every running container belongs to such a task on its own node, and
 * no task runs in two containers; every removed service runs nothing.
 */
export function checkReplicas(s: ClusterSnapshot): string[] {
  const out: string[] = []
  const tasks = new Map(s.tasks.map((t) => [t.id, t]))
  const runningContainers = new Map<string, NodeContainer[]>()
  for (const c of s.containers) {
    if (c.container.state !== 'running') continue
    const id = c.container.labels[TASK_ID_LABEL]
    if (id === undefined) {
      out.push(`container ${c.container.id} on ${c.nodeId} runs without a task label`)
      continue
    }
    runningContainers.set(id, [...(runningContainers.get(id) ?? []), c])
  }
  for (const [id, cs] of runningContainers) {
    if (cs.length > 1) out.push(`task ${id} runs in ${cs.length} containers (${cs.map((c) => c.nodeId).join(', ')})`)
    const t = tasks.get(id)
    if (t === undefined) out.push(`a container of task ${id} runs on ${cs[0]?.nodeId ?? '?'} but the task is gone from the store`)
    else if (t.desiredState !== TaskState.RUNNING) out.push(`task ${id} (slot ${t.slot}) runs with desired state ${t.desiredState}`)
    else if (cs.some((c) => c.nodeId !== t.nodeId)) out.push(`task ${id} runs on a node it is not assigned to`)
  }
  const serviceIds = new Set(s.services.map((x) => x.id))
  for (const svc of s.services) {
    const mode = svc.spec.mode
    if (!('replicated' in mode)) continue
    const replicas = mode.replicated.replicas ?? 1
    const running = s.tasks.filter((t) => t.serviceId === svc.id && isRunningTask(t))
    if (running.length !== replicas) out.push(`service ${svc.spec.annotations.name}: ${running.length} tasks RUNNING, want ${replicas}`)
    const slots = new Map<number, number>()
    for (const t of running) slots.set(t.slot, (slots.get(t.slot) ?? 0) + 1)
    for (const [slot, n] of slots) if (n > 1) out.push(`service ${svc.spec.annotations.name}: slot ${slot} runs ${n} tasks`)
    const inContainers = running.filter((t) => runningContainers.has(t.id)).length
    if (inContainers !== running.length) out.push(`service ${svc.spec.annotations.name}: ${running.length - inContainers} RUNNING tasks have no running container`)
  }
  for (const [id] of runningContainers) {
    const t = tasks.get(id)
    if (t !== undefined && !serviceIds.has(t.serviceId)) out.push(`task ${id} of removed service ${t.serviceId} still runs`)
  }
  return out
}

/** Every status the dispatcher acknowledged is in the store, or a later one (the task may since be deleted). */
export function checkAcknowledged(s: ClusterSnapshot): string[] {
  const out: string[] = []
  const tasks = new Map(s.tasks.map((t) => [t.id, t]))
  for (const a of s.acked) {
    const t = tasks.get(a.taskId)
    if (t !== undefined && t.status.state < a.status.state)
      out.push(`task ${a.taskId}: acknowledged state ${a.status.state} from ${a.nodeId}, the store has ${t.status.state}`)
  }
  return out
}

/** Both checks. */
export function checkCluster(s: ClusterSnapshot): string[] {
  return [...checkReplicas(s), ...checkAcknowledged(s)]
}
