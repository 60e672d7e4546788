/**
 * Errors of the Raft core and its storage contract. Check them by `err.name`.
 */

/** Options accepted by every Raft error constructor. */
export interface RaftErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown
}

function superOptions(options: RaftErrorOptions | undefined): ErrorOptions | undefined {
  return options?.cause === undefined ? undefined : { cause: options.cause }
}

/**
 * The requested index is at or below the storage's compaction point: the entries (or, for
 * `term`, the term) are only available through the snapshot.
 */
export class CompactedError extends Error {
  override readonly name = 'CompactedError'
  /** The index that was asked for. */
  readonly index: number
  constructor(index: number, options?: RaftErrorOptions) {
    super(`index ${index} is compacted`, superOptions(options))
    this.index = index
  }
}

/** The requested index is beyond the last index in storage. */
export class EntryUnavailableError extends Error {
  override readonly name = 'EntryUnavailableError'
  /** The index that was asked for. */
  readonly index: number
  constructor(index: number, options?: RaftErrorOptions) {
    super(`index ${index} is not available`, superOptions(options))
    this.index = index
  }
}

/**
 * The storage cannot produce a snapshot right now (e.g. one is being written); the core
 * retries later. Any other error from `snapshot()` is fatal.
 */
export class SnapshotTemporarilyUnavailableError extends Error {
  override readonly name = 'SnapshotTemporarilyUnavailableError'
  constructor(message = 'snapshot is temporarily unavailable', options?: RaftErrorOptions) {
    super(message, superOptions(options))
  }
}

/** A snapshot older than the one storage already holds was offered; nothing changed. */
export class SnapshotOutOfDateError extends Error {
  override readonly name = 'SnapshotOutOfDateError'
  /** Index of the offered snapshot. */
  readonly index: number
  /** Index of the snapshot already held. */
  readonly current: number
  constructor(index: number, current: number, options?: RaftErrorOptions) {
    super(`snapshot at index ${index} is older than the current snapshot at ${current}`, superOptions(options))
    this.index = index
    this.current = current
  }
}

/** Why a proposal was dropped. */
export const ProposalDroppedReason = {
  /** No leader is known (e.g. during an election). */
  noLeader: 'no-leader',
  /** This node is a follower and `disableProposalForwarding` is set. */
  forwardingDisabled: 'forwarding-disabled',
  /** The leader is handing leadership to another member. */
  transferInProgress: 'transfer-in-progress',
  /** The leader's budget of uncommitted entry bytes (`maxUncommittedEntriesSize`) is spent. */
  uncommittedLimit: 'uncommitted-limit',
  /** This node is not a member of the configuration (it was removed). */
  notMember: 'not-member',
  /** This node is a candidate or pre-candidate. */
  candidate: 'candidate',
  /**
   * `RaftNode`: a later proposal of the same driver was applied first (its forward was overtaken
   * in the log), so this one is skipped on every member — the price of never applying a
   * duplicated proposal twice.
   */
  overtaken: 'overtaken',
} as const
/** Why a proposal was dropped. */
export type ProposalDroppedReason = (typeof ProposalDroppedReason)[keyof typeof ProposalDroppedReason]

/** A proposal was not accepted into the log; the caller may retry (possibly elsewhere). */
export class ProposalDroppedError extends Error {
  override readonly name = 'ProposalDroppedError'
  /** Why the proposal was dropped. */
  readonly reason: ProposalDroppedReason
  constructor(reason: ProposalDroppedReason, options?: RaftErrorOptions) {
    super(`raft proposal dropped: ${reason}`, superOptions(options))
    this.reason = reason
  }
}

/** A local-only message (e.g. `unreachable`) arrived through `step` from the network. */
export class StepLocalMessageError extends Error {
  override readonly name = 'StepLocalMessageError'
  /** The message type. */
  readonly type: string
  constructor(type: string, options?: RaftErrorOptions) {
    super(`raft: cannot step local message ${type} received from the network`, superOptions(options))
    this.type = type
  }
}

/**
 * A broken internal invariant: a bug in the core, a storage that broke its contract, or a
 * caller that broke the `Ready` protocol. The `RawNode` must not be used afterwards.
 */
export class RaftInvariantError extends Error {
  override readonly name = 'RaftInvariantError'
  constructor(message: string, options?: RaftErrorOptions) {
    super(message, superOptions(options))
  }
}

/**
 * A proposal was waiting when this member's state was replaced by a Raft snapshot that may
 * already contain it: it was applied exactly once (inside the snapshot) or never will be — the
 * outcome is unknown. Retry only if the operation is idempotent.
 */
export class ProposalOutcomeUnknownError extends Error {
  override readonly name = 'ProposalOutcomeUnknownError'
  constructor(message = 'raft: a snapshot replaced the state while the proposal was pending; its outcome is unknown', options?: RaftErrorOptions) {
    super(message, superOptions(options))
  }
}

/**
 * A proposal or read was waiting when this member lost (or never had) a stable leader: the
 * outcome is unknown — a proposal may still commit. Retry only if the operation is idempotent.
 */
export class LeadershipLostError extends Error {
  override readonly name = 'LeadershipLostError'
  constructor(message = 'raft: leadership changed while the request was pending; its outcome is unknown', options?: RaftErrorOptions) {
    super(message, superOptions(options))
  }
}

/** The `RaftNode` was stopped (or failed) before the request completed. */
export class RaftStoppedError extends Error {
  override readonly name = 'RaftStoppedError'
  constructor(message = 'raft: node stopped', options?: RaftErrorOptions) {
    super(message, superOptions(options))
  }
}
