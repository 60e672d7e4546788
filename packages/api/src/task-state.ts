import { InvalidArgumentError } from './errors.ts'

/**
 * Task states in lifecycle order. Values leave gaps (as in SwarmKit) and only ever increase:
 * a status update that would lower a task's state is dropped.
 */
export const TaskState = {
  NEW: 0,
  PENDING: 64,
  ASSIGNED: 192,
  ACCEPTED: 256,
  PREPARING: 320,
  READY: 384,
  STARTING: 448,
  RUNNING: 512,
  COMPLETE: 576,
  SHUTDOWN: 640,
  FAILED: 704,
  REJECTED: 768,
  REMOVE: 800,
  ORPHANED: 832,
} as const
/** A task state value. */
export type TaskState = (typeof TaskState)[keyof typeof TaskState]
/** A task state name. */
export type TaskStateName = keyof typeof TaskState

const NAMES = new Map<number, TaskStateName>(Object.entries(TaskState).map(([k, v]) => [v, k as TaskStateName]))

/** All task states in ascending order. */
export const TASK_STATES: readonly TaskState[] = Object.values(TaskState)

/** Whether `v` is one of the task state values. */
export function isTaskState(v: unknown): v is TaskState {
  return typeof v === 'number' && NAMES.has(v)
}

/** The name of a task state, e.g. `RUNNING`. */
export function taskStateName(state: TaskState): TaskStateName {
  const n = NAMES.get(state)
  if (n === undefined) throw new InvalidArgumentError('state', `unknown task state ${String(state)}`)
  return n
}

/** Orders two states: negative if `a` comes before `b`, 0 if equal, positive after. */
export function compareTaskStates(a: TaskState, b: TaskState): number {
  return a - b
}

/** Whether a task in state `from` may move to `to` (states only move forward; staying put is allowed). */
export function canTransition(from: TaskState, to: TaskState): boolean {
  return to >= from
}

/** Whether the task has stopped for good: COMPLETE or later (COMPLETE, SHUTDOWN, FAILED, REJECTED, REMOVE, ORPHANED). */
export function isTerminal(state: TaskState): boolean {
  return state >= TaskState.COMPLETE
}

/** Whether the task is between ASSIGNED and RUNNING inclusive — it holds resources on its node. */
export function isActiveOnNode(state: TaskState): boolean {
  return state >= TaskState.ASSIGNED && state <= TaskState.RUNNING
}
