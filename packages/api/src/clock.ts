/** A scheduled callback that can be cancelled. */
export interface Timer {
  /** Cancels the callback; a no-op once it has run or was cancelled. */
  cancel(): void
}

/**
 * Time as seen by a component. Deterministic cores take a `Clock` instead of calling
 * `Date.now()` or `setTimeout`, so a test can drive them on virtual time (`ManualClock` in
 * `@swarmkit-ts/testkit`).
 *
 * Obligations of an implementation: `now()` never goes backwards; a callback scheduled for
 * `ms` runs no earlier than `now() + ms`, callbacks due at the same instant run in the order
 * they were scheduled, and a cancelled callback never runs.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
  /** Runs `callback` once after `ms` milliseconds (clamped to ≥ 0). */
  setTimeout(callback: () => void, ms: number): Timer
  /**
   * Resolves once the I/O already under way has had its turn — on the system clock, after the
   * event loop's next check phase (`setImmediate`), by which time the sockets written in this
   * turn are flushed and completions that arrived were handled. A driver awaits it after a
   * send on a latency-critical path, before work that need not delay the send. Optional: a
   * clock without it (`ManualClock`) means "go on at once", so virtual-time runs take the same
   * steps in the same order. Use {@link yieldToIo}.
   */
  yieldToIo?(): Promise<void>
}

/**
 * `clock.yieldToIo()` when the clock has it, else `undefined` (the caller goes on at once, with
 * no extra `await`: `const y = yieldToIo(clock); if (y !== undefined) await y`).
 */
export function yieldToIo(clock: Clock): Promise<void> | undefined {
  return clock.yieldToIo?.()
}

/** Construction options of {@link SystemClock}. */
export interface SystemClockInit {
  /**
   * Whether pending timers leave the process free to exit (Node's `timer.unref()`). Use it for
   * background work that must never be the only thing keeping a program alive (retry backoffs,
   * housekeeping); a program that awaits a timer of such a clock, with nothing else pending,
   * exits before it fires (with code 13 when the await is at the top level of a module).
   * @default false
   */
  unref?: boolean
}

/** The longest delay of one Node timer (a longer one fires after 1 ms, with a warning). */
const MAX_TIMER_MS = 2_147_483_647

/**
 * The real clock: `Date.now()` and Node timers. By default a pending timer keeps the process
 * alive, as `setTimeout` does, so a script whose top level awaits a Raft election, a `sleep` or
 * a runtime's `wait` runs to its end. Components cancel their timers when stopped, so a stopped
 * component never holds the process. `new SystemClock({ unref: true })` (or
 * {@link backgroundClock}) gives timers that do not hold it.
 */
export class SystemClock implements Clock {
  /** Whether this clock's timers leave the process free to exit. */
  readonly unref: boolean
  constructor(init: SystemClockInit = {}) {
    this.unref = init.unref === true
  }
  /** `Date.now()`. */
  now(): number {
    return Date.now()
  }
  /**
   * A Node timer; unref'd when this clock was made with `{ unref: true }`. A delay beyond Node's
   * limit (2^31 − 1 ms, ~24.8 days; a 90-day certificate's renewal) runs as a chain of timers
   * instead of firing at once.
   */
  setTimeout(callback: () => void, ms: number): Timer {
    let handle: ReturnType<typeof setTimeout> | undefined
    const arm = (remaining: number): void => {
      const step = Math.min(remaining, MAX_TIMER_MS)
      handle = setTimeout(() => (remaining > MAX_TIMER_MS ? arm(remaining - MAX_TIMER_MS) : callback()), step)
      if (this.unref) handle.unref()
    }
    arm(Math.max(0, ms))
    return { cancel: () => clearTimeout(handle) }
  }
  /** Resolves in the event loop's next check phase (`setImmediate`), after pending I/O. */
  yieldToIo(): Promise<void> {
    return new Promise<void>((resolve) => setImmediate(resolve))
  }
}

/** A shared {@link SystemClock} whose pending timers keep the process alive; it holds no state. */
export const systemClock: SystemClock = new SystemClock()

/** A shared {@link SystemClock} whose timers do not keep the process alive (`{ unref: true }`). */
export const backgroundClock: SystemClock = new SystemClock({ unref: true })

/**
 * Resolves after `ms` on `clock`, or rejects with the signal's reason when `signal` aborts first.
 */
export function sleep(clock: Clock, ms: number, options?: { signal?: AbortSignal | undefined }): Promise<void> {
  const signal = options?.signal
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error)
      return
    }
    const onAbort = (): void => {
      timer.cancel()
      reject(signal?.reason as Error)
    }
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
