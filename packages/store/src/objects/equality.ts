/**
 * Structural equality of the plain trees the store holds (objects, arrays, byte arrays,
 * primitives including bigint).
 *
 * @module
 */

/**
 * The equality of `a` and `b` when one of them is not an object or is a byte array (compared by
 * content); undefined when both are objects or arrays, whose members decide.
 */
function leafEqual(a: unknown, b: unknown): boolean | undefined {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  return undefined
}

/** Structural equality of plain trees (objects, arrays, Uint8Array, primitives incl. bigint). Absent and `undefined` are equal. */
export function deepEqual(a: unknown, b: unknown): boolean {
  const leaf = leafEqual(a, b)
  if (leaf !== undefined) return leaf
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
 * Structural equality of two trees (decoded and stored objects). The checks are ordered for the
 * common case, plain objects: no helper call per node, and `Object.hasOwn` only for an
 * `undefined` member (absent and `undefined` differ here, unlike {@link deepEqual}).
 */
export function sameTree(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!sameTree(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) return leafEqual(a, b) === true
  // for…in instead of Object.keys: no allocation (these are plain objects without enumerable
  // inherited keys, so it sees exactly the own keys).
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  let n = 0
  for (const k in x) {
    const v = x[k]
    if (v === undefined ? !Object.hasOwn(y, k) || y[k] !== undefined : !sameTree(v, y[k])) return false
    n++
  }
  for (const _ in y) n--
  return n === 0
}
