/**
 * Watchers: a bounded queue per watcher behind an `AsyncIterable` of store events.
 *
 * @module
 */
import { InvalidArgumentError, OBJECT_KINDS } from '@swarmkit-ts/api'
import type { ObjectKind, StoreEvent, StoreObject } from '@swarmkit-ts/api'
import { WatchQueueOverflowError } from './errors.ts'
import type { Frozen } from './objects/freeze.ts'
import { nameOf } from './kinds.ts'

/**
 * A create, update or delete of an object of kind `K`, as the store hands it out: a
 * discriminated union (`ev.kind === 'task'` narrows `ev.object` to a `Frozen<Task>`), objects
 * deeply readonly.
 */
export type ObjectEvent<K extends ObjectKind = ObjectKind> = ObjectEventsByKind[K]

/** Each kind's object events (a mapped type keeps `Watch<'task'>` assignable to `Watch`). */
type ObjectEventsByKind = { readonly [P in ObjectKind]: Frozen<Extract<StoreEvent, { readonly kind: P }>> }

/** The end of one applied transaction: every object event before it (since the previous commit) belongs to it. */
export type CommitEvent = Frozen<Extract<StoreEvent, { readonly action: 'commit' }>>

/** An event a watcher of kinds `K` receives: that kind's object events and the commit events. */
export type WatchEvent<K extends ObjectKind = ObjectKind> = ObjectEvent<K> | CommitEvent

/**
 * Which events a watcher receives. Every given criterion must hold (AND). Object criteria
 * (kinds, id, idPrefix, name, namePrefix, where) apply to create/update/delete events; an update
 * matches when its new or its old object matches. Commit events (one per applied transaction)
 * are delivered when `actions` is omitted or includes `'commit'`. Names are those of `find`'s
 * name index (a node's is its `description.hostname`, as in SwarmKit).
 *
 * `K` is inferred from `kinds` and types the events the watch yields.
 */
export interface WatchSelector<K extends ObjectKind = ObjectKind> {
  /** Only these kinds. */
  readonly kinds?: K | readonly K[]
  /** Only these actions (default: all, including `'commit'`). */
  readonly actions?: readonly StoreEvent['action'][]
  /** Only the object with this id. */
  readonly id?: string
  /** Only objects whose id starts with this. */
  readonly idPrefix?: string
  /** Only objects with this name (case-insensitive). */
  readonly name?: string
  /** Only objects whose name starts with this (case-insensitive). */
  readonly namePrefix?: string
  /** Any other condition on an object event. */
  readonly where?: (event: ObjectEvent<K>) => boolean
}

/** Options of `watch()`. */
export interface WatchOptions {
  /** Closes the watcher (the iteration ends normally) when aborted. */
  readonly signal?: AbortSignal
  /** First replay the changes committed after this version (gap-free resume; see `changesSince`). */
  readonly since?: bigint
  /** Overrides the store's `watchQueueLimit` for this watcher. */
  readonly queueLimit?: number
  /**
   * Deliver a commit event only after an object event this watcher received (a transaction
   * that changed nothing it selects ends silently for it). @default false
   */
  readonly skipEmptyCommits?: boolean
}

/**
 * A live stream of events. Iterate it once; `close()` (or `break`) ends it.
 *
 * Closing drops: once `close()` is called (or the signal aborts, or a `for await` loop breaks),
 * events already queued but not yet read are discarded, a pending `next()` resolves as done, and
 * every later `next()` is done too. A consumer that needs every event up to some point reads
 * until it has seen that point's commit event (its `version`), then closes.
 */
export interface Watch<K extends ObjectKind = ObjectKind> extends AsyncIterableIterator<WatchEvent<K>> {
  /** Ends the watch, dropping the events not yet read; pending and later `next()` calls resolve as done. */
  close(): void
  /** Whether the watch has ended (closed, aborted or overflowed). */
  readonly closed: boolean
  /** Events queued and not read yet (a commit's events are queued together with its commit event). */
  readonly queued: number
}

/** Compiles a selector into a predicate on events. */
export function compileSelector(selector: WatchSelector | undefined): (ev: StoreEvent) => boolean {
  if (selector === undefined) return () => true
  const s = selector
  if (typeof s !== 'object') throw new InvalidArgumentError('selector', 'must be an object')
  const kinds = s.kinds === undefined ? undefined : new Set(typeof s.kinds === 'string' ? [s.kinds] : s.kinds)
  for (const k of kinds ?? []) if (!OBJECT_KINDS.includes(k)) throw new InvalidArgumentError('selector.kinds', `unknown kind ${JSON.stringify(k)}`)
  const actions = s.actions === undefined ? undefined : new Set(s.actions)
  const name = s.name?.toLowerCase()
  const namePrefix = s.namePrefix?.toLowerCase()
  const objectFilter = s.id !== undefined || s.idPrefix !== undefined || name !== undefined || namePrefix !== undefined
  const matchObject = (kind: ObjectKind, o: StoreObject): boolean => {
    if (s.id !== undefined && o.id !== s.id) return false
    if (s.idPrefix !== undefined && !o.id.startsWith(s.idPrefix)) return false
    if (name !== undefined || namePrefix !== undefined) {
      const n = nameOf(kind, o).toLowerCase()
      if (name !== undefined && n !== name) return false
      if (namePrefix !== undefined && !n.startsWith(namePrefix)) return false
    }
    return true
  }
  return (ev) => {
    if (actions !== undefined && !actions.has(ev.action)) return false
    if (ev.action === 'commit') return true
    if (kinds !== undefined && !kinds.has(ev.kind)) return false
    if (objectFilter) {
      const old = ev.action === 'update' ? ev.oldObject : undefined
      if (!matchObject(ev.kind, ev.object) && (old === undefined || !matchObject(ev.kind, old))) return false
    }
    return s.where === undefined || s.where(ev)
  }
}

/** One watcher: filters, queues (bounded) and hands out events (typed for its users by {@link Watch}). */
export class Watcher implements AsyncIterableIterator<StoreEvent> {
  private queue: StoreEvent[] = []
  private head = 0
  private waiting: ((r: IteratorResult<StoreEvent>) => void) | undefined
  private failWaiting: ((e: Error) => void) | undefined
  private error: Error | undefined
  private done = false
  private lastCommit: bigint | undefined
  private readonly onAbort: (() => void) | undefined
  private readonly match: (ev: StoreEvent) => boolean
  private readonly limit: number
  private readonly detach: (w: Watcher) => void
  private readonly signal: AbortSignal | undefined
  private readonly skipEmptyCommits: boolean
  /** Whether an object event was taken since the last commit event (with `skipEmptyCommits`). */
  private changed = false

  constructor(match: (ev: StoreEvent) => boolean, limit: number, detach: (w: Watcher) => void, signal: AbortSignal | undefined, skipEmptyCommits = false) {
    this.skipEmptyCommits = skipEmptyCommits
    this.match = match
    this.limit = limit
    this.detach = detach
    this.signal = signal
    if (signal !== undefined) {
      this.onAbort = () => this.close()
      signal.addEventListener('abort', this.onAbort, { once: true })
    }
  }

  /** Whether the watch has ended. */
  get closed(): boolean {
    return this.done
  }

  /** Events queued and not read yet. */
  get queued(): number {
    return this.queue.length - this.head
  }

  /** Offers an event; ignored unless it matches. Overflow closes the watcher with an error. */
  push(ev: StoreEvent): void {
    if (this.done || !this.match(ev)) return
    if (this.skipEmptyCommits) {
      if (ev.action !== 'commit') this.changed = true
      else if (!this.changed) return
      else this.changed = false
    }
    const w = this.waiting
    if (w !== undefined) {
      this.waiting = undefined
      this.failWaiting = undefined
      if (ev.action === 'commit') this.lastCommit = ev.version.index
      w({ value: ev, done: false })
      return
    }
    if (this.queue.length - this.head >= this.limit) {
      this.fail(new WatchQueueOverflowError(this.limit, this.lastCommit))
      return
    }
    this.queue.push(ev)
  }

  /** Ends the watcher with `err` (delivered by the next `next()`); queued events are dropped. */
  fail(err: Error): void {
    if (this.done) return
    this.queue = []
    this.head = 0
    this.error = err
    this.finish()
    const f = this.failWaiting
    if (f !== undefined) {
      this.waiting = undefined
      this.failWaiting = undefined
      this.error = undefined
      f(err)
    }
  }

  private finish(): void {
    this.done = true
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort)
    this.detach(this)
  }

  /**
   * The next queued event, taken synchronously, or undefined when none is queued (then `next()`
   * says whether the watch waits, ended or failed). For the store's own consumers
   * ({@link pollWatch}): no promise and no iterator result per event.
   */
  poll(): StoreEvent | undefined {
    if (this.head >= this.queue.length) return undefined
    const value = this.queue[this.head] as StoreEvent
    this.head++
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    if (value.action === 'commit') this.lastCommit = value.version.index
    return value
  }

  next(): Promise<IteratorResult<StoreEvent>> {
    const value = this.poll()
    if (value !== undefined) return Promise.resolve({ value, done: false })
    if (this.error !== undefined) {
      const e = this.error
      this.error = undefined
      return Promise.reject(e)
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => {
      this.waiting = resolve
      this.failWaiting = reject
    })
  }

  close(): void {
    if (this.done) return
    this.queue = []
    this.head = 0
    this.finish()
    const w = this.waiting
    if (w !== undefined) {
      this.waiting = undefined
      this.failWaiting = undefined
      w({ value: undefined, done: true })
    }
  }

  return(): Promise<IteratorResult<StoreEvent>> {
    this.close()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): Watcher {
    return this
  }
}

/** A watcher as its user sees it: events typed by the selector's kinds, objects deeply readonly (they are frozen). */
export function asWatch<K extends ObjectKind>(w: Watcher): Watch<K> {
  return w as unknown as Watch<K>
}

/**
 * The next event already queued on `w` (a watch this store made), taken synchronously, or
 * undefined when none is queued — then `next()` waits, ends or fails as usual. Internal: lets a
 * store loop drain a burst without a promise per event.
 */
export function pollWatch<K extends ObjectKind>(w: Watch<K>): WatchEvent<K> | undefined {
  return (w as unknown as Watcher).poll() as WatchEvent<K> | undefined
}
