import { FailedPreconditionError, InvalidArgumentError } from '@swarmkit-ts/api'
import type { RuntimeEvent } from '../runtime.ts'
import { matchesLabels } from './spec-validation.ts'
import { aborted, waitForChange } from './wait-for-change.ts'

/** A runtime event before the journal gave it a cursor. */
export type UncursoredEvent = RuntimeEvent extends infer E ? (E extends RuntimeEvent ? Omit<E, 'cursor'> : never) : never

/** Options of {@link EventJournal.subscribe}. */
export interface JournalSubscribeOptions {
  since?: string | undefined
  labels?: Readonly<Record<string, string>> | undefined
  signal?: AbortSignal | undefined
}

const CURSOR_DIGITS = 16

/** Construction options of {@link EventJournal}. */
export interface EventJournalInit {
  /** How many events to keep (≥ 1). @default 10000 */
  capacity?: number
  /**
   * Names this journal instance inside its cursors (`<instance>.<seq>`, `[A-Za-z0-9]+`), so a
   * cursor of an earlier instance (a restarted runtime) is refused as truncated instead of
   * silently resuming at the wrong place. @default none (cursors are bare sequence numbers)
   */
  instance?: string
}

/**
 * An in-memory, bounded, ordered journal of runtime events with resumable subscriptions — the
 * `events()` half of the contract for runtimes that observe their containers themselves.
 *
 * Cursors are decimal sequence numbers zero-padded to 16 digits (so they also sort as strings),
 * prefixed by `<instance>.` when the journal has an instance name.
 * Invariants: sequence numbers grow by one per append; the journal keeps the last `capacity`
 * events; a subscription yields each retained event after its start exactly once, in order.
 */
export class EventJournal {
  readonly #capacity: number
  readonly #ring: (RuntimeEvent | undefined)[]
  /** Sequence number of the last appended event (0 = none yet). */
  #last = 0
  #wakers: (() => void)[] = []
  readonly #prefix: string

  constructor(init: EventJournalInit = {}) {
    const capacity = init.capacity ?? 10_000
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new InvalidArgumentError('capacity', `must be a positive integer, got ${capacity}`)
    if (init.instance !== undefined && !/^[A-Za-z0-9]+$/.test(init.instance)) throw new InvalidArgumentError('instance', `must match [A-Za-z0-9]+, got ${init.instance}`)
    this.#capacity = capacity
    // Grows as events come (sequence numbers start at 1, so the array fills in order) rather than
    // reserving `capacity` slots up front: 80 KB per engine, which a cluster of thousands of fake
    // engines in one process pays for nothing.
    this.#ring = []
    this.#prefix = init.instance === undefined ? '' : `${init.instance}.`
  }

  /** The sequence number of the last event (0 when empty). */
  get lastSeq(): number {
    return this.#last
  }

  /** Appends an event, assigning its cursor, and wakes subscribers. */
  append(event: UncursoredEvent): RuntimeEvent {
    const seq = ++this.#last
    const full = { ...event, cursor: this.#prefix + String(seq).padStart(CURSOR_DIGITS, '0') }
    this.#ring[seq % this.#capacity] = full
    const wakers = this.#wakers
    this.#wakers = []
    for (const w of wakers) w()
    return full
  }

  /** Retained events after `afterSeq`, in order. */
  eventsAfter(afterSeq: number): RuntimeEvent[] {
    const out: RuntimeEvent[] = []
    for (let s = Math.max(afterSeq + 1, this.#oldest()); s <= this.#last; s++) {
      const e = this.#ring[s % this.#capacity]
      if (e !== undefined) out.push(e)
    }
    return out
  }

  #oldest(): number {
    return Math.max(1, this.#last - this.#capacity + 1)
  }

  /**
   * Events from now (or after `since`) on. The start is fixed by this call. A malformed cursor
   * throws `InvalidArgumentError` (field `since`); a cursor older than what is retained makes the
   * iteration throw `FailedPreconditionError` (reason `events-truncated`). Aborting ends it.
   */
  subscribe(options: JournalSubscribeOptions = {}): AsyncIterable<RuntimeEvent> {
    let after = this.#last
    let error: Error | undefined
    const since = options.since
    if (since !== undefined) {
      const m = /^(?:([A-Za-z0-9]+)\.)?(\d{1,16})$/.exec(since)
      if (m === null) error = new InvalidArgumentError('since', `not an event cursor: ${JSON.stringify(since)}`)
      else if ((m[1] === undefined ? '' : `${m[1]}.`) !== this.#prefix) {
        error = new FailedPreconditionError(`cursor ${since} belongs to another runtime instance`, { reason: 'events-truncated' })
      } else after = Number(m[2])
    }
    return this.#iterate(after, options, error)
  }

  async *#iterate(after: number, options: JournalSubscribeOptions, error: Error | undefined): AsyncGenerator<RuntimeEvent> {
    if (error !== undefined) throw error
    const { signal, labels } = options
    let next = after + 1
    while (!aborted(signal)) {
      if (next < this.#oldest() && next <= this.#last) {
        throw new FailedPreconditionError(`events after cursor ${after} are no longer retained`, { reason: 'events-truncated' })
      }
      while (next <= this.#last) {
        const e = this.#ring[next % this.#capacity]
        next++
        if (e !== undefined && matchesLabels(e.labels, labels)) {
          yield e
          if (aborted(signal)) return
        }
      }
      await this.#changed(signal)
    }
  }

  #changed(signal: AbortSignal | undefined): Promise<void> {
    return waitForChange(this.#wakers, signal)
  }
}
