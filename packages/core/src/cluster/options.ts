/**
 * The options of `Cluster.init`, `Cluster.join` and `Cluster.open`, and their validation (every
 * bad option is an `InvalidArgumentError` naming its field).
 *
 * @module
 */
import { isIP } from 'node:net'
import { InvalidArgumentError, validateClusterSpec } from '@swarmkit-ts/api'
import type { ClusterSpec, Logger } from '@swarmkit-ts/api'
import type { ContainerRuntime } from '@swarmkit-ts/engine-adapter'
import type { ManagerRaftOptions } from '../manager/index.ts'
import { checkRuntimeChoice, type WorkerRuntimeKind, type WorkerRuntimeOptions } from '../worker/index.ts'

/** What every way of starting a node of a cluster shares. */
export interface ClusterNodeOptions {
  /** The node's state directory (created, mode 0700). */
  readonly stateDir: string
  /** The runtime the node runs tasks on: a kind opened in the state directory, or your own instance. @default 'process' */
  readonly runtime?: WorkerRuntimeKind | ContainerRuntime | undefined
  /** Options of the runtime opened by kind. */
  readonly runtimeOptions?: WorkerRuntimeOptions | undefined
  /** The IP other nodes reach this node's published ports at. @default the host of the advertised address, else the address this host reaches its (first) manager from */
  readonly nodeAddress?: string | undefined
  /** The node's hostname in its description. @default os.hostname() */
  readonly hostname?: string | undefined
  /** Raft timing of a manager (ticks of `tickMs`; SwarmKit's 1 s ticks by default). */
  readonly raft?: ManagerRaftOptions | undefined
  /** The dispatcher's heartbeat period on a manager. @default the cluster spec's (5 s) */
  readonly heartbeatPeriodMs?: number | undefined
  /**
   * Runs a routing mesh (Docker's ingress mesh: every published ingress port, load-balanced over
   * the service's running tasks on any node) listening on `listenAddress` (an IP). Only a manager
   * holds the store that feeds it: on a worker it listens on nothing until the node is promoted,
   * and it follows the node across role changes. @default no mesh
   */
  readonly mesh?: ClusterMeshOptions | undefined
  /** @default silentLogger */
  readonly logger?: Logger | undefined
}

/** The routing mesh of a cluster node (see {@link ClusterNodeOptions.mesh}). */
export interface ClusterMeshOptions {
  /** The local IP the published ports listen on, e.g. `'0.0.0.0'` or `'127.0.0.2'`. */
  readonly listenAddress: string
}

/** Options of `Cluster.init`: a new cluster whose first manager this node is. */
export interface ClusterInitOptions extends ClusterNodeOptions {
  /** `host:port` the node's gRPC server listens on (port 0: the OS picks). */
  readonly listenAddr: string
  /** `host:port` other nodes reach it at. @default the bound address */
  readonly advertiseAddr?: string | undefined
  /** Turn autolock on: a restarted manager needs the unlock key (`unlockKey()`). @default false */
  readonly autolock?: boolean | undefined
  /** The cluster's spec. @default defaults, named `default` */
  readonly clusterSpec?: ClusterSpec | undefined
}

/** Options of `Cluster.join`: this node joins an existing cluster with a join token. */
export interface ClusterJoinOptions extends ClusterNodeOptions {
  /** `host:port` of a manager of the cluster. */
  readonly joinAddr: string
  /** The join token (`SWMTKN-1-…`): the manager token makes a manager, the worker token a worker. */
  readonly token: string
  /** `host:port` a joining manager listens on. @default the address this host reaches `joinAddr` from, port chosen by the OS */
  readonly listenAddr?: string | undefined
  /** `host:port` other nodes reach a joining manager at. @default the bound address */
  readonly advertiseAddr?: string | undefined
  /** Gives up joining when aborted. */
  readonly signal?: AbortSignal | undefined
}

/** Options of `Cluster.open`: restart the node whose state directory this is. */
export interface ClusterOpenOptions extends ClusterNodeOptions {
  /** The unlock key of an autolocked manager (else `ClusterLockedError`). */
  readonly unlockKey?: string | undefined
  /** `host:port` a manager listens on now. @default the address it listened on before */
  readonly listenAddr?: string | undefined
  /** `host:port` other nodes reach a manager at now. @default as before */
  readonly advertiseAddr?: string | undefined
  /**
   * A manager only: start as the only manager of a new Raft group, keeping everything the state
   * directory holds (services, secrets, configs, networks, nodes, the CA and join tokens). Restores
   * a backup, or recovers from the loss of a majority of managers; other managers then join again
   * with the manager token (Docker's `swarm init --force-new-cluster`). @default false
   */
  readonly forceNewCluster?: boolean | undefined
  /**
   * An autolocked manager opened without its unlock key (or with a wrong one) waits locked
   * instead of throwing `ClusterLockedError`: its control socket serves only the unlock call
   * (`unlockControlSocket`, `swarmkit swarm unlock`), every other call is refused with
   * `ClusterLockedError`; given the right key, `open` goes on and resolves with the running
   * manager (Docker's daemon and `docker swarm unlock`). @default false
   */
  readonly waitForUnlock?: boolean | undefined
  /** Called once when the manager starts waiting locked (with `waitForUnlock`). */
  readonly onLocked?: ((socketPath: string) => void) | undefined
  /** Gives up waiting for the unlock key (rejects with the signal's reason). */
  readonly signal?: AbortSignal | undefined
}

const ADDRESS = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/

/** Checks a `host:port` option. */
export function checkAddress(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ADDRESS.test(value) || Number(value.slice(value.lastIndexOf(':') + 1)) > 65535) {
    throw new InvalidArgumentError(field, `must be host:port, got ${JSON.stringify(value)}`)
  }
  return value
}

function checkOptionalAddress(value: unknown, field: string): void {
  if (value !== undefined) checkAddress(value, field)
}

function checkPositive(value: unknown, field: string): void {
  if (value !== undefined && !(typeof value === 'number' && Number.isSafeInteger(value) && value > 0)) {
    throw new InvalidArgumentError(field, `must be a positive integer, got ${JSON.stringify(value)}`)
  }
}

/** Checks what every start shares. */
export function checkNodeOptions(options: ClusterNodeOptions): void {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object')
  if (typeof options.stateDir !== 'string' || options.stateDir === '') throw new InvalidArgumentError('stateDir', 'must be a non-empty path')
  if (options.runtime !== undefined) checkRuntimeChoice(options.runtime)
  if (options.hostname !== undefined && (typeof options.hostname !== 'string' || options.hostname === '')) throw new InvalidArgumentError('hostname', 'must be a non-empty string')
  checkPositive(options.heartbeatPeriodMs, 'heartbeatPeriodMs')
  const mesh: unknown = options.mesh
  if (mesh !== undefined) {
    if (typeof mesh !== 'object' || mesh === null) throw new InvalidArgumentError('mesh', 'must be an object with listenAddress')
    const listenAddress = (mesh as { listenAddress?: unknown }).listenAddress
    if (typeof listenAddress !== 'string' || isIP(listenAddress) === 0) throw new InvalidArgumentError('mesh.listenAddress', `must be an IP address, got ${JSON.stringify(listenAddress)}`)
  }
  const raft = options.raft
  if (raft !== undefined) {
    if (typeof raft !== 'object' || raft === null) throw new InvalidArgumentError('raft', 'must be an object')
    for (const key of ['tickMs', 'electionTick', 'heartbeatTick', 'snapshotInterval'] as const) checkPositive(raft[key], `raft.${key}`)
  }
}

/** Checks the options of `Cluster.init`. */
export function checkInitOptions(options: ClusterInitOptions): void {
  checkNodeOptions(options)
  checkAddress(options.listenAddr, 'listenAddr')
  checkOptionalAddress(options.advertiseAddr, 'advertiseAddr')
  if (options.autolock !== undefined && typeof options.autolock !== 'boolean') throw new InvalidArgumentError('autolock', 'must be a boolean')
  if (options.clusterSpec !== undefined) {
    try {
      validateClusterSpec(options.clusterSpec)
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err
      const field = err.field === '' ? 'clusterSpec' : `clusterSpec.${err.field}`
      throw new InvalidArgumentError(field, err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message, { cause: err })
    }
  }
}

/** Checks the options of `Cluster.join` (the token's form is checked by the CA client). */
export function checkJoinOptions(options: ClusterJoinOptions): void {
  checkNodeOptions(options)
  checkAddress(options.joinAddr, 'joinAddr')
  if (typeof options.token !== 'string' || options.token === '') throw new InvalidArgumentError('token', 'must be a join token (SWMTKN-1-…)')
  checkOptionalAddress(options.listenAddr, 'listenAddr')
  checkOptionalAddress(options.advertiseAddr, 'advertiseAddr')
}

/** Checks the options of `Cluster.open`. */
export function checkOpenOptions(options: ClusterOpenOptions): void {
  checkNodeOptions(options)
  if (options.unlockKey !== undefined && (typeof options.unlockKey !== 'string' || options.unlockKey === '')) throw new InvalidArgumentError('unlockKey', 'must be an unlock key (SWMKEY-1-…)')
  if (options.forceNewCluster !== undefined && typeof options.forceNewCluster !== 'boolean') throw new InvalidArgumentError('forceNewCluster', 'must be a boolean')
  if (options.waitForUnlock !== undefined && typeof options.waitForUnlock !== 'boolean') throw new InvalidArgumentError('waitForUnlock', 'must be a boolean')
  if (options.onLocked !== undefined && typeof options.onLocked !== 'function') throw new InvalidArgumentError('onLocked', 'must be a function')
  checkOptionalAddress(options.listenAddr, 'listenAddr')
  checkOptionalAddress(options.advertiseAddr, 'advertiseAddr')
}

/** The host of a `host:port` address, without brackets. */
export function hostOf(address: string): string {
  const host = address.slice(0, address.lastIndexOf(':'))
  return host.startsWith('[') ? host.slice(1, -1) : host
}
