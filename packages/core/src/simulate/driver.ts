/**
 * Driving virtual time. Everything in a simulated cluster waits on one of two things: a promise
 * callback or a timer of the cluster's `ManualClock` (there is no real I/O and no real timer).
 * {@link VirtualTime.settle} runs the first until only timers in the future remain — one
 * macrotask turn drains every promise callback, so a round costs O(1), whatever the cluster's
 * size; {@link VirtualTime.advance} moves time timer by timer, settling after each, and
 * {@link VirtualTime.until} moves it until a promise settles or a predicate holds, within a bound.
 *
 * @module
 */
import { UnavailableError } from '@swarmkit-ts/api'
import type { ManualClock } from '@swarmkit-ts/testkit'

/** Settle rounds before giving up: work that never stops without time moving is a bug. */
const SETTLE_LIMIT = 1_000_000

/**
 * A bound of virtual time ran out (`runUntil`, or a handle call that waited for a leader or an
 * answer): an `UnavailableError` with `reason` `'deadline'` and how much virtual time passed.
 */
export class SimulationDeadlineError extends UnavailableError {
  /** Always `'deadline'`. */
  readonly reason = 'deadline' as const
  /** Virtual milliseconds waited. */
  readonly virtualMs: number
  constructor(message: string, virtualMs: number) {
    super(message)
    this.virtualMs = virtualMs
  }
  override context(): Record<string, string | undefined> {
    return { reason: this.reason, virtualMs: String(this.virtualMs) }
  }
}

/** One macrotask turn: every pending promise callback runs first. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The cluster's time driver (see the module doc). */
export class VirtualTime {
  /** The clock it moves. */
  readonly clock: ManualClock
  #closed = false

  constructor(clock: ManualClock) {
    this.clock = clock
  }

  /** Stops driving: later calls return at once (a closed cluster's time stands still). */
  close(): void {
    this.#closed = true
  }

  /** Runs every promise callback and every timer due now, until nothing is left but future timers. */
  async settle(): Promise<void> {
    for (let i = 0; ; i++) {
      if (i >= SETTLE_LIMIT) throw new Error(`simulate: still busy after ${SETTLE_LIMIT} rounds without time moving`)
      this.clock.advance(0)
      await turn()
      const due = this.clock.nextDueAt()
      if (due === undefined || due > this.clock.now()) return
    }
  }

  /** Moves virtual time forward by `ms`, timer by timer, settling after each. */
  async advance(ms: number): Promise<void> {
    const target = this.clock.now() + ms
    await this.settle()
    while (!this.#closed) {
      const due = this.clock.nextDueAt()
      if (due === undefined || due > target) break
      this.clock.advance(Math.max(0, due - this.clock.now()))
      await this.settle()
    }
    if (this.#closed) return
    this.clock.advance(Math.max(0, target - this.clock.now()))
    await this.settle()
  }

  /**
   * Moves time timer by timer until `done()` holds (checked after each settle), and returns the
   * virtual ms taken; {@link SimulationDeadlineError} once `maxVirtualMs` passed without it, or
   * when nothing is left to run.
   */
  async until(done: () => boolean | Promise<boolean>, maxVirtualMs: number, what: string): Promise<number> {
    const start = this.clock.now()
    const deadline = start + maxVirtualMs
    for (;;) {
      await this.settle()
      if (await done()) return this.clock.now() - start
      if (this.#closed) throw new UnavailableError(`simulate: the cluster closed while waiting for ${what}`)
      const due = this.clock.nextDueAt()
      if (due === undefined || due > deadline) {
        this.clock.advance(Math.max(0, deadline - this.clock.now()))
        await this.settle()
        if (await done()) return this.clock.now() - start
        throw new SimulationDeadlineError(`simulate: ${what} did not happen within ${maxVirtualMs} virtual ms`, this.clock.now() - start)
      }
      this.clock.advance(Math.max(0, due - this.clock.now()))
    }
  }

  /** Drives time until `promise` settles (within `maxVirtualMs`), then settles the same way. */
  async drive<T>(promise: Promise<T>, maxVirtualMs: number, what: string): Promise<T> {
    let done = false
    const watched = promise.finally(() => {
      done = true
    })
    watched.catch(() => undefined)
    await this.until(() => done, maxVirtualMs, what)
    return watched
  }
}
