/**
 * The converge display's logic, pure: {@link ConvergeTracker} turns the snapshots of a service's
 * progress (and the time) into the writes of Docker's display (`overall progress: …`, a bar per
 * slot, `verify: …`, `rollback: …`) and says when the wait is over and how it ended. It follows
 * docker/cli's `ServiceProgress` loop: one {@link ConvergeTracker.step} is one turn of it.
 *
 * @module
 */
import { TaskState, UpdateState } from '@swarmkit-ts/api'
import type { ServiceProgress, SlotProgress } from '@swarmkit-ts/core'
import { MAX_PROGRESS_BARS, MAX_STEP, paddedState, stateStep, truncError } from './lines.ts'
import type { ProgressWrite } from './lines.ts'

/** How a wait ended. */
export type ProgressOutcome =
  /**
   * The service converged and stayed so for the monitor period (or the job completed); after a
   * rollback, `rollback` is its reason (`manually requested rollback`, `update rolled back due to
   * failure or early termination of task …`).
   */
  | { readonly kind: 'converged'; readonly rollback?: string }
  /** The update (or the rollback) paused: `message` is Docker's error line, `service update paused: …`. */
  | { readonly kind: 'paused'; readonly message: string }
  /** The service was removed while we waited. */
  | { readonly kind: 'removed' }

/** What one step gives: the writes to draw, the outcome once the wait is over, and when to step again. */
export interface ProgressStep {
  readonly writes: readonly ProgressWrite[]
  /** Set once the wait is over (no later step is needed). */
  readonly outcome?: ProgressOutcome
  /** The clock time (ms) at which a step without a new snapshot would show something new (the verify countdown). */
  readonly wakeAtMs?: number
}

/** Construction options of a {@link ConvergeTracker}. */
export interface ConvergeTrackerInit {
  /** How long the service must stay converged: the service's update monitor (Docker: 5 s when unset or 0). */
  readonly monitorMs: number
}

/** Docker's monitor period when the service sets none. */
export const DEFAULT_MONITOR_MS = 5000

/**
 * Follows one service to convergence. Feed it every new snapshot with {@link step}, and call
 * {@link step} again (without a snapshot) at `wakeAtMs` while it asks to. No timers, no I/O.
 */
export class ConvergeTracker {
  readonly #monitorMs: number
  #latest: ServiceProgress | undefined
  #initialized = false
  /** Bars frozen: the slots all ran once (Docker's `done`). */
  #done = false
  #converged = false
  #convergedAt: number | undefined
  #rollback = false
  /** The rollback's reason, once the updater started one. */
  #rollbackReason: string | undefined
  /** A message shown after `verify: … converged` (`rollback: rollback completed`). */
  #finalMessage: string | undefined
  readonly #slotMap = new Map<number | string, number>()
  #over = false
  /** The last status seen was UPDATING or ROLLBACK_STARTED: the updater had not finished. */
  #settling = false

  constructor(init: ConvergeTrackerInit) {
    this.#monitorMs = init.monitorMs
  }

  /** One turn of the loop at clock time `nowMs`, with a new snapshot or the last one. */
  step(nowMs: number, snapshot?: ServiceProgress): ProgressStep {
    if (snapshot !== undefined) this.#latest = snapshot
    const p = this.#latest
    if (p === undefined || this.#over) return { writes: [] }
    const writes: ProgressWrite[] = []
    const end = (outcome: ProgressOutcome): ProgressStep => {
      this.#over = true
      return { writes, outcome }
    }
    if (p.deleted) return end({ kind: 'removed' })

    const state = p.updateStatus?.state
    const message = p.updateStatus?.message ?? ''
    switch (state) {
      case undefined:
      case UpdateState.UNKNOWN:
      case UpdateState.COMPLETED:
        break
      case UpdateState.UPDATING:
        this.#rollback = false
        break
      case UpdateState.PAUSED:
        return end({ kind: 'paused', message: `service update paused: ${message}` })
      case UpdateState.ROLLBACK_STARTED:
        if (!this.#rollback && message !== '') {
          writes.push({ kind: 'line', id: 'rollback', text: message })
          this.#rollbackReason = message
        }
        this.#rollback = true
        break
      case UpdateState.ROLLBACK_PAUSED:
        return end({ kind: 'paused', message: `service rollback paused: ${message}` })
      case UpdateState.ROLLBACK_COMPLETED:
        // Also when the tasks converged while the rollback was still marked started (the end was held for this).
        if (!this.#converged || this.#settling) this.#finalMessage = message === '' ? 'rollback completed' : message
        // A rollback that started and completed between two snapshots still counts as one.
        this.#rollbackReason ??= message === '' ? 'rollback completed' : message
        this.#rollback = true
        break
      default: {
        const never: never = state
        throw new Error(`unknown update state ${String(never)}`)
      }
    }

    // The updater has not said it finished (it always does, COMPLETED or ROLLBACK_COMPLETED, even
    // when no task needed a change): converged tasks are not the end yet — e.g. a rollback that only
    // scales is converged before the updater marks it completed.
    const settling = state === UpdateState.UPDATING || state === UpdateState.ROLLBACK_STARTED
    this.#settling = settling
    if (this.#converged && !settling && this.#convergedAt !== undefined && nowMs - this.#convergedAt >= this.#monitorMs) {
      writes.push({ kind: 'line', id: 'verify', text: `Service ${p.serviceId} converged` })
      if (this.#finalMessage !== undefined) writes.push({ kind: 'message', id: 'rollback', text: this.#finalMessage })
      const reason = this.#rollbackReason
      return end(reason === undefined ? { kind: 'converged' } : { kind: 'converged', rollback: reason })
    }

    this.#converged = this.#update(p, writes)
    if (this.#converged) {
      if (p.mode === 'replicatedJob' || p.mode === 'globalJob') {
        writes.push({ kind: 'message', id: '', text: 'job complete' })
        return end({ kind: 'converged' })
      }
      this.#convergedAt ??= nowMs
      const wait = this.#monitorMs - (nowMs - this.#convergedAt)
      // Monitor over, the updater still at work: its next status (a new snapshot) steps again.
      if (wait <= 0 && settling) return { writes }
      // Whole seconds left, rounded up (Docker: the integer part plus one, the same except on the second).
      const seconds = Math.max(1, Math.ceil(wait / 1000))
      writes.push({ kind: 'line', id: 'verify', text: `Waiting ${seconds} seconds to verify that tasks are stable...` })
      // Step again when the figure drops, or at the end of the monitor period.
      const wakeAt = this.#convergedAt + this.#monitorMs - (seconds - 1) * 1000
      return { writes, wakeAtMs: Math.max(nowMs + 1, wakeAt) }
    }
    if (this.#convergedAt !== undefined) writes.push({ kind: 'line', id: 'verify', text: 'Detected task failure' })
    this.#convergedAt = undefined
    return { writes }
  }

  /** Draws the overall line and the slot bars; whether every slot is running its up-to-date task. */
  #update(p: ServiceProgress, writes: ProgressWrite[]): boolean {
    const global = p.mode === 'global' || p.mode === 'globalJob'
    const total = p.desired
    if (!this.#initialized) {
      if (global && total === 0) {
        writes.push({ kind: 'line', id: 'overall progress', text: 'waiting for new tasks' })
        return false
      }
      writes.push(this.#overall(0, total))
      if (!global && total <= MAX_PROGRESS_BARS) {
        for (let i = 1; i <= total; i++) writes.push({ kind: 'line', id: `${i}/${total}`, text: '' })
      }
      this.#initialized = true
    }
    // Only tasks at the service's current spec count (Docker lists tasks with `_up-to-date`).
    const slots = p.slots.filter((s) => s.upToDate)
    if (this.#done && slots.some((s) => s.state !== TaskState.RUNNING)) this.#done = false
    const job = p.mode === 'replicatedJob' || p.mode === 'globalJob'
    const done = job ? p.running : p.runningUpToDate
    for (const s of slots) {
      const key = global ? s.nodeId : s.slot
      let mapped = this.#slotMap.get(key)
      if (mapped === undefined) {
        mapped = this.#slotMap.size + 1
        this.#slotMap.set(key, mapped)
      }
      if (this.#done || total > MAX_PROGRESS_BARS || (!global && mapped > total)) continue
      const id = global ? s.nodeId.slice(0, 12) : `${mapped}/${total}`
      const w = slotWrite(id, s)
      if (w !== undefined) writes.push(w)
    }
    if (!this.#done) {
      writes.push(this.#overall(done, total))
      if (done === total) this.#done = true
    }
    return done === total
  }

  #overall(n: number, m: number): ProgressWrite {
    const text = this.#rollback ? `rolling back update: ${n} out of ${m} tasks` : `${n} out of ${m} tasks`
    return { kind: 'line', id: 'overall progress', text }
  }
}

/** A slot's line: its error, or its state and bar while neither it nor its desired state is past RUNNING. */
function slotWrite(id: string, s: SlotProgress): ProgressWrite | undefined {
  if (s.err !== undefined && s.err !== '') return { kind: 'line', id, text: truncError(s.err) }
  const step = stateStep(s.state)
  if (step === undefined || s.desiredState > TaskState.RUNNING) return undefined
  return { kind: 'line', id, text: paddedState(s.state), bar: { current: step, total: MAX_STEP } }
}
