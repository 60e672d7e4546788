/**
 * The data types of the Raft core: log entries, persistent state, configurations, snapshots,
 * membership changes and the messages exchanged between members.
 *
 * Terms and log indexes are JS numbers (exact up to 2^53 − 1, which at a million entries a
 * second lasts 285 years); member ids are `bigint` ({@link RaftMemberId}) because SwarmKit draws
 * them at random from 63 bits.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'

/** The "no member" id: no vote cast, no leader known. Real member ids are never 0. */
export const NONE: RaftMemberId = 0n

/** The largest term or index the core accepts (2^53 − 1). */
export const MAX_INDEX = Number.MAX_SAFE_INTEGER

/** Kinds of log entry. */
export const EntryType = {
  /** Application data (an empty `data` is the leader's no-op entry). */
  normal: 'normal',
  /** An encoded {@link ConfChange} or {@link ConfChangeV2} (see `encodeConfChange`). */
  confChange: 'conf-change',
} as const
/** A kind of log entry. */
export type EntryType = (typeof EntryType)[keyof typeof EntryType]

/** One entry of the replicated log. */
export interface Entry {
  /** The term of the leader that created the entry. */
  term: number
  /** Position in the log, from 1. */
  index: number
  /** What `data` holds. */
  type: EntryType
  /** The payload; treated as immutable once handed to the core. */
  data: Uint8Array
}

/** The state a member must persist before it sends any message that depends on it. */
export interface HardState {
  /** The latest term this member has seen. */
  term: number
  /** The member voted for in `term`, or {@link NONE}. */
  vote: RaftMemberId
  /** The highest log index known to be committed. */
  commit: number
}

/**
 * A cluster configuration. Outside of joint consensus `votersOutgoing` is empty; while joint,
 * decisions need a majority of `voters` and of `votersOutgoing`.
 */
export interface ConfState {
  /** Voters of the incoming (or only) configuration. */
  voters: RaftMemberId[]
  /** Non-voting members. Never overlaps `voters` or `votersOutgoing`. */
  learners: RaftMemberId[]
  /** Voters of the outgoing configuration while joint; empty otherwise. */
  votersOutgoing: RaftMemberId[]
  /** Outgoing voters that become learners when the joint configuration is left. */
  learnersNext: RaftMemberId[]
  /** Whether the leader leaves the joint configuration by itself once it is committed. */
  autoLeave: boolean
}

/** Describes the log position and configuration a snapshot covers. */
export interface SnapshotMetadata {
  /** Index of the last entry included. */
  index: number
  /** Term of the entry at `index`. */
  term: number
  /** The configuration in force at `index`. */
  confState: ConfState
}

/** A point-in-time image of the application state machine. */
export interface Snapshot {
  /** What the snapshot covers. */
  metadata: SnapshotMetadata
  /** The application's serialized state (opaque to Raft). */
  data: Uint8Array
}

/** Kinds of single membership change. */
export const ConfChangeType = {
  /** Add a voter, or promote a learner to voter. */
  addVoter: 'add-voter',
  /** Remove a voter or a learner. */
  remove: 'remove',
  /** Add a learner, or demote a voter to learner. */
  addLearner: 'add-learner',
  /**
   * Change nothing in the configuration; carries new application data for an existing member
   * in the change's context (e.g. its new address), applied in log order like any change.
   */
  updateNode: 'update-node',
} as const
/** A kind of single membership change. */
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType]

/** One change to one member. */
export interface ConfChangeSingle {
  /** What happens to the member. */
  type: ConfChangeType
  /** The member affected. */
  nodeId: RaftMemberId
}

/** A one-at-a-time membership change (etcd's ConfChange "V1"); applied without a joint phase. */
export interface ConfChange {
  /** Discriminant. */
  version: 1
  /** What happens to the member. */
  type: ConfChangeType
  /** The member affected. */
  nodeId: RaftMemberId
  /** Opaque application data carried with the change (e.g. the new member's address). */
  context: Uint8Array
}

/** How a {@link ConfChangeV2} moves between configurations. */
export const ConfChangeTransition = {
  /**
   * A single change that alters at most one voter is applied directly; anything else goes
   * through a joint configuration that the leader leaves by itself (`autoLeave`).
   */
  auto: 'auto',
  /** Always enter a joint configuration; leave it explicitly with an empty {@link ConfChangeV2}. */
  explicitJoint: 'explicit-joint',
  /** Always enter a joint configuration that the leader leaves by itself. */
  implicitJoint: 'implicit-joint',
} as const
/** How a {@link ConfChangeV2} moves between configurations. */
export type ConfChangeTransition = (typeof ConfChangeTransition)[keyof typeof ConfChangeTransition]

/**
 * A membership change of any number of members (etcd's ConfChangeV2). With no `changes` it
 * means "leave the current joint configuration".
 */
export interface ConfChangeV2 {
  /** Discriminant. */
  version: 2
  /** How the change is applied. */
  transition: ConfChangeTransition
  /** The changes, applied in order. */
  changes: ConfChangeSingle[]
  /** Opaque application data carried with the change. */
  context: Uint8Array
}

/** Either kind of membership change. */
export type AnyConfChange = ConfChange | ConfChangeV2

/** Fields shared by every message. */
interface MessageBase {
  /** The sender. */
  from: RaftMemberId
  /** The recipient. */
  to: RaftMemberId
  /** The sender's term; 0 for local messages (see each type). */
  term: number
  /**
   * The incarnation of the sender's storage (see `RaftStorage`), stamped by the `RaftNode`
   * driver when it sends; absent when it has none. The core neither sets nor reads it.
   */
  fromIncarnation?: bigint
  /**
   * The incarnation the sender's `RaftNode` has bound for `to` in the replicated log; absent when
   * none is bound. A receiver whose own incarnation differs lost its state (see `MemberIdentityError`).
   */
  toIncarnation?: bigint
}

/** Leader → follower: entries to append after (`logTerm`, `index`), and the leader's commit index. */
export interface AppMessage extends MessageBase {
  type: 'app'
  /** Term of the entry at `index`. */
  logTerm: number
  /** Index of the entry that precedes `entries`. */
  index: number
  /** The entries (may be empty: a commit-index update or a probe). */
  entries: Entry[]
  /** The leader's commit index. */
  commit: number
}

/** Follower → leader: the answer to an {@link AppMessage} or {@link SnapshotMessage}. */
export interface AppRespMessage extends MessageBase {
  type: 'app-resp'
  /** On success the follower's last matching index; on rejection the rejected `index`. */
  index: number
  /** Whether the append was rejected (log mismatch at `index`). */
  reject: boolean
  /** On rejection: a hint index where the logs may match (≤ the follower's last index). */
  rejectHint: number
  /** On rejection: the follower's term at `rejectHint`, to let the leader skip whole terms. */
  logTerm: number
}

/** The fields of a (pre-)vote request: the candidate's last log position. */
interface VoteRequestFields extends MessageBase {
  /** Term of the candidate's last entry. */
  logTerm: number
  /** Index of the candidate's last entry. */
  index: number
  /** Set when the campaign follows a leadership transfer; it bypasses leader stickiness. */
  transfer: boolean
}

/** Candidate → voter: a vote request for `term`. */
export interface VoteMessage extends VoteRequestFields {
  type: 'vote'
}

/**
 * Pre-candidate → voter: would you vote for me at `term` (our term + 1)? Changes no state on
 * either side (PreVote, Raft thesis §9.6).
 */
export interface PreVoteMessage extends VoteRequestFields {
  type: 'pre-vote'
}

/** Voter → candidate: the answer to a {@link VoteMessage}. */
export interface VoteRespMessage extends MessageBase {
  type: 'vote-resp'
  /** Whether the vote was refused. */
  reject: boolean
}

/** Voter → pre-candidate: the answer to a {@link PreVoteMessage}. */
export interface PreVoteRespMessage extends MessageBase {
  type: 'pre-vote-resp'
  /** Whether the pre-vote was refused. */
  reject: boolean
}

/** Leader → follower: keep-alive carrying the commit index (capped at the follower's match). */
export interface HeartbeatMessage extends MessageBase {
  type: 'heartbeat'
  /** Commit index the follower may adopt. */
  commit: number
  /** Context of the newest pending ReadIndex request (empty when none). */
  context: Uint8Array
}

/** Follower → leader: the answer to a {@link HeartbeatMessage}. */
export interface HeartbeatRespMessage extends MessageBase {
  type: 'heartbeat-resp'
  /** Echo of the heartbeat's context. */
  context: Uint8Array
}

/** Leader → follower: install this snapshot (the follower's next entry is compacted away). */
export interface SnapshotMessage extends MessageBase {
  type: 'snapshot'
  /** The snapshot. */
  snapshot: Snapshot
}

/** Leader → transferee: start an election now, ignoring the election timer. */
export interface TimeoutNowMessage extends MessageBase {
  type: 'timeout-now'
}

/**
 * A linearizable read request carrying an opaque `context`. Local on the node that asked
 * (term 0); forwarded by a follower to the leader.
 */
export interface ReadIndexMessage extends MessageBase {
  type: 'read-index'
  /** Caller-chosen request id, echoed in the read state. */
  context: Uint8Array
}

/** Leader → follower: the read index for a forwarded {@link ReadIndexMessage}. */
export interface ReadIndexRespMessage extends MessageBase {
  type: 'read-index-resp'
  /** The commit index the read must wait for. */
  index: number
  /** Echo of the request's context. */
  context: Uint8Array
}

/** Ask the leader (`to`, or the local node) to hand leadership to `from` (the transferee). */
export interface TransferLeaderMessage extends MessageBase {
  type: 'transfer-leader'
}

/** Proposed entries: local on the proposing node (term 0), forwarded by a follower to the leader. */
export interface PropMessage extends MessageBase {
  type: 'prop'
  /** The proposed entries; their term and index are assigned by the leader. */
  entries: Entry[]
}

/** Local only (never sent): the transport could not reach `from`. */
export interface UnreachableMessage extends MessageBase {
  type: 'unreachable'
}

/** Local only (never sent): the outcome of sending a snapshot to `from`. */
export interface SnapStatusMessage extends MessageBase {
  type: 'snap-status'
  /** Whether sending failed. */
  reject: boolean
}

/** Any Raft message, discriminated by `type`. */
export type Message =
  | AppMessage
  | AppRespMessage
  | VoteMessage
  | PreVoteMessage
  | VoteRespMessage
  | PreVoteRespMessage
  | HeartbeatMessage
  | HeartbeatRespMessage
  | SnapshotMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexRespMessage
  | TransferLeaderMessage
  | PropMessage
  | UnreachableMessage
  | SnapStatusMessage

/** The `type` of a message. */
export type MessageType = Message['type']

/** Message types that are responses (a node may receive them from a member not in its config). */
export function isResponseMessage(type: MessageType): boolean {
  return type === 'app-resp' || type === 'vote-resp' || type === 'pre-vote-resp' || type === 'heartbeat-resp' || type === 'read-index-resp' || type === 'unreachable' || type === 'snap-status'
}

/** Message types that never leave the local node. */
export function isLocalMessage(type: MessageType): boolean {
  return type === 'unreachable' || type === 'snap-status'
}

/** An empty configuration. */
export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }
}

/** An empty hard state (term 0, no vote, nothing committed). */
export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 }
}

/** An empty snapshot (index 0): the state of a member that has never received one. */
export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: emptyConfState() }, data: new Uint8Array(0) }
}

/** Whether `s` is the empty snapshot (index 0). */
export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0
}

/** Whether two hard states are equal. */
export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}

/** Whether `hs` is the empty hard state. */
export function isEmptyHardState(hs: HardState): boolean {
  return hardStateEqual(hs, emptyHardState())
}
