/**
 * `ManagerNode`: one manager of a swarm — its node server, its Raft member (records sealed with
 * the data key) replicating the store, the leader's loops started on election and stopped on
 * leadership loss, and the membership service (join, leave) with quorum-loss protection.
 *
 * @module
 */
import { EventEmitter } from 'eventemitter3'
import { AlreadyExistsError, FailedPreconditionError, NotLeaderError, cryptoRandom, generateRaftMemberId, silentLogger, systemClock, withClusterDefaults } from '@swarmkit-ts/api'
import type { Clock, Logger, RaftMemberId, Random } from '@swarmkit-ts/api'
import { ManagerKeyStore, credentials, generateJoinToken, joinTokenDigest, parseUnlockKey, type NodeIdentity } from '@swarmkit-ts/pki'
import { FileRaftStorage, forceNewCluster } from '@swarmkit-ts/raft'
import { GrpcRaftTransport } from '@swarmkit-ts/raft/grpc'
import type { Dispatcher } from '@swarmkit-ts/orchestrator'
import { createReplicatedStore, type MemoryStore, type ReplicatedStore } from '@swarmkit-ts/store'
import { clusterAuthorizer } from '../ca/index.ts'
import type { KeyHooks, MembershipHooks } from '../control/control-hooks.ts'
import { UnlockKeyFollower, autolockKeeper, unlockKeyHooks } from './autolock.ts'
import { NodeServer } from '../server/node-server.ts'
import type { LeaderComponent } from './leader-component.ts'
import { LeaderTerms } from './leader-terms.ts'
import { checkManagerInit, type ManagerInitOptions, type ManagerJoinOptions, type ManagerNodeInit } from './manager-options.ts'
import { RaftMembership, type ManagerMember } from './membership.ts'
import { MembershipClient, addMembershipService } from './membership-service.ts'
import { managerStatusComponent } from './manager-status.ts'
import { raftPeerAuthorizer } from './raft-authorizer.ts'
import { keepAddressCurrent } from './rejoin.ts'
import { campaignIfAlone } from './campaign.ts'
import { roleManager } from './role-manager.ts'
import { hasManagerState, managerStatePaths, readManagerIdentity, writeManagerIdentity, type ManagerIdentity } from './state-dir.ts'

/**
 * How long the leader's new commit index may wait for the next append to carry it to the other
 * managers (`RaftNodeInit.commitBroadcastDelayMs`): under load it always rides along, saving each
 * follower an empty append and its acknowledgement per write; when the cluster goes quiet the
 * followers apply the last writes this much later.
 */
const COMMIT_BROADCAST_DELAY_MS = 5

/** What a `leader` event says. */
export interface LeaderEvent {
  /** Whether this manager now leads. */
  readonly isLeader: boolean
  /** The known leader's Raft id (`0n`: unknown). */
  readonly leaderId: RaftMemberId
  /** The known leader's address, when known. */
  readonly leaderAddress: string | undefined
}

/** Events of a {@link ManagerNode}. */
export interface ManagerNodeEvents {
  /** The known leader, or this manager's leadership, changed. */
  leader: (event: LeaderEvent) => void
}

/** What the manager assembles before it starts. */
interface Parts {
  readonly init: ManagerNodeInit
  readonly identity: ManagerIdentity
  readonly keys: ManagerKeyStore
  readonly server: NodeServer
}

/** One manager node. Create it with {@link ManagerNode.init}, {@link ManagerNode.join} or {@link ManagerNode.open}. */
export class ManagerNode extends EventEmitter<ManagerNodeEvents> {
  /** This manager's node id (its certificate's CN). */
  readonly nodeId: string
  /** The cluster id (its certificate's O). */
  readonly clusterId: string
  /** This manager's Raft member id. */
  readonly raftId: RaftMemberId
  /** The state directory. */
  readonly stateDir: string
  /** The node's gRPC server: other parts register their services on `server.server`. */
  readonly server: NodeServer
  /** The replicated store and its Raft member. */
  readonly replicated: ReplicatedStore<MemoryStore>
  readonly #storage: FileRaftStorage
  readonly #keys: ManagerKeyStore
  readonly #terms: LeaderTerms
  readonly #membership: RaftMembership
  readonly #init: ManagerNodeInit
  readonly #logger: Logger
  readonly #unlockKey: string | undefined
  readonly #keyFollower: UnlockKeyFollower
  readonly #random: Random
  readonly #closed = new AbortController()
  #addressKeeper: Promise<void> = Promise.resolve()
  #closing: Promise<void> | undefined

  private constructor(parts: Parts, storage: FileRaftStorage) {
    super()
    const { init, identity, keys, server } = parts
    const clock: Clock = init.clock ?? systemClock
    const random: Random = init.random ?? cryptoRandom
    this.#logger = (init.logger ?? silentLogger).child({ node: identity.nodeId })
    this.#init = init
    this.nodeId = identity.nodeId
    this.clusterId = identity.clusterId
    this.raftId = identity.raftId
    this.stateDir = init.stateDir
    this.server = server
    this.#storage = storage
    this.#keys = keys
    this.#unlockKey = init.unlockKey
    this.#random = random
    const transport = new GrpcRaftTransport({
      id: identity.raftId,
      server: server.server,
      advertiseAddress: server.advertiseAddress,
      authorize: raftPeerAuthorizer(() => this.replicated.store, identity.clusterId, clock),
      channelCredentials: credentials.forClient(init.tls, { clusterId: identity.clusterId }),
      channelOptions: credentials.channelOptions('manager'),
      logger: this.#logger,
      clock,
      random,
    })
    const r = init.raft ?? {}
    this.replicated = createReplicatedStore({
      raft: {
        id: identity.raftId,
        storage,
        transport,
        clock,
        random,
        logger: this.#logger,
        ...(r.tickMs === undefined ? {} : { tickMs: r.tickMs }),
        ...(r.electionTick === undefined ? {} : { electionTick: r.electionTick }),
        ...(r.heartbeatTick === undefined ? {} : { heartbeatTick: r.heartbeatTick }),
        ...(r.snapshotInterval === undefined ? {} : { snapshotInterval: r.snapshotInterval }),
        commitBroadcastDelayMs: COMMIT_BROADCAST_DELAY_MS,
      },
    })
    this.#membership = new RaftMembership(this.replicated, transport, random, () => this.#terms.managersChanged())
    const raft = this.replicated.raft
    const builtIn: LeaderComponent[] = [
      managerStatusComponent(() => this.#membership.members()),
      autolockKeeper(random),
      roleManager({ raft: { raftId: identity.raftId, members: () => this.#membership.reachability(), removeMember: (id) => raft.removeMember(id).then(() => undefined), transferLeadership: () => this.#membership.transferLeadership() } }),
    ]
    this.#terms = new LeaderTerms({
      store: this.replicated.store,
      clock,
      random,
      logger: this.#logger,
      nodeId: identity.nodeId,
      raftId: identity.raftId,
      dispatcher: {
        ...(init.heartbeatPeriodMs === undefined ? {} : { heartbeatPeriodMs: init.heartbeatPeriodMs }),
        managers: () => this.#membership.members().map((m) => ({ nodeId: m.nodeId ?? '', addr: m.addr, weight: m.reachable ? 10 : 1 })),
      },
      components: [...builtIn, ...(init.leaderComponents ?? [])],
      // Start the loops only on a store that has applied everything committed before this term.
      ready: () => raft.linearizableRead().then(() => raft.isLeader),
    })
    raft.on('state:changed', (role) => this.#terms.setLeader(role === 'leader'))
    raft.on('leader:changed', () => {
      this.#terms.managersChanged()
      this.emit('leader', { isLeader: raft.isLeader, leaderId: raft.leader, leaderAddress: this.leaderAddress() })
    })
    this.#keyFollower = new UnlockKeyFollower(this.replicated.store, keys, keys.autolock ? init.unlockKey : undefined, this.#logger)
    addMembershipService(server.server, { host: this.#membership, authorize: clusterAuthorizer(this.replicated.store, { clusterId: identity.clusterId, clock }) })
  }

  /**
   * Creates a new cluster of one manager: the state directory, the Raft group (this manager its
   * only voter), then, once elected, the cluster object and this manager's Node.
   *
   * @throws AlreadyExistsError when `stateDir` already holds a manager; InvalidArgumentError for bad options.
   */
  static async init(options: ManagerInitOptions): Promise<ManagerNode> {
    const id = checkManagerInit(options)
    const random = options.random ?? cryptoRandom
    const identity: ManagerIdentity = { raftId: generateRaftMemberId(random), nodeId: id.nodeId, clusterId: id.clusterId }
    const paths = managerStatePaths(options.stateDir)
    if (await hasManagerState(paths)) throw new AlreadyExistsError('manager state', options.stateDir)
    const manager = await ManagerNode.#assemble(options, async () => {
      await writeManagerIdentity(paths, identity)
      return { identity, keys: await ManagerKeyStore.create(paths.keys, { tlsKeyPem: options.tls.current.keyPem, unlockKey: options.unlockKey, random }) }
    }, (m) => m.replicated.bootstrap([{ id: identity.raftId, address: m.server.advertiseAddress }]))
    try {
      await manager.replicated.raft.waitForLeader()
      await manager.#terms.settled()
      await manager.#createCluster(options)
    } catch (err) {
      await manager.close()
      throw err
    }
    return manager
  }

  /**
   * Joins the Raft group of the cluster whose manager listens at `joinAddress` (redirected to the
   * leader when that one follows): the leader adds this manager as a voter, then it starts and
   * catches up. The TLS certificate must be a manager certificate of that cluster.
   *
   * @throws AlreadyExistsError when `stateDir` already holds a manager; the leader's refusals
   *   (PermissionDeniedError, AlreadyExistsError when this node already is a member); UnavailableError.
   */
  static async join(options: ManagerJoinOptions): Promise<ManagerNode> {
    const id = checkManagerInit(options)
    const paths = managerStatePaths(options.stateDir)
    if (await hasManagerState(paths)) throw new AlreadyExistsError('manager state', options.stateDir)
    return ManagerNode.#assemble(options, async (server) => {
      const raftId = await ManagerNode.#askToJoin(options, id, server.advertiseAddress)
      const identity: ManagerIdentity = { raftId, nodeId: id.nodeId, clusterId: id.clusterId }
      await writeManagerIdentity(paths, identity)
      return { identity, keys: await ManagerKeyStore.create(paths.keys, { tlsKeyPem: options.tls.current.keyPem, unlockKey: options.unlockKey, random: options.random ?? cryptoRandom }) }
    })
  }

  /**
   * Restarts a manager from its state directory: the store is restored from the Raft snapshot
   * and log.
   *
   * @throws ClusterLockedError when the manager is autolocked and `unlockKey` is missing or wrong;
   *   NotFoundError when `stateDir` holds no manager; InvalidArgumentError when the certificate is
   *   not this manager's.
   */
  static async open(options: ManagerNodeInit): Promise<ManagerNode> {
    const id = checkManagerInit(options)
    const paths = managerStatePaths(options.stateDir)
    const identity = await readManagerIdentity(paths)
    if (identity.nodeId !== id.nodeId || identity.clusterId !== id.clusterId) {
      throw new FailedPreconditionError(`the certificate is for node ${id.nodeId} of cluster ${id.clusterId}, the state directory holds node ${identity.nodeId} of ${identity.clusterId}`, { reason: 'identity-mismatch' })
    }
    // Before binding anything: a locked manager fails fast.
    const keys = await ManagerKeyStore.open(paths.keys, { unlockKey: options.unlockKey, ...(options.random === undefined ? {} : { random: options.random }) })
    const force = options.forceNewCluster === true
    const manager = await ManagerNode.#assemble(options, () => Promise.resolve({ identity, keys }), undefined, force ? (storage, server) => ManagerNode.#forceNewCluster(storage, identity, server, options.logger ?? silentLogger) : undefined)
    // A restart on another address: the group must learn it (see rejoin.ts).
    manager.#addressKeeper = keepAddressCurrent({
      raft: manager.replicated.raft,
      address: manager.server.advertiseAddress,
      credentials: credentials.forClient(options.tls, { clusterId: identity.clusterId }),
      channelOptions: credentials.channelOptions('manager'),
      clock: options.clock ?? systemClock,
      logger: manager.#logger,
      signal: manager.#closed.signal,
    })
    return manager
  }

  /** Rewrites the Raft log so that this manager is its group's only member (see `forceNewCluster`). */
  static async #forceNewCluster(storage: FileRaftStorage, identity: ManagerIdentity, server: NodeServer, logger: Logger): Promise<void> {
    const result = await forceNewCluster(storage, identity.raftId, server.advertiseAddress)
    logger.warn('manager: forced a new cluster: this manager is the only member of the Raft group', { removed: result.removed.map(String), discardedEntries: result.discarded })
  }

  /**
   * Listens, prepares identity and keys, opens the storage (and `rewrite`s it), builds and starts
   * the manager; cleans up on failure.
   */
  static async #assemble(
    init: ManagerNodeInit,
    prepare: (server: NodeServer) => Promise<{ identity: ManagerIdentity; keys: ManagerKeyStore }>,
    beforeStart?: (m: ManagerNode) => void,
    rewrite?: (storage: FileRaftStorage, server: NodeServer) => Promise<void>,
  ): Promise<ManagerNode> {
    const server = new NodeServer({ listenAddress: init.listenAddress, advertiseAddress: init.advertiseAddress, tls: init.tls })
    await server.listen()
    let storage: FileRaftStorage | undefined
    let manager: ManagerNode | undefined
    try {
      const { identity, keys } = await prepare(server)
      storage = await FileRaftStorage.open(managerStatePaths(init.stateDir).raft, { encrypter: keys.dataKeys.encrypter(), ...(init.logger === undefined ? {} : { logger: init.logger }) })
      await rewrite?.(storage, server)
      manager = new ManagerNode({ init, identity, keys, server }, storage)
      beforeStart?.(manager)
      await manager.replicated.start()
      await campaignIfAlone(manager.replicated.raft)
      manager.#keyFollower.start()
      return manager
    } catch (err) {
      if (manager !== undefined) await manager.close()
      else {
        await server.close()
        await storage?.close()
      }
      throw err
    }
  }

  /** Calls Join on `joinAddress`, following one redirect per NotLeaderError (up to 3). */
  static async #askToJoin(options: ManagerJoinOptions, id: NodeIdentity, advertise: string): Promise<RaftMemberId> {
    let address = options.joinAddress
    for (let attempt = 0; ; attempt++) {
      const client = new MembershipClient(address, credentials.forClient(options.tls, { clusterId: id.clusterId }), credentials.channelOptions('manager'))
      try {
        return (await client.join(advertise)).raftId
      } catch (err) {
        if (err instanceof NotLeaderError && err.leaderAddr !== undefined && err.leaderAddr !== address && attempt < 3) {
          address = err.leaderAddr
          continue
        }
        throw err
      } finally {
        client.close()
      }
    }
  }

  /** Writes the cluster object and this manager's Node (init only, as leader). */
  async #createCluster(options: ManagerInitOptions): Promise<void> {
    const { clusterSpec: spec, rootCa, nodeCertificate } = options
    const trust = this.#init.tls.current.trustBundlePem
    const random = this.#init.random ?? cryptoRandom
    const unlockKey = this.#unlockKey
    const clusterSpec = withClusterDefaults(spec ?? { annotations: { name: 'default' } })
    await this.replicated.store.update((tx) => {
      tx.clusters.create({
        id: this.clusterId,
        spec: unlockKey === undefined ? clusterSpec : { ...clusterSpec, encryptionConfig: { ...clusterSpec.encryptionConfig, autoLockManagers: true } },
        rootCa: rootCa ?? {
          caCert: new Uint8Array(Buffer.from(trust)),
          caCertHash: joinTokenDigest(trust),
          joinTokens: { worker: generateJoinToken(trust, random), manager: generateJoinToken(trust, random) },
        },
        ...(unlockKey === undefined ? {} : { unlockKeys: [{ subsystem: 'manager', key: parseUnlockKey(unlockKey) }] }),
      })
      if (tx.nodes.get(this.nodeId) === undefined) {
        tx.nodes.create({
          id: this.nodeId,
          spec: { annotations: { name: '' }, desiredRole: 'manager', membership: 'accepted', availability: 'active' },
          role: 'manager',
          status: { state: 'unknown' },
          managerStatus: { raftId: this.raftId, addr: this.server.advertiseAddress, leader: true, reachability: 'reachable' },
          ...(nodeCertificate === undefined ? {} : { certificate: nodeCertificate }),
        })
      }
    })
  }

  /** This manager's store (read anywhere; write on the leader). */
  get store(): MemoryStore {
    return this.replicated.store
  }

  /** Whether this manager leads. */
  get isLeader(): boolean {
    return this.replicated.isLeader
  }

  /** The leader's address, when known (this manager's own when it leads): where to forward writes. */
  leaderAddress(): string | undefined {
    return this.replicated.leaderAddress
  }

  /** The running dispatcher (leader only; `undefined` on a follower or between terms). */
  dispatcher(): Dispatcher | undefined {
    return this.#terms.dispatcher
  }

  /** Whether the leader's loops run here now. */
  get leaderLoopsRunning(): boolean {
    return this.#terms.running
  }

  /** Resolves once the leader's loops have followed every leadership change seen so far. */
  leaderLoopsSettled(): Promise<void> {
    return this.#terms.settled()
  }

  /** The managers of the Raft group. */
  members(): ManagerMember[] {
    return this.#membership.members()
  }

  /** The checks the control API consults before role changes and removals (quorum-loss protection). */
  membershipHooks(): MembershipHooks {
    return this.#membership.hooks()
  }

  /** The control API's unlock-key hooks (the key lives in the cluster object; rotate on the leader). */
  keyHooks(): KeyHooks {
    return unlockKeyHooks(this.replicated.store, this.#random)
  }

  /**
   * This manager's TLS key as its key file keeps it (sealed with autolock): the key storage of its
   * certificate store (`NodeCertificateStore`'s `keyStorage`), so a renewal's new key lands here
   * and the key is never written in clear.
   */
  tlsKeyStorage(): { load(): Promise<string | undefined>; save(keyPem: string): Promise<void> } {
    return { load: () => Promise.resolve(this.#keys.tlsKeyPem), save: (keyPem) => this.#keys.setTlsKey(keyPem) }
  }

  /** Whether this manager's key file is sealed (autolock on). */
  get autolock(): boolean {
    return this.#keys.autolock
  }

  /** The unlock key this manager's key file is sealed under now (`undefined`: autolock off). */
  get sealedUnder(): string | undefined {
    return this.#keyFollower.current
  }

  /**
   * Takes this manager out of the Raft group, then closes it. A leader hands leadership over
   * first; the leader applies the removal (refused with FailedPreconditionError, reason `quorum`
   * or `last-manager`, when it would lose quorum).
   */
  async leave(): Promise<void> {
    const raft = this.replicated.raft
    if (raft.isLeader) {
      const others = raft.status().config.voters.filter((v) => v !== this.raftId)
      if (others.length === 0) throw new FailedPreconditionError('this is the last manager of the swarm', { reason: 'last-manager' })
      await this.#membership.transferLeadership()
    }
    const address = this.leaderAddress()
    if (address === undefined) throw new NotLeaderError({ message: 'cannot leave: no leader known' })
    const client = new MembershipClient(address, credentials.forClient(this.#init.tls, { clusterId: this.clusterId }), credentials.channelOptions('manager'))
    try {
      await client.leave()
    } finally {
      client.close()
    }
    await this.close()
  }

  /** Stops the leader's loops, the Raft member and the server, and closes the storage. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed.abort()
      await this.#addressKeeper
      await this.#terms.close()
      await this.#keyFollower.stop()
      await this.replicated.stop()
      await this.server.close()
      await this.#storage.close()
    })()
    return this.#closing
  }
}
