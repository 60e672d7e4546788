/**
 * How one scheduling pass splits the tasks it has: pre-assigned tasks (checked first), and the
 * others in groups of one service and spec version (a task without a spec version alone), as
 * SwarmKit's `tick` does; PENDING tasks already desired SHUTDOWN are set apart, never placed.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'

/** The work of one pass. */
export interface PassPlan {
  /** Pre-assigned tasks, checked against their node first. */
  readonly preassigned: Frozen<Task>[]
  /** Groups of unassigned tasks to place, each in the order its tasks were given. */
  readonly groups: Frozen<Task>[][]
  /** PENDING tasks desired SHUTDOWN: stopped without a node (desired REMOVE ones are left to the task reaper). */
  readonly shutdown: Frozen<Task>[]
}

/** The key of a task's group: its service and spec version; a task without one is its own group. */
export function groupKey(task: Frozen<Task>): string {
  const v = task.specVersion
  return v === undefined ? `t\u0000${task.id}` : `${task.serviceId}\u0000${String(v.index)}`
}

/** Splits a pass's tasks (see the module doc). */
export function planPass(preassigned: Iterable<Frozen<Task>>, unassigned: Iterable<Frozen<Task>>): PassPlan {
  const groups = new Map<string, Frozen<Task>[]>()
  const shutdown: Frozen<Task>[] = []
  const checked: Frozen<Task>[] = []
  const stopped = (t: Frozen<Task>): boolean => {
    if (t.desiredState <= TaskState.COMPLETE) return false
    if (t.desiredState === TaskState.SHUTDOWN) shutdown.push(t)
    return true
  }
  for (const t of preassigned) if (!stopped(t)) checked.push(t)
  for (const t of unassigned) {
    if (stopped(t)) continue
    const k = groupKey(t)
    const g = groups.get(k)
    if (g === undefined) groups.set(k, [t])
    else g.push(t)
  }
  return { preassigned: checked, groups: [...groups.values()], shutdown }
}
