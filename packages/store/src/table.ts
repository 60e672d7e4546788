/**
 * One table: objects by id plus its secondary indexes (Map of key → Set of ids). Mutated only by
 * the store's apply path; readers get frozen objects.
 *
 * @module
 */
import { ID_LENGTH } from '@swarmkit-ts/api'
import type { ObjectKind, StoreObject } from '@swarmkit-ts/api'
import { INDEXES, matchesQuery } from './indexes.ts'
import type { Query } from './indexes.ts'

type Keys = string | readonly string[] | undefined

function addKey(map: Map<string, Set<string>>, key: string, id: string): void {
  const set = map.get(key)
  if (set === undefined) map.set(key, new Set([id]))
  else set.add(id)
}

function removeKey(map: Map<string, Set<string>>, key: string, id: string): void {
  const set = map.get(key)
  if (set === undefined) return
  set.delete(id)
  if (set.size === 0) map.delete(key)
}

function sameKeys(a: Keys, b: Keys): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined || typeof a === 'string' || typeof b === 'string') return false
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** The objects of one kind with their indexes. */
export class Table {
  /** The object kind of this table. */
  readonly kind: ObjectKind
  /** Objects by id. Read-only for everyone but the store's apply path. */
  readonly objects = new Map<string, StoreObject>()
  private readonly fns: readonly (readonly [name: string, fn: (o: StoreObject) => Keys, map: Map<string, Set<string>>])[]
  private readonly byName = new Map<string, Map<string, Set<string>>>()

  constructor(kind: ObjectKind) {
    this.kind = kind
    this.fns = Object.entries(INDEXES[kind]).map(([name, fn]) => {
      const map = new Map<string, Set<string>>()
      this.byName.set(name, map)
      return [name, fn, map] as const
    })
  }

  /** Number of objects. */
  get size(): number {
    return this.objects.size
  }

  /** The object with this id. */
  get(id: string): StoreObject | undefined {
    return this.objects.get(id)
  }

  /** Stores `obj`, replacing `old` (the object currently stored under the same id, if any). */
  put(obj: StoreObject, old: StoreObject | undefined): void {
    const id = obj.id
    this.objects.set(id, obj)
    for (const [, fn, map] of this.fns) {
      const next = fn(obj)
      if (old !== undefined) {
        const prev = fn(old)
        if (sameKeys(prev, next)) continue
        if (typeof prev === 'string') removeKey(map, prev, id)
        else if (prev !== undefined) for (const k of prev) removeKey(map, k, id)
      }
      if (typeof next === 'string') addKey(map, next, id)
      else if (next !== undefined) for (const k of next) addKey(map, k, id)
    }
  }

  /** Removes `old` (the object currently stored under its id). */
  remove(old: StoreObject): void {
    const id = old.id
    this.objects.delete(id)
    for (const [, fn, map] of this.fns) {
      const prev = fn(old)
      if (typeof prev === 'string') removeKey(map, prev, id)
      else if (prev !== undefined) for (const k of prev) removeKey(map, k, id)
    }
  }

  /** Ids whose index `index` has `key` (live set: do not mutate, copy before mutating the table). */
  ids(index: string, key: string): ReadonlySet<string> | undefined {
    return this.byName.get(index)?.get(key)
  }

  /** The objects matching a compiled query (index lookups cost O(result); prefixes scan the table). */
  find(q: Query): StoreObject[] {
    switch (q.type) {
      case 'all':
        return [...this.objects.values()]
      case 'index': {
        const ids = this.ids(q.index, q.key)
        if (ids === undefined) return []
        const out: StoreObject[] = []
        for (const id of ids) {
          const o = this.objects.get(id)
          if (o !== undefined) out.push(o)
        }
        return out
      }
      case 'idPrefix': {
        if (q.prefix.length === ID_LENGTH) {
          const o = this.objects.get(q.prefix)
          return o === undefined ? [] : [o]
        }
        const out: StoreObject[] = []
        for (const o of this.objects.values()) if (o.id.startsWith(q.prefix)) out.push(o)
        return out
      }
      case 'namePrefix': {
        const out: StoreObject[] = []
        for (const o of this.objects.values()) if (matchesQuery(this.kind, o, q)) out.push(o)
        return out
      }
    }
  }

  /** Recomputes every index from the objects; returns one line per difference. */
  verify(): string[] {
    const fresh = new Table(this.kind)
    for (const o of this.objects.values()) fresh.put(o, undefined)
    const out: string[] = []
    for (const [name] of this.fns) {
      const mine = this.byName.get(name) ?? new Map<string, Set<string>>()
      const want = fresh.byName.get(name) ?? new Map<string, Set<string>>()
      for (const [key, ids] of want) {
        const got = mine.get(key)
        for (const id of ids) if (got?.has(id) !== true) out.push(`${this.kind}.${name}[${JSON.stringify(key)}] misses ${id}`)
      }
      for (const [key, ids] of mine) {
        if (ids.size === 0) out.push(`${this.kind}.${name}[${JSON.stringify(key)}] is an empty set`)
        const exp = want.get(key)
        for (const id of ids) if (exp?.has(id) !== true) out.push(`${this.kind}.${name}[${JSON.stringify(key)}] has stray ${id}`)
      }
    }
    return out
  }
}
