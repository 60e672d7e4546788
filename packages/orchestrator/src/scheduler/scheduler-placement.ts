/**
 * The loop's one seam to the placement core (`placement.ts`): places a group and hands back the
 * decisions with their task objects, resolving the strategy (the task's `placement.strategy`,
 * else the cluster's `orchestration.schedulingStrategy`, else spread).
 *
 * @module
 */
import { SchedulingStrategy } from '@swarmkit-ts/api'
import type { Cluster, GenericResource, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import type { NodeSet } from './node-info.ts'
import { placeGroup } from './placement.ts'

/** A group's outcome, with task objects. */
export interface GroupOutcome {
  /** Placed (and reserved in the NodeSet). */
  readonly placed: { readonly task: Frozen<Task>; readonly nodeId: string; readonly generic: readonly GenericResource[] }[]
  /** Not placed, with the explanation. */
  readonly unplaced: { readonly task: Frozen<Task>; readonly explanation: string }[]
}

/** The cluster-wide strategy, undefined when unset. */
export function clusterStrategy(cluster: Frozen<Cluster> | undefined): SchedulingStrategy | undefined {
  return cluster?.spec.orchestration?.schedulingStrategy
}

/**
 * Places `tasks` (one service and spec version, or pre-assigned ones) on `nodes`; `networkDriver`
 * names the driver of a network (for the plugin filter), undefined when unknown.
 */
export function placeTasks(
  nodes: NodeSet,
  tasks: readonly Frozen<Task>[],
  cluster: SchedulingStrategy | undefined,
  now: number,
  networkDriver?: (networkId: string) => string | undefined,
): GroupOutcome {
  const first = tasks[0]
  if (first === undefined) return { placed: [], unplaced: [] }
  const strategy = first.spec.placement?.strategy ?? cluster ?? SchedulingStrategy.SPREAD
  const r = placeGroup(nodes, { tasks }, networkDriver === undefined ? { strategy, now } : { strategy, now, networkDriver })
  const byId = new Map<string, Frozen<Task>>()
  for (const t of tasks) byId.set(t.id, t)
  const out: GroupOutcome = { placed: [], unplaced: [] }
  for (const p of r.placed) {
    const task = byId.get(p.taskId)
    if (task !== undefined) out.placed.push({ task, nodeId: p.nodeId, generic: p.genericResources })
  }
  for (const [id, explanation] of r.unplaced) {
    const task = byId.get(id)
    if (task !== undefined) out.unplaced.push({ task, explanation })
  }
  return out
}
