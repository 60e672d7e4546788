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

/** How many announced local change sets a {@link StoreStateMachine} keeps at most. */
export const MAX_LOCAL_CHANGE_SETS = 64

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))
}

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
  /** Change sets this member proposed, with their bytes, until their entries are applied. */
  readonly #local: { readonly payload: Uint8Array; readonly changes: ChangeSet }[] = []

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
    const local = this.#takeLocal(payload)
    if (local !== undefined) return this.#store.applyChangeSet(local, BigInt(entry.index))
    const changes = decodeChangeSet(payload)
    markOwned(changes)
    return this.#store.applyChangeSet(changes, BigInt(entry.index))
  }

  /**
   * Announces a change set this member is proposing, encoded as `payload`, whose objects are
   * canonical (`encodeChangeSet`'s shape): when an entry with exactly these bytes is applied
   * here, the store applies `changes` itself instead of decoding the bytes — the same objects a
   * decode would give, without the decode (as SwarmKit's leader commits its own transaction).
   * Returns a function that withdraws the announcement (call it when the proposal fails; an
   * entry that still commits later is then decoded like any other). At most
   * {@link MAX_LOCAL_CHANGE_SETS} are kept; older ones are dropped.
   */
  expectLocal(payload: Uint8Array, changes: ChangeSet): () => void {
    const item = { payload, changes }
    this.#local.push(item)
    if (this.#local.length > MAX_LOCAL_CHANGE_SETS) this.#local.shift()
    return () => {
      const i = this.#local.indexOf(item)
      if (i >= 0) this.#local.splice(i, 1)
    }
  }

  #takeLocal(payload: Uint8Array): ChangeSet | undefined {
    const local = this.#local
    for (let i = 0; i < local.length; i++) {
      const item = local[i] as (typeof local)[number]
      if (sameBytes(item.payload, payload)) {
        local.splice(i, 1)
        return item.changes
      }
    }
    return undefined
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
