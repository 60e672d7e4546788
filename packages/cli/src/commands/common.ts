/**
 * What the commands share: writing a listing as a table, JSON or ids; inspecting several objects
 * (Docker prints those it found and fails naming the first it did not); reading a file or stdin.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { CommandContext } from '../context.ts'
import { formatJson } from '../output/json.ts'
import { writeObjects } from '../output/listing.ts'
import { templateData } from '../output/template-eval.ts'

/** The context factory every command group is given (the context of the command being run). */
export type ContextFactory = () => CommandContext

/**
 * Writes a listing: with `--quiet` the ids one per line, with `--format json` the objects as a
 * JSON array, with a Go template each object rendered, else the table of `head` and `row(object)`.
 */
export function writeListing<T extends { readonly id: string }>(
  ctx: CommandContext,
  objects: readonly T[],
  head: readonly string[],
  row: (o: T) => readonly string[],
  extra?: (o: T) => Readonly<Record<string, unknown>>,
): void {
  writeObjects(ctx, objects, { head, row, id: (o) => o.id, ...(extra === undefined ? {} : { extra }) })
}

/**
 * `inspect`: the objects `get` finds for `refs`, as a JSON array (Docker's inspect output), or
 * each rendered by a `--format` Go template (`{{.Spec.Name}}`). Fails with the first lookup's error after printing what was found.
 */
export async function inspect<T>(ctx: CommandContext, refs: readonly string[], get: (ref: string) => Promise<T>): Promise<void> {
  const found: T[] = []
  let failure: Error | undefined
  for (const ref of refs) {
    try {
      found.push(await get(ref))
    } catch (err) {
      failure ??= err instanceof Error ? err : new Error(String(err))
    }
  }
  if (ctx.template !== undefined) for (const o of found) ctx.io.stdout.write(`${ctx.template.execute(templateData(o))}\n`)
  else if (found.length > 0 || failure === undefined) ctx.io.stdout.write(formatJson(found))
  if (failure !== undefined) throw failure
}

/** Runs `op` for each ref, printing each ref once done (Docker's `rm`); fails with the first error after trying them all. */
export async function forEach(ctx: CommandContext, refs: readonly string[], op: (ref: string) => Promise<void>): Promise<void> {
  let failure: Error | undefined
  for (const ref of refs) {
    try {
      await op(ref)
      ctx.io.stdout.write(`${ref}\n`)
    } catch (err) {
      failure ??= err instanceof Error ? err : new Error(String(err))
    }
  }
  if (failure !== undefined) throw failure
}

/** The bytes of `file`, or of standard input for `-` (`<file>` named in the error). */
export async function readInput(ctx: CommandContext, file: string): Promise<Uint8Array> {
  if (file === '-') {
    const source: AsyncIterable<string | Uint8Array> = ctx.io.stdin ?? (process.stdin as AsyncIterable<Uint8Array>)
    const chunks: Uint8Array[] = []
    for await (const c of source) chunks.push(typeof c === 'string' ? new TextEncoder().encode(c) : c)
    return new Uint8Array(Buffer.concat(chunks))
  }
  try {
    return new Uint8Array(await readFile(file))
  } catch (err) {
    throw new InvalidArgumentError('<file>', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err })
  }
}

/** A label listing (`k=v, k2=v2`). */
export function labelList(labels: Readonly<Record<string, string>> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .join(', ')
}

/** Capitalised, as Docker prints states (`running` → `Running`). */
export function capitalize(s: string): string {
  return s === '' ? s : `${s[0]?.toUpperCase() ?? ''}${s.slice(1)}`
}
