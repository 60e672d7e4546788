/**
 * Errors of the store that the api's error classes do not cover. Both extend `SwarmkitError`, so
 * they carry a gRPC code and typed context; check them by `err.name`.
 *
 * @module
 */
import { GrpcStatus, SwarmkitError } from '@swarmkit-ts/api'
import type { SwarmkitErrorOptions } from '@swarmkit-ts/api'

/**
 * A watcher fell too far behind: its queue reached its limit, so the store closed it and dropped
 * what it held. Re-list (or resume with `changesSince(version)` when that is still recent enough).
 * Maps to gRPC UNAVAILABLE.
 */
export class WatchQueueOverflowError extends SwarmkitError {
  override readonly name = 'WatchQueueOverflowError'
  readonly code = GrpcStatus.UNAVAILABLE
  /** The queue limit that was reached. */
  readonly limit: number
  /** The version of the last commit event this watcher delivered (undefined when none). */
  readonly version: bigint | undefined
  constructor(limit: number, version: bigint | undefined, options?: SwarmkitErrorOptions) {
    super(`watcher fell more than ${limit} events behind and was closed; re-list`, options)
    this.limit = limit
    this.version = version
  }
  context(): Record<string, string | undefined> {
    return { limit: String(this.limit), version: this.version?.toString() }
  }
}

/**
 * `changesSince(version)` (or a watch with `since`) asked for changes older than the store still
 * remembers (its history is bounded, and a restore starts it afresh). Re-list instead.
 * Maps to gRPC FAILED_PRECONDITION.
 */
export class HistoryTrimmedError extends SwarmkitError {
  override readonly name = 'HistoryTrimmedError'
  readonly code = GrpcStatus.FAILED_PRECONDITION
  /** The version asked for. */
  readonly requested: bigint
  /** The oldest version the store can resume from. */
  readonly oldest: bigint
  constructor(requested: bigint, oldest: bigint, options?: SwarmkitErrorOptions) {
    super(`changes since version ${requested} are no longer available (oldest resumable version is ${oldest}); re-list`, options)
    this.requested = requested
    this.oldest = oldest
  }
  context(): Record<string, string | undefined> {
    return { requested: this.requested.toString(), oldest: this.oldest.toString() }
  }
}
