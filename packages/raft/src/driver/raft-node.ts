/**
 * `RaftNode`: the async driver around {@link RawNode}. It owns the loop — clock ticks, persist,
 * send, apply, advance — over a storage, a transport and an application {@link StateMachine},
 * and turns proposals, reads and membership changes into promises.
 */
import { EventEmitter } from 'eventemitter3'
import { FailedPreconditionError, InvalidArgumentError, cryptoRandom, isRaftMemberId, silentLogger, systemClock } from '@swarmkit-ts/api'
import type { Clock, Logger, Random, RaftMemberId, Timer } from '@swarmkit-ts/api'
import { decodeConfChange, encodeConfChange } from '../core/conf-change-codec.ts'
import { LeadershipLostError, ProposalDroppedError, ProposalOutcomeUnknownError, ProposalTooLargeError, RaftStoppedError } from '../errors.ts'
import { decodeMemberContext, decodeNodeSnapshot, encodeMemberContext, encodeNodeSnapshot, encodeDriverBatch, decodeProposals, nonceKey, type PendingProposal } from './raft-node-codec.ts'
import { RawNode } from '../core/raw-node.ts'
import { MemberIdentities } from './member-identity.ts'
import { isIncarnationEntry } from './raft-node-codec.ts'
import { isIncarnation } from '../storage/storage-identity.ts'
import type { RawNodeInit } from '../core/raw-node.ts'
import type { RaftStatus, Ready } from '../core/ready.ts'
import type { RaftRole } from '../core/role.ts'
import type { RaftStorageWithLog } from '../storage/storage.ts'
import type { MessageOrigin, RaftTransport, UndeliverableReason } from '../transport/transport.ts'
import { batchedProposalBytes, driverLimits, maxPayloadFor, proposalEntryBytes, type DriverLimits } from './raft-node-limits.ts'
import type { AnyConfChange, ConfState, Entry, HardState, Message, Snapshot } from '../core/types.ts'
import { NONE, isEmptySnapshot } from '../core/types.ts'

/**
 * The application replicated by Raft. Calls come in log order, one at a time, on every member.
 * `apply` must be deterministic: the same entries in the same order give the same state.
 */
export interface StateMachine {
  /**
   * Applies one committed proposal; the return value settles the proposer's `propose` promise.
   * Each proposal is applied at most once: the driver skips a copy of one already applied
   * (a duplicated forward), so `apply` need not deduplicate.
   *
   * `local` is the handle given as `propose(payload, { local })`, passed back only when the
   * entry applied is that very proposal of this driver, still awaited by its caller: never for
   * another member's entries, for a proposal whose caller stopped waiting (aborted, leadership
   * lost), or after a restart (entries replayed from storage). Without it, `payload` is the
   * whole truth; with it, the state machine may use what the handle carries instead of decoding.
   */
  apply(payload: Uint8Array, entry: { index: number; term: number }, local?: object): unknown
  /** Serializes the whole state as of the last applied entry. */
  snapshot(): Uint8Array
  /** Replaces the whole state with a snapshot produced by `snapshot` (possibly on another member). */
  restore(data: Uint8Array): void
}

/** Events emitted by a {@link RaftNode}. */
export interface RaftNodeEvents {
  /** The known leader changed (`NONE` = unknown). */
  'leader:changed': (leader: RaftMemberId) => void
  /** This member's role changed. */
  'state:changed': (role: RaftRole) => void
  /**
   * The transport gave up on a message for good (see `RaftTransportHandlers.undeliverable`): the
   * driver logged and counted it (see {@link RaftNode.undeliverable}) and told the core, which
   * backs off (an append: the follower is probed again; a forwarded proposal: it is dropped).
   */
  'message:undeliverable': (msg: Message, reason: UndeliverableReason) => void
  /**
   * The driver stopped because storage or the state machine failed, or because this member lost
   * its durable state (`MemberIdentityError`); the node is unusable.
   */
  'node:failed': (err: unknown) => void
  /**
   * A message from `member` was dropped because it came under `incarnation` (0n: none), not the
   * storage incarnation bound to that member: the member lost its durable state and must be
   * removed and added back under a new id (it stops itself with `MemberIdentityError` once it
   * hears from a member that knows). Emitted once per member and incarnation.
   */
  'member:refused': (member: RaftMemberId, incarnation: bigint) => void
}

/** Construction options for {@link RaftNode}. */
export interface RaftNodeInit extends Omit<RawNodeInit, 'storage' | 'random' | 'logger' | 'applied'> {
  /** Durable log (e.g. `FileRaftStorage`); the driver writes it, the embedder closes it after `stop()`. */
  storage: RaftStorageWithLog
  transport: RaftTransport
  stateMachine: StateMachine
  /** @default systemClock */
  clock?: Clock
  /** @default cryptoRandom */
  random?: Random
  /** @default silentLogger */
  logger?: Logger
  /** Milliseconds per Raft tick (SwarmKit: 1 s). @default 1000 */
  tickMs?: number
  /** Take a snapshot after this many applied entries; 0 disables automatic snapshots. @default 10000 */
  snapshotInterval?: number
  /** Entries kept in the log behind a snapshot for slow followers. @default 500 */
  logEntriesForSlowFollowers?: number
  /**
   * Proposals made in the same turn of the event loop (or while the previous write is in flight)
   * travel as one log entry of at most this many proposals… @default 1024
   */
  maxBatchProposals?: number
  /**
   * …and at most this many payload bytes (a single larger proposal gets an entry of its own).
   * An entry also never exceeds what the transport's `maxMessageBytes` can carry. @default 1 MiB
   */
  maxBatchBytes?: number
  /**
   * The core's largest append (see `RawNodeInit.maxSizePerMsg`). With a transport that declares
   * `maxMessageBytes` it defaults to the smaller of 65535 and the largest value whose appends
   * always fit that limit, and a larger value is refused. @default 65535
   */
  maxSizePerMsg?: number
}

/** Options of a single call. */
export interface RaftNodeCallOptions {
  signal?: AbortSignal
}

/** Options of {@link RaftNode.propose}. */
export interface RaftNodeProposeOptions extends RaftNodeCallOptions {
  /**
   * An opaque handle the state machine gets back as `apply`'s `local` argument when this
   * proposal's entry is applied on this member (see {@link StateMachine.apply}); e.g. the
   * proposer's own decoded form of `payload`, so that the proposing member need not decode it.
   */
  local?: object
}

/** A member of a new cluster. */
export interface RaftPeer {
  id: RaftMemberId
  address: string
}

interface Waiter {
  resolve(v: unknown): void
  reject(e: unknown): void
  /** A proposal's `local` handle, handed back to the state machine when its entry is applied. */
  local?: object
}

/** The async driver of one Raft member. */
export class RaftNode extends EventEmitter<RaftNodeEvents> {
  readonly id: RaftMemberId
  readonly #raw: RawNode
  readonly #storage: RaftStorageWithLog
  readonly #transport: RaftTransport
  readonly #sm: StateMachine
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #tickMs: number
  readonly #electionTick: number
  readonly #snapshotInterval: number
  readonly #keep: number
  readonly #nonce: Uint8Array
  #seq = 0
  readonly #waiters = new Map<number, Waiter>()
  readonly #reads = new Map<number, Waiter & { index?: number }>()
  /** Proposals waiting for the loop to hand them to the core as one entry. */
  #batch: PendingProposal[] = []
  readonly #maxBatchProposals: number
  readonly #maxBatchBytes: number
  /** Size limits derived from the transport's `maxMessageBytes` (see raft-node-limits.ts). */
  readonly #limits: DriverLimits
  /** Messages the transport gave up on, by reason. */
  readonly #undeliverable: Record<UndeliverableReason, number> = { 'too-large': 0, 'queue-full': 0 }
  readonly #members = new Map<RaftMemberId, string>()
  /** Addresses told by the transport for members the log has not given us yet (see `#learn`). */
  readonly #learned = new Map<RaftMemberId, string>()
  /** Members removed by an applied conf change: never learned again. */
  readonly #removed = new Set<RaftMemberId>()
  /** Our storage incarnation and the ones bound in the log (see member-identity.ts). */
  readonly #identity: MemberIdentities
  /**
   * Per proposing driver (hex nonce), the highest sequence number of a proposal applied: a
   * proposal is applied only above it, so a duplicated forward is never applied twice. Part of
   * the applied state: identical on every member, kept in snapshots.
   */
  #sessions = new Map<string, number>()
  /** The nonce of the last session looked up, and its key (see `#firstTime`). */
  #lastSessionNonce: Uint8Array | undefined
  #lastSessionKey = ''
  #confState: ConfState
  /** The hard state last written to storage. */
  #hard: HardState
  #applied: number
  #snapshotIndex: number
  #leader: RaftMemberId = NONE
  #role: RaftRole = 'follower'
  #ticker: Timer | undefined
  #running = false
  #stopped = false
  #failed: unknown
  #loop: Promise<void> | undefined
  #wake = false
  /** Called once when the node stops or fails (waiters of `waitForLeader` and transfers). */
  readonly #endListeners = new Set<() => void>()

  /**
   * Restores the member from `init.storage` (state machine from the latest snapshot, member
   * addresses from it and from the log). Call {@link RaftNode.bootstrap} for a brand-new
   * cluster, then {@link RaftNode.start}.
   *
   * @throws MemberIdentityError when the storage's snapshot binds this member to another storage
   *   incarnation than the storage's own (its incarnation was lost; see `RaftStorage`).
   */
  constructor(init: RaftNodeInit) {
    super()
    if (!isRaftMemberId(init.id)) throw new InvalidArgumentError('id', 'must be a non-zero 64-bit bigint')
    const tickMs = init.tickMs ?? 1000
    if (!Number.isFinite(tickMs) || tickMs <= 0) throw new InvalidArgumentError('tickMs', `must be a positive number, got ${String(tickMs)}`)
    const interval = init.snapshotInterval ?? 10_000
    if (!Number.isSafeInteger(interval) || interval < 0) throw new InvalidArgumentError('snapshotInterval', 'must be a non-negative integer')
    const keep = init.logEntriesForSlowFollowers ?? 500
    if (!Number.isSafeInteger(keep) || keep < 0) throw new InvalidArgumentError('logEntriesForSlowFollowers', 'must be a non-negative integer')
    const maxBatchProposals = init.maxBatchProposals ?? 1024
    if (!Number.isSafeInteger(maxBatchProposals) || maxBatchProposals < 1) throw new InvalidArgumentError('maxBatchProposals', 'must be a positive integer')
    const maxBatchBytes = init.maxBatchBytes ?? 1024 * 1024
    if (!Number.isSafeInteger(maxBatchBytes) || maxBatchBytes < 1) throw new InvalidArgumentError('maxBatchBytes', 'must be a positive integer')
    this.#maxBatchProposals = maxBatchProposals
    this.#maxBatchBytes = maxBatchBytes
    this.#limits = driverLimits(init.transport.maxMessageBytes, init.maxSizePerMsg)
    this.id = init.id
    this.#storage = init.storage
    this.#transport = init.transport
    this.#sm = init.stateMachine
    this.#clock = init.clock ?? systemClock
    this.#logger = init.logger ?? silentLogger
    this.#tickMs = tickMs
    this.#electionTick = init.electionTick ?? 10
    this.#snapshotInterval = interval
    this.#keep = keep
    const random = init.random ?? cryptoRandom
    this.#nonce = random.bytes(8)

    const snap = init.storage.snapshot()
    const initial = init.storage.initialState()
    const incarnation = initial.incarnation ?? 0n
    if (incarnation !== 0n && !isIncarnation(incarnation)) throw new InvalidArgumentError('storage.initialState().incarnation', 'must be a bigint in [0, 2^64)')
    this.#identity = new MemberIdentities(init.id, incarnation)
    this.#confState = initial.confState
    this.#hard = initial.hardState
    this.#applied = 0
    if (!isEmptySnapshot(snap)) this.#restore(snap)
    this.#snapshotIndex = snap.metadata.index
    const { storage: _s, transport: _t, stateMachine: _m, clock: _c, tickMs: _tm, snapshotInterval: _si, logEntriesForSlowFollowers: _k, maxBatchProposals: _bp, maxBatchBytes: _bb, maxSizePerMsg: _ms, ...raw } = init
    const maxSizePerMsg = this.#limits.maxSizePerMsg
    this.#raw = new RawNode({ ...raw, ...(maxSizePerMsg === undefined ? {} : { maxSizePerMsg }), storage: init.storage, random, logger: this.#logger, applied: this.#applied })
  }

  /**
   * Creates a new cluster with `peers` as its voters (include this member). Only on empty
   * storage, before {@link RaftNode.start}.
   */
  bootstrap(peers: readonly RaftPeer[]): void {
    if (this.#running || this.#stopped) throw new FailedPreconditionError('raft: bootstrap must come before start', { reason: 'already-started' })
    const contexts = peers.map((p, i) => {
      if (typeof p.address !== 'string') throw new InvalidArgumentError(`peers[${i}].address`, 'must be a string')
      const context = encodeMemberContext({ requestId: new Uint8Array(0), address: p.address })
      const tooLarge = this.#confChangeTooLarge(`peers[${i}].address`, { version: 1, type: 'add-voter', nodeId: p.id, context })
      if (tooLarge !== undefined) throw tooLarge
      return context
    })
    this.#raw.bootstrap(peers.map((p, i) => ({ id: p.id, context: contexts[i] as Uint8Array })))
  }

  /**
   * Starts the transport, the ticker and the loop.
   *
   * @throws FailedPreconditionError when called a second time, or after `stop()`.
   */
  async start(): Promise<void> {
    if (this.#running || this.#stopped) throw new FailedPreconditionError('raft: a RaftNode can be started once', { reason: 'already-started' })
    this.#running = true
    for (const [id, addr] of this.#members) if (id !== this.id) this.#transport.addPeer(id, addr)
    await this.#transport.start({
      message: (m, origin) =>
        this.#guard(() => {
          if (!this.#admit(m)) return
          if (origin !== undefined) this.#learn(origin)
          this.#raw.step(m)
        }),
      unreachable: (to) => this.#guard(() => this.#raw.reportUnreachable(to)),
      undeliverable: (msg, reason) => this.#guard(() => this.#undeliverableMessage(msg, reason)),
      snapshotStatus: (to, ok) => this.#guard(() => this.#raw.reportSnapshot(to, ok)),
    })
    this.#scheduleTick()
    this.#kick()
  }

  /**
   * Stops ticking, stops the transport and waits for the loop to finish its current batch, so
   * that storage holds everything it acknowledged. Pending requests reject with `RaftStoppedError`.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#ticker?.cancel()
    await this.#transport.stop()
    await this.#loop
    this.#rejectAll(new RaftStoppedError())
    this.#notifyEnd()
  }

  /**
   * Resolves with the leader's id as soon as a leader is known (at once if one is known now).
   * May be called before {@link RaftNode.start}.
   *
   * @throws the signal's reason (an `AbortError` unless given another) when `options.signal` aborts.
   * @throws RaftStoppedError when the node is stopped, or fails (`cause`: the storage or state
   *   machine error), before a leader is known.
   */
  waitForLeader(options?: RaftNodeCallOptions): Promise<RaftMemberId> {
    const ended = this.#ended()
    if (ended !== undefined) return Promise.reject(ended)
    const signal = options?.signal
    if (signal?.aborted === true) return Promise.reject(abortReason(signal))
    if (this.#leader !== NONE) return Promise.resolve(this.#leader)
    return new Promise<RaftMemberId>((resolve, reject) => {
      const onLeader = (lead: RaftMemberId): void => {
        if (lead === NONE) return
        cleanup()
        resolve(lead)
      }
      const onEnd = (): void => {
        cleanup()
        reject(this.#ended() ?? new RaftStoppedError())
      }
      const onAbort = (): void => {
        cleanup()
        reject(abortReason(signal as AbortSignal))
      }
      const cleanup = (): void => {
        this.off('leader:changed', onLeader)
        this.#endListeners.delete(onEnd)
        signal?.removeEventListener('abort', onAbort)
      }
      this.on('leader:changed', onLeader)
      this.#endListeners.add(onEnd)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** The known leader (`NONE` when unknown). */
  get leader(): RaftMemberId {
    return this.#leader
  }
  /** This member's role. */
  get role(): RaftRole {
    return this.#role
  }
  /** Whether this member is the leader. */
  get isLeader(): boolean {
    return this.#role === 'leader'
  }
  /** Member addresses as recorded in the log. */
  get members(): ReadonlyMap<RaftMemberId, string> {
    return this.#members
  }
  /** The index of the last applied entry. */
  get applied(): number {
    return this.#applied
  }
  /** The incarnation of this member's storage (`0n`: none; see `RaftStorage`). */
  get incarnation(): bigint {
    return this.#identity.incarnation
  }
  /** The storage incarnation bound to each member in the log (applied state). */
  get memberIncarnations(): ReadonlyMap<RaftMemberId, bigint> {
    return this.#identity.bound
  }
  /** The core's status. */
  status(): RaftStatus {
    return this.#raw.status()
  }

  /**
   * Proposes `payload`; resolves with the state machine's `apply` result once the entry is
   * applied on this member. A follower forwards to the leader.
   *
   * Proposals made while the loop is busy join one log entry (see `maxBatchProposals`); each
   * is still applied, and settles, on its own, in order. A proposal whose signal aborts before
   * the loop picks it up is never proposed. `options.local` travels with the proposal to this
   * member's state machine (see {@link RaftNodeProposeOptions.local}).
   *
   * @throws ProposalTooLargeError at once when the entry would not fit one transport message
   *   (see {@link RaftNode.maxProposalBytes}); InvalidArgumentError for a payload that is not bytes.
   * @throws ProposalDroppedError when the core refuses the proposal (no leader, …), with reason
   *   `overtaken` when a later proposal of this driver was applied first (then it never is), or
   *   `undeliverable` when the transport gave up on its forward to the leader.
   * @throws LeadershipLostError when the leader changes first (the outcome is unknown).
   * @throws ProposalOutcomeUnknownError when a Raft snapshot that may contain the proposal
   *   replaces this member's state first.
   * @throws RaftStoppedError when the node stops or has failed (`cause`: the storage or state
   *   machine error); FailedPreconditionError before `start()`.
   */
  propose(payload: Uint8Array, options?: RaftNodeProposeOptions): Promise<unknown> {
    if (!(payload instanceof Uint8Array)) return Promise.reject(new InvalidArgumentError('payload', 'must be a Uint8Array'))
    const { maxEntryBytes, maxMessageBytes } = this.#limits
    if (maxMessageBytes !== undefined && proposalEntryBytes(payload.byteLength) > maxEntryBytes) {
      return Promise.reject(new ProposalTooLargeError('payload', proposalEntryBytes(payload.byteLength), maxEntryBytes, maxMessageBytes))
    }
    const local = options?.local
    if (local !== undefined && (typeof local !== 'object' || local === null)) return Promise.reject(new InvalidArgumentError('local', 'must be an object'))
    return this.#request((seq) => {
      if (local !== undefined) (this.#waiters.get(seq) as Waiter).local = local
      this.#batch.push({ seq, payload })
    }, options)
  }

  /** Hands the waiting proposals to the core, as few entries as the batch limits allow. */
  #flushProposals(): void {
    this.#proposeBindings()
    if (this.#batch.length === 0) return
    const waiting = this.#batch
    this.#batch = []
    let group: PendingProposal[] = []
    let bytes = 0
    // Bytes of the entry's data if the group is encoded as a batch (an upper bound for one).
    let entryBytes = 0
    const submit = (): void => {
      if (group.length === 0) return
      const mine = group
      group = []
      bytes = 0
      entryBytes = 0
      try {
        this.#raw.propose(encodeDriverBatch(this.#nonce, mine))
      } catch (err) {
        for (const p of mine) {
          const w = this.#waiters.get(p.seq)
          this.#waiters.delete(p.seq)
          w?.reject(err)
        }
      }
    }
    for (const p of waiting) {
      // Aborted while waiting: its waiter is gone, and so is the proposal.
      if (!this.#waiters.has(p.seq)) continue
      const cost = batchedProposalBytes(p.payload.byteLength)
      if (group.length >= this.#maxBatchProposals || (group.length > 0 && (bytes + p.payload.byteLength > this.#maxBatchBytes || entryBytes + cost > this.#limits.maxEntryBytes))) submit()
      group.push(p)
      bytes += p.payload.byteLength
      entryBytes += cost
    }
    submit()
  }

  /**
   * Adds a voter reachable at `address`; resolves when the change is applied here. Like every
   * membership change: InvalidArgumentError for a bad id or address, ProposalTooLargeError
   * (`address`) when the change would not fit one transport message, then the rejections of
   * {@link RaftNode.propose}.
   */
  addMember(id: RaftMemberId, address: string, options?: RaftNodeCallOptions): Promise<unknown> {
    return this.#confChange('add-voter', id, address, options)
  }
  /** Adds a non-voting learner; promote it later with {@link RaftNode.promote}. */
  addLearner(id: RaftMemberId, address: string, options?: RaftNodeCallOptions): Promise<unknown> {
    return this.#confChange('add-learner', id, address, options)
  }
  /** Makes a learner a voter. */
  promote(id: RaftMemberId, options?: RaftNodeCallOptions): Promise<unknown> {
    return this.#confChange('add-voter', id, this.#members.get(id) ?? '', options)
  }
  /**
   * Records a new address for an existing member (etcd's ConfChangeUpdateNode): every member
   * applies it in log order and points its transport there. Use it when a member restarts on a
   * different address.
   */
  updateMember(id: RaftMemberId, address: string, options?: RaftNodeCallOptions): Promise<unknown> {
    return this.#confChange('update-node', id, address, options)
  }
  /** Removes a voter or learner. */
  removeMember(id: RaftMemberId, options?: RaftNodeCallOptions): Promise<unknown> {
    return this.#confChange('remove', id, '', options)
  }

  #confChange(type: 'add-voter' | 'add-learner' | 'remove' | 'update-node', id: RaftMemberId, address: string, options?: RaftNodeCallOptions): Promise<unknown> {
    if (!isRaftMemberId(id)) return Promise.reject(new InvalidArgumentError('id', 'must be a non-zero 64-bit bigint'))
    if (type !== 'remove' && address === '') return Promise.reject(new InvalidArgumentError('address', 'must not be empty'))
    // The request id's size does not depend on the sequence number: check before asking.
    const tooLarge = this.#confChangeTooLarge('address', { version: 1, type, nodeId: id, context: encodeMemberContext({ requestId: this.#requestId(0), address }) })
    if (tooLarge !== undefined) return Promise.reject(tooLarge)
    return this.#request(
      (seq) => this.#raw.proposeConfChange({ version: 1, type, nodeId: id, context: encodeMemberContext({ requestId: this.#requestId(seq), address }) }),
      options,
    )
  }

  /** A ProposalTooLargeError (`field`) when the conf change's entry would not fit the transport. */
  #confChangeTooLarge(field: string, cc: AnyConfChange): ProposalTooLargeError | undefined {
    const { maxEntryBytes, maxMessageBytes } = this.#limits
    if (maxMessageBytes === undefined) return undefined
    const size = encodeConfChange(cc).byteLength
    return size > maxEntryBytes ? new ProposalTooLargeError(field, size, maxEntryBytes, maxMessageBytes) : undefined
  }

  /**
   * The largest `payload` {@link RaftNode.propose} accepts: its entry must travel in one message
   * of the transport's `maxMessageBytes` (`Infinity` when the transport declares no limit).
   */
  get maxProposalBytes(): number {
    const { maxEntryBytes, maxMessageBytes } = this.#limits
    return maxMessageBytes === undefined ? Number.POSITIVE_INFINITY : maxPayloadFor(maxEntryBytes)
  }

  /** Messages the transport gave up on since start, by reason (see `'message:undeliverable'`). */
  get undeliverable(): Readonly<Record<UndeliverableReason, number>> {
    return { ...this.#undeliverable }
  }

  /**
   * The transport gave up on `msg`: log and count it, and let the core back off instead of
   * resending blindly. An append (or snapshot) makes the follower unreachable for the core, which
   * probes it again at the heartbeat pace (a snapshot is also reported failed by the transport);
   * our forwarded proposals in a lost `prop` never reached the leader: they are dropped.
   */
  #undeliverableMessage(msg: Message, reason: UndeliverableReason): void {
    this.#undeliverable[reason]++
    const fields = { to: msg.to.toString(16), type: msg.type, reason }
    // 'too-large' means the limits disagree with the transport's (they are derived to agree).
    if (reason === 'too-large') this.#logger.error('raft: the transport cannot carry a message', fields)
    else this.#logger.warn('raft: the transport dropped a message', fields)
    if (msg.type === 'prop') {
      const dropped = new ProposalDroppedError('undeliverable')
      for (const e of msg.entries) {
        if (e.type === 'conf-change') {
          const cc = decodeConfChange(e.data)
          if (cc.context.byteLength > 0) this.#settle(decodeMemberContext(cc.context).requestId, undefined, dropped)
        } else if (e.data.byteLength > 0) {
          for (const p of decodeProposals(e.data)) this.#settle(p.requestId, undefined, dropped)
        }
      }
    } else if (msg.type === 'app' || msg.type === 'snapshot') {
      this.#raw.reportUnreachable(msg.to)
    }
    this.emit('message:undeliverable', msg, reason)
  }

  /**
   * Resolves once this member's state machine reflects every write committed before the call
   * (ReadIndex): a read made after it is linearizable.
   *
   * @throws LeadershipLostError when leadership is lost first; RaftStoppedError when the node
   *   stops or has failed; FailedPreconditionError before `start()`.
   */
  linearizableRead(options?: RaftNodeCallOptions): Promise<void> {
    return this.#request((seq) => this.#raw.readIndex(this.#requestId(seq)), options, this.#reads).then(() => undefined)
  }

  /**
   * Asks the leader to hand leadership to `to`; resolves when `to` is the known leader, rejects
   * with `LeadershipLostError` when another member wins or after two election timeouts.
   */
  transferLeadership(to: RaftMemberId, options?: RaftNodeCallOptions): Promise<void> {
    const unusable = this.#unusable()
    if (unusable !== undefined) return Promise.reject(unusable)
    if (this.#leader === to) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const timeout = this.#clock.setTimeout(() => done(new LeadershipLostError('raft: leadership transfer timed out')), 2 * this.#electionTick * this.#tickMs)
      const onLeader = (lead: RaftMemberId): void => {
        if (lead === to) done()
        else if (lead !== NONE && lead !== this.id) done(new LeadershipLostError(`raft: leadership went to ${lead.toString(16)} instead`))
      }
      const onAbort = (): void => done(options?.signal?.reason ?? new RaftStoppedError())
      const onEnd = (): void => done(this.#ended() ?? new RaftStoppedError())
      const done = (err?: unknown): void => {
        timeout.cancel()
        this.off('leader:changed', onLeader)
        this.#endListeners.delete(onEnd)
        options?.signal?.removeEventListener('abort', onAbort)
        if (err === undefined) resolve()
        else reject(toError(err))
      }
      this.on('leader:changed', onLeader)
      this.#endListeners.add(onEnd)
      options?.signal?.addEventListener('abort', onAbort, { once: true })
      this.#guard(() => this.#raw.transferLeadership(to))
    })
  }

  /**
   * Starts a campaign now (tests and manual failover). With lease-based reads it is ignored
   * within an election timeout of hearing from a leader or of starting (use
   * {@link RaftNode.transferLeadership}).
   *
   * @throws FailedPreconditionError before `start()`; RaftStoppedError after `stop()` or a failure.
   */
  campaign(): void {
    const unusable = this.#unusable()
    if (unusable !== undefined) throw unusable
    this.#guard(() => this.#raw.campaign())
  }

  /**
   * Why a request cannot run now: the node failed or stopped (`RaftStoppedError`, with the
   * failure as `cause`), or was not started (`FailedPreconditionError`); `undefined` when running.
   */
  #unusable(): Error | undefined {
    const ended = this.#ended()
    if (ended !== undefined) return ended
    if (!this.#running) return new FailedPreconditionError('raft: node not started', { reason: 'not-started' })
    return undefined
  }

  /** `RaftStoppedError` once the node failed (with the failure as `cause`) or stopped; else `undefined`. */
  #ended(): RaftStoppedError | undefined {
    if (this.#failed !== undefined) return new RaftStoppedError('raft: node failed', { cause: this.#failed })
    if (this.#stopped) return new RaftStoppedError()
    return undefined
  }

  /** Tells the waiters of {@link RaftNode.waitForLeader} and transfers that the node stopped or failed. */
  #notifyEnd(): void {
    for (const f of [...this.#endListeners]) f()
  }

  #request(submit: (seq: number) => void, options: RaftNodeCallOptions | undefined, table = this.#waiters): Promise<unknown> {
    const unusable = this.#unusable()
    if (unusable !== undefined) return Promise.reject(unusable)
    const signal = options?.signal
    if (signal?.aborted === true) return Promise.reject(abortReason(signal))
    const key = this.#seq++
    return new Promise((resolve, reject) => {
      let waiter: Waiter = { resolve, reject: (e) => reject(toError(e)) }
      if (signal !== undefined) {
        const onAbort = (): void => {
          table.delete(key)
          reject(abortReason(signal))
        }
        waiter = {
          resolve: (v) => {
            signal.removeEventListener('abort', onAbort)
            resolve(v)
          },
          reject: (e) => {
            signal.removeEventListener('abort', onAbort)
            reject(toError(e))
          },
        }
        signal.addEventListener('abort', onAbort, { once: true })
      }
      table.set(key, waiter)
      try {
        submit(key)
      } catch (err) {
        table.delete(key)
        waiter.reject(err)
        return
      }
      this.#kick()
    })
  }

  /** A request id: this driver's 8-byte nonce, then the sequence number (so other members' ids never match ours). */
  #requestId(seq: number): Uint8Array {
    const id = new Uint8Array(16)
    id.set(this.#nonce, 0)
    const dv = new DataView(id.buffer)
    dv.setUint32(8, Math.floor(seq / 2 ** 32))
    dv.setUint32(12, seq >>> 0)
    return id
  }

  /** The sequence number of one of our request ids, or undefined for another member's. */
  #ourSeq(id: Uint8Array): number | undefined {
    if (id.byteLength !== 16 || !sameNonce(id, this.#nonce)) return undefined
    return requestSeq(id)
  }

  /**
   * Points the transport at a sender the log has not told us about yet — typically a leader
   * added by a conf change this member has not applied — so that it can answer. The log's
   * addresses win, and removed members stay removed.
   */
  #learn(origin: MessageOrigin): void {
    const id = origin.id
    if (id === this.id || this.#members.has(id) || this.#removed.has(id) || this.#learned.get(id) === origin.address) return
    this.#learned.set(id, origin.address)
    this.#transport.addPeer(id, origin.address)
  }

  /**
   * Whether a message from the network may reach the core: a sender under another incarnation
   * than the one bound to it is refused; a message naming another incarnation for us means we
   * lost our state, and stops this node (see member-identity.ts).
   */
  #admit(m: Message): boolean {
    const v = this.#identity.check(m)
    switch (v.kind) {
      case 'accept':
        return true
      case 'refuse':
        if (v.first) {
          this.#logger.warn('raft: refusing a member that runs on another storage incarnation than the one bound to it (it lost its state)', { member: m.from, incarnation: v.incarnation })
          this.emit('member:refused', m.from, v.incarnation)
        }
        return false
      case 'lost':
        this.#fail(v.error)
        return false
    }
  }

  /** As leader, proposes binding the members heard from whose incarnation is not bound yet. */
  #proposeBindings(): void {
    const p = this.#identity.takeProposal()
    if (p === undefined) return
    try {
      this.#raw.propose(p.data)
    } catch {
      this.#identity.proposalFailed(p.ids)
    }
  }

  /** Runs a core call from a callback; a throw there means a broken core or storage. */
  #guard(fn: () => void): void {
    if (this.#stopped || this.#failed !== undefined) return
    try {
      fn()
    } catch (err) {
      this.#logger.warn('raft: call into the core failed', { err: String(err) })
    }
    this.#kick()
  }

  #scheduleTick(): void {
    this.#ticker = this.#clock.setTimeout(() => {
      if (this.#stopped || this.#failed !== undefined) return
      this.#raw.tick()
      this.#kick()
      this.#scheduleTick()
    }, this.#tickMs)
  }

  /** Makes sure the loop runs (once) after the current event. */
  #kick(): void {
    this.#wake = true
    if (this.#loop !== undefined || !this.#running || this.#stopped) return
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined
      if (this.#wake && !this.#stopped && this.#failed === undefined) this.#kick()
    })
  }

  async #run(): Promise<void> {
    // Yield once so that a burst of proposals from the same event joins one Ready (one fsync).
    await Promise.resolve()
    while (this.#wake && this.#failed === undefined) {
      this.#wake = false
      for (;;) {
        try {
          this.#flushProposals()
          if (!this.#raw.hasReady()) break
          await this.#handle(this.#raw.ready())
        } catch (err) {
          this.#fail(err)
          return
        }
      }
    }
  }

  async #handle(rd: Ready): Promise<void> {
    const st = this.#storage
    if (rd.snapshot !== undefined) st.applySnapshot(rd.snapshot)
    if (rd.entries.length > 0) st.append(rd.entries)
    if (rd.hardState !== undefined) st.setHardState(rd.hardState)
    // A leader may replicate while its own write is in flight (Raft thesis §10.2.1): the core
    // counts the leader's own copy only after advance, i.e. once durable. Everything else — and
    // any message of a Ready that changes the term or vote — waits for the sync.
    const voteChanged = rd.hardState !== undefined && (rd.hardState.term !== this.#hard.term || rd.hardState.vote !== this.#hard.vote)
    const leading = (rd.softState?.state ?? this.#role) === 'leader'
    this.#identity.stamp(rd.messages)
    let rest = rd.messages
    if (rd.mustSync && leading && !voteChanged && !this.#stopped) {
      const early: Message[] = []
      rest = []
      for (const m of rd.messages) (m.type === 'app' ? early : rest).push(m)
      if (early.length > 0) this.#transport.send(early)
    }
    let applied = 0
    if (rd.mustSync) {
      const synced = st.sync()
      // While the write is in flight, apply the committed entries that this member already holds
      // durably (below this Ready's new entries): they are committed, i.e. durable on a quorum,
      // whatever happens to this write (etcd's server applies them concurrently with its WAL
      // save too). Only in a Ready that changes neither role, term, vote nor snapshot, and only
      // up to the first membership change, so those keep their order with the rest.
      if (rd.snapshot === undefined && rd.softState === undefined && !voteChanged) {
        // A failing apply fails the node below; the write's outcome then no longer matters.
        synced.catch(() => undefined)
        applied = this.#applyDurable(rd)
      }
      await synced
    }
    if (rd.hardState !== undefined) this.#hard = rd.hardState
    if (!this.#stopped && rest.length > 0) this.#transport.send(rest)
    if (rd.softState !== undefined) this.#softStateChanged(rd.softState.lead, rd.softState.state)
    if (rd.snapshot !== undefined) this.#restore(rd.snapshot)
    for (let i = applied; i < rd.committedEntries.length; i++) this.#apply(rd.committedEntries[i] as Entry)
    for (const rs of rd.readStates) {
      const seq = this.#ourSeq(rs.requestCtx)
      const w = seq === undefined ? undefined : this.#reads.get(seq)
      if (w !== undefined) w.index = rs.index
    }
    this.#serveReads()
    this.#raw.advance(rd)
    this.#maybeSnapshot()
  }

  /**
   * Applies the leading committed entries of `rd` that are normal entries stored by an earlier
   * Ready; returns how many.
   */
  #applyDurable(rd: Ready): number {
    const firstNew = rd.entries[0]?.index ?? Number.POSITIVE_INFINITY
    let n = 0
    for (const e of rd.committedEntries) {
      if (e.index >= firstNew || e.type !== 'normal') break
      this.#apply(e)
      n++
    }
    return n
  }

  #softStateChanged(lead: RaftMemberId, role: RaftRole): void {
    const leaderChanged = lead !== this.#leader
    const roleChanged = role !== this.#role
    const wasLeader = this.#role === 'leader'
    this.#leader = lead
    this.#role = role
    // A pending request may have been lost with the old leader: its outcome is unknown.
    if ((leaderChanged && lead === NONE) || (wasLeader && role !== 'leader')) this.#rejectAll(new LeadershipLostError())
    this.#identity.setLeading(role === 'leader')
    if (roleChanged) this.emit('state:changed', role)
    if (leaderChanged) this.emit('leader:changed', lead)
  }

  #apply(e: Entry): void {
    if (e.type === 'conf-change') {
      const cc: AnyConfChange = decodeConfChange(e.data)
      this.#confState = this.#raw.applyConfChange(cc)
      const changes = cc.version === 1 ? [{ type: cc.type, nodeId: cc.nodeId, context: cc.context }] : cc.changes.map((c) => ({ ...c, context: cc.context }))
      let requestId: Uint8Array | undefined
      for (const c of changes) {
        const ctx = c.context.byteLength > 0 ? decodeMemberContext(c.context) : { requestId: new Uint8Array(0), address: '' }
        requestId = ctx.requestId
        this.#learned.delete(c.nodeId)
        if (c.type === 'remove') {
          this.#removed.add(c.nodeId)
          this.#members.delete(c.nodeId)
          if (c.nodeId !== this.id) this.#transport.removePeer(c.nodeId)
        } else if (ctx.address !== '') {
          this.#removed.delete(c.nodeId)
          this.#members.set(c.nodeId, ctx.address)
          if (c.nodeId !== this.id && this.#running) this.#transport.addPeer(c.nodeId, ctx.address)
        }
      }
      if (requestId !== undefined) this.#settle(requestId, this.#confState)
    } else if (e.data.byteLength > 0 && isIncarnationEntry(e.data)) {
      this.#identity.apply(e.data)
    } else if (e.data.byteLength > 0) {
      for (const p of decodeProposals(e.data)) {
        if (!this.#firstTime(p.requestId)) {
          // A duplicate (its waiter, if ours, was settled by the first copy) or overtaken.
          this.#settle(p.requestId, undefined, new ProposalDroppedError('overtaken'))
          continue
        }
        // Our own proposal, still awaited: its local handle goes back to the state machine.
        const seq = this.#ourSeq(p.requestId)
        const local = seq === undefined ? undefined : this.#waiters.get(seq)?.local
        const result = this.#sm.apply(p.payload, { index: e.index, term: e.term }, local)
        this.#settle(p.requestId, result)
      }
    }
    this.#applied = e.index
  }

  #settle(requestId: Uint8Array, value: unknown, err?: Error): void {
    const key = this.#ourSeq(requestId)
    if (key === undefined) return
    const w = this.#waiters.get(key)
    if (w === undefined) return
    this.#waiters.delete(key)
    if (err === undefined) w.resolve(value)
    else w.reject(err)
  }

  /**
   * Whether a proposal is applied: its sequence number is above every one applied before from
   * the same driver. A driver proposes in sequence order, so only a duplicate — or a forward
   * overtaken by a later one of the same driver — fails this. Ids not made by a driver pass.
   */
  #firstTime(requestId: Uint8Array): boolean {
    if (requestId.byteLength !== 16) return true
    const seq = requestSeq(requestId)
    // The proposals of one entry usually come from one driver: its hex key is computed once.
    let key = this.#lastSessionKey
    if (this.#lastSessionNonce === undefined || !sameNonce(requestId, this.#lastSessionNonce)) {
      this.#lastSessionNonce = requestId.slice(0, 8)
      key = this.#lastSessionKey = nonceKey(this.#lastSessionNonce)
    }
    const last = this.#sessions.get(key)
    if (last !== undefined && seq <= last) return false
    this.#sessions.set(key, seq)
    return true
  }

  #serveReads(): void {
    for (const [key, w] of this.#reads) {
      if (w.index !== undefined && w.index <= this.#applied) {
        this.#reads.delete(key)
        w.resolve(undefined)
      }
    }
  }

  #restore(snap: Snapshot): void {
    const env = decodeNodeSnapshot(snap.data)
    this.#sm.restore(env.state)
    this.#sessions = env.sessions
    this.#identity.restore(env.incarnations ?? new Map())
    // Our proposals at or below the last sequence number the snapshot applied from this driver
    // are inside it or were overtaken: their waiters will never see the entry. Neither "done"
    // nor "dropped" can be told apart here, so the outcome is unknown.
    const last = this.#sessions.get(nonceKey(this.#nonce))
    if (last !== undefined) {
      for (const [seq, w] of [...this.#waiters]) {
        if (seq > last) continue
        this.#waiters.delete(seq)
        w.reject(new ProposalOutcomeUnknownError())
      }
    }
    for (const id of this.#members.keys()) if (!env.members.has(id) && id !== this.id && this.#running) this.#transport.removePeer(id)
    this.#members.clear()
    for (const [id, addr] of env.members) {
      this.#members.set(id, addr)
      if (id !== this.id && this.#running) this.#transport.addPeer(id, addr)
    }
    this.#confState = snap.metadata.confState
    this.#applied = snap.metadata.index
    this.#snapshotIndex = snap.metadata.index
  }

  #maybeSnapshot(): void {
    if (this.#snapshotInterval === 0 || this.#applied - this.#snapshotIndex < this.#snapshotInterval) return
    const data = encodeNodeSnapshot({ members: new Map(this.#members), state: this.#sm.snapshot(), sessions: new Map(this.#sessions), incarnations: new Map(this.#identity.bound) })
    this.#storage.createSnapshot(this.#applied, this.#confState, data)
    this.#snapshotIndex = this.#applied
    const compactTo = this.#applied - this.#keep
    if (compactTo >= this.#storage.firstIndex()) this.#storage.compact(compactTo)
    this.#logger.info('raft: snapshot taken', { index: this.#applied })
  }

  #rejectAll(err: Error): void {
    this.#batch = []
    for (const table of [this.#waiters, this.#reads] as Map<number, Waiter>[]) {
      const ws = [...table.values()]
      table.clear()
      for (const w of ws) w.reject(err)
    }
  }

  #fail(err: unknown): void {
    this.#failed = err
    this.#ticker?.cancel()
    this.#logger.error('raft: node failed', { err: String(err) })
    this.#rejectAll(new RaftStoppedError('raft: node failed', { cause: err }))
    this.emit('node:failed', err)
    this.#notifyEnd()
  }
}

/** Whether the first 8 bytes of request id `id` are `nonce`. */
function sameNonce(id: Uint8Array, nonce: Uint8Array): boolean {
  for (let i = 0; i < 8; i++) if (id[i] !== nonce[i]) return false
  return true
}

/** The sequence number of a 16-byte request id (its big-endian low 8 bytes). */
function requestSeq(id: Uint8Array): number {
  const hi = (((id[8] ?? 0) << 24) | ((id[9] ?? 0) << 16) | ((id[10] ?? 0) << 8) | (id[11] ?? 0)) >>> 0
  const lo = (((id[12] ?? 0) << 24) | ((id[13] ?? 0) << 16) | ((id[14] ?? 0) << 8) | (id[15] ?? 0)) >>> 0
  return hi * 2 ** 32 + lo
}

/** The reason of an aborted signal, as an Error (a DOMException `AbortError` unless the caller gave one). */
function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason
  return r instanceof Error ? r : new DOMException(typeof r === 'string' ? r : 'This operation was aborted', 'AbortError')
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(typeof e === 'string' ? e : 'non-error rejection')
}

