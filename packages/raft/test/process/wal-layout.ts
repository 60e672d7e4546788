/**
 * Reads the record layout of WAL segment files for the corruption tests, independently of the
 * storage code: records are framed `[length u32 LE][crc32 u32 LE][type u8][payload]`.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** One framed record of a segment. */
export interface RecordSpan {
  /** Byte offset of the header. */
  offset: number
  /** Total bytes, header included. */
  size: number
  /** The type byte. */
  type: number
}

/** A segment file and its records. */
export interface SegmentLayout {
  name: string
  path: string
  size: number
  records: RecordSpan[]
}

/** The WAL segments in `dir`, in order, with their records (the files must be undamaged). */
export async function walLayout(dir: string): Promise<SegmentLayout[]> {
  const names = (await readdir(dir)).filter((n) => /^wal-[0-9a-f]{16}-[0-9a-f]{16}\.log$/.test(n)).sort()
  const out: SegmentLayout[] = []
  for (const name of names) {
    const path = join(dir, name)
    const buf = await readFile(path)
    const records: RecordSpan[] = []
    for (let pos = 0; pos < buf.length; ) {
      const size = 9 + buf.readUInt32LE(pos)
      if (pos + size > buf.length) throw new Error(`${path}: record at ${pos} runs past the end`)
      records.push({ offset: pos, size, type: buf[pos + 8] as number })
      pos += size
    }
    out.push({ name, path, size: buf.length, records })
  }
  return out
}
