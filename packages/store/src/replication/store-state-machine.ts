/**
 * `StoreStateMachine`: the Raft {@link StateMachine} of a replicated store. Each committed entry
 * is an encoded {@link ChangeSet}; every member decodes it and applies it through the store's
 * `applyChangeSet` at the entry's log index, so the stores of all members go through the same
 * states in the same order. Raft snapshots are the store's own snapshots.
 *
 * @module
 */
import type { ByteAllocator } from '@swarmkit-ts/api'
import type { StateMachine } from '@swarmkit-ts/raft'
import { LocalChangeSet } from '../proposer.ts'
import type { ApplyResult, ChangeSet } from '../proposer.ts'

/**
 * What replication needs from a store (a `MemoryStore` is one). All must be deterministic: the
 * same calls in the same order give the same state on every member.
 */
export interface ReplicableStore {
  /**
   * Applies a change set committed at log position `index` (the store's new version); `local` is
   * the store's own handle of it when this member proposed it (see `LocalChangeSet`).
   */
  applyChangeSet(changes: ChangeSet, index: bigint, local?: LocalChangeSet): ApplyResult
  /** Decodes (`decodeChangeSet`) and applies a change set committed at log position `index`. */
  applyEncodedChangeSet(payload: Uint8Array, index: bigint): ApplyResult
  /** Serializes the whole store. */
  snapshot(): Uint8Array
  /**
   * Optional: captures the store now and returns its snapshot encoded a slice at a time (see
   * `MemoryStore.beginSnapshot`): each `step()` does a bounded part of the work and the last one
   * returns the bytes `snapshot()` would have returned at the capture (as one array, or as
   * consecutive parts whose concatenation is those bytes: `RaftNode` takes either).
   */
  beginSnapshot?(options?: { readonly sliceObjects?: number; readonly alloc?: ByteAllocator }): { step(): Uint8Array | readonly Uint8Array[] | undefined }
  /** Replaces the whole store with a snapshot taken by `snapshot` (possibly on another member). */
  restore(bytes: Uint8Array): void
}

/**
 * Adapts a {@link ReplicableStore} to Raft's {@link StateMachine}. Each entry is an encoded
 * change set, applied at the entry's log index. On the member that proposed it, Raft hands back
 * the store's {@link LocalChangeSet} (the `local` handle `RaftProposer` gave `RaftNode.propose`):
 * the store applies its own objects without decoding the entry, as SwarmKit's leader commits its
 * own transaction. Every other member — and the proposer itself when the handle is gone (a
 * restart, a proposal that failed and committed later anyway) — decodes the bytes
 * (`applyEncodedChangeSet`). Both give the same state: `RaftProposer` passes the handle only for
 * change sets whose encoding decodes back deep-equal (api's `encodeObject` shape). Raft snapshots
 * are the store's own snapshots.
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
  readonly #snapshotOptions: { readonly sliceObjects?: number; readonly alloc?: ByteAllocator }

  /**
   * `init.snapshotSliceObjects`: objects encoded per step of a Raft snapshot (see
   * {@link StoreStateMachine.beginSnapshot}; default the store's, 1,000 for a `MemoryStore`);
   * `init.snapshotAlloc`: where the snapshot's array comes from (default the store's,
   * `heapBytes`; `ReplicatedStore` passes its Raft node's `allocBytes`).
   */
  constructor(store: ReplicableStore, init: { readonly snapshotSliceObjects?: number; readonly snapshotAlloc?: ByteAllocator } = {}) {
    this.#store = store
    this.#snapshotOptions = {
      ...(init.snapshotSliceObjects === undefined ? {} : { sliceObjects: init.snapshotSliceObjects }),
      ...(init.snapshotAlloc === undefined ? {} : { alloc: init.snapshotAlloc }),
    }
  }

  /** The store this state machine applies to. */
  get store(): ReplicableStore {
    return this.#store
  }

  /**
   * Applies one committed change set at `entry.index`: the store's own objects when `local` is
   * its {@link LocalChangeSet}, else the decoded `payload`.
   */
  apply(payload: Uint8Array, entry: { index: number; term: number }, local?: object): ApplyResult {
    const index = BigInt(entry.index)
    if (local instanceof LocalChangeSet) return this.#store.applyChangeSet(local.changes, index, local)
    return this.#store.applyEncodedChangeSet(payload, index)
  }

  /** The store's snapshot. */
  snapshot(): Uint8Array {
    return this.#store.snapshot()
  }

  /**
   * The store's snapshot taken now and encoded a slice at a time, so that a `RaftNode` taking
   * its periodic snapshot never holds the event loop for the whole store: each `step()` encodes
   * at most `snapshotSliceObjects` objects. A store without `beginSnapshot` is encoded whole
   * here, at once (its `snapshot()`), and the first step returns it.
   */
  beginSnapshot(): { step(): Uint8Array | readonly Uint8Array[] | undefined } {
    const store = this.#store
    if (store.beginSnapshot !== undefined) return store.beginSnapshot(this.#snapshotOptions)
    const bytes = store.snapshot()
    return { step: () => bytes }
  }

  /** Replaces the store's state with a snapshot. */
  restore(data: Uint8Array): void {
    this.#store.restore(data)
  }
}
