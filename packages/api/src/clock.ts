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
}

/** The real clock: `Date.now()` and Node timers. Timers do not keep the process alive. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now()
  }
  setTimeout(callback: () => void, ms: number): Timer {
    const handle = setTimeout(callback, Math.max(0, ms))
    handle.unref()
    return { cancel: () => clearTimeout(handle) }
  }
}

/** A shared {@link SystemClock}; it holds no state. */
export const systemClock: Clock = new SystemClock()

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
