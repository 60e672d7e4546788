/**
 * The pure decisions of a rolling update (SwarmKit's manager/orchestrator/update/updater.go):
 * which slots are dirty, what to do with one slot, when failures trigger the failure action,
 * how long to keep monitoring after the last slot, and the update status each step writes.
 * The {@link Updater} applies them to the store.
 *
 * @module
 */
import { TaskState, UpdateFailureAction, UpdateState } from '@swarmkit-ts/api'
import type { Node, Service, Task, UpdateConfig, UpdateStatus } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { isTaskDirty } from '../common/task.ts'
import type { Slot } from '../common/task.ts'

/** Looks a node up by id (for the constraints-only rule of dirty detection). */
export type NodeLookup = (nodeId: string) => Frozen<Node> | undefined

/** Whether `task` must be replaced to match `service`, judged with its node from `nodeOf`. */
export function taskIsDirty(service: Frozen<Service>, task: Frozen<Task>, nodeOf: NodeLookup): boolean {
  return isTaskDirty(service, task, task.nodeId === '' ? undefined : nodeOf(task.nodeId))
}

/** Whether a slot needs the updater: more than one task, or its one task is dirty. */
export function isSlotDirty(service: Frozen<Service>, slot: Slot, nodeOf: NodeLookup): boolean {
  if (slot.length > 1) return true
  const only = slot[0]
  return only !== undefined && taskIsDirty(service, only, nodeOf)
}

/** The dirty slots among `slots`, in their order. */
export function dirtySlots(service: Frozen<Service>, slots: readonly Slot[], nodeOf: NodeLookup): Slot[] {
  return slots.filter((slot) => isSlotDirty(service, slot, nodeOf))
}

/** What a worker does with one dirty slot. */
export type SlotAction =
  /** An up-to-date task with desired RUNNING exists: shut the others down. */
  | { readonly kind: 'use-running'; readonly task: Frozen<Task> }
  /** An up-to-date task not yet started (desired < RUNNING) exists: shut the others down and start it once they stopped. */
  | { readonly kind: 'use-ready'; readonly task: Frozen<Task> }
  /** No usable task: create a replacement. */
  | { readonly kind: 'replace' }

/**
 * The action for a dirty slot (SwarmKit's worker): an up-to-date task with desired RUNNING wins;
 * else an up-to-date task with desired below RUNNING (the last one found); else a replacement.
 */
export function slotAction(service: Frozen<Service>, slot: Slot, nodeOf: NodeLookup): SlotAction {
  let ready: Frozen<Task> | undefined
  for (const t of slot) {
    if (taskIsDirty(service, t, nodeOf)) continue
    if (t.desiredState === TaskState.RUNNING) return { kind: 'use-running', task: t }
    if (t.desiredState < TaskState.RUNNING) ready = t
  }
  return ready === undefined ? { kind: 'replace' } : { kind: 'use-ready', task: ready }
}

/**
 * How long the updater keeps watching for failures after every slot was updated: one more
 * monitor period, or `delay + 1 s` when the delay is at least the monitor period.
 */
export function finalMonitorMs(config: Required<UpdateConfig>): number {
  return config.delayMs >= config.monitorMs ? config.delayMs + 1000 : config.monitorMs
}

/**
 * Whether `failures` out of `dirty` slots exceed `maxFailureRatio` — strictly greater, compared
 * in single precision as SwarmKit does (its ratio is a float32).
 */
export function failureRatioExceeded(failures: number, dirty: number, maxFailureRatio: number): boolean {
  return Math.fround(failures / dirty) > Math.fround(maxFailureRatio)
}

/**
 * Whether an observation of a task this update created is a failure: it ended (observed above
 * RUNNING) before it ran, or within `monitorMs` of when it was first seen running.
 */
export function isUpdateFailure(state: TaskState, runningAt: number | undefined, now: number, monitorMs: number): boolean {
  return state > TaskState.RUNNING && (runningAt === undefined || now - runningAt <= monitorMs)
}

/** What the failure action does once the failure ratio is exceeded. */
export type FailureOutcome =
  | { readonly kind: 'pause'; readonly message: string }
  | { readonly kind: 'rollback'; readonly message: string }
  | { readonly kind: 'continue' }

/**
 * The failure action's outcome for the failure of task `taskId`. `rollingBack`: this update is a
 * rollback (state ROLLBACK_STARTED) — it pauses as a rollback, and is never rolled back itself.
 */
export function failureOutcome(action: UpdateFailureAction, rollingBack: boolean, taskId: string): FailureOutcome {
  const paused = (): FailureOutcome => ({
    kind: 'pause',
    message: `${rollingBack ? 'rollback' : 'update'} paused due to failure or early termination of task ${taskId}`,
  })
  switch (action) {
    case UpdateFailureAction.CONTINUE:
      return { kind: 'continue' }
    case UpdateFailureAction.PAUSE:
      return paused()
    case UpdateFailureAction.ROLLBACK:
      return rollingBack ? paused() : { kind: 'rollback', message: `update rolled back due to failure or early termination of task ${taskId}` }
  }
}

/** The status an update starts with. */
export function startedStatus(now: number): UpdateStatus {
  return { state: UpdateState.UPDATING, message: 'update in progress', startedAt: now }
}

/** The status after the failure action paused `current`: PAUSED, or ROLLBACK_PAUSED for a rollback. */
export function pausedStatus(current: Frozen<UpdateStatus>, message: string): UpdateStatus {
  const state = current.state === UpdateState.ROLLBACK_STARTED ? UpdateState.ROLLBACK_PAUSED : UpdateState.PAUSED
  return { ...current, state, message }
}

/** The status once every slot was updated and monitored: COMPLETED, or ROLLBACK_COMPLETED for a rollback. */
export function completedStatus(current: Frozen<UpdateStatus>, now: number): UpdateStatus {
  return current.state === UpdateState.ROLLBACK_STARTED
    ? { ...current, state: UpdateState.ROLLBACK_COMPLETED, message: 'rollback completed', completedAt: now }
    : { ...current, state: UpdateState.COMPLETED, message: 'update completed', completedAt: now }
}

/** Whether `status` is an update in progress (one the updater may complete). */
export function isInProgress(status: Frozen<UpdateStatus> | undefined): boolean {
  return status !== undefined && (status.state === UpdateState.UPDATING || status.state === UpdateState.ROLLBACK_STARTED)
}

/** Whether `status` is a paused update or rollback (never resumed automatically). */
export function isPaused(status: Frozen<UpdateStatus> | undefined): boolean {
  return status !== undefined && (status.state === UpdateState.PAUSED || status.state === UpdateState.ROLLBACK_PAUSED)
}
