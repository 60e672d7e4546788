/**
 * The core's view of the whole log: the persisted part read from {@link RaftStorage} followed by
 * the {@link Unstable} part, with the commit and applied indexes.
 *
 * Invariants: `applied ≤ committed ≤ lastIndex()`; `firstIndex() − 1 ≤ applied` once a snapshot
 * has been handed over.
 */
import { limitSize } from './entries.ts'
import { CompactedError, EntryUnavailableError, RaftInvariantError } from '../errors.ts'
import type { RaftStorage } from '../storage/storage.ts'
import type { Entry, Snapshot } from './types.ts'
import { Unstable } from './unstable.ts'

/** The log as the core sees it. */
export class RaftLogView {
  readonly storage: RaftStorage
  readonly unstable: Unstable
  /** Highest index known to be committed. */
  committed: number
  /** Highest index handed to the application in a `Ready` (not necessarily applied yet). */
  applying: number
  /** Highest index the application has applied. */
  applied: number
  /** Maximum bytes of committed entries handed out per `Ready` (undefined: no limit). */
  readonly maxApplyingBytes: number | undefined

  constructor(storage: RaftStorage, maxApplyingBytes: number | undefined) {
    this.storage = storage
    this.maxApplyingBytes = maxApplyingBytes
    const first = storage.firstIndex()
    const last = storage.lastIndex()
    this.unstable = new Unstable(last + 1)
    this.committed = first - 1
    this.applying = first - 1
    this.applied = first - 1
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex()
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex()
  }

  /**
   * The term of the entry at `i`.
   *
   * @throws CompactedError / EntryUnavailableError when `i` is outside `[firstIndex() − 1, lastIndex()]`.
   */
  term(i: number): number {
    const t = this.unstable.maybeTerm(i)
    if (t !== undefined) return t
    if (i > this.lastIndex()) throw new EntryUnavailableError(i)
    if (i < this.firstIndex() - 1) throw new CompactedError(i)
    return this.storage.term(i)
  }

  /** The term at `i`, or 0 when it is unknown (compacted or beyond the end). */
  termOrZero(i: number): number {
    // Hot path (every append and commit check): answer out-of-range indexes without building an error.
    const t = this.unstable.maybeTerm(i)
    if (t !== undefined) return t
    if (i > this.lastIndex() || i < this.firstIndex() - 1) return 0
    try {
      return this.term(i)
    } catch (err) {
      if (err instanceof CompactedError || err instanceof EntryUnavailableError) return 0
      throw err
    }
  }

  lastTerm(): number {
    return this.term(this.lastIndex())
  }

  /** Whether the entry at `i` has term `t`. */
  matchTerm(i: number, t: number): boolean {
    return this.termOrZero(i) === t && (i <= this.lastIndex())
  }

  /**
   * Whether a candidate's log ending at (`lastIndex`, `lastTerm`) is at least as up to date as
   * ours (Raft §5.4.1).
   */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm()
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex())
  }

  /**
   * Handles an append from the leader: if our entry at `index` has `logTerm`, appends `ents`
   * (truncating a conflicting suffix), advances the commit to min(`committed`, last new index)
   * and returns that last new index; otherwise returns undefined.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined
    const lastNew = index + ents.length
    const ci = this.findConflict(ents)
    if (ci !== 0) {
      if (ci <= this.committed) throw new RaftInvariantError(`entry ${ci} conflicts with committed entry (committed ${this.committed})`)
      this.append(ents.slice(ci - (index + 1)))
    }
    this.commitTo(Math.min(committed, lastNew))
    return lastNew
  }

  /** Appends entries after truncating at their first index; returns the new last index. */
  append(ents: readonly Entry[]): number {
    const first = ents[0]
    if (first === undefined) return this.lastIndex()
    if (first.index - 1 < this.committed) throw new RaftInvariantError(`append at ${first.index} is below committed ${this.committed}`)
    this.unstable.truncateAndAppend(ents)
    return this.lastIndex()
  }

  /**
   * The index of the first entry in `ents` that is missing from our log or has a different
   * term, or 0 when all of them are already present.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index
    }
    return 0
  }

  /**
   * For a rejected append: the largest index ≤ `index` whose term is ≤ `term`, and its term
   * (0 when unknown). Lets the leader skip a whole conflicting term per round trip.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i > 0; i--) {
      let ours: number
      try {
        ours = this.term(i)
      } catch (err) {
        if (err instanceof CompactedError || err instanceof EntryUnavailableError) return { index: i, term: 0 }
        throw err
      }
      if (ours <= term) return { index: i, term: ours }
    }
    return { index: 0, term: 0 }
  }

  /** Advances the commit index (never backwards). */
  commitTo(index: number): void {
    if (index <= this.committed) return
    if (index > this.lastIndex()) throw new RaftInvariantError(`commit ${index} is beyond the last index ${this.lastIndex()}`)
    this.committed = index
  }

  /** Commits `index` if it is newer and its entry has `term` (a leader only commits its own term). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.termOrZero(index) === term) {
      this.commitTo(index)
      return true
    }
    return false
  }

  /** Records that the application has applied up to `index`. */
  appliedTo(index: number): void {
    if (index === 0) return
    if (index > this.committed || index < this.applied) {
      throw new RaftInvariantError(`applied ${index} is out of range [${this.applied}, ${this.committed}]`)
    }
    this.applied = index
    if (this.applying < index) this.applying = index
  }

  /** Records that committed entries up to `index` were handed out for applying. */
  applyingTo(index: number): void {
    if (index > this.applying) this.applying = index
  }

  /** Whether a snapshot is waiting to be persisted and applied. */
  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined
  }

  /** Committed entries not yet handed out (empty while a snapshot is pending). */
  nextCommittedEntries(): Entry[] {
    if (this.hasPendingSnapshot()) return []
    const lo = this.applying + 1
    const hi = Math.min(this.committed, this.lastIndex()) + 1
    if (lo >= hi) return []
    return this.slice(lo, hi, this.maxApplyingBytes)
  }

  /** Whether {@link RaftLogView.nextCommittedEntries} would return anything. */
  hasNextCommittedEntries(): boolean {
    return !this.hasPendingSnapshot() && this.applying < Math.min(this.committed, this.lastIndex())
  }

  /** The snapshot to send to a lagging follower: the pending one, else storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot()
  }

  /** Entries from `i` to the end, limited to `maxBytes`. */
  entries(i: number, maxBytes: number | undefined): Entry[] {
    if (i > this.lastIndex()) return []
    return this.slice(i, this.lastIndex() + 1, maxBytes)
  }

  /**
   * Entries in `[lo, hi)`, limited to `maxBytes` (at least one).
   *
   * @throws CompactedError when `lo < firstIndex()`.
   */
  slice(lo: number, hi: number, maxBytes: number | undefined): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError(lo)
    if (hi > this.lastIndex() + 1) throw new RaftInvariantError(`slice [${lo}, ${hi}) is beyond the last index ${this.lastIndex()}`)
    if (lo >= hi) return []
    let ents: Entry[] = []
    const offset = this.unstable.offset
    if (lo < offset) {
      const storedHi = Math.min(hi, offset)
      ents = this.storage.entries(lo, storedHi, maxBytes)
      if (ents.length < storedHi - lo) return ents // limited by size
    }
    if (hi > offset) {
      const fresh = this.unstable.slice(Math.max(lo, offset), hi)
      ents = ents.length === 0 ? fresh : [...ents, ...fresh]
    }
    return limitSize(ents, maxBytes)
  }

  /** All entries (for tests and status). */
  allEntries(): Entry[] {
    return this.slice(this.firstIndex(), this.lastIndex() + 1, undefined)
  }

  /** Replaces the log with an incoming snapshot (not yet persisted). */
  restore(s: Snapshot): void {
    this.committed = s.metadata.index
    this.unstable.restore(s)
  }
}
