/**
 * The table interfaces a view or a transaction sees.
 *
 * @module
 */
import type { Meta, ObjectKind, ObjectKinds } from '@swarmkit-ts/api'
import type { Draft } from './objects/draft.ts'
import type { Frozen } from './objects/freeze.ts'
import type { FindBy } from './indexes.ts'
import type { TABLE_NAMES } from './kinds.ts'

/** An object to create: `meta` may be left out (the store sets it). Mutable and frozen objects are both accepted. */
export type NewObject<K extends ObjectKind> = Frozen<Omit<ObjectKinds[K], 'meta'>> & { readonly meta?: Frozen<Meta> }

/** An object of kind `K` as the store hands it out: deeply frozen, so typed deeply readonly. */
export type StoredObject<K extends ObjectKind> = Frozen<ObjectKinds[K]>

/** An update recipe (immer-style): mutate the draft (a copy-on-write view of the current object); the result is the new object. */
export type Recipe<K extends ObjectKind> = (draft: Draft<ObjectKinds[K]>) => void

/** Reads of one table. Every object returned is deeply frozen (and typed {@link Frozen}). */
export interface TableReader<K extends ObjectKind> {
  /** The object with this id, or undefined. */
  get(id: string): StoredObject<K> | undefined
  /**
   * The objects matching `by` (the whole table when omitted), in no particular order. Exactly
   * one selector (see {@link FindBy}; a combination is a compile-time error, and an
   * `InvalidArgumentError` on `by` for JavaScript callers). Index selectors cost O(result);
   * `idPrefix` and `namePrefix` scan the table, `customPrefix` the custom index's keys.
   */
  find(by?: FindBy<K>): StoredObject<K>[]
  /**
   * How many objects `find(by)` would return, without making the array: O(1) for the whole
   * table and for an index selector in a view (and in a transaction that has not written this
   * kind); otherwise the cost of `find(by)`. Errors as `find`.
   */
  count(by?: FindBy<K>): number
}

/** Reads and writes of one table inside `update()` or `batch()`. Writes are seen by later reads of the same transaction. */
export interface TableWriter<K extends ObjectKind> extends TableReader<K> {
  /**
   * Creates an object. Throws `AlreadyExistsError` (context: kind, key = the id or the name) when
   * the id exists or the name is taken in a table with unique names, `InvalidArgumentError` on a
   * bad shape. `meta.createdAt/updatedAt` are set from the store's clock; `meta.version.index`
   * reads 0 until the change is applied. Returns the object as it will be stored.
   */
  create(obj: NewObject<K>): StoredObject<K>
  /**
   * Replaces an object with `obj`, whose `meta.version` must be the stored one
   * (`SequenceConflictError` otherwise); or applies a recipe to a draft of the current object (see `Draft`).
   * `NotFoundError` when missing, `AlreadyExistsError` on a name clash. Returns the new object.
   */
  update(obj: StoredObject<K>): StoredObject<K>
  update(id: string, recipe: Recipe<K>): StoredObject<K>
  /** Deletes an object; `NotFoundError` when missing. */
  delete(id: string): void
}

/** A consistent read-only view of every table (`view()`). */
export type ReadTx = { readonly [K in ObjectKind as (typeof TABLE_NAMES)[K]]: TableReader<K> }

/** A transaction over every table (`update()` / `batch()`). */
export type Tx = { readonly [K in ObjectKind as (typeof TABLE_NAMES)[K]]: TableWriter<K> }
