import { FailedPreconditionError, InvalidArgumentError } from '@swarmkit-ts/api'
import type { Clock, Timer } from '@swarmkit-ts/api'

/** Takes a scheduled entry out of its clock's heap (set by ManualClock's static block). */
let removeEntry: (clock: ManualClock, entry: Entry) => void = () => undefined

/**
 * One scheduled callback, which is also its {@link Timer} (one object per timer, not an entry, a
 * timer and a closure); `index` is its slot in the heap, or -1 once it has run or was cancelled.
 */
class Entry implements Timer {
  readonly due: number
  readonly seq: number
  readonly callback: () => void
  index = -1
  readonly #clock: ManualClock

  constructor(clock: ManualClock, due: number, seq: number, callback: () => void) {
    this.#clock = clock
    this.due = due
    this.seq = seq
    this.callback = callback
  }

  cancel(): void {
    if (this.index >= 0) removeEntry(this.#clock, this)
  }
}

/** Options of {@link ManualClock.runAll}. */
export interface RunAllOptions {
  /**
   * Maximum number of callbacks to run before giving up with an error; protects a test from a
   * callback that keeps rescheduling itself. @default 100_000
   */
  limit?: number
}

/**
 * A {@link Clock} on virtual time: `now()` only moves when the test calls {@link ManualClock.advance},
 * {@link ManualClock.runNext} or {@link ManualClock.runAll}, and callbacks run synchronously from
 * those calls, in due-time order (first scheduled first for equal due times).
 *
 * Pending callbacks live in a binary heap keyed by (due time, scheduling sequence), so scheduling
 * and cancelling are O(log n) and a test can hold 100,000 timers cheaply.
 *
 * Invariants: `now()` never goes backwards; a callback scheduled for `ms` runs exactly at
 * `now() + max(0, ms)` as observed from inside it; a cancelled callback never runs.
 *
 * A callback that throws leaves the clock at that callback's due time with the rest still pending;
 * the error propagates to the caller of `advance`/`runNext`/`runAll`.
 */
export class ManualClock implements Clock {
  #now: number
  #seq = 0
  readonly #heap: Entry[] = []

  static {
    removeEntry = (clock, entry) => clock.#removeAt(entry.index)
  }

  /** @param startMs - the initial time, in milliseconds since the Unix epoch. */
  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) throw new InvalidArgumentError('startMs', `must be finite, got ${startMs}`)
    this.#now = startMs
  }

  /** The current virtual time in milliseconds. */
  now(): number {
    return this.#now
  }

  /** Schedules `callback` at `now() + ms`; a negative or NaN `ms` counts as 0. */
  setTimeout(callback: () => void, ms: number): Timer {
    const delay = ms > 0 ? ms : 0 // also maps NaN to 0
    const entry = new Entry(this, this.#now + delay, this.#seq++, callback)
    this.#push(entry)
    return entry
  }

  /**
   * Moves time forward by `ms`, running every callback due up to the new time — including those
   * scheduled by callbacks during this call — each with `now()` equal to its due time.
   */
  advance(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new InvalidArgumentError('ms', `must be a finite number >= 0, got ${ms}`)
    const target = this.#now + ms
    for (;;) {
      const top = this.#heap[0]
      if (top === undefined || top.due > target) break
      this.#runTop(top)
    }
    // max: a callback may itself have advanced past `target` (re-entrant advance).
    this.#now = Math.max(this.#now, target)
  }

  /** Runs the earliest pending callback, moving time to its due time; `false` when none is pending. */
  runNext(): boolean {
    const top = this.#heap[0]
    if (top === undefined) return false
    this.#runTop(top)
    return true
  }

  /**
   * Runs callbacks (moving time forward) until none is pending, and returns how many ran.
   * Throws a `FailedPreconditionError` (reason `timers-still-pending`) if callbacks are still
   * pending after `limit` of them ran.
   */
  runAll(options: RunAllOptions = {}): number {
    const limit = options.limit ?? 100_000
    let ran = 0
    while (this.#heap.length > 0) {
      if (ran >= limit) {
        throw new FailedPreconditionError(
          `ManualClock.runAll: ${this.#heap.length} timer(s) still pending after running ${limit}; a callback probably reschedules itself`,
          { reason: 'timers-still-pending' },
        )
      }
      this.runNext()
      ran++
    }
    return ran
  }

  /** The number of callbacks scheduled and neither run nor cancelled. */
  pending(): number {
    return this.#heap.length
  }

  /** The due time of the earliest pending callback, or `undefined` when none is pending. */
  nextDueAt(): number | undefined {
    return this.#heap[0]?.due
  }

  #runTop(top: Entry): void {
    this.#removeAt(0)
    // A re-entrant advance() inside a callback can leave `now` past this due time: never go back.
    this.#now = Math.max(this.#now, top.due)
    top.callback()
  }

  // ------------------------------------------------------------ binary heap on (due, seq)

  #less(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq)
  }

  #place(entry: Entry, i: number): void {
    this.#heap[i] = entry
    entry.index = i
  }

  #push(entry: Entry): void {
    this.#place(entry, this.#heap.length)
    this.#siftUp(entry.index)
  }

  #removeAt(i: number): void {
    const heap = this.#heap
    const removed = heap[i]
    const last = heap.pop()
    if (removed === undefined || last === undefined) return
    removed.index = -1
    if (last === removed) return // it was the last slot
    this.#place(last, i)
    this.#siftUp(i)
    this.#siftDown(last.index)
  }

  #siftUp(i: number): void {
    const heap = this.#heap
    const entry = heap[i]
    if (entry === undefined) return
    while (i > 0) {
      const p = (i - 1) >> 1
      const parent = heap[p] as Entry
      if (!this.#less(entry, parent)) break
      this.#place(parent, i)
      i = p
    }
    this.#place(entry, i)
  }

  #siftDown(i: number): void {
    const heap = this.#heap
    const n = heap.length
    const entry = heap[i]
    if (entry === undefined) return
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let c = l
      if (r < n && this.#less(heap[r] as Entry, heap[l] as Entry)) c = r
      const child = heap[c] as Entry
      if (!this.#less(child, entry)) break
      this.#place(child, i)
      i = c
    }
    this.#place(entry, i)
  }
}
