/**
 * What the role handlers (raft-leader.ts, raft-follower.ts, raft-candidate.ts) and the
 * replication helpers (raft-replication.ts) see of the Raft state machine: its state, and the
 * transitions they may ask for. `RaftCore` (raft.ts) implements it and dispatches to them, so
 * they depend on this interface, not on raft.ts: the core's import graph has no cycle.
 *
 * @internal
 */
import type { Logger, RaftMemberId } from '@swarmkit-ts/api'
import type { ConfigAndProgress } from './conf-change.ts'
import type { LeaderLease } from './lease.ts'
import type { RaftLogView } from './log-view.ts'
import type { ReadOnly, ReadState } from './read-only.ts'
import type { RaftRole } from './role.ts'
import type { ProgressTracker } from './tracker.ts'
import type { ConfState, Entry, Message, ReadIndexMessage } from './types.ts'

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
/** A message to send: `from` defaults to this node, `term` to the current term (see {@link RoleContext.send}). */
export type Outgoing = DistributiveOmit<Message, 'from' | 'term'> & { from?: RaftMemberId; term?: number }

/** How a campaign starts: with a pre-vote, a real election, or a leadership transfer (no pre-vote, past any lease). */
export type CampaignType = 'pre-election' | 'election' | 'transfer'

/** The Raft state machine as its role handlers see it (see `RaftCore` for each member). */
export interface RoleContext {
  readonly id: RaftMemberId
  readonly log: RaftLogView
  readonly trk: ProgressTracker
  readonly logger: Logger
  /** Largest append, in bytes of entries (`maxSizePerMsg`). */
  readonly maxMsgSize: number
  readonly disableProposalForwarding: boolean
  /**
   * A leader does not send a new commit index on its own at once: it rides on the next append
   * (or heartbeat), or goes out when the driver calls `bcastCommit` (see `RawNodeInit`).
   */
  readonly deferCommitBroadcast: boolean
  term: number
  state: RaftRole
  lead: RaftMemberId
  readStates: ReadState[]
  leadTransferee: RaftMemberId
  /** Index of the latest conf change proposed by this leader; none may be proposed until it is applied. */
  pendingConfIndex: number
  readOnly: ReadOnly
  /** ReadIndex requests waiting for this new leader to commit an entry of its term. */
  pendingReadIndexMessages: ReadIndexMessage[]
  electionElapsed: number
  /** Ticks since this process started (stamps lease rounds). */
  ticks: number
  /** Ticks since this member last heard from a leader of its term (see `RaftCore.leaseElapsed`). */
  leaseElapsed: number
  /** The lease of this leadership (lease-based reads only). */
  lease: LeaderLease | undefined

  /** Queues a message (see {@link Outgoing}). */
  send(m: Outgoing): void
  becomeFollower(term: number, lead: RaftMemberId): void
  becomePreCandidate(): void
  becomeCandidate(): void
  becomeLeader(): void
  /** Whether this member may campaign: a voter with no snapshot pending. */
  promotable(): boolean
  /** Whether this member is still bound by a leader lease it may have acknowledged. */
  inLeaderLease(): boolean
  /** Starts a campaign if this member may (see raft-candidate.ts). */
  hup(t: CampaignType): void
  /** Appends entries of the current term as leader; false when the uncommitted budget is spent. */
  appendEntry(es: readonly Entry[]): boolean
  /** Advances the commit index to what a quorum has, if that entry is of our term. */
  maybeCommit(): boolean
  committedEntryInCurrentTerm(): boolean
  /** Switches to a new configuration (a restored snapshot's, an applied conf change's). */
  switchToConfig(next: ConfigAndProgress): ConfState
}
