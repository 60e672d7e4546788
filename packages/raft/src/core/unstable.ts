/**
 * The part of the log that the core has accepted but the embedder has not yet persisted: an
 * optional incoming snapshot and the entries after it (or after storage's last index).
 */
import type { Entry, Snapshot } from './types.ts'

/** Entries and snapshot not yet written to storage. Invariant: `entries[i].index === offset + i`. */
export class Unstable {
  /** An incoming snapshot not yet persisted. */
  snapshot: Snapshot | undefined = undefined
  /** Entries not yet persisted. */
  entries: Entry[] = []
  /** Index of `entries[0]` (or of where it would go). */
  offset: number

  constructor(offset: number) {
    this.offset = offset
  }

  /** The first index covered here, when a snapshot is pending. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1
  }

  /** The last index covered here (last entry, else the pending snapshot), if any. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index
  }

  /** The term at `i` if this part knows it. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === i) return this.snapshot.metadata.term
      return undefined
    }
    const last = this.maybeLastIndex()
    if (last === undefined || i > last) return undefined
    if (this.entries.length === 0) return undefined
    return (this.entries[i - this.offset] as Entry).term
  }

  /** Drops entries up to `i` once they are persisted, unless they were overwritten since (term differs). */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i)
    if (gt === undefined || gt !== t || i < this.offset) return
    this.entries = this.entries.slice(i + 1 - this.offset)
    this.offset = i + 1
  }

  /** Drops the pending snapshot once it is persisted. */
  stableSnapTo(i: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) this.snapshot = undefined
  }

  /** Replaces everything with an incoming snapshot. */
  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1
    this.entries = []
    this.snapshot = s
  }

  /** Appends `ents`, first discarding any entries at or after `ents[0].index`. */
  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0]
    if (first === undefined) return
    const from = first.index
    if (from === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e)
    } else if (from <= this.offset) {
      // Replaces the whole unstable part (and, once persisted, stored entries from `from` on).
      this.offset = from
      this.entries = [...ents]
    } else {
      this.entries = [...this.entries.slice(0, from - this.offset), ...ents]
    }
  }

  /** Entries in `[lo, hi)`; the caller guarantees `offset ≤ lo ≤ hi ≤ offset + entries.length`. */
  slice(lo: number, hi: number): Entry[] {
    return this.entries.slice(lo - this.offset, hi - this.offset)
  }
}
