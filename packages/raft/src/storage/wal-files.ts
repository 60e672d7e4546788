/**
 * File names and small file-system helpers shared by the WAL and the snapshot files.
 *
 * @internal
 */
import { writeSync } from 'node:fs'
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'

/** A WAL segment as named on disk: `wal-<seq 16 hex>-<firstIndex 16 hex>.log`. */
export interface SegmentName {
  /** Position of the segment in the WAL, from 0, without gaps. */
  seq: number
  /** Index of the first entry the segment may hold: the last index before it plus one. */
  firstIndex: number
  /** The file name (no directory). */
  name: string
}

/** A snapshot file as named on disk: `snap-<term 16 hex>-<index 16 hex>.snap`. */
export interface SnapshotName {
  term: number
  index: number
  /** The file name (no directory). */
  name: string
}

const hex16 = (n: number): string => n.toString(16).padStart(16, '0')

/** The file name of segment `seq` starting at `firstIndex`. */
export function segmentName(seq: number, firstIndex: number): SegmentName {
  return { seq, firstIndex, name: `wal-${hex16(seq)}-${hex16(firstIndex)}.log` }
}

/** The file name of the snapshot at (`term`, `index`). */
export function snapshotName(term: number, index: number): SnapshotName {
  return { term, index, name: `snap-${hex16(term)}-${hex16(index)}.snap` }
}

const SEGMENT_RE = /^wal-([0-9a-f]{16})-([0-9a-f]{16})\.log$/
const SNAPSHOT_RE = /^snap-([0-9a-f]{16})-([0-9a-f]{16})\.snap$/

function parseHex(s: string): number | undefined {
  const n = Number.parseInt(s, 16)
  return Number.isSafeInteger(n) ? n : undefined
}

/** Parses a segment file name; `undefined` for any other name. */
export function parseSegmentName(name: string): SegmentName | undefined {
  const m = SEGMENT_RE.exec(name)
  if (m === null) return undefined
  const seq = parseHex(m[1] as string)
  const firstIndex = parseHex(m[2] as string)
  return seq === undefined || firstIndex === undefined ? undefined : { seq, firstIndex, name }
}

/** Parses a snapshot file name; `undefined` for any other name. */
export function parseSnapshotName(name: string): SnapshotName | undefined {
  const m = SNAPSHOT_RE.exec(name)
  if (m === null) return undefined
  const term = parseHex(m[1] as string)
  const index = parseHex(m[2] as string)
  return term === undefined || index === undefined ? undefined : { term, index, name }
}

/** Hooks into file I/O, for fault injection and counting in tests. */
export interface FileRaftStorageHooks {
  /**
   * Called before every fdatasync/fsync of a WAL segment, a snapshot file or the directory,
   * with the path. A rejection (or throw) fails the operation as an I/O error would.
   */
  beforeSync?(path: string): void | Promise<void>
}

/**
 * fdatasync through the hook. Without a hook, or with a synchronous one, the fdatasync is issued
 * before this returns: a caller that wrote synchronously just before gets write and sync out in
 * one turn of the event loop, without waiting for the loop in between.
 */
export function datasync(fh: FileHandle, path: string, hooks: FileRaftStorageHooks): Promise<void> {
  let pending: void | Promise<void>
  try {
    pending = hooks.beforeSync?.(path)
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)))
  }
  return pending === undefined ? fh.datasync() : Promise.resolve(pending).then(() => fh.datasync())
}

/** fsync of a directory, so that created, renamed or removed names in it are durable. */
export async function syncDir(dir: string, hooks: FileRaftStorageHooks): Promise<void> {
  await hooks.beforeSync?.(dir)
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/**
 * Writes all of `buf` at `position` synchronously, looping over short writes. For appends to the
 * page cache (no sync): they take microseconds, and the fdatasync that follows is then issued in
 * the same turn. Throws the write's error.
 */
export function writeFullySync(fh: FileHandle, buf: Uint8Array, position: number): void {
  let done = 0
  while (done < buf.byteLength) done += writeSync(fh.fd, buf, done, buf.byteLength - done, position + done)
}

/** Writes all of `buf` at `position`, looping over short writes. */
export async function writeFully(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < buf.byteLength) {
    const { bytesWritten } = await fh.write(buf, done, buf.byteLength - done, position + done)
    done += bytesWritten
  }
}
