/**
 * Snapshot files: `snap-<term>-<index>.snap` holding one framed record of type SNAPSHOT
 * (metadata + data, sealed when an encrypter is set). Written to a temporary file, fdatasynced,
 * renamed into place, then the directory is fsynced: a snapshot file either exists whole or
 * not at all.
 *
 * @internal
 */
import { join } from 'node:path'
import { open, readFile, rename, unlink } from 'node:fs/promises'
import type { Encrypter } from './encrypter.ts'
import type { Snapshot } from '../core/types.ts'
import { decodeSnapshot, encodeSnapshot } from './wal-codec.ts'
import { SnapshotCorruptionError, StorageDecryptionError } from './wal-errors.ts'
import type { FileRaftStorageHooks, SnapshotName } from './wal-files.ts'
import { datasync, snapshotName, syncDir, writeFully } from './wal-files.ts'
import { RecordType, SEALED_FLAG, frameRecord, scanRecords } from './wal-record.ts'
import { openPayload, sealPayload, snapshotAad } from './wal-seal.ts'

/** Suffix of a snapshot file being written. */
export const SNAPSHOT_TMP_SUFFIX = '.tmp'

/** The bytes of the snapshot file for `snap` (encoded now, so later changes to `snap` do not matter). */
export function encodeSnapshotFile(snap: Snapshot, encrypter: Encrypter | undefined): { name: SnapshotName; bytes: Buffer } {
  const { index, term } = snap.metadata
  const sealed = sealPayload(RecordType.snapshot, encodeSnapshot(snap), encrypter, snapshotAad(term, index))
  return { name: snapshotName(term, index), bytes: frameRecord(sealed.typeByte, sealed.payload) }
}

/** Writes a snapshot file durably (temporary file, fdatasync, rename, directory fsync). */
export async function writeSnapshotFile(dir: string, name: SnapshotName, bytes: Buffer, hooks: FileRaftStorageHooks): Promise<void> {
  const path = join(dir, name.name)
  const tmp = path + SNAPSHOT_TMP_SUFFIX
  const fh = await open(tmp, 'w')
  try {
    await writeFully(fh, bytes, 0)
    await datasync(fh, tmp, hooks)
  } finally {
    await fh.close()
  }
  await rename(tmp, path)
  await syncDir(dir, hooks)
}

/**
 * Reads and checks a snapshot file.
 *
 * @throws SnapshotCorruptionError when it is missing, damaged or does not match its name.
 * @throws StorageDecryptionError when it is sealed and cannot be opened.
 */
export async function readSnapshotFile(dir: string, name: SnapshotName, encrypter: Encrypter | undefined): Promise<Snapshot> {
  const path = join(dir, name.name)
  let buf: Buffer
  try {
    buf = await readFile(path)
  } catch (err) {
    throw new SnapshotCorruptionError(path, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable', { cause: err })
  }
  let snap: Snapshot
  try {
    const { records } = scanRecords(buf, path, false)
    const rec = records[0]
    if (records.length !== 1 || rec === undefined || (rec.typeByte & ~SEALED_FLAG) !== RecordType.snapshot) throw new Error('expected exactly one snapshot record')
    snap = decodeSnapshot(openPayload(rec.typeByte, rec.payload, encrypter, snapshotAad(name.term, name.index), path, 0))
  } catch (err) {
    if (err instanceof StorageDecryptionError) throw err
    const reason = err instanceof Error && 'reason' in err ? String(err.reason) : err instanceof Error ? err.message : String(err)
    throw new SnapshotCorruptionError(path, reason, { cause: err })
  }
  if (snap.metadata.index !== name.index || snap.metadata.term !== name.term) {
    throw new SnapshotCorruptionError(path, `holds term ${snap.metadata.term} index ${snap.metadata.index}, not what its name says`)
  }
  return snap
}

/** Removes a file, ignoring one that is already gone. */
export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}
