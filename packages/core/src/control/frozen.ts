/**
 * Deep freezing of decoded values, so a remote API hands out objects as readonly as the store's.
 *
 * @module
 */

/** Freezes `value` and everything in it, in place (byte arrays excepted: JavaScript cannot freeze them). */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array || Object.isFrozen(value)) return value
  for (const v of Object.values(value)) deepFreeze(v)
  return Object.freeze(value)
}
