/**
 * Appends framed records to the WAL segments: one write and one fdatasync per batch, a new
 * segment once the current one has reached the size limit, and removal of the segments that the
 * compaction point has passed.
 *
 * The open segment is kept zero-filled {@link PREALLOCATE_BYTES} ahead of its records (as etcd
 * preallocates its segments): a write then lands in blocks the file already has, so its
 * fdatasync flushes data only — no size or block-allocation change to commit to the
 * filesystem's journal on every write (on ext4 here: ~190 → ~135 µs per fdatasync alone, ~270 →
 * ~195 µs with three members writing). Recovery reads the zeros after the last record as the
 * segment's end; zeros never go past `segmentBytes` and a segment rolls only once its records
 * reach it, so only the last segment ever has a zero tail.
 *
 * @internal
 */
import { join } from 'node:path'
import { fdatasyncSync } from 'node:fs'
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import type { Logger } from '@swarmkit-ts/api'
import type { Encrypter } from './encrypter.ts'
import { INLINE_SYNC_MAX_BYTES } from './storage.ts'
import { removeFile } from './snapshot-file.ts'
import { encodeSegmentStart } from './wal-codec.ts'
import type { FileRaftStorageHooks, SegmentName, SnapshotName } from './wal-files.ts'
import { datasync, segmentName, syncDir, writeFully, writeFullySync } from './wal-files.ts'
import { RecordType, frameRecord } from './wal-record.ts'
import type { WalState } from './wal-replay.ts'
import { sealPayload, walRecordAad } from './wal-seal.ts'

/** An inline `fdatasync` slower than this (ms) sends the next syncs back to the thread pool. */
const INLINE_SYNC_SLOW_MS = 2

/** How many syncs go through the thread pool after a slow inline one. */
const INLINE_SYNC_BACKOFF = 64

/** A framed record waiting to be written, with the state it leads to. */
export interface PendingRecord {
  /** The framed (and possibly sealed) record. */
  bytes: Buffer
  /** The WAL state once this record is applied. */
  stateAfter: WalState
  /** Set on a snapshot marker: the snapshot file it refers to. */
  snapshot?: SnapshotName | undefined
}

/** How far ahead of its records the open segment is zero-filled (at most to the segment size). */
export const PREALLOCATE_BYTES = 1 << 20

let zeros: Buffer | undefined

/** Options of {@link WalWriter}. */
export interface WalWriterOptions {
  segmentBytes: number
  encrypter: Encrypter | undefined
  hooks: FileRaftStorageHooks
  logger: Logger
}

/** Writes the WAL. Not reentrant: the caller runs one {@link WalWriter.write} at a time. */
export class WalWriter {
  readonly #dir: string
  readonly #opts: WalWriterOptions
  /** Segments on disk, ascending; the last one is open. */
  readonly #segments: SegmentName[]
  #fh: FileHandle
  /** Bytes of records in the open segment. */
  #size: number
  /** Bytes of the open segment's file: its records, then zeros. */
  #allocated: number
  /** The state after the last record written. */
  #state: WalState
  /** Syncs left to go through the thread pool after a slow inline one. */
  #inlineBackoff = 0

  private constructor(dir: string, opts: WalWriterOptions, segments: SegmentName[], fh: FileHandle, size: number, state: WalState) {
    this.#dir = dir
    this.#opts = opts
    this.#segments = segments
    this.#fh = fh
    this.#size = size
    this.#allocated = size
    this.#state = state
  }

  /**
   * Opens the WAL for appending: after the valid content of the last recovered segment, or in a
   * new first segment when there is none.
   */
  static async open(dir: string, opts: WalWriterOptions, state: WalState, recovered: { segments: SegmentName[]; lastSize: number } | undefined): Promise<WalWriter> {
    const last = recovered?.segments[recovered.segments.length - 1]
    if (recovered !== undefined && last !== undefined) {
      const fh = await open(join(dir, last.name), 'r+')
      return new WalWriter(dir, opts, [...recovered.segments], fh, recovered.lastSize, state)
    }
    const { seg, fh, size } = await createSegment(dir, 0, state, opts)
    try {
      await datasync(fh, join(dir, seg.name), opts.hooks)
      await syncDir(dir, opts.hooks)
    } catch (err) {
      await fh.close()
      throw err
    }
    return new WalWriter(dir, opts, [seg], fh, size, state)
  }

  /** The state after the last record written. */
  get state(): WalState {
    return this.#state
  }

  /** The segments on disk, ascending. */
  get segments(): readonly SegmentName[] {
    return this.#segments
  }

  /**
   * Writes `records` in order and makes them durable (fdatasync; a segment filled on the way is
   * fdatasynced before the next one is created, and the directory after creating one). With
   * `inline`, a write of at most {@link INLINE_SYNC_MAX_BYTES} that fills no segment is
   * fdatasynced on this thread (see `SyncOptions.inline`), unless a recent inline one was slow.
   */
  async write(records: readonly PendingRecord[], inline = false): Promise<void> {
    if (records.length === 0) return
    let chunks: Buffer[] = []
    let chunkBytes = 0
    let created = false
    for (const rec of records) {
      if (this.#size + chunkBytes >= this.#opts.segmentBytes) {
        this.#writeChunks(chunks, chunkBytes)
        chunks = []
        chunkBytes = 0
        await this.#roll()
        created = true
      }
      chunks.push(rec.bytes)
      chunkBytes += rec.bytes.length
      this.#state = rec.stateAfter
    }
    // The write goes to the page cache synchronously and the fdatasync is issued at once: a
    // busy event loop does not stand between them.
    this.#writeChunks(chunks, chunkBytes)
    if (inline && !created && chunkBytes <= INLINE_SYNC_MAX_BYTES && this.#opts.hooks.beforeSync === undefined && this.#inlineBackoff === 0) {
      this.#datasyncInline()
      return
    }
    if (this.#inlineBackoff > 0) this.#inlineBackoff--
    await datasync(this.#fh, this.#currentPath(), this.#opts.hooks)
    if (created) await syncDir(this.#dir, this.#opts.hooks)
  }

  /** fdatasync of the open segment on this thread, timed: a slow one sends the next syncs to the pool. */
  #datasyncInline(): void {
    const start = performance.now()
    fdatasyncSync(this.#fh.fd)
    if (performance.now() - start > INLINE_SYNC_SLOW_MS) {
      this.#inlineBackoff = INLINE_SYNC_BACKOFF
      this.#opts.logger.debug('raft wal: an inline fdatasync was slow, syncing through the thread pool for a while', { file: this.#currentPath() })
    }
  }

  /**
   * Removes the oldest segments while the compaction point (of the records written) has passed
   * everything written before the next segment. Call only once those records are durable.
   */
  async removeObsolete(): Promise<void> {
    let removed = 0
    for (;;) {
      const next = this.#segments[1]
      if (next === undefined || next.firstIndex - 1 > this.#state.compacted.index) break
      const old = this.#segments[0] as SegmentName
      await removeFile(join(this.#dir, old.name))
      this.#segments.shift()
      removed++
      this.#opts.logger.debug('raft wal: removed a compacted segment', { file: join(this.#dir, old.name) })
    }
    if (removed > 0) await syncDir(this.#dir, this.#opts.hooks)
  }

  /**
   * Closes the open segment (written data stays; nothing is synced). Its zero tail is cut off
   * first (not synced either: recovery reads leftover zeros as the end anyway).
   */
  async close(): Promise<void> {
    try {
      if (this.#allocated > this.#size) await this.#fh.truncate(this.#size)
    } finally {
      await this.#fh.close()
    }
  }

  #currentPath(): string {
    return join(this.#dir, (this.#segments[this.#segments.length - 1] as SegmentName).name)
  }

  #writeChunks(chunks: Buffer[], bytes: number): void {
    if (bytes === 0) return
    writeFullySync(this.#fh, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, bytes), this.#size)
    this.#size += bytes
    if (this.#size > this.#allocated) this.#allocated = this.#size
    // Past the zeroed part: zero the next stretch too, synced with these records (one journal
    // commit per stretch instead of one per write).
    if (this.#allocated - this.#size < PREALLOCATE_BYTES / 2) this.#preallocate()
  }

  /** Zero-fills the open segment up to {@link PREALLOCATE_BYTES} past its records (at most to the segment size). */
  #preallocate(): void {
    const target = Math.min(this.#size + PREALLOCATE_BYTES, this.#opts.segmentBytes)
    if (target <= this.#allocated) return
    zeros ??= Buffer.alloc(PREALLOCATE_BYTES)
    writeFullySync(this.#fh, zeros.subarray(0, target - this.#allocated), this.#allocated)
    this.#allocated = target
  }

  /**
   * Finishes the open segment durably and starts the next one. (A full segment has no zero tail:
   * zeros reach at most `segmentBytes`, and a segment rolls only once its records reach that.)
   */
  async #roll(): Promise<void> {
    await datasync(this.#fh, this.#currentPath(), this.#opts.hooks)
    await this.#fh.close()
    const seq = (this.#segments[this.#segments.length - 1] as SegmentName).seq + 1
    const { seg, fh, size } = await createSegment(this.#dir, seq, this.#state, this.#opts)
    this.#segments.push(seg)
    this.#fh = fh
    this.#size = size
    this.#allocated = size
  }
}

/** Creates segment `seq` holding its SEGMENT_START record (not yet synced). */
async function createSegment(dir: string, seq: number, state: WalState, opts: WalWriterOptions): Promise<{ seg: SegmentName; fh: FileHandle; size: number }> {
  const seg = segmentName(seq, state.lastIndex + 1)
  const sealed = sealPayload(RecordType.segmentStart, encodeSegmentStart({ seq, ...state }), opts.encrypter, walRecordAad(RecordType.segmentStart))
  const bytes = frameRecord(sealed.typeByte, sealed.payload)
  const fh = await open(join(dir, seg.name), 'wx')
  try {
    await writeFully(fh, bytes, 0)
  } catch (err) {
    await fh.close()
    throw err
  }
  return { seg, fh, size: bytes.length }
}
