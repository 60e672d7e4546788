/**
 * A write transaction: reads see the applied state, then pending writes of earlier transactions
 * (the overlay), then this transaction's own writes. Writes are checked against that view and
 * recorded as pending actions; nothing touches the tables until the change set is applied.
 *
 * @module
 */
import { AlreadyExistsError, FailedPreconditionError, InternalError, InvalidArgumentError, NotFoundError, SequenceConflictError, isId } from '@swarmkit-ts/api'
import type { ObjectKind, StoreObject } from '@swarmkit-ts/api'
import { produce } from './objects/draft.ts'
import { ownFrozen } from './objects/freeze.ts'
import { compileQuery, matchesQuery } from './indexes.ts'
import type { Query } from './indexes.ts'
import { UNIQUE_NAME_KINDS, nameOf, uniqueNameChanged } from './kinds.ts'
import { ZERO_VERSION, frozenMeta } from './objects/meta.ts'
import { TxWrites } from './overlay.ts'
import type { Dependency, Overlay, PendingAction } from './overlay.ts'
import { copyObject } from './objects/shape-copy.ts'
import { estimateBytes, sizeAfterChanges, sizeAfterUpdate } from './objects/size-estimate.ts'
import { withMeta } from './objects/stored-object.ts'
import type { Table } from './table.ts'
import type { Tx } from './transaction-types.ts'
import { validateObject } from './objects/validate.ts'

/** The dependency of a write on the transaction's own earlier write (one shared object). */
const OWN: Dependency = Object.freeze({ type: 'own' })

/** Bytes counted per action on top of its object (kind, action, id, version). */
export const ACTION_OVERHEAD_BYTES = 64

interface Located {
  readonly obj: StoreObject
  readonly dep: Dependency
}

/** A transaction in progress (and, once its callback returned, its recorded result). */
export class WriteTx {
  /** The actions recorded, in order. */
  readonly actions: PendingAction[] = []
  /** Final writes (null = deleted). */
  readonly writes = new TxWrites()
  /** Estimated encoded size of the actions. */
  bytes = 0
  /**
   * The chunks (not yet applied change sets) whose writes this transaction read or wrote over,
   * through the overlay; `undefined` when none. Such a transaction must not be proposed before
   * those chunks are applied: if one of them failed, what it read would never have existed.
   */
  chunkDeps: Set<number> | undefined
  /** The tables, as `tx.services`, `tx.tasks`, … */
  readonly tables: Tx
  private closed = false
  private readonly now: number
  private readonly state: ReadonlyMap<ObjectKind, Table>
  private readonly overlay: Overlay

  constructor(state: ReadonlyMap<ObjectKind, Table>, overlay: Overlay, now: number) {
    this.state = state
    this.overlay = overlay
    this.now = now
    this.tables = new TxTables(this) as unknown as Tx
  }

  /** Ends the transaction: later calls on its tables throw. */
  close(): void {
    this.closed = true
  }

  /** Throws when the transaction has ended. */
  checkOpen(): void {
    if (this.closed) throw new FailedPreconditionError('the transaction has ended; use the tx only inside its callback', { reason: 'tx-closed' })
  }

  private table(kind: ObjectKind): Table {
    const t = this.state.get(kind)
    if (t === undefined) throw new InternalError(`no table for ${kind}`)
    return t
  }

  /** The object as this transaction sees it, with where it came from. */
  locate(kind: ObjectKind, id: string): Located | undefined {
    const w = this.writes.indexOf(kind, id)
    if (w >= 0) {
      const o = this.writes.objs[w]
      return o === null || o === undefined ? undefined : { obj: o, dep: OWN }
    }
    const e = this.overlay.get(kind, id)
    if (e !== undefined) {
      this.dependOn(e.chunk)
      return e.obj === null ? undefined : { obj: e.obj, dep: { type: 'chunk', chunk: e.chunk } }
    }
    const o = this.table(kind).get(id)
    return o === undefined ? undefined : { obj: o, dep: { type: 'version', version: o.meta.version.index } }
  }

  /** The object as this transaction sees it ({@link locate} without the dependency). */
  lookup(kind: ObjectKind, id: string): StoreObject | undefined {
    const w = this.writes.indexOf(kind, id)
    if (w >= 0) return this.writes.objs[w] ?? undefined
    const e = this.overlay.get(kind, id)
    if (e !== undefined) {
      this.dependOn(e.chunk)
      return e.obj ?? undefined
    }
    return this.table(kind).get(id)
  }

  private dependOn(chunk: number): void {
    ;(this.chunkDeps ??= new Set()).add(chunk)
  }

  /** How many objects `find(kind, q)` returns: the applied table's count while nothing of `kind` is pending or written here. */
  count(kind: ObjectKind, q: Query): number {
    if (this.overlay.entries(kind) === undefined && !this.writes.hasKind(kind)) return this.table(kind).count(q)
    return this.find(kind, q).length
  }

  /** The objects matching `q` in this transaction's view. */
  find(kind: ObjectKind, q: Query): StoreObject[] {
    const base = this.table(kind).find(q)
    const pending = this.overlay.entries(kind)
    const writes = this.writes
    if (pending === undefined && writes.size === 0) return base
    const own = (id: string): boolean => writes.indexOf(kind, id) >= 0
    const out: StoreObject[] = []
    for (const o of base) {
      if (own(o.id)) continue
      // A pending write of an object the applied state matches decides whether it is in the result.
      const e = pending?.get(o.id)
      if (e === undefined) out.push(o)
      else this.dependOn(e.chunk)
    }
    if (pending !== undefined) {
      for (const [id, e] of pending) {
        if (e.obj === null || own(id) || !matchesQuery(kind, e.obj, q)) continue
        this.dependOn(e.chunk)
        out.push(e.obj)
      }
    }
    for (let i = 0; i < writes.size; i++) {
      const o = writes.objs[i]
      if (writes.kinds[i] === kind && o !== null && o !== undefined && matchesQuery(kind, o, q)) out.push(o)
    }
    return out
  }

  private checkName(kind: ObjectKind, obj: StoreObject): void {
    if (!UNIQUE_NAME_KINDS.has(kind)) return
    const name = nameOf(kind, obj)
    if (name === '') return
    for (const other of this.find(kind, { type: 'index', index: 'name', key: name.toLowerCase() })) {
      if (other.id !== obj.id) throw new AlreadyExistsError(kind, name, { message: `${kind} name ${JSON.stringify(name)} is already in use` })
    }
  }

  private record(action: PendingAction, kind: ObjectKind, id: string, obj: StoreObject | null, bytes: number): void {
    this.actions.push(action)
    this.bytes += ACTION_OVERHEAD_BYTES + bytes
    this.writes.set(kind, id, obj)
  }

  /** `tx.<table>.create`. */
  create(kind: ObjectKind, input: unknown): StoreObject {
    this.checkOpen()
    validateObject(kind, input, false)
    const id = (input as StoreObject).id
    if (this.locate(kind, id) !== undefined) throw new AlreadyExistsError(kind, id)
    const obj = ownFrozen({ ...(input as StoreObject), meta: { version: { index: 0n }, createdAt: this.now, updatedAt: this.now } })
    this.checkName(kind, obj)
    this.record({ action: 'create', kind, object: obj }, kind, id, obj, estimateBytes(obj))
    return obj
  }

  /** `tx.<table>.update`. */
  update(kind: ObjectKind, objOrId: unknown, recipe?: unknown): StoreObject {
    this.checkOpen()
    let obj: StoreObject
    let cur: Located | undefined
    let size: number
    if (typeof objOrId === 'string') {
      if (typeof recipe !== 'function') throw new InvalidArgumentError('recipe', 'must be a function when updating by id')
      cur = this.locate(kind, objOrId)
      if (cur === undefined) throw new NotFoundError(kind, objOrId)
      const { result: produced, returned, changed } = produce(cur.obj, recipe as (d: unknown) => unknown)
      if (returned !== undefined) throw new InvalidArgumentError('recipe', 'must change the draft and return nothing')
      validateObject(kind, produced, false, cur.obj as unknown as Readonly<Record<string, unknown>>)
      // A fresh, unfrozen top level over frozen parts (or the frozen base when nothing changed).
      const fresh = (produced === cur.obj ? copyObject(cur.obj as unknown as Record<string, unknown>) : produced) as { meta: unknown }
      size = sizeAfterChanges(fresh, cur.obj, changed)
      fresh.meta = frozenMeta({ version: ZERO_VERSION, createdAt: cur.obj.meta.createdAt, updatedAt: this.now }, size)
      obj = Object.freeze(fresh) as StoreObject
      if (obj.id !== objOrId) throw new InvalidArgumentError('id', 'a recipe must not change the id')
    } else {
      // The stored object first (when the id is one), so that validation can skip the parts the
      // caller's copy shares with it; a bad object still fails validation before anything else.
      const id = (objOrId as { id?: unknown } | null)?.id
      cur = typeof objOrId === 'object' && typeof id === 'string' && isId(id) ? this.locate(kind, id) : undefined
      validateObject(kind, objOrId, true, cur?.obj as Readonly<Record<string, unknown>> | undefined)
      const next = objOrId as StoreObject
      if (cur === undefined) throw new NotFoundError(kind, next.id)
      const expected = next.meta.version.index
      const actual = cur.obj.meta.version.index
      if (expected !== actual) throw new SequenceConflictError(kind, next.id, { expected, actual })
      size = sizeAfterUpdate(next, cur.obj)
      obj = withMeta(next, { version: ZERO_VERSION, createdAt: cur.obj.meta.createdAt, updatedAt: this.now }, size)
    }
    if (uniqueNameChanged(kind, obj, cur.obj)) this.checkName(kind, obj)
    this.record({ action: 'update', kind, object: obj, dep: cur.dep }, kind, obj.id, obj, size)
    return obj
  }

  /** `tx.<table>.delete`. */
  delete(kind: ObjectKind, id: unknown): void {
    this.checkOpen()
    if (typeof id !== 'string') throw new InvalidArgumentError('id', 'must be a string')
    const cur = this.locate(kind, id)
    if (cur === undefined) throw new NotFoundError(kind, id)
    this.record({ action: 'delete', kind, id, dep: cur.dep }, kind, id, null, 0)
  }
}

class TxTable {
  private readonly tx: WriteTx
  private readonly kind: ObjectKind
  constructor(tx: WriteTx, kind: ObjectKind) {
    this.tx = tx
    this.kind = kind
  }
  get(id: string): StoreObject | undefined {
    this.tx.checkOpen()
    return this.tx.lookup(this.kind, id)
  }
  find(by?: unknown): StoreObject[] {
    this.tx.checkOpen()
    return this.tx.find(this.kind, compileQuery(this.kind, by))
  }
  count(by?: unknown): number {
    this.tx.checkOpen()
    return this.tx.count(this.kind, compileQuery(this.kind, by))
  }
  create(obj: unknown): StoreObject {
    return this.tx.create(this.kind, obj)
  }
  update(objOrId: unknown, recipe?: unknown): StoreObject {
    return this.tx.update(this.kind, objOrId, recipe)
  }
  delete(id: unknown): void {
    this.tx.delete(this.kind, id)
  }
}

/** The tables of a transaction, made on first use (most transactions touch one or two). */
class TxTables {
  private readonly tx: WriteTx
  private n: TxTable | undefined
  private s: TxTable | undefined
  private t: TxTable | undefined
  private other: Map<ObjectKind, TxTable> | undefined
  constructor(tx: WriteTx) {
    this.tx = tx
  }
  private make(kind: ObjectKind): TxTable {
    this.other ??= new Map()
    let t = this.other.get(kind)
    if (t === undefined) {
      t = new TxTable(this.tx, kind)
      this.other.set(kind, t)
    }
    return t
  }
  get nodes(): TxTable {
    return (this.n ??= new TxTable(this.tx, 'node'))
  }
  get services(): TxTable {
    return (this.s ??= new TxTable(this.tx, 'service'))
  }
  get tasks(): TxTable {
    return (this.t ??= new TxTable(this.tx, 'task'))
  }
  get networks(): TxTable {
    return this.make('network')
  }
  get clusters(): TxTable {
    return this.make('cluster')
  }
  get secrets(): TxTable {
    return this.make('secret')
  }
  get configs(): TxTable {
    return this.make('config')
  }
  get extensions(): TxTable {
    return this.make('extension')
  }
  get resources(): TxTable {
    return this.make('resource')
  }
}
