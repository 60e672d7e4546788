/**
 * Pure decision of the status intake: what a queued status update writes on the stored task.
 *
 * @module
 */
import type { Task, TaskStatus } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { specEqual } from '../common/equality.ts'

/** Who applies an update, and when. */
export interface AppliedStamp {
  /** The dispatcher's node id, when configured. */
  readonly by: string | undefined
  readonly at: number
}

/**
 * The status to store for `update` on `task`, or undefined to leave the task as it is:
 * an update whose state is lower than the stored one is ignored (states only move forward);
 * one equal to the stored status (apart from who applied it) changes nothing. An applied
 * status carries `appliedBy` / `appliedAt` (SwarmKit's `processUpdates`).
 */
export function decideStatusUpdate(task: Frozen<Task>, update: Frozen<TaskStatus>, stamp: AppliedStamp): TaskStatus | undefined {
  if (update.state < task.status.state) return undefined
  if (specEqual(withoutStamp(task.status), withoutStamp(update))) return undefined
  const next: TaskStatus = { ...(withoutStamp(update) as TaskStatus), appliedAt: stamp.at }
  if (stamp.by !== undefined) next.appliedBy = stamp.by
  return next
}

function withoutStamp(s: Frozen<TaskStatus>): Frozen<TaskStatus> {
  const { appliedBy: _by, appliedAt: _at, ...rest } = s
  return rest
}
