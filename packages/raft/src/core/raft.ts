/**
 * The Raft state machine (internal; the public face is `RawNode`). Pure and synchronous: input
 * is ticks and messages, output is queued messages and log/state changes that `RawNode` turns
 * into a `Ready`. Role-specific message handling lives in raft-leader.ts, raft-follower.ts and
 * raft-candidate.ts (which also starts campaigns), sending appends and heartbeats in
 * raft-replication.ts; they see the core through `RoleContext` (role-context.ts).
 */
import type { Logger, Random, RaftMemberId } from '@swarmkit-ts/api'
import { Changer, restoreConfig, toConfChangeV2 } from './conf-change.ts'
import type { ConfigAndProgress } from './conf-change.ts'
import { payloadSize } from './entries.ts'
import { ProposalDroppedReason, RaftInvariantError } from '../errors.ts'
import type { ProposalDroppedReason as DropReason } from '../errors.ts'
import { RaftLogView } from './log-view.ts'
import { Progress } from './progress.ts'
import { hup as startCampaign, stepCandidate } from './raft-candidate.ts'
import { stepFollower } from './raft-follower.ts'
import { stepLeader } from './raft-leader.ts'
import { bcastAppend, bcastHeartbeat, maybeSendAppend } from './raft-replication.ts'
import { LeaderLease } from './lease.ts'
import { ReadOnly } from './read-only.ts'
import type { ReadOnlyOption, ReadState } from './read-only.ts'
import type { CampaignType, Outgoing, RoleContext } from './role-context.ts'
import { RaftRole } from './role.ts'
import type { RaftStorage } from '../storage/storage.ts'
import { ProgressTracker } from './tracker.ts'
import type { AnyConfChange, AppRespMessage, ConfState, Entry, HardState, Message, ReadIndexMessage } from './types.ts'
import { NONE, isEmptyHardState } from './types.ts'

/** Fully resolved configuration of the core. */
export interface RaftConfig {
  id: RaftMemberId
  storage: RaftStorage
  random: Random
  logger: Logger
  electionTick: number
  heartbeatTick: number
  maxSizePerMsg: number
  maxInflightMsgs: number
  maxUncommittedEntriesSize: number
  maxCommittedSizePerReady: number
  preVote: boolean
  checkQuorum: boolean
  disableProposalForwarding: boolean
  stepDownOnRemoval: boolean
  deferCommitBroadcast: boolean
  readOnlyOption: ReadOnlyOption
  applied: number
}

/** The Raft state machine. Fields are internal to the package. */
export class RaftCore implements RoleContext {
  readonly id: RaftMemberId
  readonly log: RaftLogView
  readonly trk: ProgressTracker
  readonly logger: Logger
  readonly random: Random
  readonly electionTimeout: number
  readonly heartbeatTimeout: number
  readonly maxMsgSize: number
  readonly maxUncommittedSize: number
  readonly preVote: boolean
  readonly checkQuorum: boolean
  readonly disableProposalForwarding: boolean
  readonly stepDownOnRemoval: boolean
  readonly deferCommitBroadcast: boolean

  term = 0
  vote: RaftMemberId = NONE
  state: RaftRole = RaftRole.follower
  lead: RaftMemberId = NONE
  isLearner = false
  /** Messages to send (handed out with the next Ready). */
  msgs: Message[] = []
  /** The leader's acknowledgements of its own appends, delivered once they are persisted. */
  msgsAfterAppend: AppRespMessage[] = []
  readStates: ReadState[] = []
  leadTransferee: RaftMemberId = NONE
  /** Index of the latest conf change proposed by this leader; none may be proposed until it is applied. */
  pendingConfIndex = 0
  uncommittedSize = 0
  readOnly: ReadOnly
  /** ReadIndex requests waiting for this new leader to commit an entry of its term. */
  pendingReadIndexMessages: ReadIndexMessage[] = []
  electionElapsed = 0
  heartbeatElapsed = 0
  randomizedElectionTimeout = 0
  /** Ticks since this process started (stamps lease rounds). */
  ticks = 0
  /**
   * Ticks since this member last heard from a leader of its term, or since the process started
   * (a restarted member may have acknowledged a lease it no longer remembers). With lease-based
   * reads, a member votes (except for a leadership transfer) and campaigns only once this
   * reaches the election timeout. Unlike `electionElapsed`, role and term changes do not reset it.
   */
  leaseElapsed = 0
  /** The lease of this leadership (lease-based reads only). */
  lease: LeaderLease | undefined

  constructor(c: RaftConfig) {
    this.id = c.id
    this.logger = c.logger
    this.random = c.random
    this.electionTimeout = c.electionTick
    this.heartbeatTimeout = c.heartbeatTick
    this.maxMsgSize = c.maxSizePerMsg
    this.maxUncommittedSize = c.maxUncommittedEntriesSize
    this.preVote = c.preVote
    this.checkQuorum = c.checkQuorum
    this.disableProposalForwarding = c.disableProposalForwarding
    this.stepDownOnRemoval = c.stepDownOnRemoval
    this.deferCommitBroadcast = c.deferCommitBroadcast
    this.readOnly = new ReadOnly(c.readOnlyOption)
    this.log = new RaftLogView(c.storage, c.maxCommittedSizePerReady > 0 ? c.maxCommittedSizePerReady : undefined)
    this.trk = new ProgressTracker(c.maxInflightMsgs)
    const { hardState, confState } = c.storage.initialState()
    this.switchToConfig(restoreConfig(confState, this.log.lastIndex(), c.maxInflightMsgs))
    if (!isEmptyHardState(hardState)) this.loadState(hardState)
    if (c.applied > 0) {
      if (c.applied > this.log.committed) throw new RaftInvariantError(`applied ${c.applied} is beyond the commit index ${this.log.committed}`)
      this.log.appliedTo(Math.max(c.applied, this.log.applied))
    }
    this.becomeFollower(this.term, NONE)
  }

  /** Queues a message; fills in `from` and `term` (proposals and read requests keep term 0: they are forwarded as local messages). */
  send(m: Outgoing): void {
    const from = m.from === undefined || m.from === NONE ? this.id : m.from
    let term: number
    if (m.type === 'vote' || m.type === 'pre-vote' || m.type === 'vote-resp' || m.type === 'pre-vote-resp') {
      if (m.term === undefined || m.term === 0) throw new RaftInvariantError(`term must be set on ${m.type}`)
      term = m.term
    } else if (m.type === 'prop' || m.type === 'read-index') {
      term = 0
    } else {
      term = this.term
    }
    // Callers build a fresh object per message: fill it in place rather than copying (hot path).
    const out = m as Message
    out.from = from
    out.term = term
    this.msgs.push(out)
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed }
  }

  loadState(hs: HardState): void {
    if (hs.commit > this.log.lastIndex()) {
      throw new RaftInvariantError(`hard state commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`)
    }
    // A snapshot covers only committed entries, so a stored commit below it (the hard state
    // record was lost in a torn write after the snapshot's) is lifted to the snapshot index.
    this.log.committed = Math.max(hs.commit, this.log.committed)
    this.term = hs.term
    this.vote = hs.vote
  }

  // ---- roles ----

  #reset(term: number): void {
    if (this.term !== term) {
      this.term = term
      this.vote = NONE
    }
    this.lead = NONE
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.randomizedElectionTimeout = this.electionTimeout + this.random.int(this.electionTimeout)
    this.leadTransferee = NONE
    this.trk.resetVotes()
    const last = this.log.lastIndex()
    for (const [id, pr] of this.trk.progress) {
      this.trk.progress.set(id, new Progress({ match: id === this.id ? last : 0, next: last + 1, maxInflight: this.trk.maxInflight, isLearner: pr.isLearner, recentActive: false }))
    }
    this.pendingConfIndex = 0
    this.uncommittedSize = 0
    this.readOnly = new ReadOnly(this.readOnly.option)
    this.pendingReadIndexMessages = []
    this.lease = undefined
  }

  /** Whether lease-based reads are on. */
  get leaseReads(): boolean {
    return this.readOnly.option === 'lease-based'
  }

  /** Whether this member is still bound by a leader lease it may have acknowledged (lease-based reads only). */
  inLeaderLease(): boolean {
    return this.leaseReads && this.leaseElapsed < this.electionTimeout
  }

  becomeFollower(term: number, lead: RaftMemberId): void {
    this.#reset(term)
    this.lead = lead
    this.state = RaftRole.follower
    this.logger.debug('raft: became follower', { id: this.id, term, lead })
  }

  becomePreCandidate(): void {
    if (this.state === RaftRole.leader) throw new RaftInvariantError('leader cannot become pre-candidate')
    // Neither the term nor the vote changes: a pre-election must not disturb anyone.
    this.trk.resetVotes()
    this.lead = NONE
    this.state = RaftRole.preCandidate
    this.logger.debug('raft: became pre-candidate', { id: this.id, term: this.term })
  }

  becomeCandidate(): void {
    if (this.state === RaftRole.leader) throw new RaftInvariantError('leader cannot become candidate')
    this.#reset(this.term + 1)
    this.vote = this.id
    this.state = RaftRole.candidate
    this.logger.debug('raft: became candidate', { id: this.id, term: this.term })
  }

  becomeLeader(): void {
    if (this.state === RaftRole.follower) throw new RaftInvariantError('follower cannot become leader without an election')
    this.#reset(this.term)
    this.lead = this.id
    this.state = RaftRole.leader
    if (this.leaseReads) this.lease = new LeaderLease(this.electionTimeout)
    const pr = this.trk.progress.get(this.id)
    if (pr !== undefined) {
      pr.becomeReplicate()
      pr.recentActive = true
    }
    // Conf changes in the log may not be applied yet: allow no new one until they are.
    this.pendingConfIndex = this.log.lastIndex()
    // An empty entry of our term: committing it commits everything before it (Raft §5.4.2).
    if (!this.appendEntry([{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }])) {
      throw new RaftInvariantError('empty entry was dropped')
    }
    this.logger.info('raft: became leader', { id: this.id, term: this.term })
  }

  promotable(): boolean {
    const pr = this.trk.progress.get(this.id)
    return pr !== undefined && !pr.isLearner && !this.log.hasPendingSnapshot()
  }

  // ---- time ----

  tick(): void {
    this.ticks++
    this.leaseElapsed++
    if (this.state === RaftRole.leader) this.#tickHeartbeat()
    else this.#tickElection()
  }

  #tickElection(): void {
    this.electionElapsed++
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0
      this.hup(this.preVote ? 'pre-election' : 'election')
    }
  }

  #tickHeartbeat(): void {
    this.heartbeatElapsed++
    this.electionElapsed++
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0
      if (this.checkQuorum) {
        if (!this.trk.quorumActive(this.id)) {
          this.logger.warn('raft: stepping down, quorum is not active', { id: this.id, term: this.term })
          this.becomeFollower(this.term, NONE)
        }
        for (const [id, pr] of this.trk.progress) if (id !== this.id) pr.recentActive = false
      }
      // A transfer must finish within an election timeout.
      if (this.state === RaftRole.leader && this.leadTransferee !== NONE) this.leadTransferee = NONE
    }
    if (this.state !== RaftRole.leader) return
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0
      bcastHeartbeat(this)
    }
  }

  // ---- elections (see raft-candidate.ts) ----

  hup(t: CampaignType): void {
    startCampaign(this, t)
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.termOrZero(this.log.committed) === this.term
  }

  // ---- messages ----

  /** Steps a message; returns why a proposal was dropped, if it was. */
  step(m: Message): DropReason | undefined {
    if ((m.type === 'vote' || m.type === 'pre-vote') && m.term >= this.term && !m.transfer && this.inLeaderLease() && !(m.type === 'vote' && m.term === this.term && this.vote === m.from)) {
      // Lease-based reads: a vote now could elect a leader while the one whose lease we
      // acknowledged still serves reads. Whatever our term or known leader (unlike the
      // stickiness check below), only a vote already cast is repeated.
      this.logger.debug('raft: ignoring vote request within a leader lease', { id: this.id, from: m.from, term: m.term })
      return undefined
    }
    if (m.term === 0) {
      // local message (or a forwarded proposal / read request)
    } else if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'pre-vote') {
        // Leader stickiness: while we hear from a leader, ignore campaigns (unless it asked for one).
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout
        if (!m.transfer && inLease) {
          this.logger.debug('raft: ignoring vote request within the leader lease', { id: this.id, from: m.from, term: m.term })
          return undefined
        }
      }
      if (m.type === 'pre-vote') {
        // Never change our term in response to a pre-vote.
      } else if (m.type === 'pre-vote-resp' && !m.reject) {
        // Our own future term; we move to it only once a quorum grants it.
      } else if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snapshot') {
        this.becomeFollower(m.term, m.from)
      } else {
        this.becomeFollower(m.term, NONE)
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
        // A stale leader (e.g. back from a partition) learns our term from this and steps down;
        // without it, a node that bumped its term could never rejoin under CheckQuorum/PreVote.
        this.send({ type: 'app-resp', to: m.from, index: 0, reject: false, rejectHint: 0, logTerm: 0 })
      } else if (m.type === 'pre-vote') {
        this.send({ type: 'pre-vote-resp', to: m.from, term: this.term, reject: true })
      }
      return undefined
    }

    if (m.type === 'vote' || m.type === 'pre-vote') {
      const respType = m.type === 'vote' ? 'vote-resp' : 'pre-vote-resp'
      const canVote = this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === 'pre-vote' && m.term > this.term)
      if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
        this.send({ type: respType, to: m.from, term: m.term, reject: false })
        if (m.type === 'vote') {
          this.electionElapsed = 0
          this.vote = m.from
        }
      } else {
        this.send({ type: respType, to: m.from, term: this.term, reject: true })
      }
      return undefined
    }
    switch (this.state) {
      case RaftRole.leader:
        return stepLeader(this, m)
      case RaftRole.candidate:
      case RaftRole.preCandidate:
        return stepCandidate(this, m)
      case RaftRole.follower:
        return stepFollower(this, m)
    }
  }

  // ---- log ----

  /** Appends entries of the current term as leader; false when the uncommitted budget is spent. */
  appendEntry(es: readonly Entry[]): boolean {
    const li = this.log.lastIndex()
    const ents = es.map((e, i) => ({ ...e, term: this.term, index: li + 1 + i }))
    if (!this.#increaseUncommittedSize(ents)) return false
    const last = this.log.append(ents)
    // The leader acknowledges its own entries only once they are persisted.
    this.msgsAfterAppend.push({ type: 'app-resp', from: this.id, to: this.id, term: this.term, index: last, reject: false, rejectHint: 0, logTerm: 0 })
    return true
  }

  /** Advances the commit index to what a quorum has, if that entry is of our term. */
  maybeCommit(): boolean {
    return this.log.maybeCommit(this.trk.committed(), this.term)
  }

  #increaseUncommittedSize(ents: readonly Entry[]): boolean {
    let s = 0
    for (const e of ents) s += payloadSize(e)
    if (this.maxUncommittedSize > 0 && this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false
    this.uncommittedSize += s
    return true
  }

  /** Releases uncommitted budget for entries that were handed out for applying. */
  reduceUncommittedSize(ents: readonly Entry[]): void {
    if (this.uncommittedSize === 0) return
    let s = 0
    for (const e of ents) s += payloadSize(e)
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s
  }

  /** Records that the application applied up to `index`; a leader then leaves an auto-leave joint config. */
  appliedTo(index: number): void {
    const newApplied = Math.max(index, this.log.applied)
    this.log.appliedTo(newApplied)
    if (this.trk.config.autoLeave && newApplied >= this.pendingConfIndex && this.state === RaftRole.leader) {
      const dropped = this.step({ type: 'prop', from: this.id, to: NONE, term: 0, entries: [{ term: 0, index: 0, type: 'conf-change', data: new Uint8Array(0) }] })
      if (dropped === undefined) this.logger.info('raft: leaving the joint configuration automatically', { id: this.id })
    }
  }

  // ---- configuration ----

  applyConfChange(cc: AnyConfChange): ConfState {
    const next = new Changer({ config: this.trk.config, progress: this.trk.progress }, this.log.lastIndex(), this.trk.maxInflight).applyV2(toConfChangeV2(cc))
    return this.switchToConfig(next)
  }

  switchToConfig(next: ConfigAndProgress): ConfState {
    this.trk.config = next.config
    this.trk.progress = next.progress
    const cs = this.trk.confState()
    const pr = this.trk.progress.get(this.id)
    this.isLearner = pr?.isLearner === true
    if ((pr === undefined || this.isLearner) && this.state === RaftRole.leader) {
      // Removed or demoted while leading: keep replicating the pending entries unless asked to step down.
      if (this.stepDownOnRemoval) this.becomeFollower(this.term, NONE)
      return cs
    }
    if (this.state !== RaftRole.leader || cs.voters.length === 0) return cs
    if (this.maybeCommit()) {
      bcastAppend(this)
    } else {
      // Probe new members right away rather than on the next heartbeat.
      for (const [id] of this.trk.sortedProgress()) if (id !== this.id) maybeSendAppend(this, id, false)
    }
    if (this.leadTransferee !== NONE && !this.trk.isVoter(this.leadTransferee)) this.leadTransferee = NONE
    return cs
  }

  /** Whether a proposal can be accepted right now (as leader or by forwarding), and why not. */
  proposalBlocker(): DropReason | undefined {
    if (this.state === RaftRole.leader) {
      if (!this.trk.progress.has(this.id)) return ProposalDroppedReason.notMember
      if (this.leadTransferee !== NONE) return ProposalDroppedReason.transferInProgress
      return undefined
    }
    if (this.state !== RaftRole.follower) return ProposalDroppedReason.candidate
    if (this.lead === NONE) return ProposalDroppedReason.noLeader
    if (this.disableProposalForwarding) return ProposalDroppedReason.forwardingDisabled
    return undefined
  }
}
