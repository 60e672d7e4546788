/**
 * The event journal behind `events()` of the Docker and containerd runtimes: an in-memory,
 * bounded, ordered log of {@link RuntimeEvent}s with opaque resumable cursors, plus per-container
 * exit notifications used by `wait`.
 * @internal
 */
import { randomBytes } from 'node:crypto'
import { FailedPreconditionError, InvalidArgumentError } from '@swarmkit-ts/api'
import type { EventsOptions, HealthStatus, RuntimeEvent } from './runtime.ts'
import { matchesLabels } from './spec-validation.ts'

/** An event as recorded, before the journal gives it a cursor. */
export type JournalInput =
  | { type: 'create' | 'start' | 'destroy'; id: string; labels: Readonly<Record<string, string>>; time: number }
  | { type: 'die'; id: string; labels: Readonly<Record<string, string>>; time: number; exitCode: number }
  | { type: 'health'; id: string; labels: Readonly<Record<string, string>>; time: number; health: HealthStatus }

interface Stored { readonly seq: number; readonly event: RuntimeEvent }

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

/** Bounded journal; cursors are `<epoch>-<seq>`, the epoch unique per journal instance. */
export class EventJournal {
  readonly #capacity: number
  readonly #epoch = randomBytes(4).toString('hex')
  readonly #events: Stored[] = []
  #nextSeq = 1
  #wakeups = new Set<() => void>()
  readonly #exitWaiters = new Map<string, Set<(code: number | undefined) => void>>()
  readonly #seen = new Map<string, Set<string>>()

  /** @param capacity events kept for resumption (the contract asks for at least 1,000). */
  constructor(capacity = 10_000) {
    this.#capacity = Math.max(1_000, capacity)
  }

  /** Appends an event and wakes subscribers and waiters. Returns it with its cursor. */
  append(input: JournalInput): RuntimeEvent {
    const seq = this.#nextSeq++
    const event = { ...input, labels: { ...input.labels }, cursor: `${this.#epoch}-${seq}` }
    this.#events.push({ seq, event })
    if (this.#events.length > this.#capacity) this.#events.splice(0, this.#events.length - this.#capacity)
    let seen = this.#seen.get(input.id)
    if (seen === undefined) this.#seen.set(input.id, (seen = new Set()))
    seen.add(input.type)
    if (this.#seen.size > 4 * this.#capacity) {
      const oldest = this.#seen.keys().next()
      if (oldest.done !== true) this.#seen.delete(oldest.value)
    }
    if (input.type === 'die') this.notifyExit(input.id, input.exitCode)
    if (input.type === 'destroy') this.notifyExit(input.id, undefined)
    const wake = this.#wakeups
    this.#wakeups = new Set()
    for (const w of wake) w()
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
      await this.#wait(signal)
    }
  }

  /** Registers a one-shot exit callback for `id` (called with the code, or undefined when removed). */
  onExit(id: string, cb: (code: number | undefined) => void): () => void {
    let set = this.#exitWaiters.get(id)
    if (set === undefined) this.#exitWaiters.set(id, (set = new Set()))
    set.add(cb)
    return () => { set.delete(cb) }
  }

  /** Calls and clears the exit callbacks of `id`. */
  notifyExit(id: string, code: number | undefined): void {
    const set = this.#exitWaiters.get(id)
    if (set === undefined) return
    this.#exitWaiters.delete(id)
    for (const cb of set) cb(code)
  }

  #wait(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.#wakeups.delete(done)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      this.#wakeups.add(done)
      signal?.addEventListener('abort', done, { once: true })
    })
  }

  #seqOf(cursor: string): number {
    const m = /^([0-9a-f]+)-([0-9]+)$/.exec(cursor)
    if (m === null) throw new InvalidArgumentError('since', `not an event cursor: ${JSON.stringify(cursor)}`)
    if (m[1] !== this.#epoch) {
      throw new FailedPreconditionError(`event cursor ${cursor} is from another runtime instance; its events are gone`, { reason: 'events-truncated' })
    }
    return Number(m[2])
  }

  /**
   * Events from now (or after `options.since`) on. The starting point is fixed by this call;
   * errors (bad or truncated cursor) surface from the first `next()`.
   */
  subscribe(options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    let start: number | Error
    try {
      start = options.since === undefined ? this.#nextSeq : this.#seqOf(options.since) + 1
    } catch (err) {
      start = err instanceof Error ? err : new Error(String(err))
    }
    return this.#iterate(start, options)
  }

  async *#iterate(start: number | Error, options: EventsOptions): AsyncGenerator<RuntimeEvent> {
    if (start instanceof Error) throw start
    const { signal, labels } = options
    let next = start
    for (;;) {
      if (signal?.aborted === true) return
      const first = this.#events[0]
      if (first !== undefined && next < first.seq && next < this.#nextSeq) {
        throw new FailedPreconditionError(`events before ${this.#epoch}-${first.seq} were dropped from the journal`, { reason: 'events-truncated' })
      }
      const from = first === undefined ? 0 : next - first.seq
      const batch = this.#events.slice(Math.max(0, from))
      if (batch.length === 0) {
        await this.#wait(signal)
        continue
      }
      for (const { seq, event } of batch) {
        next = seq + 1
        if (!matchesLabels(event.labels, labels)) continue
        if (isAborted(signal)) return
        yield event
      }
    }
  }
}
