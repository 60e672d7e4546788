/**
 * `swarmkit secret | config create <name> <file|-> | ls | inspect | rm` (Docker's columns: ID,
 * NAME, DRIVER for secrets, CREATED, UPDATED). Secrets are read back without their data.
 *
 * @module
 */
import type { Command } from 'commander'
import type { CommonFilters, ControlClient } from '@swarmkit-ts/core'
import { collectFilter, commonFilters } from './filters.ts'
import { shortId } from '../output/table.ts'
import { ago } from '../output/time.ts'
import { collect, parseLabels } from './values.ts'
import { forEach, inspect, readInput, writeListing, type ContextFactory } from './common.ts'

type Kind = 'secret' | 'config'

interface Stored {
  readonly id: string
  readonly meta: { readonly createdAt: number; readonly updatedAt: number }
  readonly spec: { readonly annotations: { readonly name: string }; readonly driver?: { readonly name: string } | undefined }
}

/** The API of `kind`: create, get, list, remove (the two share their shape). */
function api(control: ControlClient, kind: Kind): {
  create(spec: { annotations: { name: string; labels: Record<string, string> }; data: Uint8Array }): Promise<Stored>
  get(ref: string): Promise<Stored>
  list(filters?: CommonFilters): Promise<readonly Stored[]>
  remove(id: string): Promise<void>
} {
  return kind === 'secret' ? control.secrets : control.configs
}

/** Adds the `secret` and `config` commands to `program`. */
export function addSecretConfigCommands(program: Command, ctx: ContextFactory): void {
  for (const kind of ['secret', 'config'] as const) {
    const group = program.command(kind).description(`Manage ${kind}s`)
    group
      .command('create')
      .description(`Create a ${kind} from a file or STDIN as content`)
      .argument('<name>', `the ${kind} name`)
      .argument('<file>', 'a file, or - for standard input')
      .option('-l, --label <key=value>', `a ${kind} label`, collect)
      .action(async (name: string, file: string, flags: { label?: string[] }) => {
        const c = ctx()
        const data = await readInput(c, file)
        const created = await api(await c.control(), kind).create({ annotations: { name, labels: parseLabels('--label', flags.label ?? []) }, data })
        c.io.stdout.write(`${created.id}\n`)
      })
    group
      .command('ls')
      .alias('list')
      .description(`List ${kind}s`)
      .option('--no-trunc', 'do not truncate ids')
      .option('-f, --filter <key=value>', 'name, id or label', collectFilter)
      .action(async (flags: { trunc?: boolean; filter?: string[] }) => {
        const c = ctx()
        const items = await api(await c.control(), kind).list(commonFilters(flags.filter))
        const now = Date.now()
        const head = kind === 'secret' ? ['ID', 'NAME', 'DRIVER', 'CREATED', 'UPDATED'] : ['ID', 'NAME', 'CREATED', 'UPDATED']
        writeListing(c, items, head, (s) => [
          shortId(s.id, flags.trunc === false),
          s.spec.annotations.name,
          ...(kind === 'secret' ? [s.spec.driver?.name ?? ''] : []),
          ago(s.meta.createdAt, now),
          ago(s.meta.updatedAt, now),
        ])
      })
    group
      .command('inspect')
      .description(`Display detailed information on one or more ${kind}s (JSON)`)
      .argument(`<${kind}...>`, 'names or ids')
      .action(async (refs: string[]) => {
        const c = ctx()
        const a = api(await c.control(), kind)
        await inspect(c, refs, (r) => a.get(r))
      })
    group
      .command('rm')
      .alias('remove')
      .description(`Remove one or more ${kind}s`)
      .argument(`<${kind}...>`, 'names or ids')
      .action(async (refs: string[]) => {
        const c = ctx()
        const a = api(await c.control(), kind)
        await forEach(c, refs, async (r) => a.remove((await a.get(r)).id))
      })
  }
}
