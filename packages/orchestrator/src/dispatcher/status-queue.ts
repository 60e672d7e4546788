/**
 * The status intake of one term: `enqueue` checks that every task is the caller's and keeps
 * the latest status per task; the queue is written `statusFlushMs` (default
 * `STATUS_FLUSH_INTERVAL_MS`) after its first entry, or at once at {@link STATUS_FLUSH_LIMIT}
 * entries, in store batches — one write at a time: a flush due while a write is in flight
 * happens when it is applied, with each task's latest status by then.
 *
 * @module
 */
import { PermissionDeniedError } from '@swarmkit-ts/api'
import type { Task, TaskStatus, TaskStatusUpdate, Timer } from '@swarmkit-ts/api'
import type { Draft } from '@swarmkit-ts/store'
import { STATUS_FLUSH_LIMIT, WRITES_PER_TRANSACTION } from './config.ts'
import type { DispatcherContext } from './context.ts'
import { decideStatusUpdate } from './status-intake.ts'

/** Queued status updates and their batched writes. */
export class StatusQueue {
  readonly #ctx: DispatcherContext
  #queue = new Map<string, TaskStatus>()
  #timer: Timer | undefined
  /** A write of the queue is in flight. */
  #writing = false
  /** A flush came while a write was in flight: flush again once it is applied. */
  #again = false

  constructor(ctx: DispatcherContext) {
    this.#ctx = ctx
  }

  /** Updates queued and not yet written. */
  get size(): number {
    return this.#queue.size
  }

  /**
   * Queues `updates` of node `nodeId`. A task that is gone is skipped; a task assigned to
   * another node refuses the whole request (`PermissionDeniedError`, nothing queued).
   */
  enqueue(nodeId: string, updates: readonly TaskStatusUpdate[]): void {
    const valid = this.#ctx.store.view((tx) =>
      updates.filter((u) => {
        const t = tx.tasks.get(u.taskId)
        if (t === undefined) return false
        if (t.nodeId !== nodeId) throw new PermissionDeniedError(`task ${u.taskId} is not assigned to node ${nodeId}`)
        return true
      }),
    )
    if (valid.length === 0) return
    for (const u of valid) this.#queue.set(u.taskId, u.status)
    if (this.#queue.size >= STATUS_FLUSH_LIMIT) this.#flushNow()
    else this.#timer ??= this.#ctx.clock.setTimeout(() => this.#flushNow(), this.#ctx.config.statusFlushMs)
  }

  /** Cancels the timer and writes what is queued (the agents were told it was accepted). */
  stop(): void {
    this.#flushNow()
  }

  #flushNow(): void {
    this.#timer?.cancel()
    this.#timer = undefined
    if (this.#queue.size === 0) return
    if (this.#writing) {
      // One write at a time, as SwarmKit's dispatcher: what arrives meanwhile keeps only each
      // task's latest status and goes in the next write, once this one is applied.
      this.#again = true
      return
    }
    const queue = this.#queue
    this.#queue = new Map()
    this.#writing = true
    this.#ctx.track(
      'write task statuses',
      this.#write(queue).finally(() => {
        this.#writing = false
        if (!this.#again) return
        this.#again = false
        this.#flushNow()
      }),
    )
  }

  async #write(queue: ReadonlyMap<string, TaskStatus>): Promise<void> {
    const { store, clock, config, logger } = this.#ctx
    const entries = [...queue]
    const result = await store.batch((b) => {
      for (let i = 0; i < entries.length; i += WRITES_PER_TRANSACTION) {
        const chunk = entries.slice(i, i + WRITES_PER_TRANSACTION)
        b.update((tx) => {
          const stamp = { by: config.nodeId, at: clock.now() }
          for (const [taskId, status] of chunk) {
            const t = tx.tasks.get(taskId)
            if (t === undefined) continue
            const next = decideStatusUpdate(t, status, stamp)
            if (next !== undefined) tx.tasks.update(taskId, (d) => void (d.status = next as Draft<Task>['status']))
          }
        })
      }
    })
    for (const f of result.failures) logger.error('dispatcher: a status transaction failed', { error: String(f.error) })
  }
}
