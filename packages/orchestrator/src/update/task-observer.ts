/**
 * What an updater sees of the tasks it created: one store watch on the service's task updates,
 * recording when each tracked task was first observed at or past RUNNING (its monitor starts
 * then) and reporting every observation of a tracked task that ended, for failure accounting.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Task } from '@swarmkit-ts/api'
import { WatchQueueOverflowError } from '@swarmkit-ts/store'
import type { Frozen, ReadTx, Watch } from '@swarmkit-ts/store'
import type { OrchestratorContext } from '../common/context.ts'
import { LOOP_QUEUE_LIMIT } from '../common/store-loop.ts'
import type { Latch } from './latch.ts'

/** Called for each observation of a tracked task observed above RUNNING, before its running time is recorded. */
export type EndedHandler = (task: Frozen<Task>, runningAt: number | undefined) => void

interface Tracked {
  /** The first observed state ≥ RUNNING, once seen. */
  reached: TaskState | undefined
  /** When `reached` was observed (clock time). */
  runningAt: number | undefined
  /** The task was deleted before it reached RUNNING. */
  gone: boolean
  waiters: ((reached: TaskState | undefined) => void)[]
}

/** Tracks the tasks one updater created (see the module doc). */
export class TaskObserver {
  readonly #ctx: OrchestratorContext
  readonly #serviceId: string
  readonly #onEnded: EndedHandler
  readonly #tracked = new Map<string, Tracked>()
  readonly #abort = new AbortController()
  #watch: Watch<'task'> | undefined
  #done: Promise<void> | undefined

  constructor(ctx: OrchestratorContext, serviceId: string, onEnded: EndedHandler) {
    this.#ctx = ctx
    this.#serviceId = serviceId
    this.#onEnded = onEnded
  }

  /** Subscribes to the service's task updates; call before creating any tracked task. */
  start(): void {
    this.#subscribe(undefined)
    this.#done = this.#consume()
  }

  /** Ends the watch and releases every waiter; resolves once the watch loop ended. */
  async close(): Promise<void> {
    this.#abort.abort()
    this.#watch?.close()
    for (const t of this.#tracked.values()) this.#release(t, undefined)
    await this.#done
  }

  /** Starts tracking task `taskId` (before it is created, so no observation is missed). */
  track(taskId: string): void {
    this.#tracked.set(taskId, { reached: undefined, runningAt: undefined, gone: false, waiters: [] })
  }

  /**
   * Resolves with the first state ≥ RUNNING observed for tracked task `taskId`, or undefined when
   * the task was deleted first, the observer closed, or `cancel` fired.
   */
  waitRunning(taskId: string, cancel: Latch): Promise<TaskState | undefined> {
    const t = this.#tracked.get(taskId)
    if (t === undefined || t.gone || cancel.fired || this.#abort.signal.aborted) return Promise.resolve(t?.reached)
    if (t.reached !== undefined) return Promise.resolve(t.reached)
    return new Promise((resolve) => {
      let off = (): void => undefined
      const done = (reached: TaskState | undefined): void => {
        off()
        resolve(reached)
      }
      t.waiters.push(done)
      off = cancel.on(() => {
        t.waiters = t.waiters.filter((w) => w !== done)
        resolve(undefined)
      })
    })
  }

  #subscribe(rescan: ((tx: ReadTx) => void) | undefined): void {
    const { watch } = this.#ctx.store.viewAndWatch(
      (tx) => rescan?.(tx),
      { kinds: ['task'], actions: ['update', 'delete'], where: (ev) => ev.object.serviceId === this.#serviceId },
      { signal: this.#abort.signal, queueLimit: LOOP_QUEUE_LIMIT },
    )
    this.#watch = watch
  }

  async #consume(): Promise<void> {
    for (;;) {
      try {
        for await (const ev of this.#watch as Watch<'task'>) {
          if (ev.action === 'delete') this.#deleted(ev.object.id)
          else if (ev.action === 'update') this.#observe(ev.object)
        }
        return
      } catch (err) {
        if (this.#abort.signal.aborted) return
        if (!(err instanceof WatchQueueOverflowError)) {
          this.#ctx.logger.error('updater: task watch failed', { serviceId: this.#serviceId, error: String(err) })
          return
        }
        // Fell behind: look at every tracked task as it is now, then follow the events again.
        this.#subscribe((tx) => {
          for (const id of this.#tracked.keys()) {
            const task = tx.tasks.get(id)
            if (task === undefined) this.#deleted(id)
            else this.#observe(task)
          }
        })
      }
    }
  }

  #observe(task: Frozen<Task>): void {
    const t = this.#tracked.get(task.id)
    if (t === undefined) return
    const state = task.status.state
    if (state > TaskState.RUNNING) this.#onEnded(task, t.runningAt)
    if (state >= TaskState.RUNNING && t.reached === undefined) {
      t.reached = state
      t.runningAt = this.#ctx.clock.now()
      this.#release(t, state)
    }
  }

  #deleted(id: string): void {
    const t = this.#tracked.get(id)
    if (t === undefined || t.reached !== undefined) return
    t.gone = true
    this.#release(t, undefined)
  }

  #release(t: Tracked, reached: TaskState | undefined): void {
    const waiters = t.waiters
    t.waiters = []
    for (const w of waiters) w(reached)
  }
}
