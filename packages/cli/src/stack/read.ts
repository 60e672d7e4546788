/**
 * Typed reads of located values: each names the key path and the file line when the value has
 * the wrong type. Values that went through `${VAR}` interpolation arrive as strings, so numbers
 * and booleans are also accepted in their string form (docker casts them the same way).
 *
 * @module
 */
import { child, fail, item, type LMap, type LNode, type LSeq } from './tree.ts'

/** A mapping, or `fail`. */
export function asMap(node: LNode, path: string): LMap {
  if (node.kind !== 'map') fail(node, path, 'must be a mapping')
  return node
}

/** A sequence, or `fail`. */
export function asSeq(node: LNode, path: string): LSeq {
  if (node.kind !== 'seq') fail(node, path, 'must be a list')
  return node
}

/** A string (numbers are not strings: `image: 1` fails). */
export function asString(node: LNode, path: string): string {
  if (node.kind !== 'scalar' || typeof node.value !== 'string') fail(node, path, 'must be a string')
  return node.value
}

/** A string, number or boolean as text (environment values, labels). */
export function asText(node: LNode, path: string): string {
  if (node.kind !== 'scalar' || node.value === null) fail(node, path, 'must be a string, number or boolean')
  return String(node.value)
}

/** An integer ≥ `min`. */
export function asInt(node: LNode, path: string, min = 0): number {
  const v = node.kind === 'scalar' ? node.value : undefined
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : Number.NaN
  if (!Number.isSafeInteger(n)) fail(node, path, 'must be an integer')
  if (n < min) fail(node, path, `must be at least ${min}`)
  return n
}

/** A finite number. */
export function asNumber(node: LNode, path: string): number {
  const v = node.kind === 'scalar' ? node.value : undefined
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN
  if (!Number.isFinite(n)) fail(node, path, 'must be a number')
  return n
}

/** A boolean (`true`/`false`, or their strings). */
export function asBool(node: LNode, path: string): boolean {
  const v = node.kind === 'scalar' ? node.value : undefined
  if (v === true || v === 'true') return true
  if (v === false || v === 'false') return false
  return fail(node, path, 'must be a boolean')
}

/** One of `allowed`. */
export function asOneOf<T extends string>(node: LNode, path: string, allowed: readonly T[]): T {
  const s = asString(node, path)
  if (!(allowed as readonly string[]).includes(s)) fail(node, path, `must be one of ${allowed.join(', ')}`)
  return s as T
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A Go duration (`10s`, `1m30s`, `500ms`) in milliseconds. */
export function asDuration(node: LNode, path: string): number {
  const s = node.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined
  const whole = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/
  if (s === undefined || !whole.test(s)) fail(node, path, 'must be a duration such as 10s, 1m30s or 500ms')
  let ms = 0
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 0)
  return Math.round(ms)
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }

/** A size in bytes: a number, or `512M`, `1g`, `100mb`, `2GiB` (binary units, as docker's RAMInBytes). */
export function asBytes(node: LNode, path: string): number {
  const v = node.kind === 'scalar' ? node.value : undefined
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(v.trim()) : null
  if (m === null) fail(node, path, 'must be a size such as 512M or 1g')
  return Math.round(Number(m[1]) * (BYTE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1))
}

/** A list of strings. */
export function asStringList(node: LNode, path: string): string[] {
  return asSeq(node, path).items.map((x, i) => asText(x, item(path, i)))
}

/** A string, or a list of strings (a string is one element). */
export function asStringOrList(node: LNode, path: string): string[] {
  return node.kind === 'scalar' ? [asString(node, path)] : asStringList(node, path)
}

/**
 * A mapping of strings in either compose form: `{ KEY: value }` or `["KEY=value"]`. A key
 * without a value (`KEY` in a list, `KEY:` in a mapping) maps to undefined.
 */
export function asStringMap(node: LNode, path: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>()
  if (node.kind === 'seq') {
    node.items.forEach((x, i) => {
      const s = asText(x, item(path, i))
      const eq = s.indexOf('=')
      if (eq === 0) fail(x, item(path, i), 'must be KEY=value')
      if (eq < 0) out.set(s, undefined)
      else out.set(s.slice(0, eq), s.slice(eq + 1))
    })
    return out
  }
  for (const [k, v] of asMap(node, path).entries) {
    out.set(k, v.kind === 'scalar' && v.value === null ? undefined : asText(v, child(path, k)))
  }
  return out
}

/**
 * Checks the keys of `map`: keys in `known` pass, `x-` extensions pass, others fail as docker's
 * schema does (`additional property … is not allowed`).
 */
export function checkKeys(map: LMap, path: string, known: readonly string[]): void {
  for (const [k, loc] of map.keyLocs) {
    if (known.includes(k) || k.startsWith('x-')) continue
    fail(loc, path, `additional property ${k} is not allowed`)
  }
}

/** The value at `key` if present. */
export function get(map: LMap, key: string): LNode | undefined {
  return map.entries.get(key)
}
