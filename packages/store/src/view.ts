/**
 * Read-only views of the applied state (`view()`, `viewAndWatch()`).
 *
 * @module
 */
import { FailedPreconditionError, OBJECT_KINDS } from '@swarmkit-ts/api'
import type { ObjectKind, StoreObject } from '@swarmkit-ts/api'
import { compileQuery } from './indexes.ts'
import { TABLE_NAMES } from './kinds.ts'
import type { Table } from './table.ts'
import type { ReadTx } from './transaction-types.ts'

/** A view's state: open while its callback runs. */
export class ViewScope {
  open = true
  check(): void {
    if (!this.open) throw new FailedPreconditionError('the view has ended; use it only inside its callback', { reason: 'tx-closed' })
  }
}

class ViewTable {
  private readonly scope: ViewScope
  private readonly table: Table
  constructor(scope: ViewScope, table: Table) {
    this.scope = scope
    this.table = table
  }
  get(id: string): StoreObject | undefined {
    this.scope.check()
    return this.table.get(id)
  }
  find(by?: unknown): StoreObject[] {
    this.scope.check()
    return this.table.find(compileQuery(this.table.kind, by))
  }
  count(by?: unknown): number {
    this.scope.check()
    return this.table.count(compileQuery(this.table.kind, by))
  }
}

/**
 * A read-only transaction: each table's view is made when the callback first reads the table
 * (most views read one or two of the nine), through getters on the prototype.
 */
class LazyView {
  readonly tables: ReadonlyMap<ObjectKind, Table>
  readonly scope: ViewScope
  readonly made: Partial<Record<string, ViewTable>> = {}
  constructor(tables: ReadonlyMap<ObjectKind, Table>, scope: ViewScope) {
    this.tables = tables
    this.scope = scope
  }
}
for (const kind of OBJECT_KINDS) {
  const name = TABLE_NAMES[kind]
  Object.defineProperty(LazyView.prototype, name, {
    enumerable: true,
    get(this: LazyView): ViewTable | undefined {
      const made = this.made[name]
      if (made !== undefined) return made
      const t = this.tables.get(kind)
      return t === undefined ? undefined : (this.made[name] = new ViewTable(this.scope, t))
    },
  })
}

/** A read-only transaction over `tables`, valid while `scope.open`. */
export function createView(tables: ReadonlyMap<ObjectKind, Table>, scope: ViewScope): ReadTx {
  return new LazyView(tables, scope) as unknown as ReadTx
}
