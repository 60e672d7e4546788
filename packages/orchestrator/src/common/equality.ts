/**
 * Structural equality of specs, as SwarmKit compares them with `reflect.DeepEqual` on protobuf
 * messages: a key whose value is `undefined` counts as absent (the codec leaves it out), byte
 * arrays compare by content.
 *
 * @module
 */

/** Whether `a` and `b` are structurally equal plain data. */
export function specEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!specEqual(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  const ra = a as Record<string, unknown>
  const rb = b as Record<string, unknown>
  for (const k in ra) if (ra[k] !== undefined && !specEqual(ra[k], rb[k])) return false
  for (const k in rb) if (rb[k] !== undefined && ra[k] === undefined) return false
  return true
}
