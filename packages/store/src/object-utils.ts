/**
 * Helpers on plain object trees: taking ownership (copy + deep freeze), deep equality and a
 * conservative estimate of the encoded size.
 *
 * @module
 */
import { copyObject } from './shape-copy.ts'

/**
 * Returns a deeply frozen value equal to `value`. Frozen parts are reused as they are (the store
 * only ever freezes whole trees, and drafts freeze every part they make); unfrozen plain objects and arrays are
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

/** The fields of an object's meta. */
export interface MetaFields {
  readonly version: { readonly index: bigint }
  readonly createdAt: number
  readonly updatedAt: number
}

/** A class whose constructor returns its argument: a subclass's private fields go onto that object. */
class Stamp {
  constructor(target: object) {
    return target
  }
}

/**
 * A meta the store made keeps the size estimate of its object in a private field: invisible to
 * property enumeration, `Reflect.ownKeys` and equality checks, unchanged prototype, no cost to
 * read (a `defineProperty` of a hidden property costs about 0.4 µs; this about 0.01 µs).
 */
class SizeStamp extends Stamp {
  readonly #size: number
  constructor(target: object, size: number) {
    super(target)
    this.#size = size
  }
  static read(o: object): number | undefined {
    return #size in o ? o.#size : undefined
  }
}

/**
 * A new, deeply frozen meta with these fields (a frozen `version` is shared, not copied).
 * `size`: the {@link estimateBytes} of the object this meta belongs to, kept for the next update
 * of that object (see {@link sizeAfterUpdate}).
 */
export function frozenMeta(meta: MetaFields, size?: number): MetaFields {
  const v = meta.version
  const m = { version: Object.isFrozen(v) ? v : Object.freeze({ index: v.index }), createdAt: meta.createdAt, updatedAt: meta.updatedAt }
  if (size !== undefined) new SizeStamp(m, size)
  return Object.freeze(m)
}

/** The size estimate kept in a store object's meta, if the store made that meta with one. */
export function keptSize(obj: { readonly meta: unknown }): number | undefined {
  const m = obj.meta
  return typeof m === 'object' && m !== null ? SizeStamp.read(m) : undefined
}

/** {@link estimateBytes} of a meta the store makes (always the same three fields). */
const STORE_META_BYTES = estimateBytes({ version: { index: 0n }, createdAt: 0, updatedAt: 0 })

/** {@link estimateBytes} of the stored object `prev` with a meta the store makes. */
function baseSize(prev: { readonly meta: unknown }): number {
  // A kept estimate belongs to a meta the store made, the same size as the one `next` will get.
  return keptSize(prev) ?? estimateBytes(prev) - estimateBytes(prev.meta) + STORE_META_BYTES
}

/**
 * {@link sizeAfterUpdate} for a recipe's result: only the top-level keys the draft reports as
 * `changed` can differ from `prev`'s (see `produce`), so only those are looked at.
 */
export function sizeAfterChanges(next: object, prev: { readonly meta: unknown }, changed: readonly (string | symbol)[]): number {
  const a = next as Readonly<Record<string, unknown>>
  const b = prev as unknown as Readonly<Record<string, unknown>>
  let n = baseSize(prev)
  for (let i = 0; i < changed.length; i++) {
    const k = changed[i]
    // Symbol keys are not counted by estimateBytes; `meta` is the store's.
    if (typeof k !== 'string' || k === 'meta' || changed.indexOf(k) < i) continue
    n += fieldDelta(a, b, k)
  }
  return n
}

/** What field `k` adds to {@link estimateBytes} of `a` over that of `b` (either may lack it). */
function fieldDelta(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>, k: string): number {
  let d = 0
  if (Object.hasOwn(b, k)) d -= 4 + k.length + estimateBytes(b[k])
  if (Object.hasOwn(a, k)) d += 4 + k.length + estimateBytes(a[k])
  return d
}

/**
 * {@link estimateBytes} of `next` once its meta is replaced by one the store makes, where `next`
 * was made from the stored object `prev` (by a recipe, or by a caller's copy of it): `prev`'s
 * estimate, kept in its meta, plus the difference in the top-level fields that changed. Parts
 * `next` shares with `prev` are not walked; without a kept estimate `prev` is walked once.
 */
export function sizeAfterUpdate(next: object, prev: { readonly meta: unknown }): number {
  const a = next as Readonly<Record<string, unknown>>
  const b = prev as unknown as Readonly<Record<string, unknown>>
  let n = baseSize(prev)
  for (const k in a) if (k !== 'meta' && a[k] !== b[k]) n += fieldDelta(a, b, k)
  // Fields `next` dropped (Object.hasOwn only for an undefined value).
  for (const k in b) if (k !== 'meta' && a[k] === undefined && !Object.hasOwn(a, k)) n += fieldDelta(a, b, k)
  return n
}

/** The version of an object not yet committed (shared: every version object is frozen). */
export const ZERO_VERSION: MetaFields['version'] = Object.freeze({ index: 0n })

let lastVersion: MetaFields['version'] = ZERO_VERSION

/** A frozen `{ index }`; the objects of one change set share it. */
export function versionAt(index: bigint): MetaFields['version'] {
  if (lastVersion.index !== index) lastVersion = Object.freeze({ index })
  return lastVersion
}

// Marks on change sets are private fields too, not WeakSets: a WeakSet entry per change set made
// every scavenge do ephemeron work (a few percent of a replicated update). Like a WeakSet, a
// private field cannot be forged or seen from outside this module.

class TrustMark extends Stamp {
  readonly #trusted = true
  static has(o: object): boolean {
    return #trusted in o
  }
}

class OwnMark extends Stamp {
  readonly #owned = true
  static has(o: object): boolean {
    return #owned in o
  }
}

/** Marks a change set as built by this package from validated objects (its shape needs no re-check). */
export function markTrusted(changes: object): void {
  if (!TrustMark.has(changes)) new TrustMark(changes)
}

/** Whether this package built the change set. */
export function isTrusted(changes: unknown): boolean {
  return typeof changes === 'object' && changes !== null && TrustMark.has(changes)
}

/**
 * Marks a change set as freshly decoded and handed over to the store: nobody else holds its
 * objects, so applying may freeze them in place instead of copying them. Implies trusted: the
 * codec checked every field's type, and the leader validated the objects before proposing.
 */
export function markOwned(changes: object): void {
  if (!OwnMark.has(changes)) new OwnMark(changes)
  markTrusted(changes)
}

/** Whether the store owns the change set's objects (see {@link markOwned}). */
export function isOwned(changes: unknown): boolean {
  return typeof changes === 'object' && changes !== null && OwnMark.has(changes)
}

/**
 * Takes ownership of a freshly decoded object that replaces `cur`: every part equal to the same
 * part of `cur` is replaced by `cur`'s (already frozen) part, the rest is frozen in place, and the
 * meta is replaced. Sharing unchanged parts keeps memory flat across updates and keeps identity
 * for the index checks (`depsSame`), exactly as a recipe's draft on the leader does; equal
 * strings are the stored ones, whose hashes the index maps have already computed.
 */
export function adoptDecoded<T extends { readonly meta: unknown }>(obj: T, cur: T | undefined, meta: MetaFields): T {
  // A new top level (the change set keeps its object, meta included); the parts below are
  // frozen in place or replaced by equal parts of `cur`, which changes no value.
  const c = cur as unknown as Record<string, unknown> | undefined
  const out: Record<string, unknown> = { ...(obj as unknown as Record<string, unknown>) }
  for (const key of Object.keys(out)) if (key !== 'meta') out[key] = share(out[key], c?.[key])
  out['meta'] = frozenMeta(meta)
  return Object.freeze(out) as unknown as T
}

/** `n` frozen in place, with every part equal to the same part of `old` taken from `old`. */
function share(n: unknown, old: unknown): unknown {
  // An equal string: keep the stored one (its hash is already computed for the index maps).
  if (typeof n === 'string') return n === old ? old : n
  if (n === null || typeof n !== 'object') return n
  if (old !== undefined && sameTree(n, old)) return old
  if (ArrayBuffer.isView(n)) return n
  if (Array.isArray(n)) {
    const prev = Array.isArray(old) ? (old as unknown[]) : undefined
    for (let i = 0; i < n.length; i++) n[i] = share(n[i], prev?.[i])
  } else {
    const rec = n as Record<string, unknown>
    const prev = typeof old === 'object' && old !== null && !Array.isArray(old) && !ArrayBuffer.isView(old) ? (old as Record<string, unknown>) : undefined
    for (const key of Object.keys(rec)) rec[key] = share(rec[key], prev?.[key])
  }
  return Object.freeze(n)
}

/** Structural equality of two trees without `undefined` values (decoded and stored objects). */
function sameTree(a: unknown, b: unknown): boolean {
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

/**
 * `obj` with its meta replaced, frozen. `obj` must be deeply frozen already (objects the store
 * made), so only the top level and the meta are new; anything else goes through {@link ownFrozen}.
 */
export function withMeta<T extends { readonly meta: unknown }>(obj: T, meta: MetaFields, size?: number): T {
  const m = frozenMeta(meta, size)
  if (!Object.isFrozen(obj)) {
    // A caller's object: one copy of the top level (the meta in its place), parts made ours.
    const src = obj as unknown as Readonly<Record<string, unknown>>
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(src)) {
      const v = src[key]
      if (key === 'meta') out[key] = m
      else if (v !== undefined) out[key] = ownFrozen(v)
    }
    out['meta'] = m
    return Object.freeze(out) as unknown as T
  }
  const out = copyObject(obj)
  out['meta'] = m
  return Object.freeze(out) as unknown as T
}

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
