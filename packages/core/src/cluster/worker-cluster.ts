/**
 * {@link WorkerCluster}: a running worker node of a cluster — the agent over its runtime,
 * connected to the managers' dispatcher over gRPC with its node certificate, publishing its
 * tasks' logs to the leader's broker, renewing its certificate. A worker has no control handles
 * (they live on managers: the type says so).
 *
 * @module
 */
import { rm } from 'node:fs/promises'
import { UnavailableError, silentLogger, systemClock } from '@swarmkit-ts/api'
import type { Logger, Timer } from '@swarmkit-ts/api'
import { credentials } from '@swarmkit-ts/pki'
import { NodeCertificateRenewal, shouldRenewCertificate } from '../ca/index.ts'
import { nodeCertificatePaths, type NodeCertificateStore } from '../certs/index.ts'
import { GrpcDispatcherConnector } from '../dispatcher/index.ts'
import { LeaderLogsClient, LogPublisher } from '../logs/index.ts'
import { WorkerNode, type WorkerTaskContainer } from '../worker/index.ts'
import { clusterNodeStatePath, writeClusterNodeState } from './node-state.ts'
import type { ClusterNodeOptions } from './options.ts'

/** How often a worker compares its session's Node object with its certificate (see `shouldRenewCertificate`). */
export const CERTIFICATE_CHECK_MS = 2000

/** What {@link WorkerCluster} is assembled from (see `Cluster`). */
export interface WorkerClusterParts {
  /** The node's loaded (or just saved) certificates: a worker certificate. */
  readonly certificates: NodeCertificateStore
  /** Managers' addresses to reach the cluster through (the join address first). */
  readonly managers: readonly string[]
  readonly options: ClusterNodeOptions
}

/** A worker of a cluster. Get one from `Cluster.join` with a worker token, or `Cluster.open`. */
export class WorkerCluster {
  /** This node's role. */
  readonly role = 'worker' as const
  /** This node's id (its certificate's CN). */
  readonly nodeId: string
  /** The cluster id. */
  readonly clusterId: string
  /** This node's address for published ports (an IP). */
  readonly address: string
  /** The node's state directory. */
  readonly stateDir: string
  /** The worker node (agent, runtime, task networking). */
  readonly worker: WorkerNode
  readonly #managers: readonly string[]
  readonly #connector: GrpcDispatcherConnector
  readonly #logsClient: LeaderLogsClient
  readonly #publisher: LogPublisher
  readonly #renewal: NodeCertificateRenewal
  readonly #logger: Logger
  readonly #certificates: NodeCertificateStore
  #checkTimer: Timer | undefined
  #closing: Promise<void> | undefined

  private constructor(parts: WorkerClusterParts) {
    const { certificates, managers, options } = parts
    const identity = certificates.identity
    if (identity === undefined) throw new UnavailableError('the node certificate is not loaded')
    this.nodeId = identity.nodeId
    this.clusterId = identity.clusterId
    this.stateDir = options.stateDir
    this.address = options.nodeAddress ?? '127.0.0.1'
    this.#managers = managers
    this.#certificates = certificates
    this.#logger = options.logger ?? silentLogger
    const creds = credentials.forClient(certificates.tlsSource(), { clusterId: identity.clusterId })
    this.#connector = new GrpcDispatcherConnector({ credentials: creds, ...(managers[0] === undefined ? {} : { joinAddress: managers[0] }) })
    this.worker = new WorkerNode({
      stateDir: options.stateDir,
      dispatcher: this.#connector.connect,
      nodeAddress: this.address,
      logger: this.#logger,
      ...(options.runtime === undefined ? {} : { runtime: options.runtime }),
      ...(options.runtimeOptions === undefined ? {} : { runtimeOptions: options.runtimeOptions }),
      ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
    })
    this.#logsClient = new LeaderLogsClient({ credentials: creds, managers: () => this.managers() })
    const worker = this.worker
    this.#publisher = new LogPublisher({
      nodeId: this.nodeId,
      runtime: {
        logs: (id, o) => {
          const runtime = worker.runtime
          if (runtime === undefined) throw new UnavailableError('this node has stopped running tasks')
          return runtime.logs(id, o)
        },
      },
      tasks: () => worker.tasks(),
      broker: () => this.#logsClient,
      onTasksChanged: (listener) => worker.onTasksChanged(listener),
      logger: this.#logger,
    })
    this.#renewal = new NodeCertificateRenewal({ certificates, managerAddress: () => this.managers()[0], logger: this.#logger })
  }

  /** Starts the worker (its session, tasks, log publisher and certificate renewal). */
  static async start(parts: WorkerClusterParts): Promise<WorkerCluster> {
    const node = new WorkerCluster(parts)
    try {
      await node.worker.start()
    } catch (err) {
      await node.close()
      throw err
    }
    node.#publisher.start()
    node.#renewal.start()
    node.#scheduleCertificateCheck()
    return node
  }

  /**
   * Every {@link CERTIFICATE_CHECK_MS}, renews the certificate when the Node object of the
   * dispatcher session asks for it (a root rotation) or shows another role than the certificate's.
   */
  #scheduleCertificateCheck(): void {
    this.#checkTimer = systemClock.setTimeout(() => {
      const node = this.worker.status?.node
      const held = this.#certificates.identity
      const renew = node !== undefined && held !== undefined && shouldRenewCertificate(node, held) ? this.#renewal.renewNow() : Promise.resolve()
      void renew
        .catch((err: unknown) => this.#logger.warn('cluster: certificate renewal failed', { err: String(err) }))
        .finally(() => {
          if (this.#closing === undefined) this.#scheduleCertificateCheck()
        })
    }, CERTIFICATE_CHECK_MS)
  }

  /** The managers this node knows, the one of its current session first. */
  managers(): string[] {
    const current = this.worker.status?.manager?.addr
    return [...new Set([...(current === undefined ? [] : [current]), ...this.#managers])]
  }

  /** The tasks this node runs now, with their containers. */
  tasks(): Iterable<WorkerTaskContainer> {
    return this.worker.tasks()
  }

  /** Whether the node has a session with a manager now. */
  get connected(): boolean {
    return this.worker.status?.connected ?? false
  }

  /**
   * Leaves the cluster: stops the node and forgets its membership (the certificates and
   * `cluster-node.json`); the managers see it down until it is removed (`nodes.remove`).
   */
  async leave(): Promise<void> {
    await this.close()
    await rm(nodeCertificatePaths(this.stateDir).dir, { recursive: true, force: true })
    await rm(clusterNodeStatePath(this.stateDir), { force: true })
  }

  /** Stops the node (its containers keep running; `Cluster.open` adopts them), remembering its current manager. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const managers = this.managers()
      this.#checkTimer?.cancel()
      this.#renewal.stop()
      await this.#publisher.stop().catch((err: unknown) => this.#logger.warn('cluster: stopping the log publisher failed', { err: String(err) }))
      await this.worker.stop().catch((err: unknown) => this.#logger.warn('cluster: stopping the worker failed', { err: String(err) }))
      this.#connector.close()
      this.#logsClient.close()
      await writeClusterNodeState(this.stateDir, { role: 'worker', managers }).catch((err: unknown) => this.#logger.warn('cluster: saving the manager list failed', { err: String(err) }))
    })()
    return this.#closing
  }

  /** Same as {@link WorkerCluster.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}
