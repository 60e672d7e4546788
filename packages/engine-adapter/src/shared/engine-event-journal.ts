/**
 * The event journal behind `events()` and `wait()` of the Docker and containerd runtimes: the
 * shared {@link EventJournal} (bounded, ordered, resumable cursors named after this instance),
 * plus what these runtimes need on top — which event types a container has had, and one-shot
 * exit notifications.
 * @internal
 */
import { randomBytes } from 'node:crypto'
import { NotFoundError } from '@swarmkit-ts/api'
import { EventJournal, type UncursoredEvent } from './event-journal.ts'
import type { EventsOptions, RuntimeEvent } from '../runtime.ts'
import { waitForChange } from './wait-for-change.ts'

/** {@link EventJournal} with per-container event types and exit callbacks. */
export class EngineEventJournal {
  readonly #events: EventJournal
  #wakers: (() => void)[] = []
  readonly #exitWaiters = new Map<string, Set<(code: number | undefined) => void>>()
  readonly #seen = new Map<string, Set<string>>()
  readonly #seenLimit: number

  /** @param capacity events kept for resumption (the contract asks for at least 1,000). */
  constructor(capacity = 10_000) {
    const kept = Math.max(1_000, capacity)
    this.#events = new EventJournal({ capacity: kept, instance: randomBytes(4).toString('hex') })
    this.#seenLimit = 4 * kept
  }

  /** Appends an event and wakes subscribers and waiters. Returns it with its cursor. */
  append(input: UncursoredEvent): RuntimeEvent {
    const event = this.#events.append({ ...input, labels: { ...input.labels } })
    let seen = this.#seen.get(input.id)
    if (seen === undefined) this.#seen.set(input.id, (seen = new Set()))
    seen.add(input.type)
    if (this.#seen.size > this.#seenLimit) {
      const oldest = this.#seen.keys().next()
      if (oldest.done !== true) this.#seen.delete(oldest.value)
    }
    if (input.type === 'die') this.notifyExit(input.id, input.exitCode)
    if (input.type === 'destroy') this.notifyExit(input.id, undefined)
    const wakers = this.#wakers
    this.#wakers = []
    for (const w of wakers) w()
    return event
  }

  /** True when an event of `type` was journaled for container `id` (remembered for the last ~4x capacity containers). */
  has(id: string, type: RuntimeEvent['type']): boolean {
    return this.#seen.get(id)?.has(type) ?? false
  }

  /** Resolves when `has(id, type)` becomes true (or at once), or when `destroy` of `id` is journaled. */
  async until(id: string, type: RuntimeEvent['type'], signal?: AbortSignal): Promise<void> {
    while (!this.has(id, type) && !this.has(id, 'destroy')) {
      signal?.throwIfAborted()
      await waitForChange(this.#wakers, signal)
    }
  }

  /** Registers a one-shot exit callback for `id` (called with the code, or undefined when removed). */
  onExit(id: string, cb: (code: number | undefined) => void): () => void {
    let set = this.#exitWaiters.get(id)
    if (set === undefined) this.#exitWaiters.set(id, (set = new Set()))
    set.add(cb)
    return () => {
      set.delete(cb)
    }
  }

  /**
   * The exit code of `id` once its die (or a start failure) is journaled; rejects with
   * `NotFoundError` when it is removed first. `cancel` drops the callback.
   */
  exitOf(id: string): { promise: Promise<number>; cancel: () => void } {
    let cancel = (): void => undefined
    const promise = new Promise<number>((resolve, reject) => {
      cancel = this.onExit(id, (code) => (code === undefined ? reject(new NotFoundError('container', id)) : resolve(code)))
    })
    promise.catch(() => undefined)
    return { promise, cancel }
  }

  /** Calls and clears the exit callbacks of `id`. */
  notifyExit(id: string, code: number | undefined): void {
    const set = this.#exitWaiters.get(id)
    if (set === undefined) return
    this.#exitWaiters.delete(id)
    for (const cb of set) cb(code)
  }

  /**
   * Events from now (or after `options.since`) on; see {@link EventJournal.subscribe}. A cursor of
   * another instance, or one older than what is kept, fails with reason `events-truncated`.
   */
  subscribe(options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    return this.#events.subscribe(options)
  }
}
