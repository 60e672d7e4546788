import { cp, readFile, readdir, stat, truncate, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { LogFields, Logger } from '@swarmkit-ts/api'
import { emptyConfState } from '../src/index.ts'
import { scanRecords } from '../src/storage/wal-record.ts'
import { ent } from './helpers/storage-contract.ts'
import { useFileStorageFixture } from './helpers/file-storage-fixture.ts'

const { tempDir, openIn } = useFileStorageFixture('raft-wal-recovery-')

/** A logger that keeps warnings. */
function recordingLogger(): Logger & { warnings: { message: string; fields: LogFields | undefined }[] } {
  const warnings: { message: string; fields: LogFields | undefined }[] = []
  const l = {
    warnings,
    debug: () => {},
    info: () => {},
    warn: (message: string, fields?: LogFields) => void warnings.push({ message, fields }),
    error: () => {},
    child: () => l,
  }
  return l
}

async function segments(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('wal-')).sort()
}

/** Byte offsets of the records of a segment. */
async function recordOffsets(path: string): Promise<number[]> {
  return scanRecords(await readFile(path), path, false).records.map((r) => r.offset)
}

async function flipByte(path: string, offset: number): Promise<void> {
  const buf = await readFile(path)
  buf[offset] = (buf[offset] as number) ^ 0x5a
  await writeFile(path, buf)
}

const cs = { ...emptyConfState(), voters: [1n] }
const big = (index: number, term: number): ReturnType<typeof ent> => ({ index, term, type: 'normal', data: new Uint8Array(40).fill(index) })

/** Entries 1..3 in three records, hard state, then entry 4 as the last record; closed. */
async function fourRecords(): Promise<{ dir: string; seg: string }> {
  const dir = await tempDir()
  const s = await openIn(dir)
  for (let i = 1; i <= 3; i++) s.append([ent(i, 1)])
  s.setHardState({ term: 1, vote: 1n, commit: 3 })
  s.append([big(4, 1)])
  await s.close()
  const [seg] = await segments(dir)
  return { dir, seg: join(dir, seg as string) }
}

describe('WAL recovery: torn tail', () => {
  it('drops an incomplete last record cut at any byte, keeping the records before it', async () => {
    const { dir, seg } = await fourRecords()
    const size = (await stat(seg)).size
    const last = (await recordOffsets(seg)).at(-1) as number
    expect(size - last).toBeGreaterThan(40)
    for (let cut = last; cut < size; cut++) {
      const copy = await tempDir()
      await cp(dir, copy, { recursive: true })
      const copySeg = join(copy, (await segments(copy))[0] as string)
      await truncate(copySeg, cut)
      const logger = recordingLogger()
      const s = await openIn(copy, { logger })
      expect([s.firstIndex(), s.lastIndex()]).toEqual([1, 3])
      expect(s.entries(1, 4)).toEqual([ent(1, 1), ent(2, 1), ent(3, 1)])
      expect(s.hardState()).toEqual({ term: 1, vote: 1n, commit: 3 })
      expect((await stat(copySeg)).size).toBe(last)
      expect(logger.warnings.length).toBe(cut === last ? 0 : 1)
      // The log continues cleanly after the cut.
      s.append([ent(4, 2)])
      await s.close()
      expect((await openIn(copy)).entries(4, 5)).toEqual([ent(4, 2)])
    }
  })

  it('drops a last record whose CRC does not match', async () => {
    const { dir, seg } = await fourRecords()
    const last = (await recordOffsets(seg)).at(-1) as number
    const size = (await stat(seg)).size
    await flipByte(seg, last + 20)
    const logger = recordingLogger()
    const s = await openIn(dir, { logger })
    expect(s.lastIndex()).toBe(3)
    expect(logger.warnings).toEqual([{ message: 'raft wal: truncating a torn tail', fields: { file: seg, offset: last, bytes: size - last, reason: 'crc mismatch' } }])
  })

  it('truncates trailing zeros', async () => {
    const { dir, seg } = await fourRecords()
    const size = (await stat(seg)).size
    await writeFile(seg, Buffer.concat([await readFile(seg), Buffer.alloc(4096)]))
    const logger = recordingLogger()
    const s = await openIn(dir, { logger })
    expect(s.lastIndex()).toBe(4)
    expect(s.entries(4, 5)).toEqual([big(4, 1)])
    expect((await stat(seg)).size).toBe(size)
    // What the writer's preallocation leaves after a crash: expected, so no warning.
    expect(logger.warnings).toEqual([])
  })

  it('removes a last segment whose first record never reached the disk', async () => {
    const { dir } = await fourRecords()
    const empty = join(dir, 'wal-0000000000000001-0000000000000005.log')
    await writeFile(empty, Buffer.from([7, 0, 0]))
    const s = await openIn(dir)
    expect(s.lastIndex()).toBe(4)
    expect(await segments(dir)).toEqual(['wal-0000000000000000-0000000000000001.log'])
  })
})

describe('WAL recovery: corruption', () => {
  it('refuses a CRC mismatch in an earlier record, naming the file and the offset', async () => {
    const { dir, seg } = await fourRecords()
    const offsets = await recordOffsets(seg)
    const second = offsets[2] as number // the entries record of index 2
    await flipByte(seg, second + 12)
    await expect(openIn(dir)).rejects.toMatchObject({ name: 'WalCorruptionError', file: seg, offset: second, reason: 'crc mismatch, and valid records follow' })
  })

  it('refuses a damaged length or a zeroed header before the last record', async () => {
    const { dir, seg } = await fourRecords()
    const offsets = await recordOffsets(seg)
    const at = offsets[1] as number
    const original = await readFile(seg)
    await flipByte(seg, at) // the length field
    await expect(openIn(dir)).rejects.toMatchObject({ name: 'WalCorruptionError', file: seg, offset: at })
    const zeroed = Buffer.from(original)
    zeroed.fill(0, at, at + 9)
    await writeFile(seg, zeroed)
    await expect(openIn(dir)).rejects.toMatchObject({ name: 'WalCorruptionError', file: seg, offset: at })
  })

  it('refuses damage in an earlier segment, even in its last record', async () => {
    const dir = await tempDir()
    const s = await openIn(dir, { segmentBytes: 200 })
    for (let i = 1; i <= 12; i++) {
      s.append([big(i, 1)])
      await s.sync()
    }
    await s.close()
    const segs = await segments(dir)
    expect(segs.length).toBeGreaterThanOrEqual(3)
    const middle = join(dir, segs[1] as string)
    const last = (await recordOffsets(middle)).at(-1) as number
    await flipByte(middle, last + 15)
    await expect(openIn(dir)).rejects.toMatchObject({ name: 'WalCorruptionError', file: middle, offset: last, reason: 'crc mismatch' })
    // A cut (torn) earlier segment is refused too.
    await truncate(middle, last + 5)
    await expect(openIn(dir)).rejects.toMatchObject({ name: 'WalCorruptionError', file: middle, offset: last })
  })

  it('refuses when a segment in the middle is missing', async () => {
    const dir = await tempDir()
    const s = await openIn(dir, { segmentBytes: 200 })
    for (let i = 1; i <= 12; i++) {
      s.append([big(i, 1)])
      await s.sync()
    }
    await s.close()
    const segs = await segments(dir)
    await unlink(join(dir, segs[1] as string))
    await expect(openIn(dir)).rejects.toMatchObject({ name: 'WalCorruptionError', file: join(dir, segs[2] as string), offset: 0 })
    expect(await segments(dir)).toEqual(segs.filter((_, i) => i !== 1)) // nothing removed on refusal
  })

  it('ignores and removes a segment left before a gap by an unfinished removal', async () => {
    const dir = await tempDir()
    const s = await openIn(dir, { segmentBytes: 200 })
    for (let i = 1; i <= 12; i++) {
      s.append([big(i, 1)])
      await s.sync()
    }
    const segs = await segments(dir)
    const firstBytes = await readFile(join(dir, segs[0] as string))
    s.createSnapshot(10, cs, new Uint8Array([1]))
    s.compact(10)
    await s.close()
    const left = await segments(dir)
    expect(left.length).toBeLessThan(segs.length - 1)
    await writeFile(join(dir, segs[0] as string), firstBytes) // the removal did not survive the crash
    const r = await openIn(dir)
    expect([r.firstIndex(), r.lastIndex()]).toEqual([11, 12])
    expect(await segments(dir)).toEqual(left)
  })
})

describe('snapshot file recovery', () => {
  async function twoSnapshots(compactTo: number): Promise<{ dir: string; newest: string }> {
    const dir = await tempDir()
    const s = await openIn(dir)
    s.append([ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2), ent(5, 2)])
    s.createSnapshot(2, cs, new Uint8Array([2]))
    await s.sync()
    s.createSnapshot(4, cs, new Uint8Array([4]))
    s.compact(compactTo)
    await s.close()
    return { dir, newest: join(dir, 'snap-0000000000000002-0000000000000004.snap') }
  }

  it('falls back to the older snapshot when the WAL still covers it, and records the fallback', async () => {
    const { dir, newest } = await twoSnapshots(1)
    await flipByte(newest, 12)
    const logger = recordingLogger()
    const s = await openIn(dir, { logger })
    expect(s.snapshot()).toEqual({ metadata: { index: 2, term: 1, confState: cs }, data: new Uint8Array([2]) })
    expect([s.firstIndex(), s.lastIndex()]).toEqual([2, 5])
    expect(logger.warnings.map((w) => w.fields?.damaged)).toEqual([newest])
    await s.close()
    const again = await openIn(dir, { logger: recordingLogger() })
    expect(again.snapshot().metadata.index).toBe(2)
    again.createSnapshot(3, cs, new Uint8Array([3]))
    await again.close()
    expect((await openIn(dir)).snapshot().metadata.index).toBe(3)
  })

  it('refuses, naming the file, when the log no longer covers an older snapshot', async () => {
    const { dir, newest } = await twoSnapshots(4)
    await flipByte(newest, 12)
    await expect(openIn(dir)).rejects.toMatchObject({ name: 'SnapshotCorruptionError', file: newest, reason: 'crc mismatch' })
    await unlink(newest)
    await expect(openIn(dir)).rejects.toMatchObject({ name: 'SnapshotCorruptionError', file: newest, reason: 'missing' })
  })
})
