/**
 * `RaftNode`: the async driver around {@link RawNode}. It owns the loop — clock ticks, persist,
 * send, apply, advance — over a storage, a transport and an application {@link StateMachine},
 * and turns proposals, reads and membership changes into promises.
 *
 * The class is the public face; each concept it delegates to has its own file: the loop and the
 * lifecycle (run-loop.ts), the requests waiting for the log (request-waiters.ts) or for a leader
 * (leader-waits.ts), proposal batching (proposal-batch.ts) and exactly-once sessions
 * (proposal-sessions.ts), the member address book (member-addresses.ts), incarnations
 * (member-identity.ts), size limits (raft-node-limits.ts) and the envelopes (raft-node-codec.ts).
 * What stays here is the application of committed entries and snapshots to those parts.
 */
import { EventEmitter } from 'eventemitter3'
import { FailedPreconditionError, InvalidArgumentError, cryptoRandom, isRaftMemberId, silentLogger, systemClock } from '@swarmkit-ts/api'
import type { Clock, Logger, RaftMemberId } from '@swarmkit-ts/api'
import { RawNode } from '../core/raw-node.ts'
import type { RaftStatus } from '../core/ready.ts'
import type { RaftRole } from '../core/role.ts'
import type { Message } from '../core/types.ts'
import { NONE, isEmptySnapshot } from '../core/types.ts'
import { LeadershipLostError, ProposalTooLargeError, RaftStoppedError } from '../errors.ts'
import { isIncarnation } from '../storage/storage-identity.ts'
import type { MessageOrigin, RaftTransport, UndeliverableReason } from '../transport/transport.ts'
import { AppliedState } from './applied-state.ts'
import { awaitTransfer, waitForLeaderChange } from './leader-waits.ts'
import type { LeaderWaitHost } from './leader-waits.ts'
import { MemberAddressBook } from './member-addresses.ts'
import { MemberIdentities } from './member-identity.ts'
import { ProposalBatch } from './proposal-batch.ts'
import { encodeMemberContext } from './raft-node-codec.ts'
import { confChangeTooLarge, driverLimits, maxPayloadFor, proposalEntryBytes, type DriverLimits } from './raft-node-limits.ts'
import { driverOptions } from './raft-node-types.ts'
import type { RaftNodeCallOptions, RaftNodeEvents, RaftNodeInit, RaftNodeProposeOptions, RaftPeer } from './raft-node-types.ts'
import { RequestWaiters, abortReason } from './request-waiters.ts'
import type { RequestKind } from './request-waiters.ts'
import { RunLoop } from './run-loop.ts'
import { UndeliverableMessages } from './undeliverable.ts'

export type { RaftNodeCallOptions, RaftNodeEvents, RaftNodeInit, RaftNodeProposeOptions, RaftPeer, StateMachine } from './raft-node-types.ts'

/** The async driver of one Raft member. */
export class RaftNode extends EventEmitter<RaftNodeEvents> {
  readonly id: RaftMemberId
  readonly #raw: RawNode
  readonly #transport: RaftTransport
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #tickMs: number
  readonly #electionTick: number
  /** Proposals, membership changes and reads waiting for the log. */
  readonly #requests: RequestWaiters
  /** Proposals waiting for the loop to hand them to the core as one entry. */
  readonly #batch: ProposalBatch
  /** Size limits derived from the transport's `maxMessageBytes` (see raft-node-limits.ts). */
  readonly #limits: DriverLimits
  /** Messages the transport gave up on, by reason. */
  readonly #undeliverable: UndeliverableMessages
  readonly #addresses: MemberAddressBook
  /** Our storage incarnation and the ones bound in the log (see member-identity.ts). */
  readonly #identity: MemberIdentities
  /** What committed entries and snapshots change here (see applied-state.ts). */
  readonly #state: AppliedState
  readonly #loop: RunLoop
  #leader: RaftMemberId = NONE
  #role: RaftRole = 'follower'
  /** Called once when the node stops or fails (waiters of `waitForLeader` and transfers). */
  readonly #endListeners = new Set<() => void>()
  readonly #waitHost: LeaderWaitHost

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
    const { tickMs, commitBroadcastDelayMs, snapshotInterval, logEntriesForSlowFollowers, maxBatchProposals, maxBatchBytes } = driverOptions(init)
    this.#limits = driverLimits(init.transport.maxMessageBytes, init.maxSizePerMsg)
    this.id = init.id
    this.#transport = init.transport
    this.#clock = init.clock ?? systemClock
    this.#logger = init.logger ?? silentLogger
    this.#tickMs = tickMs
    this.#electionTick = init.electionTick ?? 10
    const random = init.random ?? cryptoRandom
    const nonce = random.bytes(8)
    this.#requests = new RequestWaiters(nonce, () => this.#loop.kick())
    this.#batch = new ProposalBatch(nonce, { maxBatchProposals, maxBatchBytes, maxEntryBytes: this.#limits.maxEntryBytes }, init.allocBytes)
    this.#addresses = new MemberAddressBook(init.id, init.transport)
    this.#undeliverable = new UndeliverableMessages(this.#logger, this.#requests, (to) => this.#raw.reportUnreachable(to))
    this.#waitHost = { events: this, endListeners: this.#endListeners, ended: () => this.#ended() }

    const snap = init.storage.snapshot()
    const initial = init.storage.initialState()
    const incarnation = initial.incarnation ?? 0n
    if (incarnation !== 0n && !isIncarnation(incarnation)) throw new InvalidArgumentError('storage.initialState().incarnation', 'must be a bigint in [0, 2^64)')
    this.#identity = new MemberIdentities(init.id, incarnation)
    this.#state = new AppliedState({
      stateMachine: init.stateMachine,
      storage: init.storage,
      identity: this.#identity,
      addresses: this.#addresses,
      requests: this.#requests,
      logger: this.#logger,
      applyConfChange: (cc) => this.#raw.applyConfChange(cc),
      confState: initial.confState,
      snapshotInterval,
      logEntriesForSlowFollowers,
      ...(init.allocBytes === undefined ? {} : { allocBytes: init.allocBytes }),
    })
    if (!isEmptySnapshot(snap)) this.#state.restore(snap)
    const { storage: _s, transport: _t, stateMachine: _m, clock: _c, tickMs: _tm, commitBroadcastDelayMs: _cd, snapshotInterval: _si, logEntriesForSlowFollowers: _k, maxBatchProposals: _bp, maxBatchBytes: _bb, maxSizePerMsg: _ms, allocBytes: _ab, ...raw } = init
    const maxSizePerMsg = this.#limits.maxSizePerMsg
    const rawNode = new RawNode({
      ...raw,
      ...(maxSizePerMsg === undefined ? {} : { maxSizePerMsg }),
      deferCommitBroadcast: commitBroadcastDelayMs > 0,
      storage: init.storage,
      random,
      logger: this.#logger,
      applied: this.#state.applied,
    })
    this.#raw = rawNode
    this.#loop = new RunLoop(
      {
        raw: rawNode,
        storage: init.storage,
        transport: init.transport,
        identity: this.#identity,
        role: () => this.#role,
        flushProposals: () => this.#flushProposals(),
        softStateChanged: (lead, role) => this.#softStateChanged(lead, role),
        restore: (snap) => this.#state.restore(snap),
        apply: (e) => this.#state.apply(e),
        readStates: (states) => {
          this.#requests.readIndexes(states)
          this.#requests.serveReads(this.#state.applied)
        },
        maybeSnapshot: () => this.#state.maybeSnapshot(),
        snapshotInFlight: () => this.#state.snapshotInFlight,
        snapshotSlice: () => void this.#state.snapshotSlice(),
        fail: (err) => this.#fail(err),
      },
      this.#clock,
      tickMs,
      initial.hardState,
      commitBroadcastDelayMs,
    )
  }

  /**
   * Creates a new cluster with `peers` as its voters (include this member). Only on empty
   * storage, before {@link RaftNode.start}.
   */
  bootstrap(peers: readonly RaftPeer[]): void {
    if (this.#loop.started || this.#loop.stopped) throw new FailedPreconditionError('raft: bootstrap must come before start', { reason: 'already-started' })
    const contexts = peers.map((p, i) => {
      if (typeof p.address !== 'string') throw new InvalidArgumentError(`peers[${i}].address`, 'must be a string')
      const context = encodeMemberContext({ requestId: new Uint8Array(0), address: p.address })
      const tooLarge = confChangeTooLarge(this.#limits, `peers[${i}].address`, { version: 1, type: 'add-voter', nodeId: p.id, context })
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
    if (this.#loop.started || this.#loop.stopped) throw new FailedPreconditionError('raft: a RaftNode can be started once', { reason: 'already-started' })
    this.#loop.markStarted()
    this.#addresses.connect()
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
    this.#loop.startTicking()
  }

  /**
   * Stops ticking, stops the transport and waits for the loop to finish its current batch, so
   * that storage holds everything it acknowledged. Pending requests reject with `RaftStoppedError`.
   */
  async stop(): Promise<void> {
    if (this.#loop.stopped) return
    this.#loop.stop()
    await this.#transport.stop()
    await this.#loop.idle()
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
    return waitForLeaderChange(this.#waitHost, signal)
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
    return this.#addresses.members
  }
  /** The index of the last applied entry. */
  get applied(): number {
    return this.#state.applied
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
    return this.#requests.request('proposal', (seq) => this.#batch.push({ seq, payload }), options, this.#unusable(), local)
  }

  /** Hands the incarnation bindings due and the waiting proposals to the core. */
  #flushProposals(): void {
    this.#proposeBindings()
    this.#batch.flush(this.#batchSink)
  }

  readonly #batchSink = {
    isWaiting: (seq: number): boolean => this.#requests.isWaiting(seq),
    propose: (data: Uint8Array): void => this.#raw.propose(data),
    reject: (seq: number, err: unknown): void => this.#requests.rejectSeq(seq, err),
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
    return this.#confChange('add-voter', id, this.#addresses.get(id) ?? '', options)
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
    const tooLarge = confChangeTooLarge(this.#limits, 'address', { version: 1, type, nodeId: id, context: encodeMemberContext({ requestId: this.#requests.requestId(0), address }) })
    if (tooLarge !== undefined) return Promise.reject(tooLarge)
    return this.#request(
      'proposal',
      (seq) => this.#raw.proposeConfChange({ version: 1, type, nodeId: id, context: encodeMemberContext({ requestId: this.#requests.requestId(seq), address }) }),
      options,
    )
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
    return this.#undeliverable.counts()
  }

  /** The transport gave up on `msg` (see undeliverable.ts). */
  #undeliverableMessage(msg: Message, reason: UndeliverableReason): void {
    this.#undeliverable.handle(msg, reason)
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
    return this.#request('read', (seq) => this.#raw.readIndex(this.#requests.requestId(seq)), options).then(() => undefined)
  }

  /**
   * Asks the leader to hand leadership to `to`; resolves when `to` is the known leader, rejects
   * with `LeadershipLostError` when another member wins or after two election timeouts.
   */
  transferLeadership(to: RaftMemberId, options?: RaftNodeCallOptions): Promise<void> {
    const unusable = this.#unusable()
    if (unusable !== undefined) return Promise.reject(unusable)
    if (this.#leader === to) return Promise.resolve()
    return awaitTransfer(this.#waitHost, {
      self: this.id,
      to,
      clock: this.#clock,
      timeoutMs: 2 * this.#electionTick * this.#tickMs,
      options,
      start: () => this.#guard(() => this.#raw.transferLeadership(to)),
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
    if (!this.#loop.started) return new FailedPreconditionError('raft: node not started', { reason: 'not-started' })
    return undefined
  }

  /** `RaftStoppedError` once the node failed (with the failure as `cause`) or stopped; else `undefined`. */
  #ended(): RaftStoppedError | undefined {
    const failed = this.#loop.failure
    if (failed !== undefined) return new RaftStoppedError('raft: node failed', { cause: failed })
    if (this.#loop.stopped) return new RaftStoppedError()
    return undefined
  }

  /** Tells the waiters of {@link RaftNode.waitForLeader} and transfers that the node stopped or failed. */
  #notifyEnd(): void {
    for (const f of [...this.#endListeners]) f()
  }

  /** Registers a request (see `RequestWaiters.request`, which wakes the loop once it is submitted). */
  #request(kind: RequestKind, submit: (seq: number) => void, options: RaftNodeCallOptions | undefined): Promise<unknown> {
    return this.#requests.request(kind, submit, options, this.#unusable())
  }

  /** Points the transport at a sender the log has not told us about yet (see `MemberAddressBook.learn`). */
  #learn(origin: MessageOrigin): void {
    this.#addresses.learn(origin)
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
    if (this.#loop.ended) return
    try {
      fn()
    } catch (err) {
      this.#logger.warn('raft: call into the core failed', { err: String(err) })
    }
    this.#loop.kick()
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

  #rejectAll(err: Error): void {
    this.#batch.clear()
    this.#requests.rejectAll(err)
  }

  #fail(err: unknown): void {
    this.#loop.markFailed(err)
    this.#logger.error('raft: node failed', { err: String(err) })
    this.#rejectAll(new RaftStoppedError('raft: node failed', { cause: err }))
    this.emit('node:failed', err)
    this.#notifyEnd()
  }
}
