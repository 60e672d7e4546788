/**
 * Errors of the Raft core, its storage contract and its driver. Every one is a
 * `SwarmkitError` of `@swarmkit-ts/api` (so it has a gRPC status `code` and a typed
 * `context()`); check them by `err.name` or class, never by message text.
 */
import { GrpcStatus, InternalError, SwarmkitError } from '@swarmkit-ts/api'
import type { SwarmkitErrorOptions } from '@swarmkit-ts/api'

/** Options accepted by every Raft error constructor (the api's {@link SwarmkitErrorOptions}). */
export interface RaftErrorOptions extends SwarmkitErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown
}

/**
 * The requested index is at or below the storage's compaction point: the entries (or, for
 * `term`, the term) are only available through the snapshot. gRPC status `OUT_OF_RANGE`.
 */
export class CompactedError extends SwarmkitError {
  override readonly name = 'CompactedError'
  readonly code = GrpcStatus.OUT_OF_RANGE
  /** The index that was asked for. */
  readonly index: number
  constructor(index: number, options?: RaftErrorOptions) {
    super(`index ${index} is compacted`, options)
    this.index = index
  }
  /** `{ index }`. */
  context(): Record<string, string | undefined> {
    return { index: String(this.index) }
  }
}

/** The requested index is beyond the last index in storage. gRPC status `OUT_OF_RANGE`. */
export class EntryUnavailableError extends SwarmkitError {
  override readonly name = 'EntryUnavailableError'
  readonly code = GrpcStatus.OUT_OF_RANGE
  /** The index that was asked for. */
  readonly index: number
  constructor(index: number, options?: RaftErrorOptions) {
    super(`index ${index} is not available`, options)
    this.index = index
  }
  /** `{ index }`. */
  context(): Record<string, string | undefined> {
    return { index: String(this.index) }
  }
}

/**
 * The storage cannot produce a snapshot right now (e.g. one is being written); the core
 * retries later. Any other error from `snapshot()` is fatal. gRPC status `UNAVAILABLE`.
 */
export class SnapshotTemporarilyUnavailableError extends SwarmkitError {
  override readonly name = 'SnapshotTemporarilyUnavailableError'
  readonly code = GrpcStatus.UNAVAILABLE
  constructor(message = 'snapshot is temporarily unavailable', options?: RaftErrorOptions) {
    super(message, options)
  }
  /** Empty: the message says it all. */
  context(): Record<string, string | undefined> {
    return {}
  }
}

/**
 * A snapshot older than the one storage already holds was offered; nothing changed.
 * gRPC status `FAILED_PRECONDITION`.
 */
export class SnapshotOutOfDateError extends SwarmkitError {
  override readonly name = 'SnapshotOutOfDateError'
  readonly code = GrpcStatus.FAILED_PRECONDITION
  /** Index of the offered snapshot. */
  readonly index: number
  /** Index of the snapshot already held. */
  readonly current: number
  constructor(index: number, current: number, options?: RaftErrorOptions) {
    super(`snapshot at index ${index} is older than the current snapshot at ${current}`, options)
    this.index = index
    this.current = current
  }
  /** `{ index, current }`. */
  context(): Record<string, string | undefined> {
    return { index: String(this.index), current: String(this.current) }
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
  /**
   * `RaftNode`: the transport gave up on the message forwarding the proposal to the leader
   * (see `RaftTransportHandlers.undeliverable`): it never reached the log.
   */
  undeliverable: 'undeliverable',
} as const
/** Why a proposal was dropped. */
export type ProposalDroppedReason = (typeof ProposalDroppedReason)[keyof typeof ProposalDroppedReason]

/**
 * A proposal was not accepted into the log (it never will be); the caller may retry, possibly
 * elsewhere. gRPC status `UNAVAILABLE`.
 */
export class ProposalDroppedError extends SwarmkitError {
  override readonly name = 'ProposalDroppedError'
  readonly code = GrpcStatus.UNAVAILABLE
  /** Why the proposal was dropped. */
  readonly reason: ProposalDroppedReason
  constructor(reason: ProposalDroppedReason, options?: RaftErrorOptions) {
    super(`raft proposal dropped: ${reason}`, options)
    this.reason = reason
  }
  /** `{ reason }`. */
  context(): Record<string, string | undefined> {
    return { reason: this.reason }
  }
}

/**
 * A proposal (or a membership change) is too large to ever travel in one transport message:
 * its log entry would exceed the largest entry the transport's `maxMessageBytes` allows. It
 * was not proposed; retrying cannot help. gRPC status `INVALID_ARGUMENT`.
 */
export class ProposalTooLargeError extends SwarmkitError {
  override readonly name = 'ProposalTooLargeError'
  readonly code = GrpcStatus.INVALID_ARGUMENT
  /** The argument that is too large, e.g. `payload` or `address`. */
  readonly field: string
  /** Bytes the entry's data would take. */
  readonly size: number
  /** The largest entry data, in bytes, that the transport can carry. */
  readonly limit: number
  /** The transport's `maxMessageBytes` the limit derives from. */
  readonly maxMessageBytes: number
  constructor(field: string, size: number, limit: number, maxMessageBytes: number, options?: RaftErrorOptions) {
    super(`${field}: the raft entry would be ${size} bytes, over the limit of ${limit} bytes (transport maxMessageBytes ${maxMessageBytes})`, options)
    this.field = field
    this.size = size
    this.limit = limit
    this.maxMessageBytes = maxMessageBytes
  }
  /** `{ field, size, limit, maxMessageBytes }`. */
  context(): Record<string, string | undefined> {
    return { field: this.field, size: String(this.size), limit: String(this.limit), maxMessageBytes: String(this.maxMessageBytes) }
  }
}

/**
 * A local-only message (e.g. `unreachable`) arrived through `step` from the network.
 * gRPC status `INVALID_ARGUMENT`.
 */
export class StepLocalMessageError extends SwarmkitError {
  override readonly name = 'StepLocalMessageError'
  readonly code = GrpcStatus.INVALID_ARGUMENT
  /** The message type. */
  readonly type: string
  constructor(type: string, options?: RaftErrorOptions) {
    super(`raft: cannot step local message ${type} received from the network`, options)
    this.type = type
  }
  /** `{ type }`. */
  context(): Record<string, string | undefined> {
    return { type: this.type }
  }
}

/**
 * A broken internal invariant: a bug in the core, a storage that broke its contract, or a
 * caller that broke the `Ready` protocol. The `RawNode` must not be used afterwards.
 * An {@link InternalError} (gRPC status `INTERNAL`).
 */
export class RaftInvariantError extends InternalError {
  override readonly name = 'RaftInvariantError'
}

/**
 * A proposal was waiting when this member's state was replaced by a Raft snapshot that may
 * already contain it: it was applied exactly once (inside the snapshot) or never will be — the
 * outcome is unknown. Retry only if the operation is idempotent. gRPC status `UNKNOWN`.
 */
export class ProposalOutcomeUnknownError extends SwarmkitError {
  override readonly name = 'ProposalOutcomeUnknownError'
  readonly code = GrpcStatus.UNKNOWN
  constructor(message = 'raft: a snapshot replaced the state while the proposal was pending; its outcome is unknown', options?: RaftErrorOptions) {
    super(message, options)
  }
  /** Empty: the message says it all. */
  context(): Record<string, string | undefined> {
    return {}
  }
}

/**
 * A proposal or read was waiting when this member lost (or never had) a stable leader, or a
 * leadership transfer went elsewhere or timed out: the request was aborted and its outcome is
 * unknown — a proposal may still commit. Retry only if the operation is idempotent.
 * gRPC status `ABORTED`.
 */
export class LeadershipLostError extends SwarmkitError {
  override readonly name = 'LeadershipLostError'
  readonly code = GrpcStatus.ABORTED
  constructor(message = 'raft: leadership changed while the request was pending; its outcome is unknown', options?: RaftErrorOptions) {
    super(message, options)
  }
  /** Empty: the message says it all. */
  context(): Record<string, string | undefined> {
    return {}
  }
}

/**
 * The `RaftNode` was stopped, or failed (its `cause` is then the storage or state-machine
 * error), before or while the request ran. gRPC status `UNAVAILABLE`.
 */
export class RaftStoppedError extends SwarmkitError {
  override readonly name = 'RaftStoppedError'
  readonly code = GrpcStatus.UNAVAILABLE
  constructor(message = 'raft: node stopped', options?: RaftErrorOptions) {
    super(message, options)
  }
  /** Empty: the message (and `cause`) say it all. */
  context(): Record<string, string | undefined> {
    return {}
  }
}

/**
 * This member's id is bound, in the replicated log, to another storage incarnation than the one
 * it runs on: it lost its durable state (a wiped or replaced disk) and came back under its old
 * id. It must not vote or be counted again under that id, so its `RaftNode` stops (the other
 * members already refuse its messages). Remove the member from the cluster and add it back
 * under a new id. gRPC status `FAILED_PRECONDITION`.
 */
export class MemberIdentityError extends SwarmkitError {
  override readonly name = 'MemberIdentityError'
  readonly code = GrpcStatus.FAILED_PRECONDITION
  /** The member that lost its state. */
  readonly memberId: bigint
  /** The incarnation the cluster bound to `memberId`. */
  readonly boundIncarnation: bigint
  /** The incarnation of the storage the member runs on now (`0n`: none). */
  readonly incarnation: bigint
  constructor(memberId: bigint, boundIncarnation: bigint, incarnation: bigint, options?: RaftErrorOptions) {
    super(
      `raft: member ${memberId.toString(16)} lost its durable state (the cluster knows it as incarnation ${boundIncarnation.toString(16)}, its storage is incarnation ${incarnation.toString(16)}); remove it from the cluster and add it back under a new ID`,
      options,
    )
    this.memberId = memberId
    this.boundIncarnation = boundIncarnation
    this.incarnation = incarnation
  }
  /** `{ memberId, boundIncarnation, incarnation }` in hex. */
  context(): Record<string, string | undefined> {
    return { memberId: this.memberId.toString(16), boundIncarnation: this.boundIncarnation.toString(16), incarnation: this.incarnation.toString(16) }
  }
}
