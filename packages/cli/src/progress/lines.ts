/**
 * The vocabulary of the converge display: what a {@link ConvergeTracker} writes (lines keyed by an
 * id, rewritten in place, and permanent messages), and how Docker draws a task's state as a bar.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'

/**
 * One write to the display, as Docker's `progress.Output` receives it:
 * - `line`: the line with this `id` (created the first time, rewritten in place after), drawn as
 *   `<id>: <text>` followed by the bar when there is one;
 * - `message`: a permanent line `<id>: <text>` (or just `<text>` when `id` is empty); lines
 *   written after it start below it.
 */
export type ProgressWrite =
  | { readonly kind: 'line'; readonly id: string; readonly text: string; readonly bar?: ProgressBar }
  | { readonly kind: 'message'; readonly id: string; readonly text: string }

/** A bar: `current` out of `total` steps. */
export interface ProgressBar {
  readonly current: number
  readonly total: number
}

/** Docker's step of each task state on its bar (`new` = 1 … `running` = 9); states after RUNNING are not drawn. */
const STEPS: ReadonlyMap<TaskState, number> = new Map<TaskState, number>([
  [TaskState.NEW, 1],
  [TaskState.PENDING, 3],
  [TaskState.ASSIGNED, 4],
  [TaskState.ACCEPTED, 5],
  [TaskState.PREPARING, 6],
  [TaskState.READY, 7],
  [TaskState.STARTING, 8],
  [TaskState.RUNNING, 9],
])

/** The last step of a service's bar (RUNNING). */
export const MAX_STEP = 9

/** Docker draws no per-slot bars for more replicas (or nodes) than this. */
export const MAX_PROGRESS_BARS = 20

/** Width of the state column: the longest state name Docker shows (`allocated`, `preparing`). */
const STATE_WIDTH = 9

/** Docker's lower-case names of the task states. */
const NAMES: ReadonlyMap<TaskState, string> = new Map<TaskState, string>([
  [TaskState.NEW, 'new'],
  [TaskState.PENDING, 'pending'],
  [TaskState.ASSIGNED, 'assigned'],
  [TaskState.ACCEPTED, 'accepted'],
  [TaskState.PREPARING, 'preparing'],
  [TaskState.READY, 'ready'],
  [TaskState.STARTING, 'starting'],
  [TaskState.RUNNING, 'running'],
  [TaskState.COMPLETE, 'complete'],
  [TaskState.SHUTDOWN, 'shutdown'],
  [TaskState.FAILED, 'failed'],
  [TaskState.REJECTED, 'rejected'],
  [TaskState.REMOVE, 'remove'],
  [TaskState.ORPHANED, 'orphaned'],
])

/** Docker's name of a task state (`running`). */
export function stateName(state: TaskState): string {
  return NAMES.get(state) ?? String(state)
}

/** The state name padded to the state column (`running  `). */
export function paddedState(state: TaskState): string {
  return stateName(state).padEnd(STATE_WIDTH)
}

/** The bar step of a state, or undefined for states after RUNNING. */
export function stateStep(state: TaskState): number | undefined {
  return STEPS.get(state)
}

/**
 * Docker's bar (jsonmessage): 50 columns, `=` for each 2 % done, then `>`, then spaces —
 * `[=====>                                             ]` for `new`, 50 `=` for `running`.
 */
export function drawBar(bar: ProgressBar): string {
  const filled = Math.min(50, Math.floor(Math.floor((bar.current / bar.total) * 100) / 2))
  return `[${'='.repeat(filled)}>${' '.repeat(50 - filled)}]`
}

/** A task error as Docker shows it in place of a bar: newlines as spaces, at most 75 characters. */
export function truncError(err: string): string {
  const flat = err.replaceAll('\n', ' ')
  const chars = Array.from(flat)
  return chars.length > 75 ? `${chars.slice(0, 74).join('')}…` : flat
}

/** The text of a write as a line (without the bar). */
export function lineText(write: ProgressWrite): string {
  return write.id === '' ? write.text : `${write.id}: ${write.text}`
}
