/**
 * The in-memory state of a {@link FileRaftStorage}: the same semantics as `MemoryRaftStorage`
 * (same validation, same errors, in the same order), plus a way to restore any state the WAL
 * describes — including ones that the memory storage's public writes cannot rebuild, such as a
 * snapshot above an entry that was overwritten (or truncated) after it was taken.
 *
 * @internal
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { assertEntries, assertIndex, limitSize } from './entries.ts'
import { CompactedError, EntryUnavailableError, SnapshotOutOfDateError } from './errors.ts'
import type { RaftStorage } from './storage.ts'
import type { ConfState, Entry, HardState, Snapshot } from './types.ts'
import { emptyHardState, emptySnapshot } from './types.ts'
import type { LogPosition } from './wal-codec.ts'

function copyConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners], votersOutgoing: [...cs.votersOutgoing], learnersNext: [...cs.learnersNext], autoLeave: cs.autoLeave }
}

const marker = (p: LogPosition): Entry => ({ index: p.index, term: p.term, type: 'normal', data: new Uint8Array(0) })

/** What {@link LogCache.restore} rebuilds. */
export interface LogCacheState {
  compacted: LogPosition
  /** Entries after the compaction point, contiguous. */
  entries: Entry[]
  snapshot: Snapshot | undefined
  hardState: HardState
}

/** Raft log, hard state and snapshot held in memory. */
export class LogCache implements RaftStorage {
  #hardState: HardState = emptyHardState()
  #snapshot: Snapshot = emptySnapshot()
  /** The entry at the compaction point (only its index and term matter), then the log. */
  #ents: Entry[] = [marker({ index: 0, term: 0 })]

  /** A cache holding exactly `st`. */
  static restore(st: LogCacheState): LogCache {
    const c = new LogCache()
    c.#hardState = { ...st.hardState }
    if (st.snapshot !== undefined) c.#snapshot = st.snapshot
    c.#ents = [marker(st.compacted), ...st.entries]
    return c
  }

  get #offset(): number {
    return (this.#ents[0] as Entry).index
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.#hardState }, confState: copyConfState(this.#snapshot.metadata.confState) }
  }

  /** The hard state (a copy). */
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

  /** As `RaftLog.append`. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return
    assertEntries(entries)
    const first = (entries[0] as Entry).index
    if (first < this.firstIndex()) throw new CompactedError(first)
    const last = this.lastIndex()
    if (first > last + 1) throw new InvalidArgumentError('entries[0].index', `gap: first index ${first} after last index ${last}`)
    this.#ents.length = first - this.#offset
    for (const e of entries) this.#ents.push(e)
  }

  /** As `RaftLog.setHardState`. */
  setHardState(hs: HardState): void {
    assertIndex(hs.term, 'hardState.term')
    assertIndex(hs.commit, 'hardState.commit')
    this.#hardState = { ...hs }
  }

  /** As `RaftLog.applySnapshot`; returns the snapshot as stored. */
  applySnapshot(snap: Snapshot): Snapshot {
    const { index, term } = snap.metadata
    assertIndex(index, 'snapshot.metadata.index')
    assertIndex(term, 'snapshot.metadata.term')
    if (index < this.#snapshot.metadata.index) throw new SnapshotOutOfDateError(index, this.#snapshot.metadata.index)
    this.#snapshot = { metadata: { index, term, confState: copyConfState(snap.metadata.confState) }, data: snap.data }
    this.#ents = [marker({ index, term })]
    return this.#snapshot
  }

  /** As `RaftLog.createSnapshot`. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    assertIndex(index, 'index')
    if (index < this.#snapshot.metadata.index) throw new SnapshotOutOfDateError(index, this.#snapshot.metadata.index)
    if (index > this.lastIndex()) throw new EntryUnavailableError(index)
    const term = this.term(index)
    this.#snapshot = { metadata: { index, term, confState: copyConfState(confState) }, data }
    return this.#snapshot
  }

  /** As `RaftLog.compact`; returns whether the compaction point moved. */
  compact(index: number): boolean {
    assertIndex(index, 'index')
    if (index <= this.#offset) return false
    if (index > this.#snapshot.metadata.index) {
      throw new InvalidArgumentError('index', `cannot compact to ${index}: beyond the snapshot at ${this.#snapshot.metadata.index}`)
    }
    // Only after an append truncated the log below the snapshot (MemoryRaftStorage fails here
    // with a TypeError).
    if (index > this.lastIndex()) throw new EntryUnavailableError(index)
    const keepFrom = index - this.#offset
    this.#ents = [marker({ index, term: (this.#ents[keepFrom] as Entry).term }), ...this.#ents.slice(keepFrom + 1)]
    return true
  }
}
