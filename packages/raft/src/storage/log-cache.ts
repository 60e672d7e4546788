/**
 * The in-memory Raft log, hard state and snapshot behind both storages: `MemoryRaftStorage` is
 * one (plus a `sync()` that resolves at once), and `FileRaftStorage` keeps one as its read cache.
 *
 * Its writes validate and fail exactly as the {@link RaftLog} contract says. Its constructor
 * also takes any state a WAL can describe, including ones the writes cannot rebuild, such as a
 * snapshot above an entry that was overwritten (or truncated) after it was taken: that is how
 * `FileRaftStorage` recovery restores it.
 *
 * @internal
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { assertEntries, assertIndex, limitSize } from '../core/entries.ts'
import { CompactedError, EntryUnavailableError, SnapshotOutOfDateError } from '../errors.ts'
import type { RaftLog, RaftStorage } from './storage.ts'
import type { ConfState, Entry, HardState, Snapshot } from '../core/types.ts'
import { emptyHardState, emptySnapshot } from '../core/types.ts'

function copyConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners], votersOutgoing: [...cs.votersOutgoing], learnersNext: [...cs.learnersNext], autoLeave: cs.autoLeave }
}

/** The entry kept at the compaction point: only its index and term matter. */
const marker = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array(0) })

/** A state for the {@link LogCache} constructor, taken as is (not validated). */
export interface LogCacheState {
  /** The compaction point: `firstIndex() − 1` and the term there. */
  compacted: { index: number; term: number }
  /** Entries after the compaction point, contiguous. */
  entries: Entry[]
  /** The snapshot held; `undefined` for the empty snapshot. */
  snapshot: Snapshot | undefined
  hardState: HardState
}

/** Raft log, hard state and snapshot held in memory. */
export class LogCache implements RaftStorage, Omit<RaftLog, 'sync'> {
  #hardState: HardState
  #snapshot: Snapshot
  /** The entry at the compaction point (index `offset`, only its term matters), then the log. */
  #ents: Entry[]

  /** A log holding exactly `state`; an empty one (nothing compacted, no snapshot) by default. */
  constructor(state?: LogCacheState) {
    this.#hardState = { ...(state?.hardState ?? emptyHardState()) }
    this.#snapshot = state?.snapshot ?? emptySnapshot()
    this.#ents = [marker(state?.compacted.index ?? 0, state?.compacted.term ?? 0), ...(state?.entries ?? [])]
  }

  get #offset(): number {
    return (this.#ents[0] as Entry).index
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.#hardState }, confState: copyConfState(this.#snapshot.metadata.confState) }
  }

  /** The stored hard state (a copy). */
  hardState(): HardState {
    return { ...this.#hardState }
  }

  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    const offset = this.#offset
    if (lo <= offset) throw new CompactedError(lo)
    if (hi > this.lastIndex() + 1) throw new EntryUnavailableError(hi - 1)
    if (hi <= lo) return []
    return limitSize(this.#ents.slice(lo - offset, hi - offset), maxBytes)
  }

  term(i: number): number {
    const offset = this.#offset
    if (i < offset) throw new CompactedError(i)
    if (i - offset >= this.#ents.length) throw new EntryUnavailableError(i)
    return (this.#ents[i - offset] as Entry).term
  }

  firstIndex(): number {
    return this.#offset + 1
  }

  lastIndex(): number {
    return this.#offset + this.#ents.length - 1
  }

  snapshot(): Snapshot {
    return this.#snapshot
  }

  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return
    assertEntries(entries)
    const first = (entries[0] as Entry).index
    if (first < this.firstIndex()) throw new CompactedError(first)
    const last = this.lastIndex()
    if (first > last + 1) throw new InvalidArgumentError('entries[0].index', `gap: first index ${first} after last index ${last}`)
    // Truncate everything from `first` on, then append.
    this.#ents.length = first - this.#offset
    for (const e of entries) this.#ents.push(e)
  }

  setHardState(hs: HardState): void {
    assertIndex(hs.term, 'hardState.term')
    assertIndex(hs.commit, 'hardState.commit')
    this.#hardState = { ...hs }
  }

  applySnapshot(snap: Snapshot): void {
    const { index, term } = snap.metadata
    assertIndex(index, 'snapshot.metadata.index')
    assertIndex(term, 'snapshot.metadata.term')
    if (index < this.#snapshot.metadata.index) throw new SnapshotOutOfDateError(index, this.#snapshot.metadata.index)
    this.#snapshot = { metadata: { index, term, confState: copyConfState(snap.metadata.confState) }, data: snap.data }
    this.#ents = [marker(index, term)]
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    assertIndex(index, 'index')
    if (index < this.#snapshot.metadata.index) throw new SnapshotOutOfDateError(index, this.#snapshot.metadata.index)
    if (index > this.lastIndex()) throw new EntryUnavailableError(index)
    const term = this.term(index)
    this.#snapshot = { metadata: { index, term, confState: copyConfState(confState) }, data }
    return this.#snapshot
  }

  compact(index: number): void {
    assertIndex(index, 'index')
    if (index <= this.#offset) return
    if (index > this.#snapshot.metadata.index) {
      throw new InvalidArgumentError('index', `cannot compact to ${index}: beyond the snapshot at ${this.#snapshot.metadata.index}`)
    }
    // Only after an append truncated the log below the snapshot: the term there is unknown.
    if (index > this.lastIndex()) throw new EntryUnavailableError(index)
    const keepFrom = index - this.#offset
    this.#ents = [marker(index, (this.#ents[keepFrom] as Entry).term), ...this.#ents.slice(keepFrom + 1)]
  }
}
