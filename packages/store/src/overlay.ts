/**
 * Writes that ran but are not applied yet. Group commit and `batch()` run transactions against
 * the applied state plus the writes of the transactions before them; those writes live here,
 * labelled with the proposal ("chunk") they travel in, until that proposal settles.
 *
 * A transaction that updates or deletes an object it read from here cannot know the version the
 * object will get (the log index of its proposal). It records the chunk instead; when the
 * proposal is built, a dependency on the same chunk becomes `expectedVersion = 0n` ("written
 * earlier in this change set", see `MemoryStore.applyChangeSet`) and one on an earlier chunk
 * becomes that chunk's applied version.
 *
 * @module
 */
import type { ObjectKind, StoreObject } from '@swarmkit-ts/api'

/** A write waiting in the overlay: the object (null when deleted) and the chunk that carries it. */
export interface OverlayEntry {
  readonly obj: StoreObject | null
  readonly chunk: number
}

/** Where an update or delete read its object, so its expected version can be filled in later. */
export type Dependency =
  /** Read from the applied state at this version. */
  | { readonly type: 'version'; readonly version: bigint }
  /** Written earlier in the same transaction. */
  | { readonly type: 'own' }
  /** Written by an earlier, not yet applied transaction travelling in chunk `chunk`. */
  | { readonly type: 'chunk'; readonly chunk: number }

/** One change recorded by a transaction, before its expected version is resolved. */
export type PendingAction =
  | { readonly action: 'create'; readonly kind: ObjectKind; readonly object: StoreObject }
  | { readonly action: 'update'; readonly kind: ObjectKind; readonly object: StoreObject; readonly dep: Dependency }
  | { readonly action: 'delete'; readonly kind: ObjectKind; readonly id: string; readonly dep: Dependency }

/**
 * The final writes of one transaction (null = deleted), in the order first written. Most
 * transactions write one or two objects: they are found by a scan, and a Map index is built only
 * once a transaction has written more than {@link TxWrites.SCAN_LIMIT} objects. (Two Maps per
 * transaction were a noticeable share of a single-object update's cost.)
 */
export class TxWrites {
  static readonly SCAN_LIMIT = 16
  readonly kinds: ObjectKind[] = []
  readonly ids: string[] = []
  readonly objs: (StoreObject | null)[] = []
  private index: Map<string, number> | undefined

  /** Number of objects written. */
  get size(): number {
    return this.ids.length
  }

  /** Whether an object of `kind` was written. */
  hasKind(kind: ObjectKind): boolean {
    return this.kinds.includes(kind)
  }

  /** Position of the write of this object, or -1. */
  indexOf(kind: ObjectKind, id: string): number {
    if (this.index !== undefined) return this.index.get(`${kind}/${id}`) ?? -1
    const ids = this.ids
    for (let i = 0; i < ids.length; i++) if (ids[i] === id && this.kinds[i] === kind) return i
    return -1
  }

  /** Records the final state of an object (null = deleted). */
  set(kind: ObjectKind, id: string, obj: StoreObject | null): void {
    const i = this.indexOf(kind, id)
    if (i >= 0) {
      this.objs[i] = obj
      return
    }
    this.kinds.push(kind)
    this.ids.push(id)
    this.objs.push(obj)
    if (this.index !== undefined) this.index.set(`${kind}/${id}`, this.ids.length - 1)
    else if (this.ids.length > TxWrites.SCAN_LIMIT) {
      this.index = new Map()
      for (let k = 0; k < this.ids.length; k++) this.index.set(`${this.kinds[k] as string}/${this.ids[k] as string}`, k)
    }
  }
}

/** Pending writes by kind and id. */
export class Overlay {
  private readonly kinds = new Map<ObjectKind, Map<string, OverlayEntry>>()
  private count = 0

  /** Whether nothing is pending. */
  get empty(): boolean {
    return this.count === 0
  }

  /** The pending write of this object, if any. */
  get(kind: ObjectKind, id: string): OverlayEntry | undefined {
    if (this.count === 0) return undefined
    return this.kinds.get(kind)?.get(id)
  }

  /** The pending writes of one kind (undefined when none). */
  entries(kind: ObjectKind): ReadonlyMap<string, OverlayEntry> | undefined {
    if (this.count === 0) return undefined
    const m = this.kinds.get(kind)
    return m === undefined || m.size === 0 ? undefined : m
  }

  /** Records the final writes of a transaction travelling in `chunk`. */
  add(writes: TxWrites, chunk: number): void {
    for (let i = 0; i < writes.size; i++) {
      const kind = writes.kinds[i] as ObjectKind
      const id = writes.ids[i] as string
      let m = this.kinds.get(kind)
      if (m === undefined) {
        m = new Map()
        this.kinds.set(kind, m)
      }
      if (!m.has(id)) this.count++
      m.set(id, { obj: writes.objs[i] as StoreObject | null, chunk })
    }
  }

  /** Drops the writes of `chunk` that no later chunk overwrote (the chunk settled). */
  settle(chunk: number, writes: TxWrites): void {
    for (let i = 0; i < writes.size; i++) {
      const m = this.kinds.get(writes.kinds[i] as ObjectKind)
      if (m === undefined) continue
      const id = writes.ids[i] as string
      if (m.get(id)?.chunk === chunk) {
        m.delete(id)
        this.count--
      }
    }
  }

  /** Drops everything. */
  clear(): void {
    this.kinds.clear()
    this.count = 0
  }
}
