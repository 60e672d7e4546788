/**
 * The stored form of an object: frozen, with the meta the store gives it — from a caller's or a
 * draft's object (copied), or from a freshly decoded one (frozen in place, sharing unchanged
 * parts with the object it replaces).
 *
 * @module
 */
import { sameTree } from './equality.ts'
import { ownFrozen } from './freeze.ts'
import { frozenMeta } from './meta.ts'
import type { MetaFields } from './meta.ts'
import { copyObject } from './shape-copy.ts'

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
 * Takes ownership of a freshly decoded object that replaces `cur`: every part equal to the same
 * part of `cur` is replaced by `cur`'s (already frozen) part, the rest is frozen in place, and the
 * meta is replaced. Sharing unchanged parts keeps memory flat across updates and keeps identity
 * for the index checks (`depsSame`), exactly as a recipe's draft on the leader does; equal
 * strings are the stored ones, whose hashes the index maps have already computed.
 */
export function adoptDecoded<T extends { readonly meta: unknown }>(obj: T, cur: T | undefined, meta: MetaFields): T {
  // Frozen in place, top level included: the decoded change set is the store's alone (nothing
  // else holds its objects), so no copy of the top level and no key list. The parts below are
  // frozen in place or replaced by equal parts of `cur`, which changes no value. for…in sees
  // exactly the own keys (decoded objects are plain, without enumerable inherited keys).
  const c = cur as unknown as Record<string, unknown> | undefined
  const out = obj as unknown as Record<string, unknown>
  for (const key in out) if (key !== 'meta') out[key] = share(out[key], c?.[key])
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
    for (const key in rec) rec[key] = share(rec[key], prev?.[key])
  }
  return Object.freeze(n)
}
