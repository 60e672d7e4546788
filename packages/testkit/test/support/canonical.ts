/** Map-typed fields (string-keyed records): absent or non-empty in canonical values. */
const MAP_FIELDS = new Set(['labels', 'options', 'driverAttachmentOpts', 'sysctls', 'reserved', 'blacklistedCertificates'])
/** The only non-integer number fields. */
const FLOAT_FIELDS = new Set(['maxFailureRatio'])

/**
 * Throws (naming the path) unless `value` is canonical: no `undefined`-valued keys, no empty
 * arrays or maps, only plain objects / arrays / Uint8Arrays, safe integers (finite floats where
 * allowed), bigints in the uint64 range, and well-formed strings.
 */
export function assertCanonical(value: unknown, path = '$'): void {
  switch (typeof value) {
    case 'string':
      if (/[\uD800-\uDFFF]/u.test(value)) throw new Error(`${path}: lone surrogate in string`)
      return
    case 'boolean':
      return
    case 'bigint':
      if (value < 0n || value >= 1n << 64n) throw new Error(`${path}: bigint out of uint64 range: ${value}`)
      return
    case 'number': {
      const key = path.slice(path.lastIndexOf('.') + 1)
      if (FLOAT_FIELDS.has(key) ? !Number.isFinite(value) : !Number.isSafeInteger(value)) throw new Error(`${path}: bad number ${value}`)
      if (Object.is(value, -0)) throw new Error(`${path}: negative zero`)
      return
    }
    case 'object': {
      if (value === null) throw new Error(`${path}: null`)
      if (value instanceof Uint8Array) {
        if (Object.getPrototypeOf(value) !== Uint8Array.prototype) throw new Error(`${path}: not a plain Uint8Array`)
        return
      }
      if (Array.isArray(value)) {
        if (value.length === 0) throw new Error(`${path}: empty array`)
        value.forEach((v, i) => assertCanonical(v, `${path}[${i}]`))
        return
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) throw new Error(`${path}: not a plain object`)
      const key = path.slice(path.lastIndexOf('.') + 1)
      const entries = Object.entries(value)
      if (MAP_FIELDS.has(key) && entries.length === 0) throw new Error(`${path}: empty map`)
      for (const [k, v] of entries) {
        if (v === undefined) throw new Error(`${path}.${k}: undefined-valued key`)
        assertCanonical(v, `${path}.${k}`)
      }
      return
    }
    default:
      throw new Error(`${path}: unexpected ${typeof value}`)
  }
}
