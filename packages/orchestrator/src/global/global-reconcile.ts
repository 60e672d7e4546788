/**
 * The decisions of the global orchestrator as pure functions: given the valid nodes, the global
 * services and their tasks, which tasks to create, which to shut down and which slots to hand to
 * the update supervisor. The driver ({@link GlobalOrchestrator}) reads the store, calls these and
 * writes the result.
 *
 * "Valid" nodes are those that can keep tasks: not DOWN and not drained (see `isInvalidNode`).
 * A paused node is valid — its tasks stay — but gets no new task and no update.
 *
 * @module
 */
import { NodeAvailability, TaskState } from '@swarmkit-ts/api'
import type { Node, Service, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { isTaskDirty, nodeMatchesConstraints } from '../common/task.ts'
import type { Slot } from '../common/task.ts'

/** What reconciling one global service decided. */
export interface GlobalServicePlan {
  /** Nodes that get a new task of the service (valid, active, matching, with no runnable task). */
  readonly create: readonly string[]
  /** Tasks to shut down: on nodes that are not valid or no longer match the constraints. */
  readonly shutdown: readonly string[]
  /** One slot per valid, active, matching node that has tasks: for the update supervisor. */
  readonly slots: readonly Slot[]
}

/** What reconciling one node decided, per global service. */
export interface GlobalNodePlan {
  /** Services that get a new task on the node. */
  readonly create: readonly string[]
  /** Tasks on the node to shut down. */
  readonly shutdown: readonly string[]
}

/** Whether the orchestrator still counts `task` as one of its node's runnable tasks (desired ≤ RUNNING). */
export function isRunnable(task: Frozen<Task>): boolean {
  return task.desiredState <= TaskState.RUNNING
}

/** Whether a task must be set to desired SHUTDOWN to shut it down (it is not already at or past it). */
export function needsShutdown(task: Frozen<Task>): boolean {
  return task.desiredState < TaskState.SHUTDOWN
}

/**
 * Which of a node's tasks of a service the orchestrator counts (SwarmKit's
 * `UpdatableTasksInSlot`, see `RestartSupervisor.updatableTasksInSlot`): the runnable ones, or
 * else a stopped task the restart policy will not replace (so the node gets no new task until
 * the spec changes). An empty result means the node has no task of the service.
 */
export type UpdatableTasks = (slot: Slot, service: Frozen<Service>) => Slot

/** The runnable tasks of a slot (desired ≤ RUNNING): {@link UpdatableTasks} without a restart policy to consult. */
export function runnableTasks(slot: Slot): Slot {
  return slot.filter(isRunnable)
}

/**
 * Whether `task`, told to stop, was stopped by the manager rather than ending on its own: its
 * observed state is not COMPLETE, FAILED or REJECTED (it is SHUTDOWN, or has not reported yet,
 * as on a node that went down).
 */
export function stoppedByManager(task: Frozen<Task>): boolean {
  const s = task.status.state
  return task.desiredState > TaskState.RUNNING && s !== TaskState.COMPLETE && s !== TaskState.FAILED && s !== TaskState.REJECTED
}

/**
 * `updatable` except that a node whose only counted task is one the manager stopped (drain,
 * node down, constraints) counts as having no task. SwarmKit keeps such a task when the restart
 * policy would not restart it (condition none, or on-failure), so a node drained and made active
 * again never got its global task back; here a restart policy only governs tasks that ended on
 * their own.
 */
export function withoutManagerStops(updatable: UpdatableTasks): UpdatableTasks {
  return (slot, service) => {
    const kept = updatable(slot, service)
    return kept.length === 1 && stoppedByManager(kept[0] as Frozen<Task>) ? [] : kept
  }
}

/** `tasks` grouped by node, each group narrowed by `updatable` (empty groups left out). */
function groupByNode(service: Frozen<Service>, tasks: readonly Frozen<Task>[], updatable: UpdatableTasks): Map<string, Slot> {
  const all = new Map<string, Frozen<Task>[]>()
  for (const t of tasks) {
    const list = all.get(t.nodeId)
    if (list === undefined) all.set(t.nodeId, [t])
    else list.push(t)
  }
  const out = new Map<string, Slot>()
  for (const [nodeId, slot] of all) {
    const kept = updatable(slot, service)
    if (kept.length > 0) out.set(nodeId, kept)
  }
  return out
}

/**
 * Reconciles one global service (SwarmKit's `reconcileServices`). `tasks` are the service's
 * tasks, narrowed per node by `updatable`; `nodes` are the valid nodes. For each valid node:
 * not matching the constraints → shut down its tasks; paused → leave it; no task → create one;
 * else its tasks are a slot for the update supervisor. Tasks on any other node (drained, down,
 * deleted) are shut down.
 */
export function planGlobalService(
  service: Frozen<Service>,
  nodes: Iterable<Frozen<Node>>,
  tasks: readonly Frozen<Task>[],
  updatable: UpdatableTasks = runnableTasks,
): GlobalServicePlan {
  const byNode = groupByNode(service, tasks, updatable)
  const create: string[] = []
  const shutdown: string[] = []
  const slots: Slot[] = []
  for (const node of nodes) {
    const here = byNode.get(node.id) ?? []
    byNode.delete(node.id)
    if (!nodeMatchesConstraints(service.spec.task, node)) {
      for (const t of here) if (needsShutdown(t)) shutdown.push(t.id)
      continue
    }
    if (node.spec.availability === NodeAvailability.PAUSE) continue
    if (here.length === 0) create.push(node.id)
    else slots.push(here)
  }
  // What is left is on nodes that are not valid: drained, down or deleted.
  for (const here of byNode.values()) for (const t of here) if (needsShutdown(t)) shutdown.push(t.id)
  return { create, shutdown, slots }
}

/**
 * Reconciles one node against every global service (SwarmKit's `reconcileOneNode`). `node` is
 * the node as now stored, `valid` whether it can keep tasks, `tasksOnNode` every task on it
 * (narrowed per service by `updatable`).
 * - not valid (drained or down): every task of a global service on it is shut down;
 * - paused: nothing;
 * - else, per service: not matching → its tasks there are shut down; no runnable task → one is
 *   created; otherwise out-of-date tasks are replaced directly (not as a rolling update, which
 *   would observe the update parameters and cancel a rolling update in progress): dirty tasks
 *   are shut down, a new task is created when no clean one remains, and clean tasks beyond the
 *   first are shut down.
 */
export function planGlobalNode(
  node: Frozen<Node>,
  valid: boolean,
  services: ReadonlyMap<string, Frozen<Service>>,
  tasksOnNode: readonly Frozen<Task>[],
  updatable: UpdatableTasks = runnableTasks,
): GlobalNodePlan {
  const create: string[] = []
  const shutdown: string[] = []
  if (!valid) {
    for (const t of tasksOnNode) if (services.has(t.serviceId) && needsShutdown(t)) shutdown.push(t.id)
    return { create, shutdown }
  }
  if (node.spec.availability === NodeAvailability.PAUSE) {
    // No new task and no update on a paused node; a task that was never assigned (a rolling
    // update's replacement, say) can never start there: shut it down rather than leave it
    // pending — the update that waits for it would wait forever. Running tasks stay.
    for (const t of tasksOnNode) {
      if (services.has(t.serviceId) && t.status.state < TaskState.ASSIGNED && needsShutdown(t)) shutdown.push(t.id)
    }
    return { create, shutdown }
  }
  const byService = new Map<string, Frozen<Task>[]>()
  for (const t of tasksOnNode) {
    if (!services.has(t.serviceId)) continue
    const list = byService.get(t.serviceId)
    if (list === undefined) byService.set(t.serviceId, [t])
    else list.push(t)
  }
  for (const service of services.values()) {
    const mine = byService.get(service.id)
    const here = mine === undefined ? [] : updatable(mine, service)
    if (!nodeMatchesConstraints(service.spec.task, node)) {
      for (const t of here) if (needsShutdown(t)) shutdown.push(t.id)
      continue
    }
    const clean: Frozen<Task>[] = []
    for (const t of here) {
      if (isTaskDirty(service, t, node)) {
        if (needsShutdown(t)) shutdown.push(t.id)
      }
      else clean.push(t)
    }
    if (clean.length === 0) create.push(service.id)
    for (const t of clean.slice(1)) if (needsShutdown(t)) shutdown.push(t.id)
  }
  return { create, shutdown }
}

/** What to do with a task of the restart set. */
export type GlobalRestartDecision =
  /** Nothing: already handled, or its service is gone. */
  | 'skip'
  /** Desired SHUTDOWN without a replacement: its node is paused, no longer matches, or is not valid. */
  | 'shutdown'
  /** Hand it to the restart supervisor. */
  | 'restart'

/**
 * The restart decision for a task of the restart set (SwarmKit's `tickTasks`), on the task as
 * now stored. `node` is the task's node when valid, else undefined.
 */
export function decideGlobalRestart(task: Frozen<Task>, service: Frozen<Service> | undefined, node: Frozen<Node> | undefined): GlobalRestartDecision {
  if (task.desiredState > TaskState.RUNNING || service === undefined) return 'skip'
  if (node === undefined) return 'shutdown'
  if (node.spec.availability === NodeAvailability.PAUSE || !nodeMatchesConstraints(service.spec.task, node)) return 'shutdown'
  return 'restart'
}
