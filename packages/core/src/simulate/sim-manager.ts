/**
 * One simulated manager: its replicated store over a `RaftNode` (memory storage that outlives a
 * crash, a slow-disk wrapper, an endpoint on the cluster's Raft `MemoryNetwork`), the leader's
 * loops (`LeaderTerms`: allocator, orchestrator with scheduler, dispatcher, the managers' status, log broker) started on election,
 * and a `StoreControlApi` on its store, served as a real leader serves it (`readyLeaderControl`).
 *
 * @module
 */
import { FailedPreconditionError, NotLeaderError, sharedBytes, silentLogger } from '@swarmkit-ts/api'
import type { DispatcherApi, Logger, RaftMemberId, WeightedManager } from '@swarmkit-ts/api'
import { MemoryRaftStorage } from '@swarmkit-ts/raft'
import type { Message, RaftPeer, RaftRole } from '@swarmkit-ts/raft'
import { createReplicatedStore } from '@swarmkit-ts/store'
import type { MemoryStore, ReplicatedStore } from '@swarmkit-ts/store'
import type { ManualClock, MemoryNetwork, SeededRandom } from '@swarmkit-ts/testkit'
import type { MembershipHooks } from '../control/control-hooks.ts'
import { StoreControlApi } from '../control/store-control-api.ts'
import type { ControlApi } from '../control/control-api.ts'
import { readyLeaderControl } from '../cluster/leader-ready.ts'
import { LeaderTerms } from '../manager/leader-terms.ts'
import { managerStatusComponent } from '../manager/manager-status.ts'
import type { ManagerMember } from '../manager/membership.ts'
import { LogBrokerComponent } from '../logs/log-broker-component.ts'
import type { LogBroker } from '../logs/log-broker.ts'
import type { ResolvedSimulateOptions } from './options.ts'
import { SlowDiskStorage } from './raft-net.ts'

/** What every manager of one simulated cluster shares. */
export interface SimManagerContext {
  /** The cluster's one clock. */
  readonly clock: ManualClock
  /** The network of the managers' Raft messages. */
  readonly network: MemoryNetwork<Message>
  /** The cluster's options. */
  readonly options: ResolvedSimulateOptions
  /** Where the manager's parts log. */
  readonly logger: Logger
  /** The managers as the dispatcher lists them to agents (leader first). */
  readonly managerList: () => readonly WeightedManager[]
  /** The Raft group as manager `self` sees it (who it reaches), for the managers' Node status. */
  readonly members: (self: SimManager) => readonly ManagerMember[]
  /** This manager's role changed (trace, agents' links). */
  readonly onRole: (manager: SimManager, role: RaftRole) => void
  /** This manager's store was (re)created: follow it (trace). */
  readonly onStore: (manager: SimManager, store: MemoryStore, signal: AbortSignal) => void
}

/**
 * The membership hooks of a simulation: promotion and demotion are refused (the simulator has
 * no role switch yet); a worker's Node may be removed.
 */
const SIMULATED_MEMBERSHIP: MembershipHooks = {
  promote: () => Promise.reject(new FailedPreconditionError('promotion is not simulated yet', { reason: 'not-simulated' })),
  demote: () => Promise.reject(new FailedPreconditionError('demotion is not simulated yet', { reason: 'not-simulated' })),
  remove: () => Promise.resolve(),
  isRaftMember: (node) => node.role === 'manager',
}

/** See the module doc. */
export class SimManager {
  /** Its position among the managers (`manager-<index>`). */
  readonly index: number
  /** The id of its Node object. */
  readonly nodeId: string
  /** Its Raft member id. */
  readonly raftId: RaftMemberId
  /** `manager-<index>`. */
  readonly hostname: string
  /** The address agents and other managers know this manager by. */
  readonly addr: string
  /** The manager's disk: its Raft log, which a crash keeps. */
  readonly storage: SlowDiskStorage
  readonly #ctx: SimManagerContext
  readonly #random: SeededRandom
  #member: ReplicatedStore<MemoryStore> | undefined
  #terms: LeaderTerms | undefined
  #control: ControlApi | undefined
  #logBroker: LogBrokerComponent | undefined
  #life: AbortController | undefined

  constructor(ctx: SimManagerContext, index: number, nodeId: string, raftId: RaftMemberId, random: SeededRandom) {
    this.#ctx = ctx
    this.index = index
    this.nodeId = nodeId
    this.raftId = raftId
    this.hostname = `manager-${index}`
    this.addr = `${this.hostname}:2377`
    this.#random = random
    this.storage = new SlowDiskStorage(new MemoryRaftStorage({ random: random.fork() }), ctx.clock)
  }

  /** Whether the manager runs (not crashed). */
  get up(): boolean {
    return this.#member !== undefined
  }

  /** The running member (`FailedPreconditionError` while crashed). */
  get member(): ReplicatedStore<MemoryStore> {
    if (this.#member === undefined) throw new FailedPreconditionError(`manager ${this.hostname} is down`, { reason: 'node-down' })
    return this.#member
  }

  /** The control API on this manager's store (writes succeed on the leader only). */
  get control(): ControlApi {
    if (this.#control === undefined) throw new FailedPreconditionError(`manager ${this.hostname} is down`, { reason: 'node-down' })
    return this.#control
  }

  /** Aborted when this run of the manager ends (a crash); `undefined` while down. */
  get lifeSignal(): AbortSignal | undefined {
    return this.#life?.signal
  }

  /** The log broker while this manager leads (its term's), else undefined. */
  get logBroker(): LogBroker | undefined {
    return this.#logBroker?.current()
  }

  /** Whether this manager runs and leads. */
  get isLeader(): boolean {
    return this.#member?.isLeader === true
  }

  /** Whether the leader's loops run here (a dispatcher answers). */
  get serving(): boolean {
    return this.#terms?.dispatcher !== undefined
  }

  /**
   * Starts the manager on its storage (a new member, store and endpoint); with `peers`, first
   * bootstraps the Raft group (a new cluster).
   */
  async start(peers?: readonly RaftPeer[]): Promise<void> {
    if (this.#member !== undefined) return
    const { clock, network, options, logger } = this.#ctx
    const random = this.#random.fork()
    const log = logger === silentLogger ? logger : logger.child({ node: this.hostname })
    network.reconnect(this.raftId)
    const member = createReplicatedStore({
      raft: {
        id: this.raftId,
        storage: this.storage,
        transport: network.endpoint(this.raftId, { address: this.addr }),
        clock,
        random,
        logger: log,
        tickMs: options.raft.tickMs,
        electionTick: options.raft.electionTick,
        heartbeatTick: options.raft.heartbeatTick,
        snapshotInterval: options.raft.snapshotInterval,
        // Entries and snapshots on SharedArrayBuffers, which V8 leaves out of the external memory
        // that starts its full collections: every manager's log and snapshots live in this one
        // growing heap, and counted, each 64 MiB of them started another mark of the whole heap
        // (a million tasks: ~30 s per mark of 10 GB, back to back during snapshots).
        allocBytes: sharedBytes,
      },
      // A follower's store is never queried: it keeps no index until it leads (and then builds
      // each on first use). On the leader the loops look their indexes up while the tables are
      // still small.
      store: { lazyIndexes: true },
    })
    if (peers !== undefined) member.bootstrap(peers)
    const store = member.store
    const logBroker = new LogBrokerComponent()
    const terms = new LeaderTerms({
      // As a real manager: the managers' Node status (leader, reachability), then the log broker.
      components: [managerStatusComponent(() => this.#ctx.members(this)), logBroker],
      store,
      clock,
      random,
      logger: log,
      nodeId: this.nodeId,
      raftId: this.raftId,
      dispatcher: { heartbeatPeriodMs: options.heartbeatPeriodMs, managers: this.#ctx.managerList },
      ready: () => member.raft.linearizableRead().then(() => member.raft.isLeader),
    })
    member.raft.on('state:changed', (role) => {
      terms.setLeader(role === 'leader')
      this.#ctx.onRole(this, role)
    })
    member.raft.on('leader:changed', () => terms.managersChanged())
    this.#member = member
    this.#terms = terms
    this.#logBroker = logBroker
    // As a real manager: a call waits until the store holds what earlier terms committed.
    this.#control = readyLeaderControl(new StoreControlApi({ store, clock, random, membership: SIMULATED_MEMBERSHIP }), () => (terms.running ? undefined : member.raft.linearizableRead()))
    this.#life = new AbortController()
    this.#ctx.onStore(this, store, this.#life.signal)
    await member.start()
  }

  /** Crashes the manager: Raft and the leader's loops stop, memory is lost, the storage stays. */
  async crash(): Promise<void> {
    const member = this.#member
    if (member === undefined) return
    this.#ctx.network.disconnect(this.raftId)
    const terms = this.#terms
    this.#member = this.#terms = this.#control = this.#logBroker = undefined
    this.#life?.abort()
    this.#life = undefined
    await terms?.close()
    await member.stop()
  }

  /**
   * The dispatcher api for node `nodeId` while this manager serves one; a `NotLeaderError`
   * naming the leader otherwise (as a follower's gRPC dispatcher answers).
   */
  dispatcherFor(nodeId: string, leaderAddr: () => string | undefined): DispatcherApi {
    const d = this.#terms?.dispatcher
    if (d === undefined) {
      const addr = leaderAddr()
      throw new NotLeaderError(addr === undefined || addr === this.addr ? {} : { leaderAddr: addr })
    }
    return d.api(nodeId)
  }
}
