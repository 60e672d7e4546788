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
}

/** A read-only transaction over `tables`, valid while `scope.open`. */
export function createView(tables: ReadonlyMap<ObjectKind, Table>, scope: ViewScope): ReadTx {
  const out: Record<string, ViewTable> = {}
  for (const kind of OBJECT_KINDS) {
    const t = tables.get(kind)
    if (t !== undefined) out[TABLE_NAMES[kind]] = new ViewTable(scope, t)
  }
  return out as unknown as ReadTx
}
