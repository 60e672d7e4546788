/**
 * `RawNode`: the public, synchronous face of the Raft state machine. It never performs I/O,
 * reads a clock or draws randomness on its own: time advances by `tick()`, randomness comes
 * from the injected `Random`, and all work is handed back through `ready()`/`advance()`.
 */
import { FailedPreconditionError, InvalidArgumentError, isRaftMemberId, silentLogger } from '@swarmkit-ts/api'
import type { Logger, Random, RaftMemberId } from '@swarmkit-ts/api'
import { encodeConfChange } from './conf-change-codec.ts'
import { ProposalDroppedError, StepLocalMessageError } from '../errors.ts'
import { RaftCore } from './raft.ts'
import { bcastCommit, commitBroadcastPending } from './raft-replication.ts'
import type { ReadOnlyOption } from './read-only.ts'
import type { ProgressStatus, RaftStatus, Ready, SoftState } from './ready.ts'
import type { RaftStorage } from '../storage/storage.ts'
import type { AnyConfChange, AppRespMessage, ConfState, Entry, HardState, Message } from './types.ts'
import { NONE, emptyHardState, hardStateEqual, isEmptyHardState, isResponseMessage } from './types.ts'

/** Construction options for {@link RawNode}. */
export interface RawNodeInit {
  /** This member's id (non-zero, 64-bit). */
  id: RaftMemberId
  /** The log and state to start from (read-only for the core; the caller writes it). */
  storage: RaftStorage
  /** Source of the election-timeout jitter. */
  random: Random
  /** @default silentLogger */
  logger?: Logger
  /**
   * Ticks without hearing from a leader before a follower campaigns; the actual timeout is
   * drawn from `[electionTick, 2·electionTick)` after each reset. Must exceed `heartbeatTick`.
   * @default 10
   */
  electionTick?: number
  /** Ticks between leader heartbeats. @default 1 */
  heartbeatTick?: number
  /** Maximum bytes of entries per append message (one larger entry is still sent alone). @default 65535 */
  maxSizePerMsg?: number
  /** Maximum append messages in flight to one follower in the replicate state. @default 256 */
  maxInflightMsgs?: number
  /** Maximum bytes of uncommitted entry payloads on the leader before proposals are dropped; 0 = unlimited. @default 0 */
  maxUncommittedEntriesSize?: number
  /** Maximum bytes of committed entries handed out for applying at a time; 0 = unlimited. @default 0 */
  maxCommittedSizePerReady?: number
  /** Run a pre-election before campaigning, so a partitioned member cannot disrupt the cluster. @default true */
  preVote?: boolean
  /** Leader steps down without a quorum of recent contact; voters ignore campaigns while they have a leader. @default true */
  checkQuorum?: boolean
  /** Followers drop proposals instead of forwarding them to the leader. @default false */
  disableProposalForwarding?: boolean
  /** A leader removed or demoted by a conf change steps down. @default false */
  stepDownOnRemoval?: boolean
  /**
   * A leader that advances its commit index sends it to the followers only with the next append
   * or heartbeat, or when the caller asks ({@link RawNode.broadcastCommit}; see
   * {@link RawNode.commitBroadcastPending}), instead of an empty append to each at once (etcd's
   * way). Saves two messages per follower per commit under steady load; followers apply later.
   * Safety is unchanged: only when followers learn the commit index moves. @default false
   */
  deferCommitBroadcast?: boolean
  /** How ReadIndex confirms leadership; `lease-based` requires `checkQuorum`. @default 'safe' */
  readOnlyOption?: ReadOnlyOption
  /** The index the application has already applied (e.g. restored from its snapshot). @default 0 */
  applied?: number
}

/** A member to start a new cluster with. */
export interface BootstrapPeer {
  /** The member's id. */
  id: RaftMemberId
  /** Application data stored in its conf-change entry (e.g. its address). */
  context?: Uint8Array
}

function positiveInt(v: number, field: string): number {
  if (!Number.isSafeInteger(v) || v <= 0) throw new InvalidArgumentError(field, `must be a positive integer, got ${String(v)}`)
  return v
}

function nonNegativeInt(v: number, field: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(field, `must be a non-negative integer, got ${String(v)}`)
  return v
}

/** A Raft member as a pure state machine. */
export class RawNode {
  readonly #r: RaftCore
  #prevSoft: SoftState
  #prevHard: HardState
  /** Self-acknowledgements of entries handed out in a Ready, delivered at `advance`. */
  #afterPersist: AppRespMessage[] = []

  /**
   * Starts (or restarts) a member from `init.storage`. A brand-new cluster is then created with
   * {@link RawNode.bootstrap}; a member joining an existing cluster starts with empty storage and
   * waits to be contacted by the leader.
   *
   * @throws InvalidArgumentError naming the offending option.
   */
  constructor(init: RawNodeInit) {
    if (!isRaftMemberId(init.id)) throw new InvalidArgumentError('id', 'must be a non-zero 64-bit bigint')
    const electionTick = positiveInt(init.electionTick ?? 10, 'electionTick')
    const heartbeatTick = positiveInt(init.heartbeatTick ?? 1, 'heartbeatTick')
    if (electionTick <= heartbeatTick) throw new InvalidArgumentError('electionTick', 'must be greater than heartbeatTick')
    const checkQuorum = init.checkQuorum ?? true
    const readOnlyOption = init.readOnlyOption ?? 'safe'
    if (readOnlyOption === 'lease-based' && !checkQuorum) throw new InvalidArgumentError('readOnlyOption', 'lease-based reads require checkQuorum')
    this.#r = new RaftCore({
      id: init.id,
      storage: init.storage,
      random: init.random,
      logger: init.logger ?? silentLogger,
      electionTick,
      heartbeatTick,
      maxSizePerMsg: nonNegativeInt(init.maxSizePerMsg ?? 65535, 'maxSizePerMsg'),
      maxInflightMsgs: positiveInt(init.maxInflightMsgs ?? 256, 'maxInflightMsgs'),
      maxUncommittedEntriesSize: nonNegativeInt(init.maxUncommittedEntriesSize ?? 0, 'maxUncommittedEntriesSize'),
      maxCommittedSizePerReady: nonNegativeInt(init.maxCommittedSizePerReady ?? 0, 'maxCommittedSizePerReady'),
      preVote: init.preVote ?? true,
      checkQuorum,
      disableProposalForwarding: init.disableProposalForwarding ?? false,
      stepDownOnRemoval: init.stepDownOnRemoval ?? false,
      deferCommitBroadcast: init.deferCommitBroadcast ?? false,
      readOnlyOption,
      applied: nonNegativeInt(init.applied ?? 0, 'applied'),
    })
    this.#prevSoft = this.#softState()
    this.#prevHard = this.#r.hardState()
  }

  /** This member's id. */
  get id(): RaftMemberId {
    return this.#r.id
  }

  /**
   * Creates a new cluster whose initial voters are `peers` (which should include this member):
   * writes one committed `add-voter` conf-change entry per peer at term 1. The entries come out
   * in the first `Ready` (to persist, then to apply: call `applyConfChange` for each as usual).
   *
   * @throws InvalidArgumentError when `peers` is empty.
   * @throws FailedPreconditionError when storage is not empty.
   */
  bootstrap(peers: readonly BootstrapPeer[]): void {
    if (peers.length === 0) throw new InvalidArgumentError('peers', 'must not be empty')
    peers.forEach((p, i) => {
      if (!isRaftMemberId(p.id)) throw new InvalidArgumentError(`peers[${i}].id`, 'must be a non-zero 64-bit bigint')
    })
    const r = this.#r
    if (r.log.storage.lastIndex() !== 0 || r.log.lastIndex() !== 0) throw new FailedPreconditionError("can't bootstrap a non-empty storage", { reason: 'storage-not-empty' })
    this.#prevHard = emptyHardState()
    r.becomeFollower(1, NONE)
    const ents: Entry[] = peers.map((p, i) => ({
      term: 1,
      index: i + 1,
      type: 'conf-change',
      data: encodeConfChange({ version: 1, type: 'add-voter', nodeId: p.id, context: p.context ?? new Uint8Array(0) }),
    }))
    r.log.append(ents)
    // Committed by fiat: this is the cluster's founding configuration. Not marked applied, so the
    // application sees the entries in `committedEntries`.
    r.log.committed = ents.length
    for (const p of peers) r.applyConfChange({ version: 1, type: 'add-voter', nodeId: p.id, context: new Uint8Array(0) })
  }

  /** Advances logical time by one tick (elections, heartbeats, CheckQuorum, transfer timeout). */
  tick(): void {
    this.#r.tick()
  }

  /**
   * Starts an election now (a pre-election first when PreVote is on). With lease-based reads it
   * is ignored within an election timeout of hearing from a leader or of starting: this member's
   * own vote would break the lease it may have acknowledged (see `readOnlyOption`).
   */
  campaign(): void {
    this.#r.hup(this.#r.preVote ? 'pre-election' : 'election')
  }

  /**
   * Proposes `data` for the log. On a follower it is forwarded to the leader; success means
   * only that it was accepted for replication, not that it will commit.
   *
   * @throws ProposalDroppedError when there is no leader, forwarding is disabled, a leadership
   *   transfer is in progress, the uncommitted budget is spent, or this member is a candidate.
   */
  propose(data: Uint8Array): void {
    this.#propose({ term: 0, index: 0, type: 'normal', data })
  }

  /**
   * Proposes a membership change. The leader replaces it with an empty entry when another
   * change is still unapplied or the joint state does not allow it.
   *
   * @throws ProposalDroppedError as {@link RawNode.propose}.
   */
  proposeConfChange(cc: AnyConfChange): void {
    this.#propose({ term: 0, index: 0, type: 'conf-change', data: encodeConfChange(cc) })
  }

  #propose(e: Entry): void {
    const reason = this.#r.step({ type: 'prop', from: this.#r.id, to: NONE, term: 0, entries: [e] })
    if (reason !== undefined) throw new ProposalDroppedError(reason)
  }

  /**
   * Applies a committed membership change (call it when the conf-change entry is applied, in
   * log order) and returns the new configuration, to be stored with the next snapshot.
   *
   * @throws InvalidArgumentError('confChange') when the change is not valid for the current configuration.
   */
  applyConfChange(cc: AnyConfChange): ConfState {
    return this.#r.applyConfChange(cc)
  }

  /**
   * Steps a message received from another member. Responses from members not in the
   * configuration are ignored, and so are proposals the leader drops.
   *
   * @throws StepLocalMessageError for `unreachable`/`snap-status` (use the report methods).
   */
  step(m: Message): void {
    if (m.type === 'unreachable' || m.type === 'snap-status') throw new StepLocalMessageError(m.type)
    if (isResponseMessage(m.type) && !this.#r.trk.progress.has(m.from)) return
    const reason = this.#r.step(m)
    if (reason !== undefined) this.#r.logger.debug('raft: dropped a forwarded request', { id: this.#r.id, from: m.from, type: m.type, reason })
  }

  /**
   * Asks the leader to hand leadership to `to` (which must be an up-to-date-able voter). The
   * leader catches `to` up, then tells it to campaign at once; the transfer is abandoned after
   * an election timeout. No effect without a leader, to self, or to a non-member.
   */
  transferLeadership(to: RaftMemberId): void {
    this.#r.step({ type: 'transfer-leader', from: to, to: NONE, term: 0 })
  }

  /**
   * Requests a linearizable read identified by `ctx` (unique per request). The answer comes as a
   * `ReadState` in a later `Ready`; it may never come (e.g. leadership changed), so the caller
   * must time out and retry.
   *
   * @throws ProposalDroppedError when no leader is known.
   */
  readIndex(ctx: Uint8Array): void {
    const reason = this.#r.step({ type: 'read-index', from: NONE, to: NONE, term: 0, context: ctx })
    if (reason !== undefined) throw new ProposalDroppedError(reason)
  }

  /** Tells the leader that `id` could not be reached, so it stops streaming appends to it. */
  reportUnreachable(id: RaftMemberId): void {
    this.#r.step({ type: 'unreachable', from: id, to: this.#r.id, term: 0 })
  }

  /**
   * Tells the leader whether sending a snapshot to `id` succeeded. The transport must report
   * every snapshot it was asked to send: until it does, the leader sends `id` nothing else
   * (a failure makes it retry after the next heartbeat).
   */
  reportSnapshot(id: RaftMemberId, ok: boolean): void {
    this.#r.step({ type: 'snap-status', from: id, to: this.#r.id, term: 0, reject: !ok })
  }

  /**
   * With `deferCommitBroadcast`: the leader's commit index when some follower has not been sent
   * it yet (and could take it), else 0. The caller sends it later with
   * {@link RawNode.broadcastCommit} unless a later append carries it first.
   */
  commitBroadcastPending(): number {
    return commitBroadcastPending(this.#r)
  }

  /** As leader, sends the commit index to every follower that has not been sent it (an empty append each). */
  broadcastCommit(): void {
    bcastCommit(this.#r)
  }

  #softState(): SoftState {
    return { lead: this.#r.lead, state: this.#r.state }
  }

  /** Whether {@link RawNode.ready} has anything to hand out. */
  hasReady(): boolean {
    const r = this.#r
    const soft = this.#softState()
    if (soft.lead !== this.#prevSoft.lead || soft.state !== this.#prevSoft.state) return true
    const hs = r.hardState()
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.#prevHard)) return true
    return r.log.hasPendingSnapshot() || r.msgs.length > 0 || r.log.unstable.entries.length > 0 || r.readStates.length > 0 || r.log.hasNextCommittedEntries()
  }

  /** The next batch of work. Handle it as documented on {@link Ready}, then call {@link RawNode.advance}. */
  ready(): Ready {
    const r = this.#r
    const rd: Ready = {
      readStates: r.readStates,
      entries: [...r.log.unstable.entries],
      committedEntries: r.log.nextCommittedEntries(),
      messages: r.msgs,
      mustSync: false,
    }
    const soft = this.#softState()
    if (soft.lead !== this.#prevSoft.lead || soft.state !== this.#prevSoft.state) {
      rd.softState = soft
      this.#prevSoft = soft
    }
    const hs = r.hardState()
    if (!hardStateEqual(hs, this.#prevHard)) rd.hardState = hs
    if (r.log.unstable.snapshot !== undefined) rd.snapshot = r.log.unstable.snapshot
    rd.mustSync = rd.entries.length > 0 || rd.snapshot !== undefined || hs.term !== this.#prevHard.term || hs.vote !== this.#prevHard.vote
    this.#prevHard = hs
    r.msgs = []
    r.readStates = []
    for (const m of r.msgsAfterAppend) this.#afterPersist.push(m)
    r.msgsAfterAppend = []
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1]
    if (lastCommitted !== undefined) {
      r.log.applyingTo(lastCommitted.index)
      r.reduceUncommittedSize(rd.committedEntries)
    }
    return rd
  }

  /**
   * Tells the core that `rd` was handled: its entries and snapshot are persisted and its
   * committed entries applied. May produce more work (check {@link RawNode.hasReady}).
   */
  advance(rd: Ready): void {
    const r = this.#r
    if (rd.snapshot !== undefined) {
      r.log.unstable.stableSnapTo(rd.snapshot.metadata.index)
      r.appliedTo(rd.snapshot.metadata.index)
    }
    const lastEntry = rd.entries[rd.entries.length - 1]
    if (lastEntry !== undefined) r.log.unstable.stableTo(lastEntry.index, lastEntry.term)
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1]
    if (lastCommitted !== undefined) r.appliedTo(lastCommitted.index)
    const acks = this.#afterPersist
    this.#afterPersist = []
    for (const m of acks) r.step(m)
  }

  /** The current state, for monitoring and tests. */
  status(): RaftStatus {
    const r = this.#r
    const progress = new Map<RaftMemberId, ProgressStatus>()
    if (r.state === 'leader') {
      for (const [id, pr] of r.trk.sortedProgress()) {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          recentActive: pr.recentActive,
          isLearner: pr.isLearner,
          inflight: pr.inflights.count,
          pendingSnapshot: pr.pendingSnapshot,
          paused: pr.isPaused(),
        })
      }
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: this.#softState(),
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      leadTransferee: r.leadTransferee,
      config: r.trk.confState(),
      progress,
    }
  }
}
