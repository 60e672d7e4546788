/**
 * What `RawNode` hands to its caller: the `Ready` batch of work and the status snapshot.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import type { ProgressState } from './progress.ts'
import type { ReadState } from './read-only.ts'
import type { RaftRole } from './role.ts'
import type { ConfState, Entry, HardState, Message, Snapshot } from './types.ts'

/** Volatile state that is useful to observe but never persisted. */
export interface SoftState {
  /** The known leader, or `NONE`. */
  lead: RaftMemberId
  /** This member's role. */
  state: RaftRole
}

/**
 * A batch of work from `RawNode.ready()`. The caller must handle the fields in this order and
 * then call `advance(rd)` before asking for the next `Ready`:
 *
 * 1. **Persist** `snapshot` (if set), then `entries`, then `hardState` (if set) — see
 *    `RaftLog` for the exact calls — and if `mustSync`, wait until they are durable.
 * 2. **Send** `messages`. They may depend on the state persisted in step 1 (a vote, an
 *    append acknowledgement), so never send them before step 1 is durable.
 * 3. **Apply** `snapshot` (if set) to the state machine, then `committedEntries` in order; for
 *    each `conf-change` entry call `RawNode.applyConfChange` with the decoded change.
 *    Serve `readStates` once the applied index reaches their `index`.
 * 4. Call `advance(rd)`.
 *
 * A driver may apply the leading committed entries that an *earlier* `Ready` persisted (indexes
 * below `entries[0]`) while step 1's write is still in flight: they are committed, hence durable
 * on a quorum. `RaftNode` does so for normal entries in a `Ready` without `softState`,
 * `snapshot` or term/vote change.
 */
export interface Ready {
  /**
   * The new leader and role, present only when either changed since the previous `Ready`.
   * Informational; not persisted.
   */
  softState?: SoftState
  /**
   * The new term, vote and commit index, present only when changed since the previous
   * `Ready`. Persist it (`RaftLog.setHardState`) before sending `messages`.
   */
  hardState?: HardState
  /**
   * ReadIndex results: a read with context `requestCtx` is linearizable once the local
   * applied index is ≥ `index`.
   */
  readStates: ReadState[]
  /**
   * Entries to append to storage (`RaftLog.append`), which replaces any stored entries at the
   * same indexes or later. Persist before sending `messages`.
   */
  entries: Entry[]
  /** A snapshot received from the leader: persist it (`RaftLog.applySnapshot`) first, then restore the state machine from it. */
  snapshot?: Snapshot
  /**
   * Entries that are committed and must be applied to the state machine, in order. They were
   * persisted by this or an earlier `Ready`.
   */
  committedEntries: Entry[]
  /** Messages to send to other members once step 1 is durable; delivery may fail or reorder. */
  messages: Message[]
  /**
   * Whether `hardState`, `entries` or `snapshot` must be synced to stable storage
   * (`RaftLog.sync`) before `messages` are sent. False when only the commit index changed.
   */
  mustSync: boolean
}

/** The leader's view of one member. */
export interface ProgressStatus {
  /** Highest index known to be replicated there. */
  match: number
  /** Next index to send. */
  next: number
  /** Replication state. */
  state: ProgressState
  /** Heard from since the last CheckQuorum round. */
  recentActive: boolean
  /** Whether the member is a learner. */
  isLearner: boolean
  /** Append messages in flight. */
  inflight: number
  /** Index of the snapshot being sent (snapshot state), else 0. */
  pendingSnapshot: number
  /** Whether appends to it are paused. */
  paused: boolean
}

/** A snapshot of a member's Raft state, for monitoring and tests. */
export interface RaftStatus {
  /** This member. */
  id: RaftMemberId
  /** Current term, vote and commit index. */
  hardState: HardState
  /** Current leader and role. */
  softState: SoftState
  /** Highest applied index. */
  applied: number
  /** Index of the last entry in the log (persisted or not). */
  lastIndex: number
  /** The member leadership is being transferred to, or `NONE`. */
  leadTransferee: RaftMemberId
  /** The active configuration. */
  config: ConfState
  /** Replication progress of every member (only on the leader; empty otherwise). */
  progress: ReadonlyMap<RaftMemberId, ProgressStatus>
}
