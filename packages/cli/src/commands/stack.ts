/**
 * `swarmkit stack deploy | ls | services | ps | rm`: stacks from compose files, as `docker stack`.
 * Deploy prints docker's lines (`Creating network shop_default`, `Updating service shop_web (id:
 * …)`), returns at once by default (`--detach=false` waits for each changed service), and with
 * `--prune` removes the stack's services the files no longer name. Warnings (unset variables,
 * ignored keys) go to stderr.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import { InvalidArgumentError, NotFoundError, TaskState } from '@swarmkit-ts/api'
import type { Command } from 'commander'
import type { CommandContext } from '../context.ts'
import { writeObjects } from '../output/listing.ts'
import { composeStack } from '../stack/compose.ts'
import { validateNamespace } from '../stack/convert-stack.ts'
import { deployStack } from '../stack/deploy.ts'
import type { ComposeSource } from '../stack/load.ts'
import { NAMESPACE_LABEL } from '../stack/names.ts'
import { removeStack } from '../stack/remove.ts'
import { readInput } from './common.ts'
import { SERVICE_HEAD, serviceRow, writeTasks } from './listings.ts'
import { waitForService } from './wait.ts'

interface DeployFlags {
  readonly composeFile?: string[]
  readonly prune?: boolean
  readonly detach?: boolean
}

const collectFiles = (v: string, p: string[] | undefined): string[] => [...(p ?? []), v]

function parseBool(flag: string): (v: string) => boolean {
  return (v) => {
    if (v === 'true' || v === '1') return true
    if (v === 'false' || v === '0') return false
    throw new InvalidArgumentError(flag, `invalid boolean ${JSON.stringify(v)}`)
  }
}

function namespaceArg(stack: string): string {
  try {
    validateNamespace(stack)
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new InvalidArgumentError('<stack>', err.message.replace(/^namespace: /, ''))
    throw err
  }
  return stack
}

/** Reads the `-c` files (`-` is standard input); relative secret and config files resolve against the first file's folder. */
async function readSources(c: CommandContext, files: readonly string[]): Promise<{ sources: ComposeSource[]; workingDir: string }> {
  if (files.length === 0) throw new InvalidArgumentError('--compose-file', 'please specify a compose file (with --compose-file)')
  const sources: ComposeSource[] = []
  for (const f of files) {
    const bytes = f === '-' ? await readInput(c, '-') : await readFile(f).catch((err: NodeJS.ErrnoException) => {
      throw new InvalidArgumentError('--compose-file', `cannot read ${f}: ${err.code ?? String(err)}`, { cause: err })
    })
    sources.push({ file: f === '-' ? '<stdin>' : f, text: Buffer.from(bytes).toString('utf8') })
  }
  const first = files[0] ?? '-'
  return { sources, workingDir: first === '-' ? process.cwd() : dirname(resolve(first)) }
}

async function deploy(c: CommandContext, stack: string, flags: DeployFlags): Promise<void> {
  const namespace = namespaceArg(stack)
  const { sources, workingDir } = await readSources(c, flags.composeFile ?? [])
  const env = c.io.env ?? process.env
  const spec = composeStack(sources, {
    namespace,
    env: (name) => env[name],
    readFile: (p) => new Uint8Array(readFileSync(isAbsolute(p) ? p : resolve(workingDir, p))),
    workingDir,
    warn: (m) => void c.io.stderr.write(`${m}\n`),
  })
  const control = await c.control()
  const result = await deployStack(control, spec, { prune: flags.prune === true, log: (l) => void (c.quiet ? undefined : c.io.stdout.write(`${l}\n`)) })
  if (flags.detach !== false) return
  for (const a of result.actions) {
    if (a.kind !== 'create-service' && a.kind !== 'update-service') continue
    const service = await control.services.get(a.name)
    if (!('replicated' in service.spec.mode) && !('global' in service.spec.mode)) continue
    await waitForService(c, service.id, { kind: a.kind === 'create-service' ? 'create' : 'update' })
  }
}

async function listStacks(c: CommandContext): Promise<void> {
  const control = await c.control()
  const services = await control.services.list({ labels: { [NAMESPACE_LABEL]: '' } })
  const counts = new Map<string, number>()
  for (const s of services) {
    const ns = s.spec.annotations.labels?.[NAMESPACE_LABEL] ?? ''
    counts.set(ns, (counts.get(ns) ?? 0) + 1)
  }
  const stacks = [...counts].sort((a, b) => a[0].localeCompare(b[0]))
  writeObjects(
    c,
    stacks.map(([name, n]) => ({ name, services: n })),
    { head: ['NAME', 'SERVICES'], row: (s) => [s.name, String(s.services)], id: (s) => s.name },
  )
}

async function stackServices(c: CommandContext, stack: string, noTrunc: boolean): Promise<void> {
  const control = await c.control()
  const services = await control.services.list({ labels: { [NAMESPACE_LABEL]: namespaceArg(stack) } })
  if (services.length === 0) {
    // Docker's wording, on stderr, exit 0 (whatever the format).
    c.io.stderr.write(`Nothing found in stack: ${stack}\n`)
    return
  }
  const tasks = await control.tasks.list({ serviceIds: services.map((s) => s.id), desiredStates: [TaskState.RUNNING] })
  writeObjects(c, services, { head: SERVICE_HEAD, row: (s) => serviceRow(s, tasks, noTrunc), id: (s) => s.id })
}

async function stackTasks(c: CommandContext, stack: string, noTrunc: boolean): Promise<void> {
  const control = await c.control()
  const services = await control.services.list({ labels: { [NAMESPACE_LABEL]: namespaceArg(stack) } })
  const tasks = services.length === 0 ? [] : await control.tasks.list({ serviceIds: services.map((s) => s.id) })
  // Unlike `stack services`, docker's `stack ps` fails when there is nothing.
  if (tasks.length === 0) throw new NotFoundError('stack', stack, { message: `nothing found in stack: ${stack}` })
  const nodes = await control.nodes.list()
  writeTasks(c, tasks, {
    services: new Map(services.map((s) => [s.id, s.spec.annotations.name])),
    nodes: new Map(nodes.map((n) => [n.id, n])),
    now: Date.now(),
    noTrunc,
  })
}

async function removeStacks(c: CommandContext, stacks: readonly string[]): Promise<void> {
  const control = await c.control()
  for (const stack of stacks) {
    const removed = await removeStack(control, namespaceArg(stack), { log: (l) => void c.io.stdout.write(`${l}\n`), signal: c.signal })
    const count = removed.services.length + removed.secrets.length + removed.configs.length + removed.networks.length
    if (count === 0) c.io.stderr.write(`Nothing found in stack: ${stack}\n`)
  }
}

/** Adds `stack deploy | ls | services | ps | rm` to `program`. */
export function addStackCommands(program: Command, ctx: () => CommandContext): void {
  const stack = program.command('stack').description('Manage stacks (compose files)')
  stack
    .command('deploy')
    .alias('up')
    .description('Deploy a new stack or update an existing stack')
    .argument('<stack>', 'the stack name')
    .option('-c, --compose-file <file>', 'path to a compose file, or "-" for standard input (repeat to merge several in order)', collectFiles)
    .option('--prune', "prune services that are no longer referenced")
    .option('-d, --detach [bool]', 'exit immediately instead of waiting for the services to converge (default true)', parseBool('--detach'))
    .action(async (name: string, flags: DeployFlags) => deploy(ctx(), name, flags))
  stack
    .command('ls')
    .alias('list')
    .description('List stacks')
    .action(async () => listStacks(ctx()))
  stack
    .command('services')
    .description('List the services in the stack')
    .argument('<stack>', 'the stack name')
    .option('--no-trunc', 'do not truncate ids')
    .action(async (name: string, flags: { trunc?: boolean }) => stackServices(ctx(), name, flags.trunc === false))
  stack
    .command('ps')
    .description('List the tasks in the stack')
    .argument('<stack>', 'the stack name')
    .option('--no-trunc', 'do not truncate ids and errors')
    .action(async (name: string, flags: { trunc?: boolean }) => stackTasks(ctx(), name, flags.trunc === false))
  stack
    .command('rm')
    .aliases(['remove', 'down'])
    .description('Remove one or more stacks')
    .argument('<stack...>', 'the stack names')
    .action(async (names: string[]) => removeStacks(ctx(), names))
}
