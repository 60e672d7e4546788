/**
 * The restart policy as pure decisions: whether a task's end allows a restart (condition), and
 * whether the restart history of its slot still has room for one (max attempts, window, spec
 * version). The {@link RestartSupervisor} keeps the history; these functions only read it,
 * except {@link pruneWindow}, which returns the entries still worth keeping.
 *
 * @module
 */
import { RestartCondition, TaskState } from '@swarmkit-ts/api'
import type { Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { restartPolicy } from '../common/task.ts'

/**
 * The restart history of one slot (replicated: service and slot number; global: service and
 * node), for the spec version it was recorded under.
 */
export interface RestartHistory {
  /** The spec version the restarts were counted under (undefined: not known yet). */
  specVersion: bigint | undefined
  /** Restarts recorded since the spec version was set. */
  totalRestarts: number
  /**
   * When each restart happened (ms; the replacement's creation), oldest first. Kept only when
   * the policy has a window; entries older than the window are dropped as they age out.
   */
  timestamps: number[]
}

/**
 * The key of a slot's restart history within its service: `s:<slot>` for replicated tasks,
 * `n:<node id>` for global ones (their slot is 0; SwarmKit's `SlotTuple`).
 */
export function restartHistoryKey(task: Pick<Frozen<Task>, 'slot' | 'nodeId'>, globalMode: boolean): string {
  return globalMode ? `n:${task.nodeId}` : `s:${String(task.slot)}`
}

/**
 * Whether the task's restart condition allows replacing it: `none` never; `on-failure` unless
 * it completed (observed COMPLETE, exit 0); `any` always — except a completed job task, for
 * which `any` behaves as `on-failure`.
 */
export function conditionAllowsRestart(task: Frozen<Task>, job: boolean): boolean {
  const condition = restartPolicy(task.spec).condition
  const completed = task.status.state === TaskState.COMPLETE
  switch (condition) {
    case RestartCondition.NONE:
      return false
    case RestartCondition.ON_FAILURE:
      return !completed
    case RestartCondition.ANY:
      return !(job && completed)
  }
}

/** When a task ended, as SwarmKit judges it: the manager's `appliedAt`, else the agent's timestamp. */
export function taskStatusTime(task: Frozen<Task>): number {
  return task.status.appliedAt ?? task.status.timestamp
}

/**
 * The restart timestamps still inside the window that ends at `endedAt` (those after
 * `endedAt - windowMs`), oldest first. Older ones can never count again and are dropped.
 */
export function pruneWindow(timestamps: readonly number[], endedAt: number, windowMs: number): number[] {
  const lookback = endedAt - windowMs
  let i = 0
  while (i < timestamps.length && (timestamps[i] as number) <= lookback) i++
  return timestamps.slice(i)
}

/**
 * Whether the history allows one more restart of `task` (SwarmKit's `shouldRestart` after the
 * condition): always with `maxAttempts` 0, without history, or with history of another spec
 * version; else, without a window, while `totalRestarts < maxAttempts`; with a window, while
 * the restarts inside the window that ends when the task ended — ignoring those recorded at or
 * after that moment (they came after this task) — number fewer than `maxAttempts`.
 * `windowed` is the history's timestamps already pruned by {@link pruneWindow}.
 */
export function historyAllowsRestart(task: Frozen<Task>, history: Readonly<RestartHistory> | undefined, windowed?: readonly number[]): boolean {
  const policy = restartPolicy(task.spec)
  if (policy.maxAttempts === 0) return true
  if (history === undefined) return true
  if (task.specVersion !== undefined && task.specVersion.index !== history.specVersion) return true
  if (policy.windowMs === 0) return history.totalRestarts < policy.maxAttempts
  const recent = windowed ?? pruneWindow(history.timestamps, taskStatusTime(task), policy.windowMs)
  const endedAt = taskStatusTime(task)
  let count = recent.length
  for (let i = recent.length - 1; i >= 0 && (recent[i] as number) >= endedAt; i--) count--
  return count < policy.maxAttempts
}
