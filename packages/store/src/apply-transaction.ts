/**
 * Applying one transaction of a change set to the tables: every check again (existence, version,
 * unique name), in order, with an undo log so a failing action leaves no trace.
 *
 * @module
 */
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, SequenceConflictError, isId } from '@swarmkit-ts/api'
import type { ObjectKind, StoreEvent, StoreObject } from '@swarmkit-ts/api'
import { UNIQUE_NAME_KINDS, isObjectKind, nameOf, uniqueNameChanged } from './kinds.ts'
import { keptSize, versionAt } from './objects/meta.ts'
import type { ChangeSet, StoreAction, TransactionResult } from './proposer.ts'
import { adoptDecoded, withMeta } from './objects/stored-object.ts'
import type { Table } from './table.ts'
import { validateObject } from './objects/validate.ts'

type ApplyError = SequenceConflictError | AlreadyExistsError | NotFoundError

/** Checks the shape of a change set before anything is applied; throws `InvalidArgumentError`. */
export function checkChangeSet(changes: ChangeSet): void {
  if (typeof changes !== 'object' || changes === null || !Array.isArray(changes.transactions)) {
    throw new InvalidArgumentError('transactions', 'must be an array of transactions')
  }
  changes.transactions.forEach((tx, t) => {
    if (!Array.isArray(tx)) throw new InvalidArgumentError(`transactions.${t}`, 'must be an array of actions')
    tx.forEach((a: StoreAction, i) => {
      const f = `transactions.${t}.${i}`
      if (typeof a !== 'object' || (a as unknown) === null) throw new InvalidArgumentError(f, 'must be an action')
      if (!isObjectKind(a.kind)) throw new InvalidArgumentError(`${f}.kind`, `unknown kind ${JSON.stringify(a.kind)}`)
      switch (a.action) {
        case 'create':
        case 'update':
          try {
            validateObject(a.kind, a.object, false)
          } catch (err) {
            const field = err instanceof InvalidArgumentError ? err.field : ''
            throw new InvalidArgumentError(`${f}.object${field === '' ? '' : `.${field}`}`, err instanceof Error ? err.message : String(err))
          }
          {
            const meta = (a.object as { meta?: { createdAt?: unknown; updatedAt?: unknown } }).meta
            if (typeof meta?.createdAt !== 'number' || typeof meta.updatedAt !== 'number') {
              throw new InvalidArgumentError(`${f}.object.meta`, 'must carry createdAt and updatedAt')
            }
          }
          break
        case 'delete':
          if (!isId(a.id)) throw new InvalidArgumentError(`${f}.id`, 'must be an id')
          break
        default:
          throw new InvalidArgumentError(`${f}.action`, `unknown action ${JSON.stringify((a as { action?: unknown }).action)}`)
      }
      if (a.action !== 'create' && typeof a.expectedVersion !== 'bigint') throw new InvalidArgumentError(`${f}.expectedVersion`, 'must be a bigint')
    })
  })
}

function stamp(obj: StoreObject, index: bigint, owned: boolean, cur: StoreObject | undefined): StoreObject {
  const meta = { version: versionAt(index), createdAt: obj.meta.createdAt, updatedAt: obj.meta.updatedAt }
  // A local object carries its size estimate on (the next update of it starts from there).
  return owned ? adoptDecoded(obj, cur, meta) : withMeta(obj, meta, keptSize(obj))
}

function nameClash(table: Table, kind: ObjectKind, obj: StoreObject): AlreadyExistsError | undefined {
  if (!UNIQUE_NAME_KINDS.has(kind)) return undefined
  const name = nameOf(kind, obj)
  if (name === '') return undefined
  const ids = table.ids('name', name.toLowerCase())
  if (ids === undefined) return undefined
  for (const id of ids) if (id !== obj.id) return new AlreadyExistsError(kind, name, { message: `${kind} name ${JSON.stringify(name)} is already in use` })
  return undefined
}

function checkVersion(kind: ObjectKind, cur: StoreObject, expected: bigint, index: bigint): SequenceConflictError | undefined {
  const actual = cur.meta.version.index
  // 0 means "written earlier in this change set": the object then carries this change set's index.
  const ok = expected === 0n ? actual === index : actual === expected
  return ok ? undefined : new SequenceConflictError(kind, cur.id, { expected, actual })
}

/** A frozen create, update or delete event (`kind` is the kind of `object` and `oldObject`). */
export function objectEvent(action: 'create' | 'update' | 'delete', kind: ObjectKind, object: StoreObject, oldObject?: StoreObject): StoreEvent {
  const ev = action === 'update' ? { action, kind, object, oldObject } : { action, kind, object }
  return Object.freeze(ev) as StoreEvent
}

/**
 * Applies one transaction at `index` to `tables`. On success returns its events (without the
 * commit event); on failure undoes what it did and returns the error. `owned`: the actions'
 * objects belong to the store (a decoded change set) and are frozen in place rather than copied.
 */
export function applyTransaction(
  tables: ReadonlyMap<ObjectKind, Table>,
  actions: readonly StoreAction[],
  index: bigint,
  owned = false,
): { readonly ok: true; readonly events: StoreEvent[] } | { readonly ok: false; readonly error: ApplyError } {
  // A single action that fails has changed nothing: only longer transactions keep an undo log.
  const undo: (() => void)[] | undefined = actions.length > 1 ? [] : undefined
  const events: StoreEvent[] = []
  let error: ApplyError | undefined
  for (const a of actions) {
    const table = tables.get(a.kind) as Table
    const kind = a.kind
    if (a.action === 'create') {
      if (table.get(a.object.id) !== undefined) {
        error = new AlreadyExistsError(kind, a.object.id)
        break
      }
      const obj = stamp(a.object, index, owned, undefined)
      error = nameClash(table, kind, obj)
      if (error !== undefined) break
      table.put(obj, undefined)
      undo?.push(() => table.remove(obj))
      events.push(objectEvent('create', kind, obj))
      continue
    }
    const id = a.action === 'update' ? a.object.id : a.id
    const cur = table.get(id)
    if (cur === undefined) {
      error = new NotFoundError(kind, id)
      break
    }
    error = checkVersion(kind, cur, a.expectedVersion, index)
    if (error !== undefined) break
    if (a.action === 'update') {
      const obj = stamp(a.object, index, owned, cur)
      if (uniqueNameChanged(kind, obj, cur)) {
        error = nameClash(table, kind, obj)
        if (error !== undefined) break
      }
      table.put(obj, cur)
      undo?.push(() => table.put(cur, obj))
      events.push(objectEvent('update', kind, obj, cur))
    } else {
      table.remove(cur)
      undo?.push(() => table.put(cur, undefined))
      events.push(objectEvent('delete', kind, cur))
    }
  }
  if (error !== undefined) {
    if (undo !== undefined) for (let i = undo.length - 1; i >= 0; i--) (undo[i] as () => void)()
    return { ok: false, error }
  }
  return { ok: true, events }
}

/** The result of a transaction that applied. */
export const OK: TransactionResult = Object.freeze({ ok: true })
