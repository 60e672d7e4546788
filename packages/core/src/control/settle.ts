/**
 * The promise of a synchronous computation: its value, or a rejection with what it throws (never
 * a synchronous throw from a method that returns a promise).
 *
 * @module
 */

/** Runs `fn` now and returns its result as a promise; a throw becomes a rejection. */
export function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn())
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)))
  }
}
