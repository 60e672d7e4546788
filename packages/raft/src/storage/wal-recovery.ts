/**
 * Reads the WAL segments of a directory on open: picks the run of consecutive segments ending
 * with the newest, scans and replays them, truncates a torn tail of the last one and removes
 * leftovers (segments before a gap, an empty last segment).
 *
 * @internal
 */
import { join } from 'node:path'
import { open, readFile } from 'node:fs/promises'
import type { Logger } from '@swarmkit-ts/api'
import type { Encrypter } from './encrypter.ts'
import { removeFile } from './snapshot-file.ts'
import { decodeSegmentStart } from './wal-codec.ts'
import { WalCorruptionError } from './wal-errors.ts'
import type { FileRaftStorageHooks, SegmentName } from './wal-files.ts'
import { datasync, parseSegmentName } from './wal-files.ts'
import type { ScannedRecord } from './wal-record.ts'
import { RecordType, SEALED_FLAG, scanRecords } from './wal-record.ts'
import type { ReplayResult } from './wal-replay.ts'
import { WalReplayer } from './wal-replay.ts'
import { openPayload, walRecordAad } from './wal-seal.ts'

/** What {@link recoverWal} found. */
export interface RecoveredWal {
  /** The replayed state. */
  result: ReplayResult
  /** The segments kept, by ascending `seq`; the last one is appended to. */
  segments: SegmentName[]
  /** Length of the valid content of the last segment. */
  lastSize: number
}

/** Options of {@link recoverWal}. */
export interface RecoverWalOptions {
  encrypter: Encrypter | undefined
  logger: Logger
  hooks: FileRaftStorageHooks
}

/**
 * Recovers the WAL in `dir`, whose file names are `names`. Returns `undefined` when there is no
 * segment with a valid record (a new WAL).
 *
 * @throws WalCorruptionError when a segment is damaged before the tail of the last one, or the
 *   segments do not form a valid history.
 * @throws StorageDecryptionError when a record cannot be decrypted.
 */
export async function recoverWal(dir: string, names: readonly string[], opts: RecoverWalOptions): Promise<RecoveredWal | undefined> {
  const all = names.flatMap((n) => parseSegmentName(n) ?? []).sort((a, b) => a.seq - b.seq)
  // Only the run of consecutive seqs ending with the newest counts: a segment before a gap is a
  // leftover whose removal was not yet durable when the process stopped.
  let start = all.length - 1
  while (start > 0 && (all[start - 1] as SegmentName).seq === (all[start] as SegmentName).seq - 1) start--
  const stale = all.slice(0, Math.max(start, 0))
  const run = all.slice(Math.max(start, 0))

  let replayer: WalReplayer | undefined
  const kept: SegmentName[] = []
  let lastSize = 0
  for (let i = 0; i < run.length; i++) {
    const seg = run[i] as SegmentName
    const path = join(dir, seg.name)
    const isLast = i === run.length - 1
    const buf = await readFile(path)
    const scan = scanRecords(buf, path, isLast)
    if (scan.tail !== undefined) {
      // Zeros after the last record are the writer's preallocation (or a write that never
      // reached the disk): expected, so only logged at debug.
      const fields = { file: path, offset: scan.validEnd, bytes: buf.length - scan.validEnd, reason: scan.tail }
      if (scan.tail === 'trailing zeros') opts.logger.debug('raft wal: cutting the zeroed tail of the last segment', fields)
      else opts.logger.warn('raft wal: truncating a torn tail', fields)
      await truncateFile(path, scan.validEnd, opts.hooks)
    }
    if (scan.records.length === 0 && isLast) {
      // A segment whose first record never reached the disk: it was being created.
      if (replayer === undefined && seg.seq !== 0) throw new WalCorruptionError(path, 0, 'the only WAL segment has no valid record and is not the first')
      opts.logger.warn('raft wal: removing an empty last segment', { file: path })
      stale.push(seg)
      break
    }
    replayer = replaySegment(replayer, seg, path, scan.records, opts.encrypter)
    kept.push(seg)
    lastSize = scan.validEnd
  }
  const result = replayer?.finish()
  // Removed only once the history replayed: on corruption every file stays for inspection.
  for (const seg of stale) {
    if (seg.seq < (run[0]?.seq ?? 0)) opts.logger.info('raft wal: removing a segment left before a gap', { file: join(dir, seg.name) })
    await removeFile(join(dir, seg.name))
  }
  return result === undefined ? undefined : { result, segments: kept, lastSize }
}

/** Replays the records of one segment (the first one creates the replayer from its start). */
function replaySegment(replayer: WalReplayer | undefined, seg: SegmentName, path: string, records: readonly ScannedRecord[], encrypter: Encrypter | undefined): WalReplayer {
  let r = replayer
  records.forEach((rec, i) => {
    const type = rec.typeByte & ~SEALED_FLAG
    if ((i === 0) !== (type === RecordType.segmentStart)) {
      throw new WalCorruptionError(path, rec.offset, i === 0 ? 'a segment must start with a segment-start record' : 'a segment-start record in the middle of a segment')
    }
    const payload = openPayload(rec.typeByte, rec.payload, encrypter, walRecordAad(type), path, rec.offset)
    if (r === undefined) {
      let start
      try {
        start = decodeSegmentStart(payload)
      } catch (err) {
        throw new WalCorruptionError(path, rec.offset, 'undecodable segment start', { cause: err })
      }
      if (start.seq !== seg.seq) throw new WalCorruptionError(path, rec.offset, `segment start says seq ${start.seq}, the file name says ${seg.seq}`)
      r = new WalReplayer(start, path)
    } else {
      r.apply(type, payload, path, rec.offset, seg.seq)
    }
    if (i === 0 && r.state.lastIndex + 1 !== seg.firstIndex) {
      throw new WalCorruptionError(path, rec.offset, `the file name says first index ${seg.firstIndex}, the log before it ends at ${r.state.lastIndex}`)
    }
  })
  return r as WalReplayer
}

async function truncateFile(path: string, size: number, hooks: FileRaftStorageHooks): Promise<void> {
  const fh = await open(path, 'r+')
  try {
    await fh.truncate(size)
    await datasync(fh, path, hooks)
  } finally {
    await fh.close()
  }
}
