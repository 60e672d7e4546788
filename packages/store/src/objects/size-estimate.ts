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
  const delta = new Delta()
  for (let i = 0; i < changed.length; i++) {
    const k = changed[i]
    // Symbol keys are not counted by estimateBytes; `meta` is the store's.
    if (typeof k !== 'string' || k === 'meta' || changed.indexOf(k) < i) continue
    delta.field(a, b, k)
  }
  return baseSize(prev) + delta.total()
}

/**
 * The difference the changed top-level fields make to {@link estimateBytes}, with every part
 * counted by identity before any is walked: a part removed under one key and added under another
 * (a service update's old `spec` becomes its `previousSpec`) cancels out and is not walked at
 * all, and a part counted twice is walked once.
 */
class Delta {
  #bytes = 0
  readonly #parts: object[] = []
  readonly #counts: number[] = []

  /** Counts field `k` of `a` in and field `k` of `b` out (either may lack it). */
  field(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>, k: string): void {
    if (Object.hasOwn(b, k)) this.#add(b[k], -1, k)
    if (Object.hasOwn(a, k)) this.#add(a[k], 1, k)
  }

  #add(v: unknown, sign: number, k: string): void {
    this.#bytes += sign * (4 + k.length)
    if (typeof v !== 'object' || v === null) {
      this.#bytes += sign * estimateBytes(v)
      return
    }
    const i = this.#parts.indexOf(v)
    if (i < 0) {
      this.#parts.push(v)
      this.#counts.push(sign)
    } else this.#counts[i] = (this.#counts[i] as number) + sign
  }

  /** The difference in bytes (walks the parts whose counts did not cancel out). */
  total(): number {
    let n = this.#bytes
    for (let i = 0; i < this.#parts.length; i++) {
      const c = this.#counts[i] as number
      if (c !== 0) n += c * estimateBytes(this.#parts[i])
    }
    return n
  }
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
  const delta = new Delta()
  for (const k in a) if (k !== 'meta' && a[k] !== b[k]) delta.field(a, b, k)
  // Fields `next` dropped (Object.hasOwn only for an undefined value).
  for (const k in b) if (k !== 'meta' && a[k] === undefined && !Object.hasOwn(a, k)) delta.field(a, b, k)
  return baseSize(prev) + delta.total()
}
