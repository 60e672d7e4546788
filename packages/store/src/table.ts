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
/** Ids under one index key: a single id (most keys are near-unique) or a set. */
type Ids = string | Set<string>
type IndexMap = Map<string, Ids>

function addKey(map: IndexMap, key: string, id: string): void {
  const cur = map.get(key)
  if (cur === undefined) map.set(key, id)
  else if (typeof cur === 'string') {
    if (cur !== id) map.set(key, new Set([cur, id]))
  } else cur.add(id)
}

function removeKey(map: IndexMap, key: string, id: string): void {
  const cur = map.get(key)
  if (cur === undefined) return
  if (typeof cur === 'string') {
    if (cur === id) map.delete(key)
    return
  }
  cur.delete(id)
  if (cur.size === 1) map.set(key, cur.values().next().value as string)
  else if (cur.size === 0) map.delete(key)
}

function sameKeys(a: Keys, b: Keys): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined || typeof a === 'string' || typeof b === 'string') return false
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

interface Index {
  readonly name: string
  readonly keys: (o: StoreObject) => Keys
  readonly deps: readonly string[]
  readonly map: IndexMap
  /** Whether `map` is kept up to date (always, unless the table's indexes are lazy and nothing has looked this one up yet). */
  built: boolean
}

function addAll(map: IndexMap, keys: Keys, id: string): void {
  if (typeof keys === 'string') addKey(map, keys, id)
  else if (keys !== undefined) for (const k of keys) addKey(map, k, id)
}

function removeAll(map: IndexMap, keys: Keys, id: string): void {
  if (typeof keys === 'string') removeKey(map, keys, id)
  else if (keys !== undefined) for (const k of keys) removeKey(map, k, id)
}

function depsSame(deps: readonly string[], a: StoreObject, b: StoreObject): boolean {
  const x = a as unknown as Record<string, unknown>
  const y = b as unknown as Record<string, unknown>
  for (const d of deps) if (x[d] !== y[d]) return false
  return true
}

/** The objects of one kind with their indexes. */
export class Table {
  /** The object kind of this table. */
  readonly kind: ObjectKind
  /** Objects by id. Read-only for everyone but the store's apply path. */
  readonly objects = new Map<string, StoreObject>()
  private readonly indexes: readonly Index[]
  private readonly byName = new Map<string, Index>()

  /**
   * @param lazy - each index is built (from a scan of the objects) when it is first looked up,
   *   and kept up to date from then on; until then writes cost nothing for it. A store that is
   *   never queried (a follower's) keeps no index but the ones its apply path uses. An index
   *   built over existing objects lists ids in the objects' order, not in the order they took
   *   their keys: `find` promises no order.
   */
  constructor(kind: ObjectKind, lazy = false) {
    this.kind = kind
    this.indexes = Object.entries(INDEXES[kind]).map(([name, def]) => {
      const ix: Index = { name, keys: def.keys, deps: def.deps, map: new Map(), built: !lazy }
      this.byName.set(name, ix)
      return ix
    })
  }

  /** The map of index `name`, built first if it is not yet (lazy indexes); undefined for an unknown index. */
  private map(name: string): IndexMap | undefined {
    const ix = this.byName.get(name)
    if (ix === undefined) return undefined
    if (!ix.built) {
      for (const o of this.objects.values()) addAll(ix.map, ix.keys(o), o.id)
      ix.built = true
    }
    return ix.map
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
    for (const ix of this.indexes) {
      if (!ix.built || (old !== undefined && depsSame(ix.deps, old, obj))) continue
      const next = ix.keys(obj)
      if (old !== undefined) {
        const prev = ix.keys(old)
        if (sameKeys(prev, next)) continue
        removeAll(ix.map, prev, id)
      }
      addAll(ix.map, next, id)
    }
  }

  /** Removes `old` (the object currently stored under its id). */
  remove(old: StoreObject): void {
    const id = old.id
    this.objects.delete(id)
    for (const ix of this.indexes) if (ix.built) removeAll(ix.map, ix.keys(old), id)
  }

  /** Ids whose index `index` has `key`. */
  ids(index: string, key: string): Iterable<string> | undefined {
    const cur = this.map(index)?.get(key)
    return typeof cur === 'string' ? [cur] : cur
  }

  /** The objects matching a compiled query (index lookups cost O(result); prefixes scan the table). */
  find(q: Query): StoreObject[] {
    switch (q.type) {
      case 'all':
        return [...this.objects.values()]
      case 'index': {
        const ids = this.map(q.index)?.get(q.key)
        if (ids === undefined) return []
        if (typeof ids === 'string') {
          const o = this.objects.get(ids)
          return o === undefined ? [] : [o]
        }
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
      case 'indexPrefix': {
        // A walk over the index's keys (not the objects); an object under several matching keys is listed once.
        const seen = new Set<string>()
        const out: StoreObject[] = []
        for (const [key, ids] of this.map(q.index) ?? []) {
          if (!key.startsWith(q.prefix)) continue
          for (const id of typeof ids === 'string' ? [ids] : ids) {
            const o = seen.has(id) ? undefined : this.objects.get(id)
            seen.add(id)
            if (o !== undefined) out.push(o)
          }
        }
        return out
      }
    }
  }

  /** How many objects {@link find} returns for `q`: O(1) for the whole table and for an index key. */
  count(q: Query): number {
    switch (q.type) {
      case 'all':
        return this.objects.size
      case 'index': {
        const ids = this.map(q.index)?.get(q.key)
        return ids === undefined ? 0 : typeof ids === 'string' ? 1 : ids.size
      }
      default:
        return this.find(q).length
    }
  }

  /** Whether index `name` is built (always, unless the table's indexes are lazy). */
  isBuilt(name: string): boolean {
    return this.byName.get(name)?.built === true
  }

  /** Recomputes every built index from the objects; returns one line per difference. */
  verify(): string[] {
    const fresh = new Table(this.kind)
    for (const o of this.objects.values()) fresh.put(o, undefined)
    const out: string[] = []
    const asSet = (v: Ids | undefined): ReadonlySet<string> => (v === undefined ? new Set() : typeof v === 'string' ? new Set([v]) : v)
    for (const ix of this.indexes) {
      if (!ix.built) continue
      const want = fresh.byName.get(ix.name)?.map ?? new Map<string, Ids>()
      for (const [key, ids] of want) {
        const got = asSet(ix.map.get(key))
        for (const id of asSet(ids)) if (!got.has(id)) out.push(`${this.kind}.${ix.name}[${JSON.stringify(key)}] misses ${id}`)
      }
      for (const [key, ids] of ix.map) {
        if (typeof ids !== 'string' && ids.size < 2) out.push(`${this.kind}.${ix.name}[${JSON.stringify(key)}] is a set of ${ids.size}`)
        const exp = asSet(want.get(key))
        for (const id of asSet(ids)) if (!exp.has(id)) out.push(`${this.kind}.${ix.name}[${JSON.stringify(key)}] has stray ${id}`)
      }
    }
    return out
  }
}
