/**
 * Store objects → the dashboard's wire views (see `view-model.ts`): only what the page shows.
 *
 * @module
 */
import { TaskState, taskStateName } from '@swarmkit-ts/api'
import type { Node, Service, Task } from '@swarmkit-ts/api'
import { computeProgress, globalServiceNodes } from '@swarmkit-ts/core'
import type { Frozen } from '@swarmkit-ts/store'
import type { NodeView, ServiceView, TaskView } from './view-model.ts'

/** Whether the page shows `task`: it is meant to run (desired state up to RUNNING) or still runs. */
export function taskShown(task: Frozen<Task>): boolean {
  return task.desiredState <= TaskState.RUNNING || task.status.state <= TaskState.RUNNING
}

/** A node's column header. */
export function toNodeView(node: Frozen<Node>): NodeView {
  const ms = node.managerStatus
  return {
    id: node.id,
    hostname: node.description?.hostname ?? node.spec.annotations.name,
    role: node.role,
    leader: ms?.leader === true,
    reachability: ms?.reachability ?? '',
    availability: node.spec.availability,
    state: node.status.state,
    addr: node.status.addr ?? ms?.addr ?? '',
    labels: node.spec.annotations.labels ?? {},
    nanoCpus: node.description?.resources?.nanoCpus ?? 0,
    memoryBytes: node.description?.resources?.memoryBytes ?? 0,
  }
}

/** A task's card. */
export function toTaskView(task: Frozen<Task>): TaskView {
  const reserved = task.spec.resources?.reservations
  return {
    id: task.id,
    serviceId: task.serviceId,
    serviceName: task.serviceAnnotations.name,
    slot: task.slot,
    nodeId: task.nodeId,
    state: taskStateName(task.status.state),
    desiredState: taskStateName(task.desiredState),
    image: task.spec.container?.image ?? '',
    createdAt: task.meta.createdAt,
    message: task.status.err ?? task.status.message ?? '',
    nanoCpus: reserved?.nanoCpus ?? 0,
    memoryBytes: reserved?.memoryBytes ?? 0,
  }
}

/**
 * A service's row, with its counts and rollout from the orchestrator's progress of `tasks` (the
 * service's tasks). `nodes` lists the cluster's nodes, read only for a global service: its desired
 * count is the nodes it should run on, not the tasks it has so far.
 */
export function toServiceView(service: Frozen<Service>, tasks: readonly Frozen<Task>[], nodeOf: (id: string) => Frozen<Node> | undefined, nodes: () => readonly Frozen<Node>[]): ServiceView {
  const globalNodes = 'global' in service.spec.mode ? globalServiceNodes(service, nodes()) : undefined
  const progress = computeProgress(service, tasks, nodeOf, false, globalNodes)
  const base = {
    id: service.id,
    name: service.spec.annotations.name,
    mode: progress.mode,
    image: service.spec.task.container?.image ?? '',
    labels: service.spec.annotations.labels ?? {},
    desired: progress.desired,
    running: progress.running,
  }
  const u = progress.updateStatus
  if (u === undefined) return base
  return { ...base, update: { state: u.state, message: u.message ?? '', upToDate: progress.runningUpToDate, total: progress.desired } }
}
