/**
 * Strict reading of Docker JSON bodies: every field is either mapped, accepted only at its zero
 * value (what the CLI sends by default), or refused; an unknown field is refused naming its path.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

/** A JSON object as parsed. */
export type JsonObject = Readonly<Record<string, unknown>>

/**
 * Whether `v` is a zero value as Docker's CLI sends an unset field: `null`, `''`, `0`, `false`,
 * and arrays or objects holding only zero values (`[]`, `{}`, `[0,0]`, `{"Type":"","Config":{}}`).
 */
export function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return true
  if (Array.isArray(v)) return v.every(isZero)
  if (typeof v === 'object') return Object.values(v as JsonObject).every(isZero)
  return false
}

/** `v` as an object (null/undefined: empty), else `InvalidArgumentError` naming `field`. */
export function objectAt(v: unknown, field: string): JsonObject {
  if (v === null || v === undefined) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(field, 'must be a JSON object')
  return v as JsonObject
}

/** `v` as a string (null/undefined: ''), else `InvalidArgumentError` naming `field`. */
export function stringAt(v: unknown, field: string): string {
  if (v === null || v === undefined) return ''
  if (typeof v !== 'string') throw new InvalidArgumentError(field, 'must be a string')
  return v
}

/** `v` as a list of strings (null/undefined: []), else `InvalidArgumentError` naming `field`. */
export function stringsAt(v: unknown, field: string): string[] {
  if (v === null || v === undefined) return []
  if (!Array.isArray(v)) throw new InvalidArgumentError(field, 'must be a list of strings')
  return v.map((s, i) => {
    if (typeof s !== 'string') throw new InvalidArgumentError(`${field}[${i}]`, 'must be a string')
    return s
  })
}

/** `v` as a safe integer (null/undefined: 0), else `InvalidArgumentError` naming `field`. */
export function integerAt(v: unknown, field: string): number {
  if (v === null || v === undefined) return 0
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new InvalidArgumentError(field, 'must be an integer')
  return v
}

/** `v` as a boolean (null/undefined: false), else `InvalidArgumentError` naming `field`. */
export function booleanAt(v: unknown, field: string): boolean {
  if (v === null || v === undefined) return false
  if (typeof v !== 'boolean') throw new InvalidArgumentError(field, 'must be true or false')
  return v
}

/** `v` as a map of strings (null/undefined: {}), else `InvalidArgumentError` naming `field`. */
export function stringMapAt(v: unknown, field: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, s] of Object.entries(objectAt(v, field))) out[k] = stringAt(s, `${field}.${k}`)
  return out
}

/** How a field of a Docker body is read. */
export type FieldRule =
  /** Mapped by the reader (it reads the field itself). */
  | 'mapped'
  /** Accepted whatever its value (client-side only, or informational). */
  | 'ignored'
  /** Accepted at its zero value only; otherwise refused as not supported, with the reason. */
  | { readonly zeroOnly: string }

/**
 * Checks every field of `body` (at path `path`) against `rules`: an unknown field is refused
 * naming its path, a `zeroOnly` field with a non-zero value is refused with its reason. Mapped
 * fields are left to the caller.
 */
export function checkFields(body: JsonObject, rules: Readonly<Record<string, FieldRule>>, path: string): void {
  for (const [name, value] of Object.entries(body)) {
    const field = path === '' ? name : `${path}.${name}`
    const rule = rules[name]
    if (rule === undefined) throw new InvalidArgumentError(field, 'unknown field')
    if (typeof rule === 'object' && !isZero(value)) throw new InvalidArgumentError(field, `not supported by swarmkit-ts: ${rule.zeroOnly}`)
  }
}

/** Docker durations are nanoseconds; the api's are milliseconds (whole ones: a fraction is refused). */
export function nanosToMs(v: unknown, field: string): number | undefined {
  const ns = integerAt(v, field)
  if (ns === 0) return undefined
  if (ns < 0 || ns % 1_000_000 !== 0) throw new InvalidArgumentError(field, 'must be a positive number of whole milliseconds (in nanoseconds)')
  return ns / 1_000_000
}
