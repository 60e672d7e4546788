/**
 * A conservative estimate of an object's encoded size, and how an update changes it without
 * walking the parts it shares with the stored object.
 *
 * @module
 */
import { keptSize } from './meta.ts'

/**
 * An upper bound on the protobuf size of a value: every string and byte array counted in full
 * (UTF-8), with generous per-field overhead for tags, lengths and numbers.
 */
export function estimateBytes(value: unknown): number {
  // Objects first (most of a tree's nodes), arrays by index (for…of on an array goes through its
  // iterator), byte arrays told apart by ArrayBuffer.isView rather than a prototype walk per node.
  if (typeof value === 'object') {
    if (value === null) return 0
    let n = 6
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) n += estimateBytes(value[i])
      return n
    }
    if (ArrayBuffer.isView(value) && value instanceof Uint8Array) return 6 + value.length
    for (const key in value) n += 4 + key.length + estimateBytes((value as Record<string, unknown>)[key])
    return n
  }
  switch (typeof value) {
    case 'string':
      return 4 + (value.length < 128 ? value.length * 3 : Buffer.byteLength(value, 'utf8'))
    case 'number':
    case 'bigint':
      return 12
    case 'boolean':
      return 3
    default:
      return 0
  }
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
  const memo: Memo = { parts: [], sizes: [] }
  for (let i = 0; i < changed.length; i++) {
    const k = changed[i]
    // Symbol keys are not counted by estimateBytes; `meta` is the store's.
    if (typeof k !== 'string' || k === 'meta' || changed.indexOf(k) < i) continue
    n += fieldDelta(a, b, k, memo)
  }
  return n
}

/**
 * The estimates of the parts one size computation has walked, by identity: a part that moved to
 * another key (a service update's old `spec` becomes its `previousSpec`) is walked once.
 */
interface Memo {
  readonly parts: object[]
  readonly sizes: number[]
}

/** {@link estimateBytes} of `v`, through `memo` for objects. */
function estimateOnce(v: unknown, memo: Memo | undefined): number {
  if (memo === undefined || typeof v !== 'object' || v === null) return estimateBytes(v)
  const i = memo.parts.indexOf(v)
  if (i >= 0) return memo.sizes[i] as number
  const size = estimateBytes(v)
  memo.parts.push(v)
  memo.sizes.push(size)
  return size
}

/** What field `k` adds to {@link estimateBytes} of `a` over that of `b` (either may lack it). */
function fieldDelta(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>, k: string, memo?: Memo): number {
  let d = 0
  if (Object.hasOwn(b, k)) d -= 4 + k.length + estimateOnce(b[k], memo)
  if (Object.hasOwn(a, k)) d += 4 + k.length + estimateOnce(a[k], memo)
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
  const memo: Memo = { parts: [], sizes: [] }
  for (const k in a) if (k !== 'meta' && a[k] !== b[k]) n += fieldDelta(a, b, k, memo)
  // Fields `next` dropped (Object.hasOwn only for an undefined value).
  for (const k in b) if (k !== 'meta' && a[k] === undefined && !Object.hasOwn(a, k)) n += fieldDelta(a, b, k, memo)
  return n
}
