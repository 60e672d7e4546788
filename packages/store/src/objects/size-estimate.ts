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
