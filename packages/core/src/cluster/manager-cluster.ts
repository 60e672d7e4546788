/**
 * {@link ManagerCluster}: a running manager node behind the `Cluster` handles — the
 * `ManagerNode` with every service on its one gRPC server (CA, control with leader forwarding,
 * dispatcher, logs), the local control socket, and the worker half that runs this manager's
 * tasks, connected over gRPC to the cluster's dispatcher like any worker. A demoted manager
 * stops its manager parts and goes on as a worker over the same running half.
 *
 * @module
 */
import { rm } from 'node:fs/promises'
import { EventEmitter } from 'eventemitter3'
import { NotLeaderError, UnavailableError, systemClock } from '@swarmkit-ts/api'
import type { Cluster, ClusterSpec, JoinTokens, NodeRole, Timer } from '@swarmkit-ts/api'
import { credentials, type TlsMaterialSource } from '@swarmkit-ts/pki'
import type { Frozen, MemoryStore, ObjectEvent, WatchEvent } from '@swarmkit-ts/store'
import { ControlClient } from '../control/index.ts'
import type { ConfigsApi, ControlWatchOptions, ControlWatchSelector, LeaderForwardingControl, NetworksApi, SecretsApi, TasksApi, VersionOptions } from '../control/index.ts'
import type { LogBrokerComponent } from '../logs/index.ts'
import type { LeaderEvent, ManagerNode } from '../manager/index.ts'
import type { WorkerNode } from '../worker/index.ts'
import { clusterNodes, clusterServices, type ClusterNodes, type ClusterServices } from './handles.ts'
import { assembleManager, closeManagerParts, type AssembledManager } from './manager-parts.ts'
import { clusterNodeStatePath, writeClusterNodeState } from './node-state.ts'
import type { ClusterNode, NodeContinuity, RoleEvent } from './role-events.ts'
import type { WorkerHalf } from './worker-half.ts'

export { CONTROL_SOCKET_FILE, ipOr } from './manager-parts.ts'

/** How often a manager checks its role: a worker certificate (demoted), or a Raft membership it may have lost. */
export const ROLE_CHECK_MS = 2000

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
  /** The node was demoted and runs as a worker now (see {@link RoleEvent}); this object is closed. */
  role: (event: RoleEvent) => void
}

/** What {@link ManagerCluster} is assembled from (see `Cluster`). */
export interface ManagerClusterParts extends NodeContinuity {
  readonly manager: ManagerNode
  readonly logBroker: LogBrokerComponent
  /** A promoted worker's running half; without it the manager starts its own. */
  readonly half?: WorkerHalf | undefined
}

/**
 * A manager of a cluster, with the control handles. Get one from `Cluster.init`, `Cluster.join` or
 * `Cluster.open`.
 *
 * Demotion: once the leader has removed this manager from the Raft group (`nodes.demote`; a
 * leader hands leadership over first), it renews its certificate as a worker, stops Raft, the
 * services and the control socket, deletes its Raft state and manager keys, and goes on as a
 * worker over the same running tasks, then emits `role` with the new {@link WorkerCluster}; this
 * object is closed from then on (its handles reject with `UnavailableError`).
 */
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
  readonly #parts: ManagerClusterParts
  readonly #assembled: AssembledManager
  readonly #closed = new AbortController()
  #closing: Promise<void> | undefined
  #closeRequested = false
  #checkTimer: Timer | undefined
  #switching: Promise<void> | undefined
  #checking: Promise<void> = Promise.resolve()
  #successor: ClusterNode | undefined
  readonly #renewVia: { address?: string }
  #recordedManagers = ''
  #partsStopped = false

  private constructor(parts: ManagerClusterParts, assembled: AssembledManager, renewVia: { address?: string }) {
    super()
    this.#renewVia = renewVia
    const { manager } = parts
    this.manager = manager
    this.nodeId = manager.nodeId
    this.clusterId = manager.clusterId
    this.address = manager.server.advertiseAddress
    this.stateDir = manager.stateDir
    this.controlSocketPath = assembled.socket.path
    this.worker = assembled.half.worker
    this.#parts = parts
    this.#assembled = assembled
    const control = assembled.control
    this.#control = control
    this.services = clusterServices(control, manager.store, () => assembled.half.logsClient)
    this.tasks = control.tasks
    this.nodes = clusterNodes(control)
    this.networks = control.networks
    this.secrets = control.secrets
    this.configs = control.configs
    manager.on('leader', (e) => this.emit('leader', e))
    void this.#forwardEvents(manager.store)
  }

  /** Registers the services on the manager's server, then starts the socket, the worker half (unless given) and the renewal. */
  static async start(parts: ManagerClusterParts): Promise<ManagerCluster> {
    const renewVia: { address?: string } = {}
    const assembled = await assembleManager({ ...parts, renewVia: () => renewVia.address })
    const node = new ManagerCluster(parts, assembled, renewVia)
    await node.#recordManagers(node.#otherManagers()).catch((err: unknown) => assembled.logger.warn('cluster: recording the managers failed', { err: String(err) }))
    node.#scheduleRoleCheck()
    return node
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

  /**
   * This node's TLS material (private key, certificate chain, trusted roots), kept current through
   * renewals and root rotations: for serving another protocol (the Docker API over TCP) with the
   * cluster's mutual TLS. Its `current` is a snapshot; subscribe to follow changes.
   */
  get tls(): TlsMaterialSource {
    return this.#parts.certificates.tlsSource()
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
   *
   * @throws UnavailableError when the node was demoted (leave through the node of the `role` event).
   */
  async leave(): Promise<void> {
    if (this.#successor !== undefined) throw new UnavailableError(this.#switchedMessage())
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
   * later handle calls fail with `UnavailableError`. Idempotent. After a demotion it does
   * nothing: the node runs on as the worker of the `role` event (close that one); during one, it
   * waits for it and closes the new worker.
   */
  close(): Promise<void> {
    this.#closeRequested = true
    this.#closing ??= (async () => {
      this.#checkTimer?.cancel()
      await this.#checking // a check may be writing cluster-node.json, which leave() removes next
      await this.#switching?.catch(() => undefined)
      if (this.#successor !== undefined) return
      await this.#stopManagerParts('this node is closed', true)
      this.removeAllListeners()
    })()
    return this.#closing
  }

  /** Same as {@link ManagerCluster.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** Stops the handles, the services, the socket, (when `half`) the worker half, and the manager node. */
  async #stopManagerParts(why: string, half: boolean): Promise<void> {
    this.#closed.abort()
    this.#assembled.markClosed(why)
    if (half) await this.#assembled.half.close()
    if (this.#partsStopped) return
    this.#partsStopped = true
    await closeManagerParts(this.#assembled, why)
    await this.manager.close()
  }

  #switchedMessage(): string {
    return `node ${this.nodeId} was demoted to a worker and this object is closed: use the node from the 'role' event`
  }

  /** Every {@link ROLE_CHECK_MS}, {@link ManagerCluster.#checkRole}. */
  #scheduleRoleCheck(): void {
    this.#checkTimer = systemClock.setTimeout(() => {
      this.#checking = this.#checkRole()
        .catch((err: unknown) => this.#assembled.logger.warn('cluster: the role check failed; will retry', { err: String(err) }))
        .finally(() => {
          if (this.#closing === undefined && this.#successor === undefined) this.#scheduleRoleCheck()
        })
    }, ROLE_CHECK_MS)
  }

  /**
   * Switches to a worker once the certificate says worker (the leader removed this manager's Raft
   * member, then its role: the CA issues the role of the Node). Records the other managers'
   * addresses (`cluster-node.json`: where a node demoted while stopped reaches the cluster). A
   * member that may have been removed without hearing of it (no leader known, or no longer a voter
   * here) asks another manager for its Node, and renews its certificate there when it is a worker.
   */
  async #checkRole(): Promise<void> {
    if (this.#closeRequested) return
    if (this.#parts.certificates.identity?.role === 'worker') return this.#demote()
    const members = this.manager.members()
    await this.#recordManagers(this.#otherManagers())
    if (this.manager.isLeader || (this.manager.leaderAddress() !== undefined && members.some((m) => m.raftId === this.manager.raftId))) return
    for (const m of members) {
      if (m.raftId === this.manager.raftId || m.addr === '') continue
      const client = new ControlClient({ address: m.addr, credentials: this.#assembled.clientCredentials(), channelOptions: credentials.channelOptions(), callTimeoutMs: 5000 })
      try {
        const node = await client.nodes.get(this.nodeId)
        if (node.role === 'worker') {
          this.#renewVia.address = m.addr
          await this.#assembled.renewal.renewNow()
        }
        return
      } catch {
        // That manager does not answer (or knows no leader): ask the next one.
      } finally {
        client.close()
      }
    }
  }

  /** The other managers' addresses, as this manager's Raft configuration knows them. */
  #otherManagers(): string[] {
    return this.manager
      .members()
      .filter((m) => m.raftId !== this.manager.raftId && m.addr !== '')
      .map((m) => m.addr)
  }

  /** Writes `cluster-node.json` when the other managers' addresses changed. */
  async #recordManagers(addresses: readonly string[]): Promise<void> {
    const managers = addresses.filter((a) => a !== '').sort()
    const key = managers.join(',')
    if (key === this.#recordedManagers || managers.length === 0) return
    const listenAddr = this.manager.server.address
    const advertised = this.manager.server.advertiseAddress
    await writeClusterNodeState(this.stateDir, { role: 'manager', listenAddr, ...(advertised === listenAddr ? {} : { advertiseAddr: advertised }), managers })
    this.#recordedManagers = key
  }

  /** Stops the manager parts, then goes on as a worker over the running half (see {@link RoleSwitcher.toWorker}). */
  #demote(): Promise<void> {
    this.#switching = (async () => {
      const members = this.#otherManagers()
      const managers = members.length > 0 ? members : this.#recordedManagers.split(',').filter((a) => a !== '')
      const listenAddr = this.manager.server.address
      const advertised = this.manager.server.advertiseAddress
      this.#checkTimer?.cancel()
      await this.#stopManagerParts(this.#switchedMessage(), false)
      const { certificates, keyStorage, options, roles } = this.#parts
      let worker
      try {
        worker = await roles.toWorker({ certificates, keyStorage, options, roles, half: this.#assembled.half, managers, listenAddr, advertiseAddr: advertised === listenAddr ? undefined : advertised })
      } catch (err) {
        // Nothing runs the node now: stop its tasks' half too (Cluster.open finishes the demotion).
        await this.#assembled.half.close()
        throw err
      }
      this.#successor = worker
      if (this.#closeRequested) {
        await worker.close()
        return
      }
      this.#assembled.logger.info('cluster: demoted: this node runs as a worker now', { node: this.nodeId })
      this.emit('role', { role: 'worker', node: worker })
      this.removeAllListeners()
    })()
    return this.#switching
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
        this.#assembled.logger.warn('cluster: event watch restarted', { err: String(err) })
      }
    }
  }
}
