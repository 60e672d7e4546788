/**
 * Replays decoded WAL records into the state they describe, checking on the way that each record
 * is possible after the ones before it (anything else is reported as corruption).
 *
 * @internal
 */
import type { Entry, HardState } from '../core/types.ts'
import { hardStateEqual } from '../core/types.ts'
import type { LogPosition, SegmentStart } from './wal-codec.ts'
import { decodeEntries, decodeHardState, decodePosition, decodeSegmentStart } from './wal-codec.ts'
import { WalCorruptionError } from './wal-errors.ts'
import { RecordType } from './wal-record.ts'

/** The state the WAL describes, apart from the entries. */
export interface WalState {
  /** The compaction point (index 0, term 0 when nothing was compacted). */
  compacted: LogPosition
  /** The last index of the log. */
  lastIndex: number
  /** The current snapshot; `undefined` when none was taken or received. */
  snapshot: LogPosition | undefined
  hardState: HardState
}

/** The state of a replayed WAL. */
export interface ReplayResult extends WalState {
  /** The entries after the compaction point, up to `lastIndex`. */
  entries: Entry[]
}

const samePosition = (a: LogPosition | undefined, b: LogPosition | undefined): boolean =>
  a === undefined || b === undefined ? a === b : a.index === b.index && a.term === b.term

/** Replays records in WAL order, starting from the SEGMENT_START of the oldest segment kept. */
export class WalReplayer {
  readonly #state: WalState
  /** Contiguous entries ending at `lastIndex` (possibly empty); older ones may be unknown. */
  #ents: Entry[] = []
  readonly #firstFile: string

  constructor(start: SegmentStart, firstFile: string) {
    this.#state = { compacted: start.compacted, lastIndex: start.lastIndex, snapshot: start.snapshot, hardState: start.hardState }
    this.#firstFile = firstFile
  }

  /** The state so far. */
  get state(): WalState {
    return this.#state
  }

  /**
   * Applies one record (its clear payload). `seq` is the sequence number of the segment holding it.
   *
   * @throws WalCorruptionError naming `file` and `offset` when it cannot be decoded or is
   *   impossible after the records before it.
   */
  apply(type: number, payload: Uint8Array, file: string, offset: number, seq: number): void {
    const fail = (reason: string, cause?: unknown): never => {
      throw new WalCorruptionError(file, offset, reason, cause === undefined ? undefined : { cause })
    }
    const decode = <T>(f: (b: Uint8Array) => T): T => {
      try {
        return f(payload)
      } catch (err) {
        return fail(`undecodable record of type ${type}: ${err instanceof Error ? err.message : String(err)}`, err)
      }
    }
    const st = this.#state
    switch (type) {
      case RecordType.segmentStart: {
        const s = decode(decodeSegmentStart)
        if (s.seq !== seq) fail(`segment start says seq ${s.seq}, the file name says ${seq}`)
        const same = samePosition(s.compacted, st.compacted) && s.lastIndex === st.lastIndex && samePosition(s.snapshot, st.snapshot) && hardStateEqual(s.hardState, st.hardState)
        if (!same) fail('segment start does not match the records before it')
        return
      }
      case RecordType.entries:
        return this.#entries(decode(decodeEntries), fail)
      case RecordType.hardState:
        st.hardState = decode(decodeHardState)
        return
      case RecordType.snapshotCreated: {
        // May be older than the current one: after falling back from a damaged snapshot file,
        // the storage records the older snapshot it now holds.
        const p = decode(decodePosition)
        if (p.index < st.compacted.index || p.index > st.lastIndex) fail(`snapshot at ${p.index} is outside the log (${st.compacted.index}, ${st.lastIndex}]`)
        this.#checkTerm(p, fail)
        st.snapshot = p
        return
      }
      case RecordType.snapshotApplied: {
        const p = decode(decodePosition)
        if (st.snapshot !== undefined && p.index < st.snapshot.index) fail(`snapshot at ${p.index} is older than the one at ${st.snapshot.index}`)
        st.snapshot = p
        st.compacted = p
        st.lastIndex = p.index
        this.#ents = []
        return
      }
      case RecordType.compact: {
        const p = decode(decodePosition)
        if (p.index <= st.compacted.index) fail(`compaction to ${p.index} is not after the compaction point ${st.compacted.index}`)
        if (st.snapshot === undefined || p.index > st.snapshot.index) fail(`compaction to ${p.index} goes beyond the snapshot`)
        this.#checkTerm(p, fail)
        const base = this.#ents[0]?.index
        if (base !== undefined && p.index >= base) this.#ents = this.#ents.slice(p.index + 1 - base)
        st.compacted = p
        return
      }
      default:
        fail(`record type ${type} does not belong in a WAL segment`)
    }
  }

  #entries(ents: Entry[], fail: (reason: string) => never): void {
    const st = this.#state
    const first = (ents[0] as Entry).index
    const last = (ents[ents.length - 1] as Entry).index
    if (first <= st.compacted.index) fail(`entries from ${first} are at or below the compaction point ${st.compacted.index}`)
    if (first > st.lastIndex + 1) fail(`entries from ${first} leave a gap after the last index ${st.lastIndex}`)
    const base = this.#ents[0]?.index
    if (base !== undefined && first >= base) {
      this.#ents.length = first - base
      for (const e of ents) this.#ents.push(e)
    } else {
      this.#ents = ents
    }
    st.lastIndex = last
  }

  /** The term at `p.index` must be `p.term` when that entry is known. */
  #checkTerm(p: LogPosition, fail: (reason: string) => never): void {
    const st = this.#state
    const base = this.#ents[0]?.index
    const known = p.index === st.compacted.index ? st.compacted.term : base !== undefined && p.index >= base ? this.#ents[p.index - base]?.term : undefined
    if (known !== undefined && known !== p.term) fail(`position ${p.index} has term ${known}, the record says ${p.term}`)
  }

  /**
   * The replayed state.
   *
   * @throws WalCorruptionError when entries after the compaction point are missing (an earlier
   *   segment was lost).
   */
  finish(): ReplayResult {
    const st = this.#state
    if (st.lastIndex > st.compacted.index && this.#ents[0]?.index !== st.compacted.index + 1) {
      const upTo = (this.#ents[0]?.index ?? st.lastIndex + 1) - 1
      throw new WalCorruptionError(this.#firstFile, 0, `entries ${st.compacted.index + 1}..${upTo} are missing: an earlier WAL segment was lost`)
    }
    return { ...st, entries: this.#ents }
  }
}
