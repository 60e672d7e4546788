/**
 * The decisions of the jobs orchestrator as pure functions (SwarmKit's
 * manager/orchestrator/jobs/{replicated,global}/reconciler.go): from a job service, its tasks
 * and (global jobs) the nodes, which tasks to create, restart, shut down and remove. The driver
 * in `jobs-orchestrator.ts` writes them.
 *
 * @module
 */
import { NodeAvailability, NodeState, TaskState } from '@swarmkit-ts/api'
import type { Node, Service, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { isInvalidNode, nodeMatchesConstraints } from '../common/task.ts'
import { isIdleScheduledJob } from './job-schedule.ts'

/** What reconciling a replicated job decided. */
export interface ReplicatedJobPlan {
  /** Slots (from 0) to create a task in, desired COMPLETE, at the current iteration. */
  readonly create: readonly number[]
  /** Failed tasks of the current iteration, for the restart supervisor. */
  readonly restart: readonly string[]
  /** Tasks of older iterations still running: desired REMOVE. */
  readonly remove: readonly string[]
}

/** What reconciling a global job decided. */
export interface GlobalJobPlan {
  /** Nodes to create a task on, desired COMPLETE, at the current iteration. */
  readonly create: readonly string[]
  /** Failed tasks of the current iteration on valid nodes, for the restart supervisor. */
  readonly restart: readonly string[]
  /** Tasks of the current iteration on nodes that are down, drained or gone: desired SHUTDOWN. */
  readonly shutdown: readonly string[]
  /** Tasks of older iterations still running: desired REMOVE. */
  readonly remove: readonly string[]
}

/** The iteration a job's tasks must carry to count (0 before the service has a job status). */
export function currentIteration(service: Frozen<Service>): bigint {
  return service.jobStatus?.jobIteration.index ?? 0n
}

/** Tasks of an older iteration still running (observed ≤ RUNNING) and not yet desired REMOVE. */
function staleTasks(tasks: readonly Frozen<Task>[], iteration: bigint): string[] {
  const out: string[] = []
  for (const t of tasks) {
    if (t.jobIteration === undefined || t.jobIteration.index === iteration) continue
    if (t.status.state <= TaskState.RUNNING && t.desiredState !== TaskState.REMOVE) out.push(t.id)
  }
  return out
}

/**
 * A replicated job: of the current iteration's tasks, the COMPLETE ones are completions and the
 * others still desired ≤ COMPLETE are running (a failed one among them goes to the restart
 * supervisor, and still holds its slot). New tasks: min(maxConcurrent − running,
 * totalCompletions − completed − running), never negative, each in the lowest free slot from 0.
 * An idle scheduled job (not run since its create or update) gets none.
 */
export function planReplicatedJob(service: Frozen<Service>, tasks: readonly Frozen<Task>[]): ReplicatedJobPlan {
  const mode = 'replicatedJob' in service.spec.mode ? service.spec.mode.replicatedJob : {}
  const maxConcurrent = mode.maxConcurrent ?? 1
  const total = mode.totalCompletions ?? maxConcurrent
  const iteration = currentIteration(service)
  let running = 0
  let completed = 0
  const restart: string[] = []
  const used = new Set<number>()
  for (const t of tasks) {
    if (t.jobIteration?.index !== iteration) continue
    if (t.status.state === TaskState.COMPLETE) {
      completed++
      used.add(t.slot)
    } else if (t.desiredState <= TaskState.COMPLETE) {
      running++
      used.add(t.slot)
      if (t.status.state > TaskState.COMPLETE) restart.push(t.id)
    }
  }
  const create: number[] = []
  if (!isIdleScheduledJob(service)) {
    const count = Math.max(0, Math.min(maxConcurrent - running, total - completed - running))
    for (let slot = 0; create.length < count && slot < total; slot++) if (!used.has(slot)) create.push(slot)
  }
  return { create, restart, remove: staleTasks(tasks, iteration) }
}

/**
 * A global job: one task per node that is READY, ACTIVE, matches the constraints and existed
 * when the iteration started (created at or before `lastExecution`, else the service's
 * creation), unless the node already has a task of the current iteration desired ≤ COMPLETE.
 * Failed ones are restarted on valid nodes; on a node that is down, drained or gone a task still
 * running is shut down instead. An idle scheduled job gets no new task.
 */
export function planGlobalJob(service: Frozen<Service>, tasks: readonly Frozen<Task>[], nodes: readonly Frozen<Node>[]): GlobalJobPlan {
  const iteration = currentIteration(service)
  const startedAt = service.jobStatus?.lastExecution ?? service.meta.createdAt
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const covered = new Set<string>()
  const restart: string[] = []
  const shutdown: string[] = []
  for (const t of tasks) {
    if (t.jobIteration?.index !== iteration || t.desiredState > TaskState.COMPLETE) continue
    covered.add(t.nodeId)
    if (isInvalidNode(byId.get(t.nodeId))) {
      if (t.status.state <= TaskState.RUNNING) shutdown.push(t.id)
    } else if (t.status.state > TaskState.COMPLETE) {
      restart.push(t.id)
    }
  }
  const create: string[] = []
  if (!isIdleScheduledJob(service)) {
    const sorted = [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    for (const n of sorted) {
      if (covered.has(n.id) || n.status.state !== NodeState.READY || n.spec.availability !== NodeAvailability.ACTIVE) continue
      if (n.meta.createdAt > startedAt || !nodeMatchesConstraints(service.spec.task, n)) continue
      create.push(n.id)
    }
  }
  return { create, restart, shutdown, remove: staleTasks(tasks, iteration) }
}
