/**
 * The event loop every reconciler runs on (the orchestrators, the network allocator, the
 * resolver): a consistent view to start from, then the store's
 * events, handed over commit by commit. After a watch overflow the loop starts again from a
 * fresh view, so a burst of changes can cost a resync but never loses an event.
 *
 * @module
 */
import { FailedPreconditionError } from '@swarmkit-ts/api'
import type { Logger, ObjectKind } from '@swarmkit-ts/api'
import { WatchQueueOverflowError } from './errors.ts'
import type { MemoryStore } from './memory-store.ts'
import type { ReadTx } from './transaction-types.ts'
import { pollWatch } from './watch.ts'
import type { ObjectEvent, Watch } from './watch.ts'

/** One settled promise: awaiting it yields a microtask without making a promise. */
const RESOLVED: Promise<void> = Promise.resolve()

/** What a {@link StoreLoop} runs on: the store it watches and where it reports failures. */
export interface StoreLoopContext {
  readonly store: MemoryStore
  readonly logger: Logger
}

/** Events a loop may fall behind by before it resyncs from a fresh view. */
export const LOOP_QUEUE_LIMIT = 1_000_000

/** What a {@link StoreLoop} calls. */
export interface StoreLoopHandlers<K extends ObjectKind> {
  /** Rebuilds the loop's state from a fresh view: at start, and after the watch overflowed. */
  resync(tx: ReadTx): void
  /** One create, update or delete, in commit order. */
  event(event: ObjectEvent<K>): void
  /**
   * After a commit that brought the loop events (of its kinds, past its `where`), once no later
   * commit is queued (one tick for a burst of queued commits), and after each resync: act on
   * what changed. A commit with no event for the loop brings no tick, so a loop must not count
   * on unrelated commits to retry work (a timer of its own does that).
   */
  tick(): Promise<void> | void
}

/**
 * Runs `handlers` on the store's events of `kinds` until stopped. Only one handler call runs at
 * a time; `tick` may write to the store, and the events of that write arrive afterwards like
 * any other. A throwing handler is logged and the loop goes on (a failed write is retried by
 * the next reconciliation that finds the same difference).
 */
export class StoreLoop<K extends ObjectKind> {
  readonly #ctx: StoreLoopContext
  readonly #name: string
  readonly #kinds: readonly K[]
  readonly #handlers: StoreLoopHandlers<K>
  readonly #queueLimit: number
  readonly #where: ((event: ObjectEvent<K>) => boolean) | undefined
  readonly #abort = new AbortController()
  #watch: Watch<K> | undefined
  #done: Promise<void> | undefined

  /**
   * @param name - names the loop in log lines.
   * @param kinds - the object kinds whose events it receives.
   * @param options.queueLimit - events it may fall behind by before it resyncs (default {@link LOOP_QUEUE_LIMIT}).
   * @param options.where - a filter the store applies before queueing an object event; it must
   *   depend only on the event (not on the loop's state, which lags the store).
   */
  constructor(
    ctx: StoreLoopContext,
    name: string,
    kinds: readonly K[],
    handlers: StoreLoopHandlers<K>,
    options: { readonly queueLimit?: number; readonly where?: (event: ObjectEvent<K>) => boolean } = {},
  ) {
    this.#ctx = ctx
    this.#queueLimit = options.queueLimit ?? LOOP_QUEUE_LIMIT
    this.#where = options.where
    this.#name = name
    this.#kinds = kinds
    this.#handlers = handlers
  }

  /** Aborted once `stop()` is called. */
  get signal(): AbortSignal {
    return this.#abort.signal
  }

  /** Whether `stop()` was called. */
  get stopping(): boolean {
    return this.#abort.signal.aborted
  }

  /** Takes the first view and subscribes in one step (no event is missed), then runs. */
  start(): void {
    if (this.#done !== undefined) throw new FailedPreconditionError(`${this.#name} was already started`)
    this.#subscribe()
    this.#done = this.#run()
  }

  /** Ends the watch and waits for the handler call in progress to finish. */
  async stop(): Promise<void> {
    this.#abort.abort()
    this.#watch?.close()
    await this.#done
  }

  #subscribe(): void {
    const { watch } = this.#ctx.store.viewAndWatch(
      (tx) => this.#guard('resync', () => this.#handlers.resync(tx)),
      this.#where === undefined ? { kinds: this.#kinds as K[] } : { kinds: this.#kinds as K[], where: this.#where },
      { signal: this.#abort.signal, queueLimit: this.#queueLimit, skipEmptyCommits: true },
    )
    this.#watch = watch
  }

  async #run(): Promise<void> {
    await this.#guardAsync(() => this.#handlers.tick())
    while (!this.stopping) {
      try {
        const watch = this.#watch as Watch<K>
        for (;;) {
          // A queued event is taken without a promise or an iterator result of its own; the loop
          // still yields one microtask per event, as `for await` over `next()` did, so the
          // interleaving with every other task of the process stays exactly what it was.
          let ev = pollWatch(watch)
          if (ev === undefined) {
            const r = await watch.next()
            if (r.done === true) break
            ev = r.value
          } else await RESOLVED
          if (this.stopping) {
            watch.close()
            return
          }
          if (ev.action === 'commit') {
            // Commits already queued behind this one are read first, and one tick acts on them
            // all: a tick that writes waits for its commit, and a tick per queued commit made a
            // burst of N small commits (one task each) cost N round trips through Raft.
            if (watch.queued > 0) continue
            await this.#tick()
            continue
          }
          // Guarded inline, not through #guard: no closure per event.
          try {
            this.#handlers.event(ev as ObjectEvent<K>)
          } catch (err) {
            this.#ctx.logger.error(`${this.#name}: event failed`, { error: String(err) })
          }
        }
        return
      } catch (err) {
        if (!(err instanceof WatchQueueOverflowError) || this.stopping) {
          if (!this.stopping) this.#ctx.logger.error(`${this.#name}: watch failed`, { error: String(err) })
          return
        }
        this.#ctx.logger.warn(`${this.#name}: fell behind the store, resyncing`, {})
        this.#subscribe()
        await this.#guardAsync(() => this.#handlers.tick())
      }
    }
  }

  async #tick(): Promise<void> {
    try {
      await this.#handlers.tick()
    } catch (err) {
      if (!this.stopping) this.#ctx.logger.error(`${this.#name}: tick failed`, { error: String(err) })
    }
  }

  #guard(what: string, fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.#ctx.logger.error(`${this.#name}: ${what} failed`, { error: String(err) })
    }
  }

  async #guardAsync(fn: () => Promise<void> | void): Promise<void> {
    try {
      await fn()
    } catch (err) {
      if (!this.stopping) this.#ctx.logger.error(`${this.#name}: tick failed`, { error: String(err) })
    }
  }
}
