/**
 * {@link WorkerHalf}: the part of a cluster node that runs its tasks — the `WorkerNode` (agent,
 * task database, runtime), its gRPC dispatcher connector, the logs client and the log publisher.
 * A worker node is one; a manager node runs one beside its manager parts. It survives a role
 * change: a promoted worker's and a demoted manager's new node object takes the same running
 * half over, so their tasks and containers are never stopped, adopted again or duplicated.
 *
 * @module
 */
import { UnavailableError } from '@swarmkit-ts/api'
import type { Logger, NetworkAttachment, Task } from '@swarmkit-ts/api'
import { EMPTY_ROUTING_TABLE, StoreEndpointSource } from '@swarmkit-ts/network'
import type { DriverNetwork, EndpointSource, RoutingTable, RoutingTableListener } from '@swarmkit-ts/network'
import { credentials } from '@swarmkit-ts/pki'
import type { MemoryStore } from '@swarmkit-ts/store'
import type { NodeCertificateStore } from '../certs/index.ts'
import { GrpcDispatcherConnector } from '../dispatcher/index.ts'
import { LeaderLogsClient, LogPublisher } from '../logs/index.ts'
import { AttachmentNetworkSource, StoreNetworkSource, WorkerNode, type TaskNetworkSource } from '../worker/index.ts'
import type { ClusterNodeOptions } from './options.ts'

/** What {@link WorkerHalf} is made of. */
export interface WorkerHalfInit {
  /** The node's certificate store (loaded): its TLS source authenticates every call, renewals included. */
  readonly certificates: NodeCertificateStore
  /** The manager the connector starts from, before a session names the others. */
  readonly joinAddress: string | undefined
  /** The IP other nodes reach this node's published ports at. */
  readonly nodeAddress: string
  readonly options: ClusterNodeOptions
  readonly logger: Logger
}

/**
 * The task networks' source of a node whose role may change: the manager's store while it has
 * one (`StoreNetworkSource`), else what the tasks' attachments tell (`AttachmentNetworkSource`).
 */
class RoleNetworkSource implements TaskNetworkSource {
  readonly #attachments = new AttachmentNetworkSource()
  #store: StoreNetworkSource | undefined

  set store(store: MemoryStore | undefined) {
    this.#store = store === undefined ? undefined : new StoreNetworkSource(store)
  }

  network(attachment: NetworkAttachment, task: Task): DriverNetwork {
    return (this.#store ?? this.#attachments).network(attachment, task)
  }
}

/**
 * The routing table of a node whose role may change: a `StoreEndpointSource` on the manager's
 * store while it has one, else empty (a worker cannot see other nodes' tasks). Listeners are told
 * of every change, a switch of store included.
 */
class RoleEndpointSource implements EndpointSource {
  readonly #listeners = new Set<RoutingTableListener>()
  readonly #logger: Logger
  #inner: { readonly source: StoreEndpointSource; readonly unsubscribe: () => void } | undefined
  #table: RoutingTable = EMPTY_ROUTING_TABLE
  #stopping: Promise<void> = Promise.resolve()

  constructor(logger: Logger) {
    this.#logger = logger
  }

  set store(store: MemoryStore | undefined) {
    this.#stopInner()
    if (store !== undefined) {
      const source = new StoreEndpointSource({ store, logger: this.#logger })
      const unsubscribe = source.subscribe((table) => this.#publish(table))
      this.#inner = { source, unsubscribe }
      source.start()
    }
    this.#publish(this.#inner?.source.current() ?? EMPTY_ROUTING_TABLE)
  }

  current(): RoutingTable {
    return this.#table
  }

  subscribe(listener: RoutingTableListener): () => void {
    const wrapped: RoutingTableListener = (t) => listener(t)
    this.#listeners.add(wrapped)
    return () => void this.#listeners.delete(wrapped)
  }

  /** Stops following the store. */
  close(): Promise<void> {
    this.#stopInner()
    return this.#stopping
  }

  #stopInner(): void {
    const inner = this.#inner
    this.#inner = undefined
    if (inner === undefined) return
    inner.unsubscribe()
    const stopped = inner.source.stop().catch((err: unknown) => this.#logger.warn('cluster: stopping the routing table failed', { err: String(err) }))
    this.#stopping = Promise.all([this.#stopping, stopped]).then(() => undefined)
  }

  #publish(table: RoutingTable): void {
    if (table === this.#table) return
    this.#table = table
    for (const listener of [...this.#listeners]) {
      try {
        listener(table)
      } catch (err) {
        this.#logger.error('cluster: a routing table listener threw', { err: String(err) })
      }
    }
  }
}

/** The task-running half of a cluster node (see the module comment). */
export class WorkerHalf {
  /** The worker node (agent, runtime, task networking). */
  readonly worker: WorkerNode
  /** The IP other nodes reach this node's published ports at (its `node.status.addr`). */
  readonly nodeAddress: string
  /** The client of the leader's log broker (publishing, and a manager's `services.logs`). */
  readonly logsClient: LeaderLogsClient
  readonly #publisher: LogPublisher
  readonly #networks = new RoleNetworkSource()
  /** The mesh's routing table, with `options.mesh` only. */
  readonly #endpoints: RoleEndpointSource | undefined
  readonly #logger: Logger
  readonly #newConnector: (joinAddress: string | undefined) => GrpcDispatcherConnector
  #connector: GrpcDispatcherConnector
  #joinAddress: string | undefined
  #managers: () => string[] = () => []
  #closing: Promise<void> | undefined

  constructor(init: WorkerHalfInit) {
    const { certificates, options, logger } = init
    const identity = certificates.identity
    if (identity === undefined) throw new UnavailableError('the node certificate is not loaded')
    this.#logger = logger
    this.#endpoints = options.mesh === undefined ? undefined : new RoleEndpointSource(logger)
    this.nodeAddress = init.nodeAddress
    const clientCredentials = (): ReturnType<typeof credentials.forClient> => credentials.forClient(certificates.tlsSource(), { clusterId: identity.clusterId })
    this.#newConnector = (joinAddress) => new GrpcDispatcherConnector({ credentials: clientCredentials(), ...(joinAddress === undefined ? {} : { joinAddress }) })
    this.#joinAddress = init.joinAddress
    this.#connector = this.#newConnector(init.joinAddress)
    this.worker = new WorkerNode({
      stateDir: options.stateDir,
      dispatcher: (manager) => this.#connector.connect(manager),
      nodeAddress: init.nodeAddress,
      networking: { networks: this.#networks },
      ...(options.mesh === undefined || this.#endpoints === undefined ? {} : { mesh: { listenAddress: options.mesh.listenAddress, source: this.#endpoints } }),
      logger,
      ...(options.runtime === undefined ? {} : { runtime: options.runtime }),
      ...(options.runtimeOptions === undefined ? {} : { runtimeOptions: options.runtimeOptions }),
      ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
    })
    this.logsClient = new LeaderLogsClient({ credentials: clientCredentials(), managers: () => this.#managers() })
    const worker = this.worker
    this.#publisher = new LogPublisher({
      nodeId: identity.nodeId,
      runtime: {
        logs: (id, o) => {
          const runtime = worker.runtime
          if (runtime === undefined) throw new UnavailableError('this node has stopped running tasks')
          return runtime.logs(id, o)
        },
      },
      tasks: () => worker.tasks(),
      broker: () => this.logsClient,
      onTasksChanged: (listener) => worker.onTasksChanged(listener),
      logger,
    })
  }

  /** Starts the worker node (adopting what ran before) and the log publisher; closes everything when that fails. */
  async start(): Promise<void> {
    try {
      await this.worker.start()
    } catch (err) {
      await this.close()
      throw err
    }
    this.#publisher.start()
  }

  /**
   * Where the logs client finds the leader's broker: the node object that holds the half now
   * says (a worker: its session's manager and the ones it knows; a manager: the leader, then the
   * Raft members).
   */
  useManagers(managers: () => string[]): void {
    this.#managers = managers
  }

  /** The agent's connection to the dispatcher of the leader. */
  get connector(): GrpcDispatcherConnector {
    return this.#connector
  }

  /**
   * Dials `address` from now on while the agent knows no manager (it never had a session: a
   * manager removed from the Raft group while stopped only knew itself); the calls in flight are
   * cancelled, and the agent connects again.
   */
  useJoinAddress(address: string): void {
    if (address === this.#joinAddress || this.#closing !== undefined) return
    const old = this.#connector
    this.#joinAddress = address
    this.#connector = this.#newConnector(address)
    old.close()
  }

  /** The replicated store task networks (and the routing mesh's table) are read from (a manager's), or `undefined` (a worker). */
  useStore(store: MemoryStore | undefined): void {
    this.#networks.store = store
    if (this.#endpoints !== undefined) this.#endpoints.store = store
  }

  /** Stops the publisher and the worker node (containers keep running) and closes the clients. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#publisher.stop().catch((err: unknown) => this.#logger.warn('cluster: stopping the log publisher failed', { err: String(err) }))
      await this.worker.stop().catch((err: unknown) => this.#logger.warn('cluster: stopping the worker failed', { err: String(err) }))
      await this.#endpoints?.close()
      this.#connector.close()
      this.logsClient.close()
    })()
    return this.#closing
  }
}
