/**
 * {@link WorkerCluster}: a running worker node of a cluster — the agent over its runtime,
 * connected to the managers' dispatcher over gRPC with its node certificate, publishing its
 * tasks' logs to the leader's broker, renewing its certificate, and becoming a manager when
 * promoted. A worker has no control handles (they live on managers: the type says so).
 *
 * @module
 */
import { rm } from 'node:fs/promises'
import { isIP } from 'node:net'
import { EventEmitter } from 'eventemitter3'
import { UnavailableError, silentLogger, systemClock } from '@swarmkit-ts/api'
import type { Logger, Timer } from '@swarmkit-ts/api'
import { NodeCertificateRenewal, shouldRenewCertificate } from '../ca/index.ts'
import { nodeCertificatePaths } from '../certs/index.ts'
import { managerStatePaths } from '../manager/index.ts'
import { hasManagerState } from '../manager/state-dir.ts'
import type { WorkerNode, WorkerTaskContainer } from '../worker/index.ts'
import { localAddressToward } from '../net/local-address.ts'
import { clusterNodeStatePath, readClusterNodeState, writeClusterNodeState } from './node-state.ts'
import { hostOf } from './options.ts'
import type { ClusterNode, NodeContinuity, WorkerClusterEvents } from './role-events.ts'
import { WorkerHalf } from './worker-half.ts'

/** How often a worker compares its session's Node object with its certificate (see `shouldRenewCertificate`). */
export const CERTIFICATE_CHECK_MS = 2000

/** What {@link WorkerCluster} is assembled from (see `Cluster`). */
export interface WorkerClusterParts extends NodeContinuity {
  /** Managers' addresses to reach the cluster through (the join address first). */
  readonly managers: readonly string[]
  /** The running half of a demoted manager; without it the worker starts its own. */
  readonly half?: WorkerHalf | undefined
  /** `host:port` to listen on once promoted. @default as recorded, else this node's address, port chosen by the OS */
  readonly listenAddr?: string | undefined
  /** `host:port` to advertise once promoted. @default the bound address */
  readonly advertiseAddr?: string | undefined
}

/**
 * A worker of a cluster. Get one from `Cluster.join` with a worker token, or `Cluster.open`.
 *
 * Promotion: once the leader has made this node a manager (`nodes.promote`), it renews its
 * certificate, joins the Raft group and starts the manager parts beside the same running tasks,
 * then emits `role` with the new {@link ManagerCluster}; this object is closed from then on.
 */
export class WorkerCluster extends EventEmitter<WorkerClusterEvents> {
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
  readonly #parts: WorkerClusterParts
  readonly #half: WorkerHalf
  readonly #managers: readonly string[]
  readonly #renewal: NodeCertificateRenewal
  readonly #logger: Logger
  #checkTimer: Timer | undefined
  #closing: Promise<void> | undefined
  #closeRequested = false
  #switching: Promise<void> | undefined
  #successor: ClusterNode | undefined
  #resumePromotion = false

  private constructor(parts: WorkerClusterParts, half: WorkerHalf) {
    super()
    const { certificates, managers, options } = parts
    const identity = certificates.identity
    if (identity === undefined) throw new UnavailableError('the node certificate is not loaded')
    this.nodeId = identity.nodeId
    this.clusterId = identity.clusterId
    this.stateDir = options.stateDir
    this.address = half.nodeAddress
    this.#parts = parts
    this.#managers = managers
    this.#logger = options.logger ?? silentLogger
    this.#half = half
    this.worker = half.worker
    half.useStore(undefined)
    half.useManagers(() => this.managers())
    this.#renewal = new NodeCertificateRenewal({ certificates, managerAddress: () => this.managers()[0], logger: this.#logger })
  }

  /** Starts the worker (its session, tasks, log publisher and certificate renewal), or takes a demoted manager's running half over. */
  static async start(given: WorkerClusterParts): Promise<WorkerCluster> {
    const parts = { ...given, options: { ...given.options, nodeAddress: given.options.nodeAddress ?? (await defaultNodeAddress(given)) } }
    const { certificates, managers, options } = parts
    const half = parts.half ?? new WorkerHalf({ certificates, joinAddress: managers[0], nodeAddress: options.nodeAddress, options, logger: options.logger ?? silentLogger })
    if (parts.half === undefined) await half.start()
    // A demoted manager's agent without a session knows no manager but the one it was: dial another.
    else if (half.worker.status?.connected !== true && managers[0] !== undefined) half.useJoinAddress(managers[0])
    const node = new WorkerCluster(parts, half)
    // A manager certificate beside manager state: a promotion that joined the Raft group was interrupted.
    node.#resumePromotion = certificates.identity?.role === 'manager' && (await hasManagerState(managerStatePaths(options.stateDir)))
    node.#renewal.start()
    node.#scheduleCertificateCheck()
    return node
  }

  /**
   * Every {@link CERTIFICATE_CHECK_MS}: renews the certificate when the Node object of the
   * dispatcher session asks for it (a root rotation) or shows another role than the
   * certificate's; switches to a manager once both the Node and the certificate say manager.
   */
  #scheduleCertificateCheck(): void {
    this.#checkTimer = systemClock.setTimeout(() => {
      const node = this.worker.status?.node
      const held = this.#parts.certificates.identity
      let next: Promise<void> = Promise.resolve()
      // An interrupted promotion's member resumes without a session: its cluster may need it for a quorum.
      if (held?.role === 'manager' && (this.#resumePromotion || (node?.role === 'manager' && node.spec.desiredRole === 'manager'))) next = this.#promote()
      else if (node !== undefined && held !== undefined && shouldRenewCertificate(node, held)) next = this.#renewal.renewNow()
      // The cluster's root CA as the session names it becomes the trust root (after a root rotation).
      const root = this.worker.status?.rootCa
      if (root !== undefined) next = next.then(async () => void (await this.#parts.certificates.adoptTrustRoot(Buffer.from(root).toString('utf8'))))
      void next
        .catch((err: unknown) => this.#logger.warn('cluster: certificate renewal or promotion failed; will retry', { err: String(err) }))
        .finally(() => {
          if (this.#closing === undefined && this.#successor === undefined) this.#scheduleCertificateCheck()
        })
    }, CERTIFICATE_CHECK_MS)
  }

  /** Runs the manager parts beside the running half (see {@link RoleSwitcher.toManager}); then this object is closed. */
  #promote(): Promise<void> {
    const joinAddress = this.managers()[0]
    if (joinAddress === undefined || this.#closeRequested) return Promise.resolve()
    this.#switching = (async () => {
      const { options } = this.#parts
      this.#renewal.stop()
      // An earlier attempt recorded the address its Raft member listens on: come back there.
      const recorded = await readClusterNodeState(this.stateDir).then(
        (state) => state.listenAddr,
        () => undefined,
      )
      let manager
      try {
        manager = await this.#parts.roles.toManager({
          certificates: this.#parts.certificates,
          keyStorage: this.#parts.keyStorage,
          options,
          roles: this.#parts.roles,
          half: this.#half,
          joinAddress,
          listenAddr: recorded ?? this.#parts.listenAddr ?? `${bracketed(this.address)}:0`,
          advertiseAddr: this.#parts.advertiseAddr,
        })
      } catch (err) {
        this.#half.useStore(undefined)
        this.#half.useManagers(() => this.managers())
        if (!this.#closeRequested) this.#renewal.start()
        throw err
      }
      this.#checkTimer?.cancel()
      this.#successor = manager
      if (this.#closeRequested) {
        await manager.close()
        return
      }
      this.#logger.info('cluster: promoted: this node runs as a manager now', { node: this.nodeId })
      this.emit('role', { role: 'manager', node: manager })
      this.removeAllListeners()
    })()
    return this.#switching
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
   *
   * @throws UnavailableError when the node was promoted (leave through the node of the `role` event).
   */
  async leave(): Promise<void> {
    this.#refuseIfSwitched()
    await this.close()
    await rm(nodeCertificatePaths(this.stateDir).dir, { recursive: true, force: true })
    await rm(clusterNodeStatePath(this.stateDir), { force: true })
  }

  #refuseIfSwitched(): void {
    if (this.#successor !== undefined) throw new UnavailableError(`node ${this.nodeId} was promoted and this object is closed: use the node from the 'role' event`)
  }

  /**
   * Stops the node (its containers keep running; `Cluster.open` adopts them), remembering its
   * current manager. Idempotent. After a promotion it does nothing: the node runs on as the
   * manager of the `role` event (close that one); during one, it waits for it and closes the new manager.
   */
  close(): Promise<void> {
    this.#closeRequested = true
    this.#closing ??= (async () => {
      this.#checkTimer?.cancel()
      await this.#switching?.catch(() => undefined)
      if (this.#successor !== undefined) return
      const managers = this.managers()
      this.#renewal.stop()
      await this.#half.close()
      const previous = await readClusterNodeState(this.stateDir).catch(() => undefined)
      await writeClusterNodeState(this.stateDir, { role: 'worker', managers, ...this.#addresses(previous) }).catch((err: unknown) => this.#logger.warn('cluster: saving the manager list failed', { err: String(err) }))
    })()
    return this.#closing
  }

  /** The addresses to record: this node's options, else what the state directory recorded (an interrupted promotion's). */
  #addresses(recorded: { listenAddr?: string; advertiseAddr?: string } | undefined): { listenAddr?: string; advertiseAddr?: string } {
    const listenAddr = recorded?.listenAddr ?? this.#parts.listenAddr
    const advertiseAddr = recorded?.advertiseAddr ?? this.#parts.advertiseAddr
    return { ...(listenAddr === undefined ? {} : { listenAddr }), ...(advertiseAddr === undefined ? {} : { advertiseAddr }) }
  }

  /** Same as {@link WorkerCluster.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

/**
 * The IP a worker given no `nodeAddress` is reached at: the host of its advertised address when
 * that is an IP, else the address this host reaches its first manager from (127.0.0.1 only
 * toward a manager on 127.0.0.1, or when no route is found).
 */
async function defaultNodeAddress(parts: WorkerClusterParts): Promise<string> {
  const advertised = parts.advertiseAddr === undefined ? undefined : hostOf(parts.advertiseAddr)
  if (advertised !== undefined && isIP(advertised) !== 0) return advertised
  const manager = parts.managers[0]
  return manager === undefined ? '127.0.0.1' : localAddressToward(manager).catch(() => '127.0.0.1')
}

/** An IP as the host of a `host:port` address (IPv6 in brackets). */
function bracketed(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip
}
