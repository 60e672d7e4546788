/**
 * A small swarmkit-ts node daemon. It inits a cluster, joins one, or opens a node again from its
 * state directory; prints one JSON line on stdout once the node runs
 * (`{"nodeId","role","address","controlSocket"?,"tokens"?,"unlockKey"?}`: the control socket of a
 * manager, the tokens and the unlock key of `init`), and another line of the same shape each time
 * the node changes role (promoted or demoted: the node's `role` event); closes the node
 * cleanly on SIGTERM or SIGINT. A bad command line or a failed start is one line on stderr and a
 * non-zero exit (2: usage, 1: the node did not start).
 *
 * Run: pnpm --filter @swarmkit-ts/example-manager-binary start init --state-dir ./m1 --runtime fake
 */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Cluster, type ClusterNode, type RoleEvent } from '@swarmkit-ts/core'
import { parseFlags, UsageError, type NodeCommand, type Timing } from './flags.ts'

export { parseFlags, UsageError } from './flags.ts'
export type { HelpCommand, NodeCommand, Timing } from './flags.ts'

/** The line printed when the node is ready. */
export interface ReadyLine {
  readonly nodeId: string
  readonly role: 'manager' | 'worker'
  /** The address other nodes reach this node at (`host:port`). */
  readonly address: string
  /** A manager's local control socket (`connectControlSocket(path)`). */
  readonly controlSocket?: string
  /** The join tokens (`init` only: the first manager is the leader). */
  readonly tokens?: { readonly manager: string; readonly worker: string }
  /** The unlock key, printed once by `init --autolock`. */
  readonly unlockKey?: string
}

function timing(t: Timing): { raft?: { tickMs?: number; electionTick?: number; heartbeatTick?: number }; heartbeatPeriodMs?: number } {
  const raft = {
    ...(t.raftTickMs === undefined ? {} : { tickMs: t.raftTickMs }),
    ...(t.electionTick === undefined ? {} : { electionTick: t.electionTick }),
    ...(t.heartbeatTick === undefined ? {} : { heartbeatTick: t.heartbeatTick }),
  }
  return { ...(Object.keys(raft).length === 0 ? {} : { raft }), ...(t.heartbeatPeriodMs === undefined ? {} : { heartbeatPeriodMs: t.heartbeatPeriodMs }) }
}

/** Starts the node a parsed command line asks for. */
export async function startNode(cmd: NodeCommand): Promise<ClusterNode> {
  const common = { stateDir: cmd.stateDir, runtime: cmd.runtime, hostname: cmd.hostname, advertiseAddr: cmd.advertiseAddr, ...timing(cmd) }
  switch (cmd.command) {
    case 'init':
      return Cluster.init({ ...common, listenAddr: cmd.listenAddr, autolock: cmd.autolock })
    case 'join':
      return Cluster.join({ ...common, joinAddr: cmd.joinAddr, token: cmd.token, listenAddr: cmd.listenAddr })
    case 'open':
      return Cluster.open({ ...common, unlockKey: cmd.unlockKey, listenAddr: cmd.listenAddr, forceNewCluster: cmd.forceNewCluster })
  }
}

/**
 * What the node prints when ready (`init --autolock` adds the unlock key); `first` is false for
 * the line of a role change, which never carries tokens or the unlock key.
 */
export async function readyLine(node: ClusterNode, cmd: NodeCommand, first = true): Promise<ReadyLine> {
  if (node.role === 'worker') return { nodeId: node.nodeId, role: 'worker', address: node.address }
  const line = { nodeId: node.nodeId, role: 'manager', address: node.address, controlSocket: node.controlSocketPath } as const
  if (cmd.command !== 'init' || !first) return line // a reopened manager may not know the leader yet: ask for tokens through the control socket
  const tokens = await node.joinTokens()
  const unlockKey = cmd.autolock ? await node.unlockKey() : undefined
  return { ...line, tokens: { manager: tokens.manager, worker: tokens.worker }, ...(unlockKey === undefined ? {} : { unlockKey }) }
}

/** One line for stderr describing `err` (its class name and message; an api error's message names its field). */
export function errorLine(err: unknown): string {
  if (err instanceof Error) return `manager-binary: ${err.name}: ${err.message.split('\n')[0] ?? ''}`
  return `manager-binary: ${String(err)}`
}

/**
 * Runs the daemon: parses `argv`, starts the node, prints the ready line, and closes the node on
 * SIGTERM or SIGINT (a second signal exits at once with status 1).
 */
export async function main(argv: readonly string[]): Promise<void> {
  let cmd: ReturnType<typeof parseFlags>
  try {
    cmd = parseFlags(argv)
  } catch (err) {
    process.stderr.write(`${errorLine(err)}\n`)
    process.exit(err instanceof UsageError ? 2 : 1)
  }
  if (cmd.command === 'help') {
    process.stdout.write(cmd.text)
    return
  }
  let node: ClusterNode
  try {
    node = await startNode(cmd)
  } catch (err) {
    process.stderr.write(`${errorLine(err)}\n`)
    process.exit(1)
  }
  let stopping = false
  // Each role change hands over a new node object: print its line, and close that one on a signal.
  const follow = (current: ClusterNode): void => {
    const switched = (e: RoleEvent): void => {
      node = e.node
      follow(e.node)
      void readyLine(e.node, cmd, false).then((line) => process.stdout.write(`${JSON.stringify(line)}\n`))
    }
    if (current.role === 'manager') current.once('role', switched)
    else current.once('role', switched)
  }
  follow(node)
  const stop = (signal: string): void => {
    if (stopping) process.exit(1)
    stopping = true
    process.stderr.write(`manager-binary: ${signal}: closing ${node.role} ${node.nodeId}\n`)
    node.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`${errorLine(err)}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  process.stdout.write(`${JSON.stringify(await readyLine(node, cmd))}\n`)
}

const entry = process.argv[1]
if (entry !== undefined && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) await main(process.argv.slice(2))
