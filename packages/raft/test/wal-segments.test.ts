import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import type { Entry , FileRaftStorage} from '../src/index.ts'
import { emptyConfState } from '../src/index.ts'
import { PREALLOCATE_BYTES } from '../src/storage/wal-writer.ts'
import { useFileStorageFixture } from './helpers/file-storage-fixture.ts'

const { tempDir, openIn } = useFileStorageFixture('raft-wal-segments-')

const cs = { ...emptyConfState(), voters: [1n] }
const entry = (index: number, term = 1): Entry => ({ index, term, type: 'normal', data: new Uint8Array(50).fill(index & 0xff) })
const NAME = /^wal-([0-9a-f]{16})-([0-9a-f]{16})\.log$/

async function segments(dir: string): Promise<{ seq: number; firstIndex: number; name: string }[]> {
  return (await readdir(dir))
    .flatMap((n) => {
      const m = NAME.exec(n)
      return m === null ? [] : [{ seq: Number.parseInt(m[1] as string, 16), firstIndex: Number.parseInt(m[2] as string, 16), name: n }]
    })
    .sort((a, b) => a.seq - b.seq)
}

/** Appends entries 1..n one record and one sync at a time. */
async function fill(s: FileRaftStorage, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) {
    s.append([entry(i)])
    await s.sync()
  }
}

describe('WAL segments', () => {
  it('frames records as [length u32][crc32 u32][type u8][payload], starting with a segment-start record', async () => {
    const dir = await tempDir()
    const s = await openIn(dir)
    s.append([entry(1)])
    await s.close()
    const buf = await readFile(join(dir, 'wal-0000000000000000-0000000000000001.log'))
    const len = buf.readUInt32LE(0)
    expect(buf[8]).toBe(1) // segment start
    expect(buf.readUInt32LE(4)).toBe(crc32(buf.subarray(8, 9 + len)))
    const second = 9 + len
    expect(buf[second + 8]).toBe(2) // entries
    expect(buf.length).toBe(second + 9 + buf.readUInt32LE(second))
  })

  it('starts a new segment once the current one reaches segmentBytes, named by seq and first index', async () => {
    const dir = await tempDir()
    const s = await openIn(dir, { segmentBytes: 256 })
    await fill(s, 20)
    const segs = await segments(dir)
    expect(segs.length).toBeGreaterThanOrEqual(4)
    expect(segs.map((x) => x.seq)).toEqual(segs.map((_, i) => i))
    expect(segs[0]?.firstIndex).toBe(1)
    for (let i = 1; i < segs.length; i++) expect((segs[i] as { firstIndex: number }).firstIndex).toBeGreaterThan((segs[i - 1] as { firstIndex: number }).firstIndex)
    for (const seg of segs.slice(0, -1)) expect((await readFile(join(dir, seg.name))).length).toBeLessThan(256 + 100)
    await s.close()
    const r = await openIn(dir, { segmentBytes: 256 })
    expect(r.entries(1, 21)).toEqual(Array.from({ length: 20 }, (_, i) => entry(i + 1)))
  })

  it('removes the segments the compaction point has passed, once the snapshot is durable', async () => {
    const dir = await tempDir()
    let holdSnapshot: Promise<void> | undefined = undefined
    let release!: () => void
    let reached!: () => void
    const atSnapshot = new Promise<void>((r) => (reached = r))
    const s = await openIn(dir, {
      segmentBytes: 256,
      hooks: {
        beforeSync: async (p) => {
          if (holdSnapshot !== undefined && p.endsWith('.snap.tmp')) {
            reached()
            await holdSnapshot
          }
        },
      },
    })
    await fill(s, 20)
    const before = await segments(dir)
    holdSnapshot = new Promise<void>((r) => (release = r))
    s.createSnapshot(15, cs, new Uint8Array([15]))
    s.compact(15)
    const synced = s.sync()
    await atSnapshot
    expect(await segments(dir)).toEqual(before) // nothing removed while the snapshot is not durable
    release()
    await synced
    const after = await segments(dir)
    expect(after.length).toBeLessThan(before.length)
    // Kept: the segments from the last one that starts at or before index 16.
    const firstKept = after[0] as { firstIndex: number; seq: number }
    expect(firstKept.firstIndex).toBeLessThanOrEqual(16)
    expect(after[1]?.firstIndex ?? Infinity).toBeGreaterThan(16)
    const lastBefore = (before[before.length - 1] as { seq: number }).seq
    expect(after.filter((x) => x.seq <= lastBefore)).toEqual(before.filter((x) => x.seq >= firstKept.seq))
    await s.close()
    const r = await openIn(dir, { segmentBytes: 256 })
    expect([r.firstIndex(), r.lastIndex(), r.term(15)]).toEqual([16, 20, 1])
    expect(r.entries(16, 21)).toEqual([16, 17, 18, 19, 20].map((i) => entry(i)))
    expect(r.snapshot().metadata.index).toBe(15)
  })

  it('keeps segments holding entries after the compaction point even below the snapshot', async () => {
    const dir = await tempDir()
    const s = await openIn(dir, { segmentBytes: 256 })
    await fill(s, 20)
    s.createSnapshot(18, cs, new Uint8Array())
    s.compact(5)
    await s.close()
    const r = await openIn(dir, { segmentBytes: 256 })
    expect([r.firstIndex(), r.lastIndex(), r.snapshot().metadata.index]).toEqual([6, 20, 18])
    expect(r.entries(6, 21).map((e) => e.index)).toEqual(Array.from({ length: 15 }, (_, i) => i + 6))
  })

  it('honours a truncation that reaches back into an earlier segment', async () => {
    const dir = await tempDir()
    const s = await openIn(dir, { segmentBytes: 256 })
    await fill(s, 20)
    s.append([entry(3, 2), entry(4, 2)])
    await s.sync()
    s.append([entry(5, 2)])
    await s.close()
    const r = await openIn(dir, { segmentBytes: 256 })
    expect(r.lastIndex()).toBe(5)
    expect(r.entries(1, 6).map((e) => e.term)).toEqual([1, 1, 2, 2, 2])
    // More segments and a compaction past the truncation still reopen correctly.
    for (let i = 6; i <= 30; i++) {
      r.append([entry(i, 2)])
      await r.sync()
    }
    r.createSnapshot(25, cs, new Uint8Array())
    r.compact(25)
    await r.close()
    const again = await openIn(dir, { segmentBytes: 256 })
    expect([again.firstIndex(), again.lastIndex(), again.term(25)]).toEqual([26, 30, 2])
  })
})

describe('WAL segments: preallocation', () => {
  const zeroTail = (buf: Buffer): number => {
    let n = 0
    while (n < buf.length && buf[buf.length - 1 - n] === 0) n++
    return n
  }

  it('keeps the open segment zero-filled ahead of its records, and recovers after a crash without a warning', async () => {
    const dir = await tempDir()
    const s = await openIn(dir)
    await fill(s, 5)
    const name = 'wal-0000000000000000-0000000000000001.log'
    const buf = await readFile(join(dir, name))
    // A megabyte of zeros past the records of the first write (the next four are within it).
    expect(buf.length - zeroTail(buf)).toBeLessThan(1000)
    expect(buf.length).toBeGreaterThan(PREALLOCATE_BYTES)
    expect(buf.length).toBeLessThan(PREALLOCATE_BYTES + 200)
    await s.abandon()
    const r = await openIn(dir)
    expect(r.entries(1, 6)).toEqual(Array.from({ length: 5 }, (_, i) => entry(i + 1)))
    r.append([entry(6)])
    await r.sync()
    expect(r.entries(6, 7)).toEqual([entry(6)])
    await r.close()
    // Closed: the zeros are cut off, the file ends with its last record.
    expect(zeroTail(await readFile(join(dir, name)))).toBe(0)
  })

  it('cuts the zero tail of a full segment before it starts the next one, so only the last segment may have one', async () => {
    const dir = await tempDir()
    const s = await openIn(dir, { segmentBytes: 4096 })
    await fill(s, 200)
    const segs = await segments(dir)
    expect(segs.length).toBeGreaterThanOrEqual(3)
    for (const seg of segs.slice(0, -1)) {
      const buf = await readFile(join(dir, seg.name))
      expect({ seg: seg.name, zeros: zeroTail(buf), below: buf.length < 4096 + 200 }).toEqual({ seg: seg.name, zeros: 0, below: true })
    }
    await s.abandon()
    const r = await openIn(dir, { segmentBytes: 4096 })
    expect(r.entries(1, 201)).toEqual(Array.from({ length: 200 }, (_, i) => entry(i + 1)))
    await r.close()
  })
})
