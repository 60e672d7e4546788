/**
 * How every listing prints (`ls`, `ps`): ids with `--quiet`, the objects as a JSON array with
 * `--format json`, a Go template per object (or a `table` template with a header) with any other
 * `--format`, else Docker's table. A template sees the object as `--format json` prints it plus
 * the table's cells under Docker's field names (`{{.Name}}`, `{{.Replicas}}`, `{{.CurrentState}}`).
 *
 * @module
 */
import type { CommandContext } from '../context.ts'
import { formatJson } from './json.ts'
import { formatTable } from './table.ts'
import { templateData } from './template-eval.ts'

/** Docker's field names of headers whose name is not simply the words joined (`MANAGER STATUS` → `ManagerStatus`). */
const FIELD_OF_HEAD: Readonly<Record<string, string>> = { ID: 'ID', 'NETWORK ID': 'ID', CREATED: 'CreatedAt', UPDATED: 'UpdatedAt' }

/** The template field name of a column header, as Docker names it (`DESIRED STATE` → `DesiredState`). */
export function fieldOfHead(head: string): string {
  return FIELD_OF_HEAD[head] ?? head.split(' ').map((w) => `${w.slice(0, 1)}${w.slice(1).toLowerCase()}`).join('')
}

/** What {@link writeObjects} prints for each object. */
export interface ListingInit<T> {
  /** The table's header. */
  readonly head: readonly string[]
  /** The table's cells of one object, in the header's order. */
  readonly row: (o: T) => readonly string[]
  /** What `--quiet` prints of one object. */
  readonly id: (o: T) => string
  /** More template fields of one object (`node ls`: `Self`). */
  readonly extra?: (o: T) => Readonly<Record<string, unknown>>
}

/** Writes a listing of `objects` in the context's format. */
export function writeObjects<T>(ctx: CommandContext, objects: readonly T[], init: ListingInit<T>): void {
  const out = ctx.io.stdout
  if (ctx.quiet) for (const o of objects) out.write(`${init.id(o)}\n`)
  else if (ctx.template !== undefined) {
    const t = ctx.template
    const fields = init.head.map(fieldOfHead)
    const lines = objects.map((o) => {
      const cells = init.row(o)
      return t.execute(templateData(o, { ...Object.fromEntries(fields.map((f, i) => [f, cells[i] ?? ''])), ...init.extra?.(o) }))
    })
    if (!t.table) out.write(lines.map((l) => `${l}\n`).join(''))
    else {
      const header = t.header(Object.fromEntries(fields.map((f, i) => [f, init.head[i] ?? ''])))
      out.write(formatTable(header.split('\t'), lines.map((l) => l.split('\t'))))
    }
  } else if (ctx.format === 'json') out.write(formatJson(objects))
  else out.write(formatTable(init.head, objects.map(init.row)))
}
