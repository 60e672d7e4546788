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

/** What {@link Frozen} leaves as it is: primitives, functions and byte arrays (which cannot be frozen). */
type FrozenLeaf = string | number | bigint | boolean | symbol | null | undefined | Uint8Array | ((...args: never[]) => unknown)

/**
 * The type of a deeply frozen `T`: every property readonly, every array a readonly array, all the
 * way down — what the store hands out (`get`, `find`, watch events, `create`/`update` results),
 * so that writing to any part of a stored object is a compile-time error, as it is a run-time
 * `TypeError` in strict mode. Byte arrays (`Uint8Array`) stay as they are: JavaScript cannot freeze
 * them, so never write into bytes read from the store. A plain `T` is assignable to `Frozen<T>`,
 * so every input that takes a `Frozen` object takes a mutable one too.
 */
export type Frozen<T> = T extends FrozenLeaf ? T : T extends readonly (infer E)[] ? readonly Frozen<E>[] : { readonly [P in keyof T]: Frozen<T[P]> }
