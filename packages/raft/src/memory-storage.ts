/**
 * An in-memory {@link RaftStorage} and {@link RaftLog}: the reference implementation of the
 * storage contract, used by tests and simulations. Nothing survives the process; `sync()`
 * resolves at once.
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { assertEntries, assertIndex, limitSize } from './entries.ts'
import { CompactedError, EntryUnavailableError, SnapshotOutOfDateError } from './errors.ts'
import type { RaftStorageWithLog } from './storage.ts'
import type { ConfState, Entry, HardState, Snapshot } from './types.ts'
import { emptyHardState, emptySnapshot } from './types.ts'

function copyConfState(cs: ConfState): ConfState {
  return {
    voters: [...cs.voters],
    learners: [...cs.learners],
    votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext],
    autoLeave: cs.autoLeave,
  }
}

/** Construction options for {@link MemoryRaftStorage}. */
export interface MemoryRaftStorageInit {
  /** Initial hard state. @default term 0, no vote, commit 0 */
  hardState?: HardState
  /** Initial snapshot; the log starts right after it. @default the empty snapshot */
  snapshot?: Snapshot
  /** Entries following the snapshot. @default none */
  entries?: Entry[]
}

/** Raft storage held in memory. */
export class MemoryRaftStorage implements RaftStorageWithLog {
  #hardState: HardState
  #snapshot: Snapshot
  /** The entry at the compaction point (index `offset`, only its term matters), then the log. */
  #ents: Entry[]

  constructor(init: MemoryRaftStorageInit = {}) {
    this.#hardState = { ...(init.hardState ?? emptyHardState()) }
    this.#snapshot = emptySnapshot()
    this.#ents = [{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }]
    if (init.snapshot !== undefined) this.applySnapshot(init.snapshot)
    if (init.entries !== undefined) this.append(init.entries)
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
    this.#ents = [{ term, index, type: 'normal', data: new Uint8Array(0) }]
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
    const head = this.#ents[keepFrom] as Entry
    this.#ents = [{ term: head.term, index: head.index, type: 'normal', data: new Uint8Array(0) }, ...this.#ents.slice(keepFrom + 1)]
  }

  sync(): Promise<void> {
    return Promise.resolve()
  }
}
