import fc from 'fast-check'
import type { Annotations, Driver, IndexEntry, Meta, RaftMemberId, Version } from '@swarmkit-ts/api'

/*
 * Building blocks shared by every arbitrary. All of them produce canonical values: collections
 * are absent or non-empty, optional keys are omitted rather than set to `undefined`, and objects
 * have the ordinary `Object.prototype` (fast-check would otherwise mix in null-prototype ones).
 */

/** Largest unsigned 64-bit integer. */
const MAX_UINT64 = (1n << 64n) - 1n

/** The extremes every uint64 arbitrary is biased towards. */
const UINT64_EXTREMES = [0n, 1n, (1n << 63n) - 1n, 1n << 63n, (1n << 63n) + 1n, MAX_UINT64 - 1n, MAX_UINT64] as const

/** Maximum length of generated arrays and maps: small, so that 1,000 runs stay fast. */
export const MAX_ITEMS = 3

/**
 * `fc.record` that never builds null-prototype objects. Keys listed in `requiredKeys` are always
 * present (list every required key of `T`); the others are either present or absent, never
 * `undefined`.
 */
export function rec<T extends object>(
  model: { [P in keyof T]-?: fc.Arbitrary<Exclude<T[P], undefined>> },
  requiredKeys: readonly (keyof T)[],
): fc.Arbitrary<T> {
  return fc.record(model, { requiredKeys: [...requiredKeys], noNullPrototype: true })
}

/** A non-empty array of at most {@link MAX_ITEMS} elements. */
export function items<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T[]> {
  return fc.array(arb, { minLength: 1, maxLength: MAX_ITEMS })
}

/**
 * Any unsigned 64-bit integer as a `bigint`, biased towards 0, 2^63 ± 1 and 2^64 − 1 (values a
 * `number` would round).
 */
export function arbUint64(): fc.Arbitrary<bigint> {
  return fc.oneof(fc.constantFrom(...UINT64_EXTREMES), fc.bigInt({ min: 0n, max: MAX_UINT64 }))
}

/** A Raft member ID: a bigint in 1..2^64−1, biased to the extremes like {@link arbUint64}. */
export function arbRaftMemberId(): fc.Arbitrary<RaftMemberId> {
  return fc.oneof(fc.constantFrom(1n, (1n << 63n) + 1n, MAX_UINT64), fc.bigInt({ min: 1n, max: MAX_UINT64 }))
}

/** A store {@link Version} over the full uint64 range. */
export function arbVersion(): fc.Arbitrary<Version> {
  return rec<Version>({ index: arbUint64() }, ['index'])
}

/** A timestamp in milliseconds since the epoch, from 1970 to the year 9999. */
export function arbTimestamp(): fc.Arbitrary<number> {
  return fc.integer({ min: 0, max: 253_402_300_799_999 })
}

/** A non-negative safe integer (sizes, counts, durations in ms). */
export function arbNat(): fc.Arbitrary<number> {
  return fc.maxSafeNat()
}

/** Object {@link Meta}: any uint64 version, `updatedAt` ≥ `createdAt`. */
export function arbMeta(): fc.Arbitrary<Meta> {
  return fc
    .tuple(arbVersion(), arbTimestamp(), fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }))
    .map(([version, createdAt, age]) => ({ version, createdAt, updatedAt: createdAt + age }))
}

const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz'.split('')
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split('')
const LOWER = 'abcdefghijklmnopqrstuvwxyz'.split('')
const LOWER_DIGITS = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('')

/** A string of characters from `chars`. */
export function charsOf(chars: readonly string[], minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...chars), minLength, maxLength })
}

/** An object ID: 25 base36 characters, as `generateId` makes. */
export function arbId(): fc.Arbitrary<string> {
  return charsOf(BASE36, 25, 25)
}

/** A short lower-case word, e.g. for label values and hostnames. */
export function arbWord(): fc.Arbitrary<string> {
  return fc.tuple(charsOf(LOWER, 1, 1), charsOf(LOWER_DIGITS, 0, 7)).map(([a, b]) => a + b)
}

/** Free text (non-empty, printable, any Unicode grapheme): messages, descriptions, options. */
export function arbText(): fc.Arbitrary<string> {
  return fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
}

/**
 * A DNS label as service, node and network names need: 1–63 characters matching
 * `/^[a-zA-Z0-9](?:[-_]*[a-zA-Z0-9]+)*$/`, including the 63-character boundary.
 */
export function arbDnsLabel(): fc.Arbitrary<string> {
  const segment = fc.tuple(charsOf(['-', '_'], 0, 2), charsOf(ALNUM, 1, 8)).map(([sep, word]) => sep + word)
  const composed = fc
    .tuple(charsOf(ALNUM, 1, 1), fc.array(segment, { maxLength: 3 }))
    .map(([first, rest]) => first + rest.join(''))
  return fc.oneof({ arbitrary: composed, weight: 9 }, { arbitrary: charsOf(ALNUM, 63, 63), weight: 1 })
}

/**
 * A secret or config name: 1–64 characters of `[a-zA-Z0-9-_.]` starting and ending with an
 * alphanumeric, including the 64-character boundary.
 */
export function arbSecretName(): fc.Arbitrary<string> {
  const composed = fc
    .tuple(charsOf(ALNUM, 1, 1), charsOf([...ALNUM, '-', '_', '.'], 0, 12), charsOf(ALNUM, 1, 1))
    .map(([a, mid, z]) => (mid === '' && a === z ? a : a + mid + z))
  return fc.oneof({ arbitrary: composed, weight: 9 }, { arbitrary: charsOf(ALNUM, 64, 64), weight: 1 })
}

/** A label key such as `zone` or `com.example.tier` (never empty, never `__proto__`). */
export function arbLabelKey(): fc.Arbitrary<string> {
  return fc.array(arbWord(), { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.'))
}

/** A non-empty map of at most {@link MAX_ITEMS} labels. */
export function arbLabels(): fc.Arbitrary<Record<string, string>> {
  return fc.dictionary(arbLabelKey(), fc.oneof(arbWord(), arbText()), { minKeys: 1, maxKeys: MAX_ITEMS, noNullPrototype: true })
}

/** {@link Annotations} whose name is a DNS label (see {@link arbDnsLabel}). */
export function arbAnnotations(): fc.Arbitrary<Annotations> {
  return arbAnnotationsNamed(arbDnsLabel())
}

/** {@link Annotations} with names from `name`, optional labels and index entries. */
export function arbAnnotationsNamed(name: fc.Arbitrary<string>): fc.Arbitrary<Annotations> {
  const entry = rec<IndexEntry>({ key: arbLabelKey(), val: arbText() }, ['key', 'val'])
  return rec<Annotations>({ name, labels: arbLabels(), indices: items(entry) }, ['name'])
}

/** A {@link Driver}: a non-empty name and optional options. */
export function arbDriver(): fc.Arbitrary<Driver> {
  return rec<Driver>({ name: arbWord(), options: arbLabels() }, ['name'])
}

/** 1 (or `minLength`) to 32 random bytes; optional byte fields are never empty in canonical values. */
export function arbBytes(minLength = 1): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength, maxLength: 32 }).map((b) => new Uint8Array(b))
}

/** An IPv4 address in dotted-quad form. */
export function arbIpv4(): fc.Arbitrary<string> {
  return fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'))
}

/** A `host:port` address. */
export function arbAddr(): fc.Arbitrary<string> {
  return fc.tuple(arbIpv4(), fc.integer({ min: 1, max: 65535 })).map(([ip, port]) => `${ip}:${port}`)
}

/** An IPv4 CIDR in canonical form (host bits zero), e.g. `10.1.0.0/16`. */
export function arbIpv4Cidr(): fc.Arbitrary<string> {
  return fc.tuple(fc.nat(0xffffffff), fc.integer({ min: 0, max: 32 })).map(([n, bits]) => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
    const net = (n & mask) >>> 0
    return `${net >>> 24}.${(net >>> 16) & 0xff}.${(net >>> 8) & 0xff}.${net & 0xff}/${bits}`
  })
}
