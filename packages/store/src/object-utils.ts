/**
 * Helpers on plain object trees: taking ownership (copy + deep freeze), deep equality and a
 * conservative estimate of the encoded size.
 *
 * @module
 */

/**
 * Returns a deeply frozen value equal to `value`. Frozen parts are reused as they are (the store
 * only ever freezes whole trees, and immer freezes deeply); unfrozen plain objects and arrays are
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

const trusted = new WeakSet<object>()

/** Marks a change set as built by this package from validated objects (its shape needs no re-check). */
export function markTrusted(changes: object): void {
  trusted.add(changes)
}

/** Whether this package built the change set. */
export function isTrusted(changes: unknown): boolean {
  return typeof changes === 'object' && changes !== null && trusted.has(changes)
}

/**
 * `obj` with its meta replaced, frozen. `obj` must be deeply frozen already (objects the store
 * made), so only the top level and the meta are new; anything else goes through {@link ownFrozen}.
 */
export function withMeta<T extends { readonly meta: unknown }>(obj: T, meta: { version: { index: bigint }; createdAt: number; updatedAt: number }): T {
  const m = Object.freeze({ version: Object.freeze({ index: meta.version.index }), createdAt: meta.createdAt, updatedAt: meta.updatedAt })
  if (!Object.isFrozen(obj)) return ownFrozen({ ...obj, meta: m })
  return Object.freeze({ ...obj, meta: m })
}

/**
 * Deep-freezes `value` in place, stopping at parts already frozen (and leaving byte arrays, which
 * cannot be frozen). For trees the store just made, such as an immer result: its new parts are
 * fresh copies, the rest is shared with frozen objects. Values the recipe assigned are frozen
 * too, as immer's own auto-freeze would.
 */
export function freezeNew<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value
  for (const key of Object.keys(value)) freezeNew((value as Record<string, unknown>)[key])
  return Object.freeze(value)
}

/** Structural equality of plain trees (objects, arrays, Uint8Array, primitives incl. bigint). Absent and `undefined` are equal. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false
    return true
  }
  const ra = a as Record<string, unknown>
  const rb = b as Record<string, unknown>
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)])
  for (const k of keys) if (!deepEqual(ra[k], rb[k])) return false
  return true
}

/**
 * An upper bound on the protobuf size of a value: every string and byte array counted in full
 * (UTF-8), with generous per-field overhead for tags, lengths and numbers.
 */
export function estimateBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 4 + (value.length < 128 ? value.length * 3 : Buffer.byteLength(value, 'utf8'))
    case 'number':
    case 'bigint':
      return 12
    case 'boolean':
      return 3
    case 'object': {
      if (value === null) return 0
      if (value instanceof Uint8Array) return 6 + value.length
      let n = 6
      if (Array.isArray(value)) {
        for (const v of value) n += estimateBytes(v)
        return n
      }
      for (const key in value) n += 4 + key.length + estimateBytes((value as Record<string, unknown>)[key])
      return n
    }
    default:
      return 0
  }
}
