/**
 * Opening a {@link FileRaftStorage} directory: WAL recovery, then the snapshot the WAL refers to
 * (or an older one the WAL still covers), then the in-memory log.
 *
 * @internal
 */
import { join } from 'node:path'
import { mkdir, readdir } from 'node:fs/promises'
import type { Logger } from '@swarmkit-ts/api'
import type { Encrypter } from './encrypter.ts'
import { LogCache } from './log-cache.ts'
import { SNAPSHOT_TMP_SUFFIX, readSnapshotFile, removeFile } from './snapshot-file.ts'
import type { Snapshot } from '../core/types.ts'
import type { LogPosition } from './wal-codec.ts'
import { loadWalSchema } from './wal-codec.ts'
import { SnapshotCorruptionError, WalCorruptionError } from './wal-errors.ts'
import type { FileRaftStorageHooks, SnapshotName } from './wal-files.ts'
import { parseSnapshotName, snapshotName } from './wal-files.ts'
import { recoverWal } from './wal-recovery.ts'
import type { ReplayResult, WalState } from './wal-replay.ts'
import { WalWriter } from './wal-writer.ts'

/** Options of {@link recoverStorage}. */
export interface RecoverStorageOptions {
  segmentBytes: number
  encrypter: Encrypter | undefined
  logger: Logger
  hooks: FileRaftStorageHooks
}

/** An opened storage directory. */
export interface RecoveredStorage {
  /** The recovered log, hard state and snapshot. */
  mem: LogCache
  /** The snapshot held (`undefined` when none). */
  snapshot: Snapshot | undefined
  /** Set when the WAL's snapshot was damaged and this older one is used instead. */
  fellBack: boolean
  /** Snapshot files to keep, oldest first (at most two). */
  kept: SnapshotName[]
  /** The WAL, open for appending. */
  writer: WalWriter
}

const FRESH: WalState = { compacted: { index: 0, term: 0 }, lastIndex: 0, snapshot: undefined, hardState: { term: 0, vote: 0n, commit: 0 } }

/**
 * Opens (creating if needed) the storage directory `dir` and recovers its state.
 *
 * @throws WalCorruptionError, SnapshotCorruptionError, StorageDecryptionError
 */
export async function recoverStorage(dir: string, opts: RecoverStorageOptions): Promise<RecoveredStorage> {
  loadWalSchema()
  await mkdir(dir, { recursive: true })
  const names = await readdir(dir)
  for (const n of names) if (n.endsWith(SNAPSHOT_TMP_SUFFIX) && parseSnapshotName(n.slice(0, -SNAPSHOT_TMP_SUFFIX.length)) !== undefined) await removeFile(join(dir, n))

  const wal = await recoverWal(dir, names, opts)
  const result: ReplayResult = wal?.result ?? { ...FRESH, entries: [] }
  const firstFile = join(dir, wal?.segments[0]?.name ?? '')
  if (result.snapshot === undefined && result.compacted.index !== 0) throw new WalCorruptionError(firstFile, 0, 'the log is compacted but no snapshot is recorded')

  const snapshots = names.flatMap((n) => parseSnapshotName(n) ?? [])
  let snap: Snapshot | undefined
  let fellBack = false
  if (result.snapshot !== undefined) {
    const loaded = await loadSnapshot(dir, snapshots, result, opts)
    snap = loaded.snap
    fellBack = loaded.fellBack
  }

  // Snapshot files newer than the one recorded were written by a process that stopped before
  // recording them: they are not part of the state.
  for (const s of snapshots) {
    if (result.snapshot === undefined || s.index > result.snapshot.index || (s.index === result.snapshot.index && s.term !== result.snapshot.term)) {
      opts.logger.info('raft storage: removing a snapshot file that was never recorded in the WAL', { file: join(dir, s.name) })
      await removeFile(join(dir, s.name))
    }
  }

  const mem = new LogCache({ compacted: result.compacted, entries: result.entries, snapshot: snap, hardState: result.hardState })
  const writer = await WalWriter.open(dir, opts, stateOf(result), wal)
  const kept = snap === undefined ? [] : [snapshotName(snap.metadata.term, snap.metadata.index)]
  return { mem, snapshot: snap, fellBack, kept, writer }
}

function stateOf(r: ReplayResult): WalState {
  return { compacted: r.compacted, lastIndex: r.lastIndex, snapshot: r.snapshot, hardState: r.hardState }
}

/**
 * The snapshot the WAL refers to; when it is missing or damaged, the newest older valid
 * snapshot that the log still covers (its index at or after the compaction point, with the
 * log's term there).
 */
async function loadSnapshot(dir: string, files: readonly SnapshotName[], r: ReplayResult, opts: RecoverStorageOptions): Promise<{ snap: Snapshot; fellBack: boolean }> {
  const want = r.snapshot as LogPosition
  try {
    return { snap: await readSnapshotFile(dir, snapshotName(want.term, want.index), opts.encrypter), fellBack: false }
  } catch (err) {
    if (!(err instanceof SnapshotCorruptionError)) throw err
    const candidates = files.filter((f) => f.index < want.index && f.index >= r.compacted.index && termAt(r, f.index) === f.term).sort((a, b) => b.index - a.index)
    for (const c of candidates) {
      try {
        const snap = await readSnapshotFile(dir, c, opts.encrypter)
        opts.logger.warn('raft storage: snapshot file damaged, using an older snapshot the WAL still covers', { damaged: err.file, reason: err.reason, using: join(dir, c.name) })
        return { snap, fellBack: true }
      } catch (older) {
        if (!(older instanceof SnapshotCorruptionError)) throw older
      }
    }
    throw err
  }
}

function termAt(r: ReplayResult, index: number): number | undefined {
  if (index === r.compacted.index) return r.compacted.term
  return r.entries[index - r.compacted.index - 1]?.term
}
