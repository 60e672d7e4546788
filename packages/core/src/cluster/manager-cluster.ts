/**
 * {@link ManagerCluster}: a running manager node behind the `Cluster` handles — the
 * `ManagerNode` with every service on its one gRPC server (CA, control with leader forwarding,
 * dispatcher, logs), the local control socket, and the worker half that runs this manager's
 * tasks, connected over gRPC to the cluster's dispatcher like any worker.
 *
 * @module
 */
import { join } from 'node:path'
import { rm } from 'node:fs/promises'
import { EventEmitter } from 'eventemitter3'
import { NotLeaderError, UnavailableError, cryptoRandom, silentLogger, systemClock } from '@swarmkit-ts/api'
import type { Cluster, ClusterSpec, JoinTokens, Logger, NodeRole } from '@swarmkit-ts/api'
import { credentials } from '@swarmkit-ts/pki'
import type { Frozen, MemoryStore, ObjectEvent, WatchEvent } from '@swarmkit-ts/store'
import { addCaService, clusterAuthorizer, followNodeCertificate, NodeCertificateRenewal } from '../ca/index.ts'
import type { NodeCertificateStore } from '../certs/index.ts'
import { addControlService, ControlClient, LeaderForwardingControl, serveControlSocket, StoreControlApi } from '../control/index.ts'
import type { ConfigsApi, ControlApi, ControlSocket, ControlWatchOptions, ControlWatchSelector, NetworksApi, SecretsApi, TasksApi, VersionOptions } from '../control/index.ts'
import { addDispatcherService, GrpcDispatcherConnector, type DispatcherService } from '../dispatcher/index.ts'
import { addLogsService, LeaderLogsClient, LogPublisher, type LogBrokerComponent, type LogsService } from '../logs/index.ts'
import type { LeaderEvent, ManagerNode } from '../manager/index.ts'
import { WorkerNode } from '../worker/index.ts'
import { clusterNodes, clusterServices, type ClusterNodes, type ClusterServices } from './handles.ts'
import { clusterNodeStatePath } from './node-state.ts'
import { hostOf, type ClusterNodeOptions } from './options.ts'

/** The control socket's file name in a manager's state directory. */
export const CONTROL_SOCKET_FILE = 'control.sock'

/** Attempts of `leave()` when the leader is not known yet (right after this manager handed leadership over). */
const LEAVE_ATTEMPTS = 5
/** Longest wait for a leader between two attempts of `leave()`. */
const LEAVE_WAIT_MS = 5000

/** Typed events of a manager {@link ManagerCluster}. */
export interface ClusterEvents {
  /** The known leader, or this manager's leadership, changed. */
  leader: (event: LeaderEvent) => void
  /** A node was created, updated or removed (as this manager's store applied it). */
  node: (event: ObjectEvent<'node'>) => void
  /** A service was created, updated or removed. */
  service: (event: ObjectEvent<'service'>) => void
  /** A task was created, updated or removed. */
  task: (event: ObjectEvent<'task'>) => void
}

/** What {@link ManagerCluster} is assembled from (see `Cluster`). */
export interface ManagerClusterParts {
  readonly manager: ManagerNode
  readonly certificates: NodeCertificateStore
  readonly logBroker: LogBrokerComponent
  readonly options: ClusterNodeOptions
}

/** A manager of a cluster, with the control handles. Get one from `Cluster.init`, `Cluster.join` or `Cluster.open`. */
export class ManagerCluster extends EventEmitter<ClusterEvents> {
  /** This node's role. */
  readonly role = 'manager' as const
  /** This node's id (its certificate's CN). */
  readonly nodeId: string
  /** The cluster id. */
  readonly clusterId: string
  /** The address other nodes reach this manager at (`host:port`). */
  readonly address: string
  /** The node's state directory. */
  readonly stateDir: string
  /** The path of the local control socket (mode 0600; `connectControlSocket(path)`). */
  readonly controlSocketPath: string
  /** Services: the control API's, plus `logs`, `progress`, `waitConverged`. */
  readonly services: ClusterServices
  /** Tasks (read only). */
  readonly tasks: TasksApi
  /** Nodes: the control API's, plus availability, labels, promotion and demotion. */
  readonly nodes: ClusterNodes
  /** Networks. */
  readonly networks: NetworksApi
  /** Secrets (read without their data). */
  readonly secrets: SecretsApi
  /** Configs. */
  readonly configs: ConfigsApi
  /** The underlying manager node (its store, Raft member and server). */
  readonly manager: ManagerNode
  /** The worker half running this manager's tasks. */
  readonly worker: WorkerNode
  readonly #control: LeaderForwardingControl
  readonly #parts: Assembled
  readonly #closed = new AbortController()
  #closing: Promise<void> | undefined

  private constructor(parts: ManagerClusterParts, assembled: Assembled) {
    super()
    const { manager } = parts
    this.manager = manager
    this.nodeId = manager.nodeId
    this.clusterId = manager.clusterId
    this.address = manager.server.advertiseAddress
    this.stateDir = manager.stateDir
    this.controlSocketPath = assembled.socket.path
    this.worker = assembled.worker
    this.#parts = assembled
    const control = assembled.control
    this.#control = control
    this.services = clusterServices(control, manager.store, () => assembled.logsClient)
    this.tasks = control.tasks
    this.nodes = clusterNodes(control)
    this.networks = control.networks
    this.secrets = control.secrets
    this.configs = control.configs
    manager.on('leader', (e) => this.emit('leader', e))
    void this.#forwardEvents(manager.store)
  }

  /** Registers the services on the manager's server, then starts the socket, the worker half and the renewal. */
  static async start(parts: ManagerClusterParts): Promise<ManagerCluster> {
    const assembled = await assemble(parts)
    return new ManagerCluster(parts, assembled)
  }

  /** The cluster object (without its keys). */
  getCluster(): Promise<Frozen<Cluster>> {
    return this.#control.getCluster()
  }

  /** Replaces the cluster spec (`SequenceConflictError` when `options.version` is stale). */
  updateCluster(spec: ClusterSpec, options?: VersionOptions): Promise<Frozen<Cluster>> {
    return this.#control.updateCluster(spec, options)
  }

  /** The join tokens (`SWMTKN-1-…`) of each role. */
  joinTokens(): Promise<Frozen<JoinTokens>> {
    return this.#control.joinTokens()
  }

  /** Replaces `role`'s join token (the old one stops admitting nodes) and returns both. */
  rotateJoinToken(role: NodeRole): Promise<Frozen<JoinTokens>> {
    return this.#control.rotateJoinToken(role)
  }

  /** The managers' unlock key, or undefined when autolock is off. */
  unlockKey(): Promise<string | undefined> {
    return this.#control.unlockKey()
  }

  /** Replaces the unlock key (`FailedPreconditionError` reason `autolock-off`). */
  rotateUnlockKey(): Promise<string> {
    return this.#control.rotateUnlockKey()
  }

  /** Store events from the leader matching `selector`, until `options.signal` aborts. */
  watch(selector?: ControlWatchSelector, options?: ControlWatchOptions): AsyncIterable<WatchEvent> {
    const control = this.#control
    // Resolved at iteration, so a refusal (closed node, no leader) rejects the loop instead of throwing here.
    return { [Symbol.asyncIterator]: () => control.watch(selector, options)[Symbol.asyncIterator]() }
  }

  /** Whether this manager leads now. */
  get isLeader(): boolean {
    return this.manager.isLeader
  }

  /** The leader's address, when known. */
  leaderAddress(): string | undefined {
    return this.manager.leaderAddress()
  }

  /**
   * Leaves the cluster: stops running tasks here, takes this manager out of the Raft group (a
   * leader hands over first; refused with `FailedPreconditionError` reason `quorum` or
   * `last-manager` when quorum would be lost — the node then keeps running), and closes it. The
   * state directory can no longer be opened.
   */
  async leave(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.manager.leave()
        break
      } catch (err) {
        // A leader that just handed over may not know its successor yet: wait for it, then ask again.
        if (!(err instanceof NotLeaderError) || attempt >= LEAVE_ATTEMPTS || this.#closed.signal.aborted) throw err
        await this.#leaderKnown()
      }
    }
    await this.close()
    await rm(clusterNodeStatePath(this.stateDir), { force: true })
  }

  /** Resolves once a leader's address is known, or after {@link LEAVE_WAIT_MS}. */
  #leaderKnown(): Promise<void> {
    if (this.manager.leaderAddress() !== undefined) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        timer.cancel()
        this.manager.off('leader', onLeader)
        resolve()
      }
      const onLeader = (e: LeaderEvent): void => {
        if (e.leaderAddress !== undefined) done()
      }
      const timer = systemClock.setTimeout(done, LEAVE_WAIT_MS)
      this.manager.on('leader', onLeader)
    })
  }

  /**
   * Stops everything this node runs (its containers keep running; `Cluster.open` adopts them);
   * later handle calls fail with `UnavailableError`. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed.abort()
      await closeAssembled(this.#parts)
      await this.manager.close()
      this.removeAllListeners()
    })()
    return this.#closing
  }

  /** Same as {@link ManagerCluster.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** Emits `node`, `service` and `task` events from the local store until closed. */
  async #forwardEvents(store: MemoryStore): Promise<void> {
    const signal = this.#closed.signal
    while (!signal.aborted) {
      try {
        for await (const ev of store.watch({ kinds: ['node', 'service', 'task'], actions: ['create', 'update', 'delete'] }, { signal })) {
          if (ev.action === 'commit') continue
          if (ev.kind === 'node') this.emit('node', ev)
          else if (ev.kind === 'service') this.emit('service', ev)
          else if (ev.kind === 'task') this.emit('task', ev)
        }
      } catch (err) {
        // A slow listener overflowed the watch: start again (events in between are lost, not replayed).
        this.#parts.logger.warn('cluster: event watch restarted', { err: String(err) })
      }
    }
  }
}

/** What runs beside the manager node. */
interface Assembled {
  /** From now on every handle call fails with `UnavailableError`. */
  readonly markClosed: () => void
  readonly control: LeaderForwardingControl
  readonly socket: ControlSocket
  readonly logsClient: LeaderLogsClient
  readonly logsService: LogsService
  readonly dispatcherService: DispatcherService
  readonly connector: GrpcDispatcherConnector
  readonly worker: WorkerNode
  readonly publisher: LogPublisher
  readonly renewal: NodeCertificateRenewal
  readonly follow: AbortController
  readonly following: Promise<void>
  readonly logger: Logger
}

async function assemble(parts: ManagerClusterParts): Promise<Assembled> {
  const { manager, certificates, logBroker, options } = parts
  const logger = options.logger ?? silentLogger
  const server = manager.server.server
  const store = manager.store
  const tls = certificates.tlsSource()
  const clientCredentials = (): ReturnType<typeof credentials.forClient> => credentials.forClient(tls, { clusterId: manager.clusterId })
  const authorizer = clusterAuthorizer(store, { clusterId: manager.clusterId })
  const leaderAddress = (): string | undefined => manager.leaderAddress()

  const local = new StoreControlApi({ store, clock: systemClock, random: cryptoRandom, membership: manager.membershipHooks(), keys: manager.keyHooks() })
  let closed = false
  const control = new LeaderForwardingControl({
    local: () => {
      if (closed) throw new UnavailableError('this node is closed')
      return manager.isLeader ? local : undefined
    },
    leaderAddress,
    connect: (address) => new ControlClient({ address, credentials: clientCredentials(), channelOptions: credentials.channelOptions(), forwarded: true }),
  })
  const answer = (ctx: { forwarded: boolean }): ControlApi => (ctx.forwarded ? control.direct() : control)
  addCaService(server, { store, logger })
  addControlService(server, { control: answer, authorize: (call) => void authorizer(call, ['manager']) })
  const dispatcherService = addDispatcherService(server, { dispatcher: () => manager.dispatcher(), authorize: (call) => authorizer(call, ['worker', 'manager']), leaderAddress, logger })
  const logsService = addLogsService(server, { broker: () => logBroker.current(), authorize: authorizer, leaderAddress, logger })
  const socket = await serveControlSocket(join(manager.stateDir, CONTROL_SOCKET_FILE), answer)

  const managers = (): string[] => {
    const leader = leaderAddress()
    return [...(leader === undefined ? [] : [leader]), ...manager.members().map((m) => m.addr)]
  }
  const logsClient = new LeaderLogsClient({ credentials: clientCredentials(), managers })
  const connector = new GrpcDispatcherConnector({ credentials: clientCredentials(), joinAddress: manager.server.advertiseAddress })
  const worker = new WorkerNode({
    stateDir: manager.stateDir,
    dispatcher: connector.connect,
    store,
    nodeAddress: options.nodeAddress ?? ipOr(hostOf(manager.server.advertiseAddress)),
    logger,
    ...(options.runtime === undefined ? {} : { runtime: options.runtime }),
    ...(options.runtimeOptions === undefined ? {} : { runtimeOptions: options.runtimeOptions }),
    ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
  })
  const renewal = new NodeCertificateRenewal({ certificates, managerAddress: () => leaderAddress() ?? manager.server.advertiseAddress, logger })
  const follow = new AbortController()
  const assembled: Assembled = {
    markClosed: () => {
      closed = true
    },
    control,
    socket,
    logsClient,
    logsService,
    dispatcherService,
    connector,
    worker,
    publisher: new LogPublisher({
      nodeId: manager.nodeId,
      runtime: { logs: (id, o) => requireRuntime(worker).logs(id, o) },
      tasks: () => worker.tasks(),
      broker: () => logsClient,
      onTasksChanged: (listener) => worker.onTasksChanged(listener),
      logger,
    }),
    renewal,
    follow,
    following: Promise.resolve(),
    logger,
  }
  try {
    await worker.start()
  } catch (err) {
    await closeAssembled(assembled)
    throw err
  }
  assembled.publisher.start()
  renewal.start()
  const following = followNodeCertificate({ store, nodeId: manager.nodeId, certificates, renewal, signal: follow.signal }).catch((err: unknown) => {
    logger.warn('cluster: following the node certificate failed', { err: String(err) })
  })
  return { ...assembled, following }
}

/** Stops what {@link assemble} started, in reverse; every part is tried. */
async function closeAssembled(a: Assembled): Promise<void> {
  const attempt = async (what: string, op: () => Promise<void> | void): Promise<void> => {
    try {
      await op()
    } catch (err) {
      a.logger.warn(`cluster: closing ${what} failed`, { err: String(err) })
    }
  }
  a.markClosed()
  a.follow.abort()
  await attempt('the renewal', () => a.renewal.stop())
  await a.following
  await attempt('the log publisher', () => a.publisher.stop())
  await attempt('the worker', () => a.worker.stop())
  await attempt('the dispatcher connector', () => a.connector.close())
  await attempt('the control socket', () => a.socket.close())
  await attempt('the control forwarding', () => a.control.close())
  await attempt('the logs client', () => a.logsClient.close())
  a.logsService.closeAll()
  a.dispatcherService.closeAll()
}

function requireRuntime(worker: WorkerNode): NonNullable<WorkerNode['runtime']> {
  const runtime = worker.runtime
  if (runtime === undefined) throw new UnavailableError('this node has stopped running tasks')
  return runtime
}

/** `host` when it is an IP address, else 127.0.0.1 (a node address must be an IP). */
export function ipOr(host: string): string {
  return /^[\d.]+$/.test(host) || host.includes(':') ? host : '127.0.0.1'
}
