/**
 * Freezing: how the store takes ownership of a caller's value (a deeply frozen copy, reusing
 * what is frozen already).
 *
 * @module
 */

/**
 * Returns a deeply frozen value equal to `value`. Frozen parts are reused as they are (the store
 * only ever freezes whole trees, and drafts freeze every part they make); unfrozen plain objects and arrays are
 * copied and frozen, so the caller's own objects are never frozen or shared. `Uint8Array`s are
 * copied but cannot be frozen (a JavaScript limitation): never mutate bytes read from the store.
 */
export function ownFrozen<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value
  if (Object.isFrozen(value)) return value
  if (value instanceof Uint8Array) return value.slice() as T
  if (Array.isArray(value)) {
    const out = value.map((v: unknown) => ownFrozen(v))
    return Object.freeze(out) as T
  }
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key]
    if (v !== undefined) out[key] = ownFrozen(v)
  }
  return Object.freeze(out) as T
}
