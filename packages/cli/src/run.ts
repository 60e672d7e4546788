/**
 * The entry point of the `swarmkit` command: parses `argv` with commander and runs the command.
 *
 * Global flags come before the command, as Docker's (`swarmkit --host unix:///m1/control.sock
 * service ls`): `--host`, `--tls-cert`, `--tls-key`, `--tls-ca`, `--state-dir`, `--unlock-key`, `--debug`, and `--format` /
 * `--quiet`, which every command also takes after its name. Errors are one line on stderr,
 * `swarmkit: <ErrorName>: <message>`, exit 1 (2 for a bad command line); the stack only with `--debug`.
 *
 * @module
 */
import { Command, CommanderError, Option } from 'commander'
import type { ControlClient } from '@swarmkit-ts/core'
import type { CommandContext } from './context.ts'
import { parseTemplate } from './output/template.ts'
import { chooseHost, connect, type ConnectionOptions } from './connect.ts'
import { addCommands } from './commands/index.ts'
import { clarifyUnavailable, errorDetail, errorLine, exitCodeOf, EXIT_USAGE, UsageError } from './output/errors.ts'

/** Where a command reads and writes: the process's streams, or a test's buffers. */
export interface RunIo {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean | undefined }
  readonly stderr: { write(text: string): unknown }
  /** Standard input (`secret create name -`). @default process.stdin */
  readonly stdin?: AsyncIterable<string | Uint8Array> | undefined
  /** The environment (`SWARMKIT_HOST`). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /** Aborted on Ctrl-C: a waiting command (progress, `logs --follow`, `node start`) stops and returns. */
  readonly signal?: AbortSignal | undefined
}

/** The raw global and output flags, as commander hands them over. */
interface GlobalFlags extends ConnectionOptions {
  readonly format?: string
  readonly quiet?: boolean
  readonly debug?: boolean
}

/** Adds `--format` and `--quiet` to every command without them (no defaults: a command's value overrides the global one). */
function addOutputFlags(cmd: Command): void {
  for (const sub of cmd.commands) addOutputFlags(sub)
  if (cmd.commands.length > 0 && cmd.parent !== null) return
  if (cmd.options.every((o) => o.long !== '--format')) cmd.addOption(new Option('--format <format>', 'output format: table, json, or a Go template (\'{{.ID}}\', \'table {{.ID}}\\t{{.Name}}\')'))
  if (cmd.options.every((o) => o.long !== '--quiet')) cmd.option('-q, --quiet', 'only display ids')
}

/** The program: global flags, then every command group. */
function program(io: RunIo, ctx: () => CommandContext, help: { text: string }): Command {
  const p = new Command('swarmkit')
    .description('Operate a swarmkit-ts cluster: run a node, manage services, nodes, secrets, configs, networks and stacks.')
    .enablePositionalOptions()
    .exitOverride()
    .showSuggestionAfterError(false)
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void (help.text += s), outputError: () => undefined })
    .option('-H, --host <host>', 'the manager: unix://<path> or tcp://<host>:<port> (default: $SWARMKIT_HOST, else <state-dir>/control.sock, else ./control.sock)')
    .option('--tls-cert <file>', 'manager client certificate (PEM) for a tcp:// host')
    .option('--tls-key <file>', 'its private key (PEM)')
    .option('--tls-ca <file>', "the cluster's root CA (PEM)")
    .option('--state-dir <dir>', "a manager's state directory: its control socket is the default host, and a tcp:// host is called with its certificate")
    .option('--unlock-key <key>', "the unlock key of an autolocked manager's --state-dir")
    .option('--debug', 'print stack traces with errors')
  addCommands(p, ctx)
  addOutputFlags(p)
  return p
}

/**
 * Runs `swarmkit <argv…>` and resolves with the exit code (0 on success). Errors are written to
 * `io.stderr` as one line; never throws.
 */
export async function run(argv: readonly string[], io: RunIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let client: Promise<ControlClient> | undefined
  let current: Command | undefined
  let hostLabel: string | undefined
  const help = { text: '' }
  const signal = io.signal ?? new AbortController().signal
  const flags = (): GlobalFlags => current?.optsWithGlobals() ?? {}
  const ctx = (): CommandContext => {
    const f = flags()
    const template = f.format === undefined || f.format === 'json' || f.format === 'table' ? undefined : parseTemplate(f.format)
    return {
      io,
      format: f.format === 'json' ? 'json' : 'table',
      template,
      quiet: f.quiet === true,
      debug: f.debug === true,
      signal,
      control: () =>
        (client ??= Promise.resolve().then(() => {
          const host = chooseHost(f, io.env ?? process.env)
          hostLabel = host.kind === 'unix' ? `unix://${host.path}` : `tcp://${host.address}`
          return connect(host, f)
        })),
    }
  }
  const p = program(io, ctx, help)
  p.hook('preAction', (_root, action) => {
    current = action
  })
  try {
    await p.parseAsync([...argv], { from: 'user' })
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0
      if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') {
        io.stderr.write(help.text)
        return EXIT_USAGE
      }
      io.stderr.write(`${errorLine(new UsageError('', err.message.replace(/^error: /, '').split('\n')[0] ?? err.code))}\n`)
      return EXIT_USAGE
    }
    const shown = clarifyUnavailable(err, hostLabel)
    io.stderr.write(`${errorLine(shown)}\n`)
    if (argv.includes('--debug') || (current !== undefined && flags().debug === true)) io.stderr.write(`${errorDetail(shown)}\n`)
    return exitCodeOf(shown)
  } finally {
    if (client !== undefined) await client.then((c) => c.close()).catch(() => undefined)
  }
}
