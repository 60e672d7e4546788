/**
 * `swarmkit node start init | join | open`: runs a node in the foreground until Ctrl-C (SIGINT)
 * or SIGTERM, then closes it cleanly. Prints the node's id, role, address and (a manager's)
 * control socket, (with `--docker-api`, while a manager) Docker API and (with `--dashboard`) dashboard URL — and on `init` the join
 * tokens and unlock key — as text, or as one JSON line per start and role change with
 * `--format json`.
 *
 * @module
 */
import { isIP } from 'node:net'
import { Option, type Command } from 'commander'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { Cluster, WORKER_RUNTIME_KINDS, type ClusterNode, type RoleEvent, type WorkerRuntimeKind } from '@swarmkit-ts/core'
import type { CommandContext } from '../context.ts'
import type { ContextFactory } from './common.ts'
import { DashboardServing, parseDashboardFlag } from './dashboard-flag.ts'
import { DockerApiServing, parseDockerApiFlag } from './docker-api-flag.ts'
import { readSecretLine } from './secret-input.ts'
import { parseChoice, parseInteger } from './values.ts'

interface StartFlags {
  readonly stateDir: string
  readonly listenAddr?: string
  readonly advertiseAddr?: string
  readonly joinAddr?: string
  readonly token?: string
  readonly runtime: WorkerRuntimeKind
  readonly autolock?: boolean
  readonly unlockKey?: string
  readonly hostname?: string
  readonly raftTickMs?: string
  readonly electionTick?: string
  readonly heartbeatTick?: string
  readonly heartbeatPeriodMs?: string
  readonly meshAddr?: string
  readonly forceNewCluster?: boolean
  readonly dockerApi?: string
  readonly dashboard?: string
  readonly dashboardActions?: boolean
  readonly dashboardTls?: boolean
}

/** What a started node reports (the JSON line of `--format json`). */
export interface StartedNode {
  readonly nodeId: string
  readonly role: 'manager' | 'worker'
  readonly address: string
  readonly controlSocket?: string
  readonly tokens?: { readonly worker: string; readonly manager: string }
  readonly unlockKey?: string
  /** `DOCKER_HOST` of the Docker API this node serves (`--docker-api`, while it is a manager). */
  readonly dockerApi?: string
  /** The URL of the dashboard this node serves (`--dashboard`, while a manager; with the actions token in its fragment under `--dashboard-actions`). */
  readonly dashboard?: string
}

function timing(flags: StartFlags): { raft?: { tickMs?: number; electionTick?: number; heartbeatTick?: number }; heartbeatPeriodMs?: number } {
  const n = (flag: string, v: string | undefined): number | undefined => (v === undefined ? undefined : parseInteger(flag, v, true))
  const tickMs = n('--raft-tick-ms', flags.raftTickMs)
  const electionTick = n('--election-tick', flags.electionTick)
  const heartbeatTick = n('--heartbeat-tick', flags.heartbeatTick)
  const period = n('--heartbeat-period-ms', flags.heartbeatPeriodMs)
  const raft = { ...(tickMs === undefined ? {} : { tickMs }), ...(electionTick === undefined ? {} : { electionTick }), ...(heartbeatTick === undefined ? {} : { heartbeatTick }) }
  return { ...(Object.keys(raft).length === 0 ? {} : { raft }), ...(period === undefined ? {} : { heartbeatPeriodMs: period }) }
}

/** Starts the node `mode` asks for. */
async function start(mode: 'init' | 'join' | 'open', flags: StartFlags, signal: AbortSignal, onLocked?: (socketPath: string) => void): Promise<ClusterNode> {
  if (flags.meshAddr !== undefined && isIP(flags.meshAddr) === 0) throw new InvalidArgumentError('--mesh-addr', `must be an IP address, got ${JSON.stringify(flags.meshAddr)}`)
  const mesh = flags.meshAddr === undefined ? {} : { mesh: { listenAddress: flags.meshAddr } }
  const common = { stateDir: flags.stateDir, runtime: flags.runtime, hostname: flags.hostname, advertiseAddr: flags.advertiseAddr, ...mesh, ...timing(flags) }
  switch (mode) {
    case 'init':
      return Cluster.init({ ...common, listenAddr: flags.listenAddr ?? '127.0.0.1:0', autolock: flags.autolock === true })
    case 'join':
      return Cluster.join({ ...common, joinAddr: flags.joinAddr ?? '', token: flags.token ?? '', listenAddr: flags.listenAddr, signal })
    case 'open':
      return Cluster.open({
        ...common,
        unlockKey: flags.unlockKey,
        listenAddr: flags.listenAddr,
        forceNewCluster: flags.forceNewCluster === true,
        // Without a key a locked manager waits for `swarmkit swarm unlock` (Docker's daemon does too).
        waitForUnlock: flags.unlockKey === undefined,
        onLocked,
        signal,
      })
  }
}

/** What `node` reports; tokens and the unlock key only for the first line of `init`. */
async function describe(node: ClusterNode, withSecrets: boolean, autolock: boolean): Promise<StartedNode> {
  if (node.role === 'worker') return { nodeId: node.nodeId, role: 'worker', address: node.address }
  const base = { nodeId: node.nodeId, role: 'manager', address: node.address, controlSocket: node.controlSocketPath } as const
  if (!withSecrets) return base
  const tokens = await node.joinTokens()
  const unlockKey = autolock ? await node.unlockKey() : undefined
  return { ...base, tokens: { worker: tokens.worker, manager: tokens.manager }, ...(unlockKey === undefined ? {} : { unlockKey }) }
}

/** The report as text (or one JSON line). */
function report(ctx: CommandContext, n: StartedNode): string {
  if (ctx.format === 'json') return `${JSON.stringify(n)}\n`
  const lines = [`Node ${n.nodeId} is running as a ${n.role} at ${n.address}`]
  if (n.controlSocket !== undefined) lines.push(`  control socket: ${n.controlSocket}  (swarmkit --host unix://${n.controlSocket} service ls)`)
  if (n.dockerApi !== undefined) lines.push(`  docker api:     ${n.dockerApi}  (DOCKER_HOST=${n.dockerApi} docker service ls)`)
  if (n.dashboard !== undefined) lines.push(`  dashboard:      ${n.dashboard}`)
  if (n.tokens !== undefined) lines.push(`  worker token:   ${n.tokens.worker}`, `  manager token:  ${n.tokens.manager}`)
  if (n.unlockKey !== undefined) lines.push(`  unlock key:     ${n.unlockKey}  (keep it: a restarted manager needs it)`)
  return `${lines.join('\n')}\n`
}

/**
 * Starts the node; `open` of an autolocked manager without a key waits locked until
 * `swarmkit swarm unlock` gives it (Docker's daemon and `docker swarm unlock`), and
 * `--unlock-key -` reads the key from standard input.
 */
async function startUnlocking(ctx: CommandContext, mode: 'init' | 'join' | 'open', flags: StartFlags): Promise<ClusterNode> {
  const unlockKey = flags.unlockKey === '-' ? await readSecretLine(ctx, 'Please enter unlock key: ') : flags.unlockKey
  const given = unlockKey === undefined ? flags : { ...flags, unlockKey }
  const locked = (socketPath: string): void => {
    ctx.io.stderr.write(`This node is locked: its keys are sealed under the unlock key. Unlock it with \`swarmkit --host unix://${socketPath} swarm unlock\`.\n`)
  }
  return start(mode, given, ctx.signal, locked)
}

/** Adds `start` to the `node` command. */
export function addNodeStartCommand(node: Command, ctx: ContextFactory): void {
  node
    .command('start')
    .description('Run a node in the foreground: init a cluster, join one, or open the node of a state directory')
    .argument('<mode>', 'init, join or open')
    .requiredOption('--state-dir <dir>', 'the node state directory')
    .option('--listen-addr <host:port>', 'the address the node listens on (init default 127.0.0.1:0)')
    .option('--advertise-addr <host:port>', 'the address other nodes reach this manager at')
    .option('--join-addr <host:port>', 'join: the address of a manager')
    .option('--token <token>', 'join: the join token (its role makes a manager or a worker)')
    .addOption(new Option('--runtime <kind>', 'the runtime tasks run on').choices(WORKER_RUNTIME_KINDS).default('process'))
    .option('--autolock', 'init: lock the manager keys under an unlock key')
    .option('--unlock-key <key>', 'open: the unlock key of an autolocked manager (- reads it from standard input; without it a locked manager waits for `swarmkit swarm unlock`)')
    .option('--force-new-cluster', "open: a manager starts as the only manager of a new Raft group, keeping its state directory's data (restore a backup, recover from a lost quorum)")
    .option('--hostname <name>', 'the node hostname')
    .option('--raft-tick-ms <ms>', 'milliseconds per Raft tick (default 1000)')
    .option('--election-tick <n>', 'Raft ticks before an election (default 10)')
    .option('--heartbeat-tick <n>', 'Raft ticks between heartbeats (default 1)')
    .option('--heartbeat-period-ms <ms>', "the dispatcher's heartbeat period")
    .option('--mesh-addr <ip>', "run the routing mesh: published ports listen on this IP (a manager's; a worker's waits for a promotion)")
    .option('--docker-api <address>', "serve the Docker Engine API while a manager: unix:///path.sock (mode 0600) or tcp://host:port (the cluster's mutual TLS, managers' certificates)")
    .option('--dashboard <host:port>', 'serve the live web dashboard while a manager (read-only unless --dashboard-actions)')
    .option('--dashboard-actions', "the dashboard's scale, drain and rollback buttons, behind a token printed in the dashboard's URL")
    .option('--dashboard-tls', "serve the dashboard over HTTPS with the cluster's certificates (a manager client certificate may act without the token)")
    .action(async (modeArg: string, flags: StartFlags) => {
      const c = ctx()
      const mode = parseChoice('<mode>', modeArg, ['init', 'join', 'open'] as const)
      if (mode === 'join' && (flags.joinAddr === undefined || flags.token === undefined)) {
        throw new InvalidArgumentError(flags.joinAddr === undefined ? '--join-addr' : '--token', 'join needs --join-addr and --token')
      }
      const dockerApi = flags.dockerApi === undefined ? undefined : new DockerApiServing(parseDockerApiFlag(flags.dockerApi))
      for (const [flag, set] of [['--dashboard-actions', flags.dashboardActions], ['--dashboard-tls', flags.dashboardTls]] as const) {
        if (set === true && flags.dashboard === undefined) throw new InvalidArgumentError(flag, 'needs --dashboard')
      }
      const dashboard = flags.dashboard === undefined ? undefined : new DashboardServing(parseDashboardFlag(flags.dashboard), flags.dashboardActions === true, flags.dashboardTls === true)
      const withDockerApi = (d: StartedNode): StartedNode => {
        const withApi = dockerApi?.dockerHost === undefined ? d : { ...d, dockerApi: dockerApi.dockerHost }
        return dashboard?.url === undefined ? withApi : { ...withApi, dashboard: dashboard.url }
      }
      let current: ClusterNode
      try {
        current = await startUnlocking(c, mode, flags)
      } catch (err) {
        if (!c.signal.aborted) throw err
        c.io.stderr.write('swarmkit: stopped before the node started\n')
        return
      }
      try {
        await dockerApi?.follow(current)
        await dashboard?.follow(current)
      } catch (err) {
        await dockerApi?.close()
        await current.close()
        throw err
      }
      c.io.stdout.write(report(c, withDockerApi(await describe(current, mode === 'init', flags.autolock === true))))
      const follow = (n: ClusterNode): void => {
        const switched = (e: RoleEvent): void => {
          current = e.node
          follow(e.node)
          // A demoted manager stops serving the Docker API, a promoted worker starts.
          void (dockerApi?.follow(e.node) ?? Promise.resolve())
            .catch((err: unknown) => c.io.stderr.write(`swarmkit: the Docker API did not start: ${err instanceof Error ? err.message : String(err)}\n`))
            .then(() => dashboard?.follow(e.node))
            .catch((err: unknown) => c.io.stderr.write(`swarmkit: the dashboard did not start: ${err instanceof Error ? err.message : String(err)}\n`))
            .then(() => describe(e.node, false, false))
            .then((d) => c.io.stdout.write(report(c, withDockerApi(d))))
        }
        if (n.role === 'manager') n.once('role', switched)
        else n.once('role', switched)
      }
      follow(current)
      await new Promise<void>((resolve) => {
        if (c.signal.aborted) resolve()
        else c.signal.addEventListener('abort', () => resolve(), { once: true })
      })
      c.io.stderr.write(`swarmkit: closing ${current.role} ${current.nodeId}\n`)
      await dockerApi?.close()
      await dashboard?.close()
      await current.close()
    })
}
