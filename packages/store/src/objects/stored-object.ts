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
 * Top-level keys whose new value is, in the common case, another key's current value: a service
 * update makes the old `spec` the new `previousSpec` (and `specVersion` the `previousSpecVersion`),
 * so a decoded `previousSpec` is tried against the stored `spec` first. Only a whole-tree match is
 * taken from there; otherwise the key's own stored value is the base to share with, as for any key.
 */
const ALIASES: Readonly<Record<string, string>> = { previousSpec: 'spec', previousSpecVersion: 'specVersion' }

/**
 * Takes ownership of a freshly decoded object that replaces `cur`: every part equal to the same
 * part of `cur` is replaced by `cur`'s (already frozen) part, the rest is frozen in place, and the
 * meta is replaced. Sharing unchanged parts keeps memory flat across updates and keeps identity
 * for the index checks (`depsSame`), exactly as a recipe's draft on the leader does; equal
 * strings are the stored ones, whose hashes the index maps have already computed. A
 * `previousSpec` (`previousSpecVersion`) equal to `cur`'s `spec` (`specVersion`) is that very
 * part of `cur`, as on the leader, where the update moved it there.
 */
export function adoptDecoded<T extends { readonly meta: unknown }>(obj: T, cur: T | undefined, meta: MetaFields): T {
  // Frozen in place, top level included: the decoded change set is the store's alone (nothing
  // else holds its objects), so no copy of the top level and no key list. The parts below are
  // frozen in place or replaced by equal parts of `cur`, which changes no value. for…in sees
  // exactly the own keys (decoded objects are plain, without enumerable inherited keys).
  const c = cur as unknown as Record<string, unknown> | undefined
  const out = obj as unknown as Record<string, unknown>
  for (const key in out) {
    if (key === 'meta') continue
    const v = out[key]
    const alias = c === undefined ? undefined : ALIASES[key]
    const other = alias === undefined ? undefined : c?.[alias]
    out[key] = other !== undefined && sameTree(v, other) ? other : share(v, c?.[key])
  }
  out['meta'] = frozenMeta(meta)
  return Object.freeze(out) as unknown as T
}

/**
 * `n` frozen in place, with every part equal to the same part of `old` taken from `old`; `old`
 * itself when the whole of `n` equals it. One pass, bottom up: a node equals `old`'s when each
 * of its members came back as `old`'s member and the key sets match (so no subtree is compared
 * twice). Conservative where it cannot tell cheaply (an `undefined` member, NaN): the node is then
 * kept as a frozen equal copy, which changes no value.
 */
function share(n: unknown, old: unknown): unknown {
  // An equal string: keep the stored one (its hash is already computed for the index maps).
  if (typeof n === 'string') return n === old ? old : n
  if (n === null || typeof n !== 'object') return n
  if (ArrayBuffer.isView(n)) return old !== undefined && sameTree(n, old) ? old : n
  if (Array.isArray(n)) {
    const prev = Array.isArray(old) ? (old as unknown[]) : undefined
    let same = prev !== undefined && prev.length === n.length
    for (let i = 0; i < n.length; i++) {
      const p = prev?.[i]
      const r = share(n[i], p)
      n[i] = r
      if (r !== p || p === undefined) same = false
    }
    return same ? prev : Object.freeze(n)
  }
  const rec = n as Record<string, unknown>
  const prev = typeof old === 'object' && old !== null && !Array.isArray(old) && !ArrayBuffer.isView(old) ? (old as Record<string, unknown>) : undefined
  let same = prev !== undefined
  let count = 0
  for (const key in rec) {
    const p = prev?.[key]
    const r = share(rec[key], p)
    rec[key] = r
    if (r !== p || p === undefined) same = false
    count++
  }
  if (same) {
    for (const _ in prev) count--
    if (count === 0) return prev
  }
  return Object.freeze(n)
}
