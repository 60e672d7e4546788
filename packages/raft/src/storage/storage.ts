/**
 * The storage contract between the Raft core and the embedder's durable log.
 *
 * The core only ever *reads* storage ({@link RaftStorage}); the embedder *writes* it through
 * {@link RaftLog} while processing each `Ready`. Implementations: `MemoryRaftStorage` (tests,
 * and as a read cache) and `FileRaftStorage` (a segmented WAL with fsync).
 *
 * ## Log layout
 *
 * Storage holds a snapshot (possibly the empty one, index 0) and a contiguous run of entries
 * after a "compaction point" `firstIndex() − 1`. The term of the entry at the compaction point
 * is still known (`term(firstIndex() − 1)`), because an append after it needs that term for its
 * consistency check. Entries are never missing between `firstIndex()` and `lastIndex()`.
 *
 * ```
 *   snapshot.index ≥ firstIndex() − 1        (the snapshot covers everything compacted)
 *   firstIndex() − 1 ≤ lastIndex()           (equal when no entry follows the compaction point)
 *   term(i) is defined for firstIndex() − 1 ≤ i ≤ lastIndex()
 * ```
 *
 * A fresh storage has firstIndex() = 1, lastIndex() = 0 and term(0) = 0.
 *
 * ## Incarnation
 *
 * A storage should have an *incarnation*: a random non-zero 64-bit number drawn when the storage
 * is created, as durable as the log and never changed afterwards (`FileRaftStorage` keeps it in a
 * file of its directory). A member restarted on its storage keeps it; a member whose storage was
 * lost comes back with a new one. `RaftNode` stamps its storage's incarnation on every message it
 * sends, the leader binds each member's incarnation in the replicated log, and members refuse
 * messages from a member under another incarnation than the bound one: a member that lost its
 * votes and acknowledged entries can neither vote nor be counted again under its old id. A
 * storage without an incarnation (`MemoryRaftStorage` unless given one) gets no such protection.
 */
import type { ConfState, Entry, HardState, Snapshot } from '../core/types.ts'

/** What a storage holds when a member starts (see {@link RaftStorage.initialState}). */
export interface RaftInitialState {
  /** The persisted hard state. */
  hardState: HardState
  /** The configuration of the latest snapshot. */
  confState: ConfState
  /**
   * The storage's incarnation (see *Incarnation* above): a bigint in `[1, 2^64)`, drawn when the
   * storage was created and unchanged since. Absent (or `0n`) when the storage has none.
   */
  incarnation?: bigint
}

/**
 * What the Raft core reads from storage. All methods are synchronous and see every write made
 * through the {@link RaftLog} of the same storage, durable or not.
 *
 * Errors: the methods throw {@link CompactedError}, {@link EntryUnavailableError} or
 * {@link SnapshotTemporarilyUnavailableError} where documented; any other exception is a fatal
 * storage failure and propagates out of the core unchanged.
 */
export interface RaftStorage {
  /**
   * The persisted hard state, the configuration of the latest snapshot and the storage's
   * incarnation, read once when a `RawNode` (or `RaftNode`) starts. Configuration changes
   * committed after the snapshot are replayed from the log by the core.
   */
  initialState(): RaftInitialState

  /**
   * Entries in `[lo, hi)`. When `maxBytes` is given the result is the longest prefix whose
   * total `entrySize` is ≤ `maxBytes`, but never empty when `lo < hi`.
   *
   * @throws CompactedError when `lo < firstIndex()`.
   * @throws EntryUnavailableError when `hi > lastIndex() + 1`.
   */
  entries(lo: number, hi: number, maxBytes?: number): Entry[]

  /**
   * The term of the entry at `i`, for `firstIndex() − 1 ≤ i ≤ lastIndex()`.
   *
   * @throws CompactedError when `i < firstIndex() − 1`.
   * @throws EntryUnavailableError when `i > lastIndex()`.
   */
  term(i: number): number

  /** Index of the first entry still held (the compaction point plus one); 1 when nothing was compacted. */
  firstIndex(): number

  /** Index of the last entry held, or the compaction point when no entry follows it. */
  lastIndex(): number

  /**
   * The most recent snapshot (the empty snapshot when none was taken or received).
   *
   * @throws SnapshotTemporarilyUnavailableError when it cannot be produced right now.
   */
  snapshot(): Snapshot
}

/**
 * The durable writer the embedder drives while processing a `Ready`. Writes are visible to
 * {@link RaftStorage} reads as soon as each call returns; they are **durable** only once a later
 * {@link RaftLog.sync} has resolved.
 *
 * The caller's obligations, for each `Ready` `rd`, in this order:
 *
 * 1. If `rd.snapshot` is set: `applySnapshot(rd.snapshot)`.
 * 2. `append(rd.entries)` (may be empty). Appending an entry at index `i` discards every stored
 *    entry at `i` or after, durable or not, before the new ones are written.
 * 3. If `rd.hardState` is set: `setHardState(rd.hardState)`.
 * 4. If `rd.mustSync`: `await sync()`. Messages of that `Ready` that depend on this state (votes,
 *    append acknowledgements) must not be sent before it resolves.
 * 5. Apply `rd.committedEntries` to the application; afterwards, whenever convenient and only
 *    at an index that has been applied: `createSnapshot(index, confState, data)` followed by
 *    `compact(index − keep)` to bound the log.
 *
 * Calls must not overlap with another call on the same storage except that `sync()` may be
 * pending while later writes are issued (they join the next barrier).
 */
export interface RaftLog {
  /**
   * Appends `entries` (contiguous indexes). The first entry's index must be in
   * `[firstIndex(), lastIndex() + 1]`; entries at that index and after are replaced. An empty
   * array is a no-op.
   *
   * @throws CompactedError when the first index is below `firstIndex()` (those entries are
   *   already covered by the snapshot; the caller must drop them first).
   * @throws InvalidArgumentError (api) when the entries leave a gap after `lastIndex()` or
   *   are not contiguous.
   */
  append(entries: readonly Entry[]): void

  /** Replaces the stored hard state. */
  setHardState(hs: HardState): void

  /**
   * Replaces the whole log with `snap`: afterwards `firstIndex() = snap.metadata.index + 1`,
   * `lastIndex() = snap.metadata.index`, `term(snap.metadata.index) = snap.metadata.term`, and
   * `initialState().confState` is the snapshot's configuration. The hard state is unchanged.
   *
   * @throws SnapshotOutOfDateError when `snap` is older than the held snapshot.
   */
  applySnapshot(snap: Snapshot): void

  /**
   * Records a snapshot of the application state at an already-applied `index` (≤ the commit
   * index; the entry at `index` must still be in storage) with the configuration in force there.
   * Does not discard entries: call {@link RaftLog.compact} for that. Returns the snapshot.
   *
   * @throws SnapshotOutOfDateError when `index` is below the held snapshot's index.
   * @throws CompactedError when the entry at `index` was compacted.
   * @throws EntryUnavailableError when `index > lastIndex()`.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot

  /**
   * Discards the entries up to and including `index`, which becomes the compaction point
   * (`firstIndex()` becomes `index + 1`; `term(index)` stays known). `index` must be ≤ the
   * held snapshot's index, so that a follower needing a discarded entry can get a snapshot.
   * Compacting at or below the current compaction point is a no-op.
   *
   * @throws InvalidArgumentError (api) when `index` is beyond the held snapshot's index.
   * @throws EntryUnavailableError when `index > lastIndex()` (possible only after an append
   *   truncated the log below the held snapshot).
   */
  compact(index: number): void

  /**
   * A durability barrier: resolves once every write issued before the call is on stable
   * storage. Rejects on an I/O error, after which the storage must not be used again.
   */
  sync(options?: SyncOptions): Promise<void>
}

/** Options of {@link RaftLog.sync}. */
export interface SyncOptions {
  /**
   * The caller has nothing else to do until the write is durable (a follower, whose
   * acknowledgement waits for it): a storage may then make it durable on the calling thread if
   * that is quicker than handing it to another one. `FileRaftStorage` does so for a write of
   * at most {@link INLINE_SYNC_MAX_BYTES} while its recent inline syncs were fast, blocking the
   * event loop for that one `fdatasync` (~0.1 ms on an SSD) instead of paying a thread-pool
   * round trip. A hint: a storage may ignore it, and the result is the same.
   */
  readonly inline?: boolean
}

/** The largest write `FileRaftStorage` makes durable inline (see {@link SyncOptions.inline}). */
export const INLINE_SYNC_MAX_BYTES = 256 * 1024

/** A storage the core can read and the embedder can write: what a `RawNode` is usually given. */
export interface RaftStorageWithLog extends RaftStorage, RaftLog {}
