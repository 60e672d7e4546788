/**
 * `StoreStateMachine`: the Raft {@link StateMachine} of a replicated store. Each committed entry
 * is an encoded {@link ChangeSet}; every member decodes it and applies it through the store's
 * `applyChangeSet` at the entry's log index, so the stores of all members go through the same
 * states in the same order. Raft snapshots are the store's own snapshots.
 *
 * @module
 */
import type { StateMachine } from '@swarmkit-ts/raft'
import { decodeChangeSet } from './change-set-codec.ts'
import { markOwned } from './object-utils.ts'
import type { ApplyResult, ChangeSet } from './proposer.ts'

/**
 * What replication needs from a store (a `MemoryStore` is one). All three must be deterministic:
 * the same calls in the same order give the same state on every member.
 */
export interface ReplicableStore {
  /** Applies a change set committed at log position `index` (the store's new version). */
  applyChangeSet(changes: ChangeSet, index: bigint): ApplyResult
  /** Serializes the whole store. */
  snapshot(): Uint8Array
  /** Replaces the whole store with a snapshot taken by `snapshot` (possibly on another member). */
  restore(bytes: Uint8Array): void
}

/**
 * Adapts a {@link ReplicableStore} to Raft's {@link StateMachine}: `apply` decodes the entry
 * ({@link decodeChangeSet}) and calls `store.applyChangeSet(changes, BigInt(index))`, returning
 * its {@link ApplyResult} (which settles the proposer's promise on the member that proposed it);
 * `snapshot`/`restore` are the store's.
 *
 * An entry that does not decode, or a store that throws, makes `apply` throw: `RaftNode` then
 * stops the member (`node:failed`) rather than let it skip an entry the other members applied.
 * A store version is a log index, so each entry must carry one change set: run the `RaftNode`
 * with `maxBatchProposals: 1` (`ReplicatedStore` does), or `MemoryStore` refuses the second
 * change set of an entry (`InvalidArgumentError` on `index`) and the member stops.
 * The store must start empty (or from the state of this member's Raft snapshot, which `RaftNode`
 * restores on construction): entries after the snapshot are applied again on every start.
 */
export class StoreStateMachine implements StateMachine {
  readonly #store: ReplicableStore

  constructor(store: ReplicableStore) {
    this.#store = store
  }

  /** The store this state machine applies to. */
  get store(): ReplicableStore {
    return this.#store
  }

  /**
   * Decodes and applies one committed change set at `entry.index`. The decoded objects are handed
   * to the store, which freezes them in place (sharing unchanged parts with the objects they
   * replace) instead of copying them, and does not validate them again: the codec checked every
   * field's type and the leader validated the objects before proposing them. (A member that
   * refused an entry its leader accepted would have to stop; see the class documentation.)
   */
  apply(payload: Uint8Array, entry: { index: number; term: number }): ApplyResult {
    const changes = decodeChangeSet(payload)
    markOwned(changes)
    return this.#store.applyChangeSet(changes, BigInt(entry.index))
  }

  /** The store's snapshot. */
  snapshot(): Uint8Array {
    return this.#store.snapshot()
  }

  /** Replaces the store's state with a snapshot. */
  restore(data: Uint8Array): void {
    this.#store.restore(data)
  }
}
