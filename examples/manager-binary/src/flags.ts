/**
 * The command line of the manager binary: `init | join | open` and their flags, parsed with
 * commander into a {@link NodeCommand}. Parsing never prints and never exits: a bad command line
 * is a {@link UsageError} whose message is one line.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { WORKER_RUNTIME_KINDS, type WorkerRuntimeKind } from '@swarmkit-ts/core'

/** Raft and dispatcher timing (fast values suit tests on 127.0.0.1). */
export interface Timing {
  /** Milliseconds per Raft tick. */
  readonly raftTickMs?: number
  /** Raft ticks without a leader before an election. */
  readonly electionTick?: number
  /** Raft ticks between leader heartbeats. */
  readonly heartbeatTick?: number
  /** The dispatcher's heartbeat period for workers, in milliseconds. */
  readonly heartbeatPeriodMs?: number
}

/** What every command shares. */
interface CommonCommand extends Timing {
  readonly stateDir: string
  readonly runtime: WorkerRuntimeKind
  readonly hostname?: string
}

/** A parsed command line. */
export type NodeCommand =
  | (CommonCommand & { readonly command: 'init'; readonly listenAddr: string; readonly advertiseAddr?: string; readonly autolock: boolean })
  | (CommonCommand & { readonly command: 'join'; readonly joinAddr: string; readonly token: string; readonly listenAddr?: string; readonly advertiseAddr?: string })
  | (CommonCommand & { readonly command: 'open'; readonly unlockKey?: string; readonly listenAddr?: string; readonly advertiseAddr?: string; readonly forceNewCluster: boolean })

/** `--help` was asked: the text to print on stdout. */
export interface HelpCommand {
  readonly command: 'help'
  readonly text: string
}

/** A bad command line; `message` is one line naming the flag. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

function positiveInteger(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer.')
  return n
}

/** Raw flag values as commander hands them over. */
interface RawFlags {
  stateDir: string
  runtime: WorkerRuntimeKind
  hostname?: string
  listenAddr?: string
  advertiseAddr?: string
  joinAddr?: string
  token?: string
  unlockKey?: string
  autolock?: boolean
  forceNewCluster?: boolean
  raftTickMs?: number
  electionTick?: number
  heartbeatTick?: number
  heartbeatPeriodMs?: number
}

/** Copies the defined optional fields of `raw` (exactOptionalPropertyTypes: no `undefined` values). */
function defined<K extends keyof RawFlags>(raw: RawFlags, keys: readonly K[]): Partial<Pick<RawFlags, K>> {
  const out: Partial<Pick<RawFlags, K>> = {}
  for (const k of keys) if (raw[k] !== undefined) out[k] = raw[k]
  return out
}

function common(raw: RawFlags): CommonCommand {
  return { stateDir: raw.stateDir, runtime: raw.runtime, ...defined(raw, ['hostname', 'raftTickMs', 'electionTick', 'heartbeatTick', 'heartbeatPeriodMs']) }
}

function withCommonFlags(cmd: Command): Command {
  return cmd
    .requiredOption('--state-dir <dir>', 'the node state directory')
    .addOption(new Option('--runtime <kind>', 'the runtime tasks run on').choices(WORKER_RUNTIME_KINDS).default('process'))
    .option('--hostname <name>', 'the node hostname in its description')
    .option('--raft-tick-ms <ms>', 'milliseconds per Raft tick (default 1000)', positiveInteger)
    .option('--election-tick <n>', 'Raft ticks before an election (default 10)', positiveInteger)
    .option('--heartbeat-tick <n>', 'Raft ticks between heartbeats (default 1)', positiveInteger)
    .option('--heartbeat-period-ms <ms>', "the dispatcher's heartbeat period (default: the cluster spec's)", positiveInteger)
    .option('--advertise-addr <host:port>', 'the address other nodes reach this manager at')
}

/**
 * Parses `argv` (without the node executable and script: `['init', '--state-dir', 'd', …]`).
 *
 * @throws UsageError with a one-line message on an unknown command or flag, a missing one, or a bad value.
 */
export function parseFlags(argv: readonly string[]): NodeCommand | HelpCommand {
  let parsed: NodeCommand | undefined
  let help = ''
  const output = { writeOut: (s: string): void => void (help += s), writeErr: (): void => {} }
  const program = new Command('manager-binary')
    .description('Run a swarmkit-ts node: init a cluster, join one, or open a node again.')
    .exitOverride()
    .configureOutput(output)
    .showSuggestionAfterError(false)
  const sub = (name: string, description: string): Command => withCommonFlags(program.command(name).description(description).exitOverride().configureOutput(output))
  sub('init', 'create a cluster; this node is its first manager')
    .option('--listen-addr <host:port>', 'the address the gRPC server listens on', '127.0.0.1:0')
    .option('--autolock', 'lock the manager keys under an unlock key (printed once)', false)
    .action((raw: RawFlags) => {
      parsed = { command: 'init', ...common(raw), listenAddr: raw.listenAddr ?? '127.0.0.1:0', autolock: raw.autolock === true, ...defined(raw, ['advertiseAddr']) }
    })
  sub('join', "join a cluster with a join token (the token's role makes a manager or a worker)")
    .requiredOption('--join-addr <host:port>', 'the address of a manager of the cluster')
    .requiredOption('--token <token>', 'the join token (SWMTKN-1-…)')
    .option('--listen-addr <host:port>', 'the address a joining manager listens on')
    .action((raw: RawFlags) => {
      parsed = { command: 'join', ...common(raw), joinAddr: raw.joinAddr ?? '', token: raw.token ?? '', ...defined(raw, ['listenAddr', 'advertiseAddr']) }
    })
  sub('open', 'restart the node of a state directory')
    .option('--unlock-key <key>', 'the unlock key of an autolocked manager (SWMKEY-1-…)')
    .option('--listen-addr <host:port>', 'a new address to listen on (default: the one before)')
    .option('--force-new-cluster', "a manager: start as the only manager of a new Raft group, keeping the state directory's data", false)
    .action((raw: RawFlags) => {
      parsed = { command: 'open', ...common(raw), forceNewCluster: raw.forceNewCluster === true, ...defined(raw, ['unlockKey', 'listenAddr', 'advertiseAddr']) }
    })
  try {
    program.parse([...argv], { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError && err.code === 'commander.helpDisplayed') return { command: 'help', text: help }
    if (err instanceof CommanderError && err.code === 'commander.help') throw new UsageError('missing command: init, join or open')
    if (err instanceof CommanderError) throw new UsageError(err.message.replace(/^error: /, '').split('\n')[0] ?? err.code)
    throw err
  }
  if (parsed === undefined) throw new UsageError('missing command: init, join or open')
  return parsed
}
