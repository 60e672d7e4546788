/**
 * Shared building blocks of spec validation: field paths, shape checks that never crash on
 * wrong input, integer / duration / enum checks, DNS labels and IP / CIDR parsing.
 *
 * Every check throws {@link InvalidArgumentError} naming the offending field. `undefined`
 * means "absent"; `null` is a wrong shape like any other non-matching value.
 *
 * @internal
 */
import { BlockList, isIP } from 'node:net'
import { InvalidArgumentError } from './errors.ts'

/** A plain object whose properties are still unchecked. */
export type Fields = Readonly<Record<string, unknown>>

/** `parent.key`, or `key` at the root. */
export function fieldPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`
}

/** `parent[i]`. */
export function indexPath(parent: string, i: number): string {
  return `${parent}[${i}]`
}

/** Throws an {@link InvalidArgumentError} for `field`. */
export function invalid(field: string, message: string): never {
  throw new InvalidArgumentError(field, message)
}

/** Whether `v` is a plain object (not null, an array or a byte array). */
export function isFields(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

/** Returns `v` as an object or throws naming `field`. */
export function requireObject(v: unknown, field: string): Fields {
  if (!isFields(v)) invalid(field, 'must be an object')
  return v
}

/** Returns `v` as an object, `undefined` when absent, or throws naming `field`. */
export function optionalObject(v: unknown, field: string): Fields | undefined {
  return v === undefined ? undefined : requireObject(v, field)
}

/** Returns `v` as an array, `undefined` when absent, or throws naming `field`. */
export function optionalArray(v: unknown, field: string): readonly unknown[] | undefined {
  if (v === undefined) return undefined
  if (!Array.isArray(v)) invalid(field, 'must be an array')
  return v as readonly unknown[]
}

/** Returns `v` as a string, `undefined` when absent, or throws naming `field`. */
export function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'string') invalid(field, 'must be a string')
  return v
}

/** Returns `v` as a non-empty string or throws naming `field` (absent counts as empty). */
export function requireNonEmptyString(v: unknown, field: string): string {
  if (v === undefined || v === '') invalid(field, 'must not be empty')
  if (typeof v !== 'string') invalid(field, 'must be a string')
  return v
}

/** Returns `v` as a boolean, `undefined` when absent, or throws naming `field`. */
export function optionalBoolean(v: unknown, field: string): boolean | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'boolean') invalid(field, 'must be a boolean')
  return v
}

/** Inclusive bounds of an integer check. */
export interface IntegerBounds {
  min?: number
  max?: number
}

/**
 * Checks an optional integer: a safe integer within `bounds` when present.
 * Returns the value, or `undefined` when absent.
 */
export function optionalInteger(v: unknown, field: string, bounds: IntegerBounds = {}): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) invalid(field, 'must be a safe integer')
  if (bounds.min !== undefined && v < bounds.min) invalid(field, `must be ≥ ${bounds.min}, got ${v}`)
  if (bounds.max !== undefined && v > bounds.max) invalid(field, `must be ≤ ${bounds.max}, got ${v}`)
  return v
}

/** Checks a required integer: a safe integer within `bounds`. */
export function requireInteger(v: unknown, field: string, bounds: IntegerBounds = {}): number {
  if (v === undefined) invalid(field, 'is required')
  return optionalInteger(v, field, bounds) as number
}

/** Checks an optional duration in milliseconds: a non-negative safe integer. */
export function optionalDuration(v: unknown, field: string): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) invalid(field, 'must be a whole number of milliseconds')
  if (v < 0) invalid(field, `negative durations are not allowed, got ${v}`)
  return v
}

/** Checks an optional enum string against its allowed values. */
export function optionalEnum<T extends string>(v: unknown, field: string, values: readonly T[]): T | undefined {
  if (v === undefined) return undefined
  return requireEnum(v, field, values)
}

/** Checks a required enum string against its allowed values. */
export function requireEnum<T extends string>(v: unknown, field: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    invalid(field, `must be one of ${values.map((x) => `'${x}'`).join(', ')}, got ${describeValue(v)}`)
  }
  return v as T
}

/** Checks an optional string map (labels, options): non-empty keys, string values. */
export function optionalStringMap(v: unknown, field: string): Readonly<Record<string, string>> | undefined {
  const map = optionalObject(v, field)
  if (map === undefined) return undefined
  for (const [k, x] of Object.entries(map)) {
    if (k === '') invalid(field, 'keys must not be empty')
    if (typeof x !== 'string') invalid(field, `value of '${k}' must be a string`)
  }
  return map as Readonly<Record<string, string>>
}

/** A short description of a bad value for messages. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v)
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') return 'an object'
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'number' || typeof v === 'boolean' || v === undefined) return String(v)
  return typeof v
}

/**
 * Returns the single key among `keys` whose value in `obj` is present. Throws naming `field`
 * when none or several are present, or, when `strict`, when `obj` has any other key.
 */
export function oneOf<K extends string>(obj: Fields, field: string, keys: readonly K[], strict = false): K {
  const allowed = keys as readonly string[]
  const present: string[] = []
  for (const [k, x] of Object.entries(obj)) {
    if (x === undefined) continue
    if (allowed.includes(k)) present.push(k)
    else if (strict) invalid(field, `unknown key '${k}'; expected exactly one of ${keys.join(', ')}`)
  }
  if (present.length !== 1) {
    invalid(field, `expected exactly one of ${keys.join(', ')}, got ${present.length === 0 ? 'none' : present.join(', ')}`)
  }
  return present[0] as K
}

// ---------------------------------------------------------------- names

const DNS_LABEL = /^[a-zA-Z0-9](?:[-_]*[a-zA-Z0-9]+)*$/

/** Whether `s` is a DNS label as SwarmKit accepts it: 1–63 characters of `[a-zA-Z0-9-_]`, alphanumeric at both ends. */
export function isDnsLabel(s: string): boolean {
  return s.length >= 1 && s.length <= 63 && DNS_LABEL.test(s)
}

/** Checks that `v` is a DNS label. */
export function requireDnsLabel(v: unknown, field: string): string {
  const s = requireNonEmptyString(v, field)
  if (!isDnsLabel(s)) {
    invalid(field, `${JSON.stringify(s)} is not a valid DNS label: 1–63 characters of letters, digits, '-' and '_', starting and ending with a letter or digit`)
  }
  return s
}

/**
 * Checks `annotations` (required object) and its `labels`; `checkName` validates the name.
 * Returns the annotations object.
 */
export function checkAnnotations(v: unknown, field: string, checkName: (name: unknown, field: string) => void): Fields {
  const a = requireObject(v, field)
  checkName(a['name'], fieldPath(field, 'name'))
  optionalStringMap(a['labels'], fieldPath(field, 'labels'))
  return a
}

/** Checks an optional driver (`{ name, options }`): when present its name is non-empty. */
export function optionalDriver(v: unknown, field: string): Fields | undefined {
  const d = optionalObject(v, field)
  if (d === undefined) return undefined
  requireNonEmptyString(d['name'], fieldPath(field, 'name'))
  optionalStringMap(d['options'], fieldPath(field, 'options'))
  return d
}

// ---------------------------------------------------------------- IP / CIDR

/** An IP family as `node:net` names it. */
export type IpFamily = 'ipv4' | 'ipv6'

/** A parsed IP address. */
export interface ParsedIP {
  family: IpFamily
  address: string
}

/** A parsed CIDR block; `address` may have host bits set (as Go's `net.ParseCIDR` allows). */
export interface ParsedCidr {
  family: IpFamily
  address: string
  prefixLength: number
}

/** Parses an IPv4 or IPv6 address (no zone); `undefined` when invalid. */
export function parseIp(s: string): ParsedIP | undefined {
  if (s.includes('%')) return undefined
  const v = isIP(s)
  if (v === 4) return { family: 'ipv4', address: s }
  if (v === 6) return { family: 'ipv6', address: s }
  return undefined
}

/** Parses `address/prefix` for IPv4 (prefix 0–32) or IPv6 (prefix 0–128); `undefined` when invalid. */
export function parseCidr(s: string): ParsedCidr | undefined {
  const slash = s.indexOf('/')
  if (slash < 0) return undefined
  const ip = parseIp(s.slice(0, slash))
  const bits = s.slice(slash + 1)
  if (ip === undefined || !/^(?:0|[1-9][0-9]{0,2})$/.test(bits)) return undefined
  const prefixLength = Number(bits)
  if (prefixLength > (ip.family === 'ipv4' ? 32 : 128)) return undefined
  return { family: ip.family, address: ip.address, prefixLength }
}

function blockOf(c: ParsedCidr): BlockList {
  const list = new BlockList()
  list.addSubnet(c.address, c.prefixLength, c.family)
  return list
}

/** Whether `ip` lies inside `cidr` (same family only). */
export function cidrContainsIp(cidr: ParsedCidr, ip: ParsedIP): boolean {
  return cidr.family === ip.family && blockOf(cidr).check(ip.address, ip.family)
}

/**
 * Whether the block `inner` lies wholly inside `outer`. CIDR blocks nest or are disjoint, so
 * it suffices that `inner` is no larger and one of its addresses is inside `outer`.
 */
export function cidrContainsCidr(outer: ParsedCidr, inner: ParsedCidr): boolean {
  return (
    outer.family === inner.family &&
    inner.prefixLength >= outer.prefixLength &&
    blockOf(outer).check(inner.address, inner.family)
  )
}
