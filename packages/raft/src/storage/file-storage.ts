/**
 * A durable {@link RaftStorage} and {@link RaftLog}: a segmented write-ahead log plus snapshot
 * files in one directory, with an in-memory copy of everything after the compaction point so
 * that reads are synchronous.
 *
 * ## Files
 *
 * - `wal-<seq>-<firstIndex>.log` (16 hex digits each): segments of framed records
 *   `[length u32][crc32 u32][type u8][payload]` (see `wal-record.ts`); each starts with a
 *   SEGMENT_START record holding the state before it. A new segment begins once the current one
 *   has reached `segmentBytes`; the oldest segments are removed once the compaction point has
 *   passed everything written before their successor.
 * - `incarnation`: the storage's incarnation (16 hex digits), written once when the directory is
 *   first opened (see {@link FileRaftStorage.incarnation}).
 * - `snap-<term>-<index>.snap`: one framed record with the snapshot's metadata and data,
 *   written to a temporary file, fdatasynced, renamed and the directory fsynced. The current
 *   snapshot and the one before it are kept.
 *
 * ## Durability
 *
 * Writes are applied in memory at once and framed into a buffer; {@link FileRaftStorage.sync}
 * is a group-commit barrier that first waits for the snapshot files written since the last
 * barrier, then writes the buffered records with one write and one fdatasync. Concurrent
 * `sync()` calls share one fdatasync; writes issued while one is in flight join the next.
 * `applySnapshot` and `createSnapshot` start writing their snapshot file at once; it is durable,
 * and recorded in the WAL, when the next `sync()` resolves.
 *
 * A snapshot is identified by its position (term, index), as in Raft where one position is one
 * state: taking or receiving a snapshot again at the position of the current one replaces its
 * file at once, so after a crash before the next `sync()` the replacement may be what is read.
 *
 * ## Recovery
 *
 * `open` replays the WAL: a torn tail of the last segment (an incomplete record, a CRC mismatch
 * or zeros with no valid record after them) is truncated and logged; damage anywhere else
 * refuses to open with {@link WalCorruptionError}. A damaged snapshot file falls back to an
 * older one only if the WAL still covers it; otherwise {@link SnapshotCorruptionError}.
 */
import { join } from 'node:path'
import { readdir } from 'node:fs/promises'
import { FailedPreconditionError, InvalidArgumentError, cryptoRandom, silentLogger } from '@swarmkit-ts/api'
import type { Logger, Random } from '@swarmkit-ts/api'
import type { Encrypter } from './encrypter.ts'
import { recoverStorage } from './file-storage-recovery.ts'
import type { RecoveredStorage } from './file-storage-recovery.ts'
import type { LogCache } from './log-cache.ts'
import { encodeSnapshotFile, removeFile, writeSnapshotFile } from './snapshot-file.ts'
import { loadIncarnation } from './storage-identity.ts'
import type { RaftInitialState, RaftStorageWithLog, SyncOptions } from './storage.ts'
import type { ConfState, Entry, HardState, Snapshot } from '../core/types.ts'
import type { LogPosition } from './wal-codec.ts'
import { assertConfStateEncodable, assertEntriesEncodable, assertMemberIdEncodable, encodeEntries, encodeHardState, encodePosition } from './wal-codec.ts'
import type { FileRaftStorageHooks, SnapshotName } from './wal-files.ts'
import { parseSnapshotName } from './wal-files.ts'
import { RecordType, frameRecord } from './wal-record.ts'
import type { WalState } from './wal-replay.ts'
import { sealPayload, walRecordAad } from './wal-seal.ts'
import type { PendingRecord, WalWriter } from './wal-writer.ts'

/** Construction options for {@link FileRaftStorage.open}. */
export interface FileRaftStorageInit {
  /** Size at which a WAL segment is closed and a new one started. @default 64 MiB */
  segmentBytes?: number
  /** Encrypts record payloads and snapshot files when set. @default none (plaintext) */
  encrypter?: Encrypter
  /** Receives recovery warnings (torn tails, snapshot fallbacks). @default silent */
  logger?: Logger
  /** File I/O hooks, for fault injection and counting in tests. */
  hooks?: FileRaftStorageHooks
  /** Draws the incarnation of a new storage (see {@link FileRaftStorage.incarnation}). @default cryptoRandom */
  random?: Random
}

/** The default `segmentBytes`: 64 MiB. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)))

interface Round {
  /** The write count covered once it resolves. */
  upTo: number
  done: Promise<void>
}

/** Raft storage in a directory of WAL segments and snapshot files. */
export class FileRaftStorage implements RaftStorageWithLog {
  readonly #dir: string
  readonly #mem: LogCache
  readonly #writer: WalWriter
  readonly #encrypter: Encrypter | undefined
  readonly #hooks: FileRaftStorageHooks
  readonly #logger: Logger
  /** The snapshot position the WAL records (`undefined` before any snapshot). */
  #snapshot: LogPosition | undefined
  /** Snapshot files kept, oldest first (at most two). */
  #kept: SnapshotName[]
  #pending: PendingRecord[] = []
  #snapshotWrites: Promise<void>[] = []
  #snapshotChain: Promise<void> = Promise.resolve()
  /** Write operations issued so far, and how many of them are durable. */
  #issued = 0
  #durable = 0
  #round: Round | undefined
  #next: Promise<void> | undefined
  #failure: { error: Error } | undefined
  #closed = false
  #abandoned = false
  readonly #incarnation: bigint

  private constructor(dir: string, init: FileRaftStorageInit, r: RecoveredStorage, incarnation: bigint) {
    this.#dir = dir
    this.#incarnation = incarnation
    this.#mem = r.mem
    this.#writer = r.writer
    this.#encrypter = init.encrypter
    this.#hooks = init.hooks ?? {}
    this.#logger = init.logger ?? silentLogger
    this.#snapshot = r.snapshot === undefined ? undefined : { index: r.snapshot.metadata.index, term: r.snapshot.metadata.term }
    this.#kept = r.kept
  }

  /**
   * Opens the storage in `dir` (created if missing), recovering its state.
   *
   * @throws WalCorruptionError when the WAL is damaged before its tail.
   * @throws SnapshotCorruptionError when the snapshot is damaged and no older one is usable.
   * @throws StorageDecryptionError when encrypted data cannot be opened with `init.encrypter`.
   * @throws InvalidArgumentError (api) when `init.segmentBytes` is not a positive integer.
   */
  static async open(dir: string, init: FileRaftStorageInit = {}): Promise<FileRaftStorage> {
    const segmentBytes = init.segmentBytes ?? DEFAULT_SEGMENT_BYTES
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1) throw new InvalidArgumentError('segmentBytes', `must be a positive integer, got ${segmentBytes}`)
    const r = await recoverStorage(dir, { segmentBytes, encrypter: init.encrypter, logger: init.logger ?? silentLogger, hooks: init.hooks ?? {} })
    const hadState = r.mem.lastIndex() > 0 || r.snapshot !== undefined || r.mem.hardState().term > 0
    const incarnation = await loadIncarnation(dir, { random: init.random ?? cryptoRandom, hooks: init.hooks ?? {}, logger: init.logger ?? silentLogger, hadState })
    const s = new FileRaftStorage(dir, init, r, incarnation)
    // Record the older snapshot now in use, so that the WAL agrees with the state.
    if (r.fellBack && s.#snapshot !== undefined) s.#record(RecordType.snapshotCreated, encodePosition(s.#snapshot), r.kept[0])
    return s
  }

  /** The storage directory. */
  get dir(): string {
    return this.#dir
  }

  /**
   * This storage's incarnation: drawn when the directory was first opened and kept in its file
   * `incarnation`. It changes only if that file (or the whole directory) is lost.
   */
  get incarnation(): bigint {
    return this.#incarnation
  }

  initialState(): RaftInitialState {
    return { ...this.#mem.initialState(), incarnation: this.#incarnation }
  }

  /** The stored hard state (a copy). */
  hardState(): HardState {
    return this.#mem.hardState()
  }

  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    return this.#mem.entries(lo, hi, maxBytes)
  }

  term(i: number): number {
    return this.#mem.term(i)
  }

  firstIndex(): number {
    return this.#mem.firstIndex()
  }

  lastIndex(): number {
    return this.#mem.lastIndex()
  }

  snapshot(): Snapshot {
    return this.#mem.snapshot()
  }

  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return
    this.#checkWritable()
    assertEntriesEncodable(entries)
    this.#mem.append(entries)
    this.#record(RecordType.entries, encodeEntries(entries))
  }

  setHardState(hs: HardState): void {
    this.#checkWritable()
    assertMemberIdEncodable(hs.vote, 'hardState.vote')
    this.#mem.setHardState(hs)
    // Never sealed: term, vote and commit index hold no secret (SwarmKit's encrypted WAL leaves
    // etcd's hard state records in the clear too), and a Ready that appends writes one, so one
    // encryption less per write on every member. Recovery reads plaintext records either way.
    this.#record(RecordType.hardState, encodeHardState(hs), undefined, false)
  }

  applySnapshot(snap: Snapshot): void {
    this.#checkWritable()
    assertConfStateEncodable(snap.metadata.confState, 'snapshot.metadata.confState')
    this.#mem.applySnapshot(snap)
    this.#recordSnapshot(RecordType.snapshotApplied, this.#mem.snapshot())
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    this.#checkWritable()
    assertConfStateEncodable(confState, 'confState')
    const snap = this.#mem.createSnapshot(index, confState, data)
    this.#recordSnapshot(RecordType.snapshotCreated, snap)
    return snap
  }

  compact(index: number): void {
    this.#checkWritable()
    const first = this.#mem.firstIndex()
    this.#mem.compact(index)
    if (this.#mem.firstIndex() !== first) this.#record(RecordType.compact, encodePosition({ index, term: this.#mem.term(index) }))
  }

  /**
   * See `RaftLog.sync`. With `{ inline: true }` a write of at most `INLINE_SYNC_MAX_BYTES`
   * (256 KiB), with no other barrier in flight, is made durable on the calling thread
   * (`fdatasync` without the thread pool) while the recent inline syncs took under 2 ms; after
   * a slower one the next 64 syncs go through the thread pool again, so a slow disk does not
   * keep blocking the event loop. The promise still settles asynchronously.
   */
  sync(options?: SyncOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new FailedPreconditionError('FileRaftStorage is closed', { reason: 'closed' }))
    return this.#sync(options?.inline === true)
  }

  /**
   * Makes every write durable, then closes the files. Reads keep working; writes and `sync()`
   * are refused afterwards.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    const flushed = this.#failure === undefined ? this.#sync() : Promise.resolve()
    this.#closed = true
    try {
      await flushed
    } finally {
      await this.#snapshotChain
      await this.#writer.close()
    }
  }

  /**
   * Closes the files *without* writing what is still buffered, as a crash would: writes since
   * the last resolved `sync()` are lost (a barrier already in flight completes). Snapshot files
   * already being written are finished, but stay unrecorded. For fault-injection tests.
   */
  async abandon(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#abandoned = true
    this.#pending = []
    await this.#round?.done.catch(() => undefined)
    await this.#next?.catch(() => undefined)
    await this.#snapshotChain
    await this.#writer.close()
  }

  #checkWritable(): void {
    if (this.#closed) throw new FailedPreconditionError('FileRaftStorage is closed', { reason: 'closed' })
    if (this.#failure !== undefined) throw new FailedPreconditionError('FileRaftStorage failed on an earlier I/O error', { reason: 'failed', cause: this.#failure.error })
  }

  /** The WAL state after the writes made so far. */
  #walState(): WalState {
    const compacted = this.#mem.firstIndex() - 1
    return { compacted: { index: compacted, term: this.#mem.term(compacted) }, lastIndex: this.#mem.lastIndex(), snapshot: this.#snapshot, hardState: this.#mem.hardState() }
  }

  /**
   * Frames a record for a write already applied in memory. A failure here (the encrypter threw)
   * leaves memory ahead of the WAL, so the storage is failed.
   */
  #record(type: RecordType, payload: Uint8Array, snapshot?: SnapshotName, seal = true): void {
    try {
      const sealed = sealPayload(type, payload, seal ? this.#encrypter : undefined, walRecordAad(type))
      this.#pending.push({ bytes: frameRecord(sealed.typeByte, sealed.payload), stateAfter: this.#walState(), snapshot })
      this.#issued++
    } catch (err) {
      this.#failure ??= { error: asError(err) }
      throw err
    }
  }

  #recordSnapshot(type: RecordType, snap: Snapshot): void {
    const { index, term } = snap.metadata
    this.#snapshot = { index, term }
    let file
    try {
      file = encodeSnapshotFile(snap, this.#encrypter)
    } catch (err) {
      this.#failure ??= { error: asError(err) }
      throw err
    }
    const { name, bytes } = file
    const write = this.#snapshotChain.then(() => writeSnapshotFile(this.#dir, name, bytes, this.#hooks))
    this.#snapshotChain = write.catch(() => undefined)
    this.#snapshotWrites.push(write)
    this.#record(type, encodePosition({ index, term }), name)
  }

  #sync(inline = false): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure.error)
    const round = this.#round
    if (round === undefined) return this.#durable >= this.#issued ? Promise.resolve() : this.#startRound(inline)
    if (round.upTo >= this.#issued) return round.done
    this.#next ??= round.done.catch(() => undefined).then(() => this.#startRound())
    return this.#next
  }

  /** Starts a barrier covering every write issued so far. */
  #startRound(inline = false): Promise<void> {
    this.#next = undefined
    if (this.#failure !== undefined) return Promise.reject(this.#failure.error)
    if (this.#abandoned) return Promise.reject(new FailedPreconditionError('FileRaftStorage was abandoned', { reason: 'closed' }))
    if (this.#durable >= this.#issued) return Promise.resolve()
    const records = this.#pending
    const snapshots = this.#snapshotWrites
    this.#pending = []
    this.#snapshotWrites = []
    const round: Round = { upTo: this.#issued, done: Promise.resolve() }
    round.done = this.#flush(records, snapshots, inline).then(
      () => {
        this.#durable = round.upTo
        if (this.#round === round) this.#round = undefined
      },
      (err: unknown) => {
        this.#failure ??= { error: asError(err) }
        if (this.#round === round) this.#round = undefined
        throw this.#failure.error
      },
    )
    this.#round = round
    return round.done
  }

  async #flush(records: readonly PendingRecord[], snapshots: readonly Promise<void>[], inline: boolean): Promise<void> {
    // A snapshot file must be durable before the record that refers to it is written. (No
    // await without one: the WAL write then starts within this call.)
    if (snapshots.length > 0) await Promise.all(snapshots)
    await this.#writer.write(records, inline && snapshots.length === 0)
    await this.#housekeeping(records)
  }

  /** Removes compacted segments and old snapshot files; failures are only logged. */
  async #housekeeping(records: readonly PendingRecord[]): Promise<void> {
    try {
      await this.#writer.removeObsolete()
      const markers = records.flatMap((r) => (r.snapshot === undefined ? [] : [r.snapshot]))
      if (markers.length === 0) return
      for (const m of markers) if (this.#kept[this.#kept.length - 1]?.name !== m.name) this.#kept.push(m)
      this.#kept = this.#kept.slice(-2)
      const oldest = this.#kept[0] as SnapshotName
      const keep = new Set(this.#kept.map((k) => k.name))
      for (const n of await readdir(this.#dir)) {
        const s = parseSnapshotName(n)
        if (s !== undefined && s.index < oldest.index && !keep.has(n)) await removeFile(join(this.#dir, n))
      }
    } catch (err) {
      this.#logger.warn('raft storage: could not remove old files', { dir: this.#dir, error: err instanceof Error ? err.message : String(err) })
    }
  }
}
