/**
 * Record framing shared by WAL segments and snapshot files:
 *
 * ```
 *   [payload length u32 LE][CRC-32 u32 LE of type byte + payload][type u8][payload]
 * ```
 *
 * and the scanner that splits a file into records, telling a torn tail (a write cut short by a
 * crash) from corruption.
 *
 * @internal
 */
import { crc32 } from 'node:zlib'
import { WalCorruptionError } from './wal-errors.ts'

/** Record types (the low 7 bits of the type byte). */
export const RecordType = {
  /** First record of every segment: the state before it (`SegmentStart`). */
  segmentStart: 1,
  /** Entries; discards the stored entries at their first index and after (`Entries`). */
  entries: 2,
  /** The hard state (`HardState`). */
  hardState: 3,
  /** A snapshot was created from the log; its file is durable (`LogPosition`). */
  snapshotCreated: 4,
  /** A snapshot replaced the log; its file is durable (`LogPosition`). */
  snapshotApplied: 5,
  /** The log was compacted up to an index (`LogPosition`). */
  compact: 6,
  /** The only record of a snapshot file (`Snapshot`). */
  snapshot: 16,
} as const
/** A record type. */
export type RecordType = (typeof RecordType)[keyof typeof RecordType]

/** Set in the type byte when the payload is a `Sealed` message (encrypted). */
export const SEALED_FLAG = 0x80

/** Bytes before the payload. */
export const RECORD_HEADER_BYTES = 9

/** 1 at every type byte (with or without the sealed flag) that names a known record type. */
const KNOWN_TYPE_BYTES = new Uint8Array(256)
for (const t of Object.values(RecordType)) {
  KNOWN_TYPE_BYTES[t] = 1
  KNOWN_TYPE_BYTES[t | SEALED_FLAG] = 1
}

function isKnownType(typeByte: number): boolean {
  return KNOWN_TYPE_BYTES[typeByte] === 1
}

/** Frames one record. */
export function frameRecord(typeByte: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.byteLength)
  out.writeUInt32LE(payload.byteLength, 0)
  out[8] = typeByte
  out.set(payload, RECORD_HEADER_BYTES)
  out.writeUInt32LE(crc32(out.subarray(8)), 4)
  return out
}

/** One record found by {@link scanRecords}. */
export interface ScannedRecord {
  /** The type byte (may carry {@link SEALED_FLAG}). */
  typeByte: number
  /** The payload (a view into the scanned buffer). */
  payload: Uint8Array
  /** Byte offset of the record header in the file. */
  offset: number
}

/** What {@link scanRecords} found. */
export interface ScanResult {
  records: ScannedRecord[]
  /** Length of the valid prefix (the end of the last valid record). */
  validEnd: number
  /** Why the bytes after `validEnd` are a torn tail; `undefined` when the file ends cleanly. */
  tail: string | undefined
}

function allZero(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false
  return true
}

/** Whether a complete record with a valid CRC starts at any offset in `[from, end)`. */
function validRecordAfter(buf: Buffer, from: number): boolean {
  for (let p = from; p + RECORD_HEADER_BYTES <= buf.length; p++) {
    if (!isKnownType(buf[p + 8] as number)) continue
    const end = p + RECORD_HEADER_BYTES + buf.readUInt32LE(p)
    if (end > buf.length) continue
    if (crc32(buf.subarray(p + 8, end)) === buf.readUInt32LE(p + 4)) return true
  }
  return false
}

/**
 * Splits `buf` (the whole content of `file`) into records.
 *
 * With `tolerateTail` (the last segment), the first damaged record ends the scan as a torn tail
 * (an incomplete header or record, a CRC mismatch, trailing zeros) provided that no valid
 * record follows it anywhere in the file: a crash can only tear the end of the last write.
 * Otherwise, and always without `tolerateTail`, damage throws {@link WalCorruptionError} with
 * the record's offset. A valid record of an unknown type is always corruption.
 */
export function scanRecords(buf: Buffer, file: string, tolerateTail: boolean): ScanResult {
  const records: ScannedRecord[] = []
  let pos = 0
  const damaged = (reason: string): ScanResult => {
    if (!tolerateTail) throw new WalCorruptionError(file, pos, reason)
    if (validRecordAfter(buf, pos + 1)) throw new WalCorruptionError(file, pos, `${reason}, and valid records follow`)
    return { records, validEnd: pos, tail: reason }
  }
  while (pos < buf.length) {
    if (buf.length - pos < RECORD_HEADER_BYTES) return damaged(allZero(buf, pos) ? 'trailing zeros' : 'incomplete record header')
    const len = buf.readUInt32LE(pos)
    const typeByte = buf[pos + 8] as number
    if (len === 0 && typeByte === 0 && buf.readUInt32LE(pos + 4) === 0) return damaged(allZero(buf, pos) ? 'trailing zeros' : 'zeroed record header')
    const end = pos + RECORD_HEADER_BYTES + len
    if (end > buf.length) return damaged(`record of ${len} bytes runs past the end of the file`)
    if (crc32(buf.subarray(pos + 8, end)) !== buf.readUInt32LE(pos + 4)) return damaged('crc mismatch')
    if (!isKnownType(typeByte)) throw new WalCorruptionError(file, pos, `unknown record type ${typeByte}`)
    records.push({ typeByte, payload: buf.subarray(pos + RECORD_HEADER_BYTES, end), offset: pos })
    pos = end
  }
  return { records, validEnd: pos, tail: undefined }
}
