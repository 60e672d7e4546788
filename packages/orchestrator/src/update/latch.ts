/**
 * A one-shot cancellation signal for many waiters. An updater with parallelism 0 has one waiter
 * per slot, and `AbortSignal` warns past ten listeners; a latch keeps its waiters in a set.
 *
 * @module
 */
import type { Clock } from '@swarmkit-ts/api'

/** Fires once; every waiter registered before or after learns of it. */
export class Latch {
  #fired = false
  readonly #waiters = new Set<() => void>()

  /** Whether `fire()` was called. */
  get fired(): boolean {
    return this.#fired
  }

  /** Fires the latch: every waiter is called once. Idempotent. */
  fire(): void {
    if (this.#fired) return
    this.#fired = true
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const w of waiters) w()
  }

  /** Calls `fn` when the latch fires (now, if it has); returns a function that unsubscribes. */
  on(fn: () => void): () => void {
    if (this.#fired) {
      fn()
      return () => undefined
    }
    this.#waiters.add(fn)
    return () => this.#waiters.delete(fn)
  }

  /** Resolves `true` when `promise` settles first (either way), `false` when the latch fires first. */
  race(promise: Promise<unknown>): Promise<boolean> {
    return new Promise((resolve) => {
      const off = this.on(() => resolve(false))
      const settle = (): void => {
        off()
        resolve(true)
      }
      promise.then(settle, settle)
    })
  }

  /** Resolves `true` after `ms` on `clock`, or `false` as soon as the latch fires (the timer is cancelled). */
  sleep(clock: Clock, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => {
        off()
        resolve(true)
      }, ms)
      const off = this.on(() => {
        timer.cancel()
        resolve(false)
      })
    })
  }
}
