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

/** Structural equality of two trees without `undefined` values (decoded and stored objects). */
export function sameTree(a: unknown, b: unknown): boolean {
  const leaf = leafEqual(a, b)
  if (leaf !== undefined) return leaf
  const aa = Array.isArray(a)
  if (aa !== Array.isArray(b)) return false
  if (aa) {
    const x = a as unknown[]
    const y = b as unknown[]
    if (x.length !== y.length) return false
    for (let i = 0; i < x.length; i++) if (!sameTree(x[i], y[i])) return false
    return true
  }
  // for…in instead of Object.keys: no allocation (these are plain objects without enumerable
  // inherited keys, so it sees exactly the own keys).
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  let n = 0
  for (const k in x) {
    if (!Object.hasOwn(y, k) || !sameTree(x[k], y[k])) return false
    n++
  }
  for (const _ in y) n--
  return n === 0
}
