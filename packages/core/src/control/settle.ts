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

/**
 * The object as stored after its write was applied: a transaction's `create`/`update` result
 * carries the version only once applied, and a caller needs that version for its next update.
 * `fallback` (the transaction's result) is returned if the object is gone already.
 */
export function readBack<T>(read: () => T | undefined, fallback: T): T {
  return read() ?? fallback
}
