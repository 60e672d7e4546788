/**
 * Strict reading of Docker JSON request bodies for the swarm resources (swarm, nodes, secrets,
 * configs, networks): every field is checked against the fields Docker's API defines, an unknown
 * one is refused naming its path, and the zero values clients always send (`""`, `{}`, `null`,
 * `0`, `false`) read as "unset".
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

/** A JSON object read from a request. */
export type JsonObject = Readonly<Record<string, unknown>>

/** Whether `v` is unset in Docker's sense: absent, `null`, `""`, `0`, `false`, `[]` or `{}`. */
export function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true
  if (Array.isArray(v)) return v.length === 0
  if (typeof v === 'object') return Object.keys(v).length === 0
  return false
}

/** `v` as an object (absent or `null`: `{}`); 400 naming `path` otherwise. */
export function objectAt(v: unknown, path: string): JsonObject {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(path, 'must be a JSON object')
  return v as JsonObject
}

/**
 * Refuses the fields of `obj` that are not in `known` (400: `<path>.<field>: unknown field`), and
 * those in `unsupported` that are not zero (400: `<path>.<field>: is not supported by swarmkit-ts:
 * <why>`).
 */
export function checkFields(obj: JsonObject, path: string, known: readonly string[], unsupported: Readonly<Record<string, string>> = {}): void {
  for (const [k, v] of Object.entries(obj)) {
    const at = path === '' ? k : `${path}.${k}`
    const why = unsupported[k]
    if (why !== undefined) {
      if (!isZero(v)) throw new InvalidArgumentError(at, `is not supported by swarmkit-ts: ${why}`)
      continue
    }
    if (!known.includes(k)) throw new InvalidArgumentError(at, 'unknown field')
  }
}

/** An optional string (`null`/absent: undefined). */
export function optString(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new InvalidArgumentError(path, 'must be a string')
  return v
}

/** An optional boolean (`null`/absent: undefined). */
export function optBool(v: unknown, path: string): boolean | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw new InvalidArgumentError(path, 'must be true or false')
  return v
}

/** An optional non-negative safe integer (`null`/absent: undefined). */
export function optUint(v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(path, 'must be a non-negative integer')
  return v
}

/** An optional map of strings (labels, options); `null`/absent/`{}`: undefined. */
export function optStringMap(v: unknown, path: string): Record<string, string> | undefined {
  const obj = objectAt(v, path)
  const out: Record<string, string> = {}
  for (const [k, val] of Object.entries(obj)) {
    if (typeof val !== 'string') throw new InvalidArgumentError(`${path}.${k}`, 'must be a string')
    out[k] = val
  }
  return Object.keys(out).length === 0 ? undefined : out
}

/** The `Name` and `Labels` of a Docker spec as annotations (labels only when there are some). */
export function annotationsFrom(obj: JsonObject, path: string): { name: string; labels?: Record<string, string> } {
  const name = optString(obj['Name'], `${path === '' ? '' : `${path}.`}Name`) ?? ''
  const labels = optStringMap(obj['Labels'], `${path === '' ? '' : `${path}.`}Labels`)
  return labels === undefined ? { name } : { name, labels }
}

/** A query flag (`1`, `true`, `True` → true; absent, `0`, `false` → false); 400 otherwise. */
export function queryFlag(v: unknown, name: string): boolean {
  if (v === undefined || v === '') return false
  if (typeof v !== 'string') throw new InvalidArgumentError(name, 'must be given once')
  const lower = v.toLowerCase()
  if (lower === '1' || lower === 'true') return true
  if (lower === '0' || lower === 'false') return false
  throw new InvalidArgumentError(name, `invalid boolean ${JSON.stringify(v)}`)
}
