/**
 * The seam between the store and whatever replicates its changes (Raft in a cluster, nothing in a
 * single process). The store never imports a consensus implementation; it hands a {@link ChangeSet}
 * to a {@link Proposer} and waits for the change set to come back through
 * `MemoryStore.applyChangeSet` — on every member, in log order.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
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

/** Proves that only this module makes {@link LocalChangeSet}s. */
const ISSUER: unique symbol = Symbol('LocalChangeSet issuer')

let issue: (changes: ChangeSet) => LocalChangeSet

/**
 * The handle of a change set this store built itself, from objects it validated: what the store
 * hands to {@link Proposer.propose} next to the change set. A proposer passes it back with that
 * very change set to `MemoryStore.applyChangeSet(changes, index, local)` when it applies the
 * change set on this member — the store then skips the checks those objects already passed and
 * applies them as they are. Without it (another member's change set, a decoded one, one a caller
 * built), every action is checked in full. Only the store makes them; a handle is bound to its
 * change set (`applyChangeSet` refuses it with any other).
 *
 * Through Raft, {@link RaftProposer} hands it to `RaftNode.propose(payload, { local })`, and the
 * driver gives it back to `StoreStateMachine.apply` only for this member's own, still awaited
 * proposal: the leader applies its own objects without decoding, every other member (and the
 * leader itself after a restart) decodes the entry.
 */
export class LocalChangeSet {
  readonly #changes: ChangeSet

  private constructor(changes: ChangeSet, issuer: unknown) {
    if (issuer !== ISSUER) throw new InvalidArgumentError('LocalChangeSet', 'only the store makes local change sets')
    this.#changes = changes
  }

  /** The change set this handle stands for (fixed for the handle's life). */
  get changes(): ChangeSet {
    return this.#changes
  }

  static {
    issue = (changes) => new LocalChangeSet(changes, ISSUER)
  }
}

/** The store's handle of `changes`, a change set it built from objects it validated. */
export function issueLocalChangeSet(changes: ChangeSet): LocalChangeSet {
  return issue(changes)
}

/** Whether `local` is the store's handle of exactly `changes`. */
export function isLocalChangeSet(local: unknown, changes: ChangeSet): local is LocalChangeSet {
  return local instanceof LocalChangeSet && local.changes === changes
}

/**
 * Replicates change sets. `propose` resolves with the {@link ApplyResult} that
 * `MemoryStore.applyChangeSet` returned for this change set on the local member (so the caller's
 * promise settles only once the change is visible locally). It rejects when the change set could
 * not be replicated: `NotLeaderError` (carrying the leader's address when known) if this member
 * cannot accept writes, or an error whose outcome is unknown (leadership lost while in flight) —
 * the store never retries a change set by itself, so nothing is applied twice.
 *
 * The proposer must not modify `changes`. When it applies the change set on this member itself,
 * it passes `local` along (`applyChangeSet(changes, index, local)`); a proposer that ignores
 * `local` is correct too, only slower (every action is checked again).
 */
export interface Proposer {
  propose(changes: ChangeSet, local: LocalChangeSet): Promise<ApplyResult>
}
