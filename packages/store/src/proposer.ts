/**
 * The seam between the store and whatever replicates its changes (Raft in a cluster, nothing in a
 * single process). The store never imports a consensus implementation; it hands a {@link ChangeSet}
 * to a {@link Proposer} and waits for the change set to come back through
 * `MemoryStore.applyChangeSet` — on every member, in log order.
 *
 * @module
 */
import type { AlreadyExistsError, NotFoundError, ObjectKind, SequenceConflictError, StoreObject } from '@swarmkit-ts/api'

/**
 * One change inside a {@link ChangeSet}. `expectedVersion` is the `meta.version.index` the writer
 * read; applying the action fails with a `SequenceConflictError` when the stored object's version
 * differs (optimistic concurrency, checked again at apply time on every member).
 */
export type StoreAction =
  | { readonly action: 'create'; readonly kind: ObjectKind; readonly object: StoreObject }
  | { readonly action: 'update'; readonly kind: ObjectKind; readonly object: StoreObject; readonly expectedVersion: bigint }
  | { readonly action: 'delete'; readonly kind: ObjectKind; readonly id: string; readonly expectedVersion: bigint }

/** The changes of one or more transactions, applied all-or-nothing per transaction. */
export interface ChangeSet {
  /**
   * The transactions in order; each is applied atomically: if one of its actions fails, none of
   * that transaction's actions are applied, and the other transactions are unaffected.
   */
  readonly transactions: readonly (readonly StoreAction[])[]
}

/** The outcome of applying one transaction of a change set. */
export type TransactionResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: SequenceConflictError | AlreadyExistsError | NotFoundError }

/** The outcome of applying a change set at a log position (`version` = the store version after it). */
export interface ApplyResult {
  readonly version: bigint
  /** One entry per transaction of the change set, in order. */
  readonly results: readonly TransactionResult[]
}

/**
 * Replicates change sets. `propose` resolves with the {@link ApplyResult} that
 * `MemoryStore.applyChangeSet` returned for this change set on the local member (so the caller's
 * promise settles only once the change is visible locally). It rejects when the change set could
 * not be replicated: `NotLeaderError` (carrying the leader's address when known) if this member
 * cannot accept writes, or an error whose outcome is unknown (leadership lost while in flight) —
 * the store never retries a change set by itself, so nothing is applied twice.
 */
export interface Proposer {
  propose(changes: ChangeSet): Promise<ApplyResult>
}
