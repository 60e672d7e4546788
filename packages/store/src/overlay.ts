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
  add(writes: ReadonlyMap<ObjectKind, ReadonlyMap<string, StoreObject | null>>, chunk: number): void {
    for (const [kind, objs] of writes) {
      let m = this.kinds.get(kind)
      if (m === undefined) {
        m = new Map()
        this.kinds.set(kind, m)
      }
      for (const [id, obj] of objs) {
        if (!m.has(id)) this.count++
        m.set(id, { obj, chunk })
      }
    }
  }

  /** Drops the writes of `chunk` that no later chunk overwrote (the chunk settled). */
  settle(chunk: number, writes: ReadonlyMap<ObjectKind, ReadonlyMap<string, unknown>>): void {
    for (const [kind, ids] of writes) {
      const m = this.kinds.get(kind)
      if (m === undefined) continue
      for (const id of ids.keys()) {
        if (m.get(id)?.chunk === chunk) {
          m.delete(id)
          this.count--
        }
      }
    }
  }

  /** Drops everything. */
  clear(): void {
    this.kinds.clear()
    this.count = 0
  }
}
