/**
 * Deep freezing of decoded values, so a remote API hands out objects as readonly as the store's.
 *
 * @module
 */

/** Freezes `value` and everything in it, in place (byte arrays excepted: JavaScript cannot freeze them). */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value
  // No key array per object (the client freezes every object of every answer): decoded values
  // are plain objects and arrays, without enumerable inherited keys, so for…in sees their own.
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) deepFreeze(value[i] as unknown)
  else for (const key in value) deepFreeze((value as Record<string, unknown>)[key])
  return Object.freeze(value)
}
