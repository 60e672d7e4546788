/**
 * The status reporter (SwarmKit's `agent/reporter.go` statusReporter): keeps only the latest
 * status of each task, writes it to the task database, and sends the pending ones in batches
 * until the managers acknowledge them.
 *
 * @module
 */
import { PermissionDeniedError, silentLogger } from '@swarmkit-ts/api'
import type { Clock, Logger, Random, TaskStatus, TaskStatusUpdate, Timer } from '@swarmkit-ts/api'
import type { TaskDb } from './task-db.ts'

/** Sends one batch; resolves once the managers acknowledged (queued) it. */
export type StatusSender = (updates: readonly TaskStatusUpdate[]) => Promise<void>

/** Construction options of {@link StatusReporter}. */
export interface StatusReporterInit {
  /** Where each accepted status is written before it is sent. */
  readonly db: TaskDb
  /** Sends a batch over the current session (rejects when there is none). */
  readonly send: StatusSender
  readonly clock: Clock
  /** Jitter of the retry delays. @default no jitter */
  readonly random?: Random
  readonly logger?: Logger
  /** Most updates in one batch. @default 1000 */
  readonly maxBatch?: number
  /** First retry delay after a failed send. @default 100 */
  readonly minRetryMs?: number
  /** Longest retry delay (the delay doubles from `minRetryMs` up to this). @default 8000 */
  readonly maxRetryMs?: number
}

/** Whether status `a` is older than `b`: a lower state, or the same state observed earlier. */
export function isOlderStatus(a: TaskStatus, b: TaskStatus): boolean {
  return a.state < b.state || (a.state === b.state && a.timestamp < b.timestamp)
}

function sameStatus(a: TaskStatus, b: TaskStatus): boolean {
  return a.state === b.state && a.timestamp === b.timestamp && a.message === b.message && a.err === b.err
}

/**
 * Keeps the latest status per task and delivers it. Invariants: a task has at most one pending
 * status, the newest accepted; a status older than one already pending or acknowledged is
 * dropped (states never go backwards on the wire); a pending status is retried, with a backoff
 * on the clock, until a send that carried it succeeds.
 */
export class StatusReporter {
  readonly #init: StatusReporterInit
  readonly #logger: Logger
  /** The newest accepted status per task (persisted or being persisted). */
  readonly #latest = new Map<string, TaskStatus>()
  /** Persisted and waiting to be sent, per task. */
  readonly #ready = new Map<string, TaskStatus>()
  /** The newest status the managers acknowledged, per task. */
  readonly #acked = new Map<string, TaskStatus>()
  #sending = false
  #retry: Timer | undefined
  #retryMs = 0
  #stopped = false

  constructor(init: StatusReporterInit) {
    this.#init = init
    this.#logger = init.logger ?? silentLogger
  }

  /**
   * Accepts `status` as the task's latest, unless it is older than (or the same as) one already
   * accepted. Resolves once it is written to the task database and queued for sending.
   */
  async report(taskId: string, status: TaskStatus): Promise<void> {
    if (this.#stopped) return
    const newest = this.#latest.get(taskId) ?? this.#acked.get(taskId)
    if (newest !== undefined && (isOlderStatus(status, newest) || sameStatus(status, newest))) return
    this.#latest.set(taskId, status)
    try {
      await this.#init.db.putStatus(taskId, status)
    } catch (err) {
      this.#logger.error('reporter: could not write a status to the task db', { taskId, err: String(err) })
    }
    if (this.#latest.get(taskId) !== status || this.#stopped) return
    this.#ready.set(taskId, status)
    this.#kick()
  }

  /**
   * Sends `status` (already in the task database) again, even if it was acknowledged: the
   * managers' copy of the task shows an older state, so an acknowledged update was lost on their
   * side (e.g. a leader change before their batch was written). Ignored when a newer status is
   * pending.
   */
  resend(taskId: string, status: TaskStatus): void {
    if (this.#stopped) return
    const latest = this.#latest.get(taskId)
    if (latest !== undefined && latest !== status && !isOlderStatus(latest, status)) return
    this.#ready.set(taskId, status)
    this.#kick()
  }

  /** Stops reporting `taskId` (the task was removed): its pending status is dropped. */
  forget(taskId: string): void {
    this.#latest.delete(taskId)
    this.#ready.delete(taskId)
    this.#acked.delete(taskId)
  }

  /** Sends what is pending now, skipping any retry delay (a new session was opened). */
  retryNow(): void {
    this.#retry?.cancel()
    this.#retry = undefined
    this.#retryMs = 0
    this.#kick()
  }

  /** The newest status acknowledged for `taskId`. */
  acknowledged(taskId: string): TaskStatus | undefined {
    return this.#acked.get(taskId)
  }

  /** Number of tasks with a status not yet acknowledged. */
  get pending(): number {
    return this.#ready.size
  }

  /** Stops sending and cancels the retry timer; pending statuses stay in the task database. */
  stop(): void {
    this.#stopped = true
    this.#retry?.cancel()
    this.#retry = undefined
  }

  #kick(): void {
    if (this.#sending || this.#stopped || this.#retry !== undefined || this.#ready.size === 0) return
    this.#sending = true
    void this.#sendPending().finally(() => {
      this.#sending = false
      this.#kick()
    })
  }

  async #sendPending(): Promise<void> {
    const max = this.#init.maxBatch ?? 1000
    const batch: TaskStatusUpdate[] = []
    for (const [taskId, status] of this.#ready) {
      batch.push({ taskId, status })
      if (batch.length >= max) break
    }
    try {
      await this.#init.send(batch)
      this.#acknowledge(batch)
      this.#retryMs = 0
    } catch (err) {
      if (err instanceof PermissionDeniedError) {
        await this.#sendOneByOne(batch)
        return
      }
      this.#logger.debug('reporter: send failed; will retry', { updates: batch.length, err: String(err) })
      this.#backoff()
    }
  }

  /** A batch was refused for one of its tasks: each update alone, dropping those refused. */
  async #sendOneByOne(batch: readonly TaskStatusUpdate[]): Promise<void> {
    for (const update of batch) {
      if (this.#stopped) return
      try {
        await this.#init.send([update])
        this.#acknowledge([update])
      } catch (err) {
        if (!(err instanceof PermissionDeniedError)) {
          this.#backoff()
          return
        }
        this.#logger.warn('reporter: a manager refused the status of a task (not assigned to this node); dropped', { taskId: update.taskId })
        if (this.#ready.get(update.taskId) === update.status) this.#ready.delete(update.taskId)
      }
    }
  }

  #acknowledge(batch: readonly TaskStatusUpdate[]): void {
    for (const { taskId, status } of batch) {
      if (this.#ready.get(taskId) === status) this.#ready.delete(taskId)
      if (this.#latest.get(taskId) === status) this.#latest.delete(taskId)
      const acked = this.#acked.get(taskId)
      if (acked === undefined || isOlderStatus(acked, status)) this.#acked.set(taskId, status)
    }
  }

  #backoff(): void {
    if (this.#stopped) return
    const min = this.#init.minRetryMs ?? 100
    const max = this.#init.maxRetryMs ?? 8000
    this.#retryMs = this.#retryMs === 0 ? min : Math.min(max, this.#retryMs * 2)
    const jitter = this.#init.random === undefined ? 1 : 0.5 + this.#init.random.float() / 2
    this.#retry = this.#init.clock.setTimeout(() => {
      this.#retry = undefined
      this.#kick()
    }, Math.round(this.#retryMs * jitter))
  }
}
