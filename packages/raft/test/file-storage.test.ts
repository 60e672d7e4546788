import { readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { RaftStorageWithLog } from '../src/index.ts'
import type { Logger } from '@swarmkit-ts/api'
import { SeededRandom } from '@swarmkit-ts/testkit'
import { FileRaftStorage, emptyConfState } from '../src/index.ts'
import { ent } from './helpers/storage-contract.ts'
import { useFileStorageFixture } from './helpers/file-storage-fixture.ts'

const { tempDir, openIn } = useFileStorageFixture('raft-file-storage-')

/** Everything a reader can observe. */
function dump(s: RaftStorageWithLog): unknown {
  const first = s.firstIndex()
  const last = s.lastIndex()
  return { first, last, termAtCompaction: s.term(first - 1), entries: s.entries(first, last + 1), initial: s.initialState(), snapshot: s.snapshot() }
}

const cs = { ...emptyConfState(), voters: [1n, 2n, 3n] }
const bytes = (...b: number[]): Uint8Array => new Uint8Array(b)

describe('FileRaftStorage reopen', () => {
  it('gives the same entries, hard state, snapshot and compaction point after close and open', async () => {
    const dir = await tempDir()
    const s = await openIn(dir)
    s.append([ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2), ent(5, 3)])
    s.setHardState({ term: 3, vote: 2n, commit: 4 })
    s.createSnapshot(3, cs, bytes(7, 8, 9))
    s.compact(2)
    await s.close()
    const r = await openIn(dir)
    expect(dump(r)).toEqual(dump(s))
    expect(r.firstIndex()).toBe(3)
    expect(r.term(2)).toBe(1)
    expect(r.snapshot()).toEqual({ metadata: { index: 3, term: 2, confState: cs }, data: bytes(7, 8, 9) })
    expect(r.hardState()).toEqual({ term: 3, vote: 2n, commit: 4 })
  })

  it('honours a truncation by a conflicting append', async () => {
    const dir = await tempDir()
    const s = await openIn(dir)
    s.append([ent(1, 1), ent(2, 1), ent(3, 1), ent(4, 1)])
    await s.sync()
    s.append([ent(2, 2, 20), ent(3, 2, 30)])
    await s.close()
    const r = await openIn(dir)
    expect(r.lastIndex()).toBe(3)
    expect(r.entries(1, 4).map((e) => [e.index, e.term, e.data[0]])).toEqual([[1, 1, 1], [2, 2, 20], [3, 2, 30]])
  })

  it('persists a received snapshot that replaces the log, and entries after it', async () => {
    const dir = await tempDir()
    const s = await openIn(dir)
    s.append([ent(1, 1), ent(2, 1)])
    s.applySnapshot({ metadata: { index: 10, term: 4, confState: cs }, data: bytes(42) })
    s.append([ent(11, 4)])
    await s.close()
    const r = await openIn(dir)
    expect(dump(r)).toEqual(dump(s))
    expect([r.firstIndex(), r.lastIndex(), r.term(10)]).toEqual([11, 11, 4])
    expect(r.snapshot().data).toEqual(bytes(42))
  })

  it('after a crash, keeps exactly what the last sync() covered', async () => {
    const dir = await tempDir()
    const s = await openIn(dir)
    s.append([ent(1, 1), ent(2, 1)])
    s.setHardState({ term: 1, vote: 1n, commit: 1 })
    await s.sync()
    const synced = dump(s)
    s.append([ent(3, 1)])
    s.setHardState({ term: 1, vote: 1n, commit: 3 })
    s.createSnapshot(2, cs, bytes(5))
    await s.abandon()
    const r = await openIn(dir)
    expect(dump(r)).toEqual(synced)
    expect(r.hardState()).toEqual({ term: 1, vote: 1n, commit: 1 })
    // The snapshot file written without its WAL record is not part of the state and is removed.
    expect((await readdir(dir)).filter((n) => n.startsWith('snap-'))).toEqual([])
  })

  it('refuses writes and sync() once closed, but still answers reads', async () => {
    const dir = await tempDir()
    const s = await openIn(dir)
    s.append([ent(1, 1)])
    await s.close()
    expect(() => s.append([ent(2, 1)])).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'closed' }))
    await expect(s.sync()).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'closed' })
    expect(s.lastIndex()).toBe(1)
  })

  it('rejects a member id that does not fit in a uint64 without changing the state', async () => {
    const s = await openIn(await tempDir())
    expect(() => s.setHardState({ term: 1, vote: 1n << 64n, commit: 0 })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'hardState.vote' }))
    s.append([ent(1, 1)])
    expect(() => s.createSnapshot(1, { ...cs, learners: [-1n] }, bytes())).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'confState.learners[0]' }))
    expect(s.hardState()).toEqual({ term: 0, vote: 0n, commit: 0 })
    expect(s.snapshot().metadata.index).toBe(0)
  })

  it('creates a missing directory and removes a leftover temporary snapshot file', async () => {
    const parent = await tempDir()
    const dir = join(parent, 'a', 'b')
    const s = await openIn(dir)
    s.append([ent(1, 1)])
    await s.close()
    const tmp = join(dir, 'snap-0000000000000001-0000000000000001.snap.tmp')
    await writeFile(tmp, 'half a snapshot')
    await openIn(dir)
    expect((await readdir(dir)).sort()).toEqual(['incarnation', 'wal-0000000000000000-0000000000000001.log'])
  })

  it('rejects a segment size that is not a positive integer', async () => {
    await expect(FileRaftStorage.open(await tempDir(), { segmentBytes: 0 })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'segmentBytes' })
  })
})

describe('FileRaftStorage sync()', () => {
  const walSyncs = (calls: string[]): number => calls.filter((p) => p.endsWith('.log')).length

  it('shares one fdatasync between concurrent sync() calls', async () => {
    const calls: string[] = []
    const s = await openIn(await tempDir(), { hooks: { beforeSync: (p) => void calls.push(p) } })
    calls.length = 0
    s.append([ent(1, 1)])
    s.setHardState({ term: 1, vote: 1n, commit: 1 })
    await Promise.all(Array.from({ length: 10 }, () => s.sync()))
    expect(walSyncs(calls)).toBe(1)
    await s.sync() // nothing new: no fdatasync
    expect(walSyncs(calls)).toBe(1)
  })

  it('lets writes issued during an fdatasync join the next one (two in all)', async () => {
    const calls: string[] = []
    let hold: Promise<void> | undefined
    let reached!: () => void
    const inFlight = new Promise<void>((r) => (reached = r))
    let release!: () => void
    const dir = await tempDir()
    const s = await openIn(dir, {
      hooks: {
        beforeSync: async (p) => {
          calls.push(p)
          if (hold !== undefined && p.endsWith('.log')) {
            const h = hold
            hold = undefined
            reached()
            await h
          }
        },
      },
    })
    calls.length = 0
    hold = new Promise<void>((r) => (release = r))
    s.append([ent(1, 1)])
    const first = s.sync()
    await inFlight
    s.append([ent(2, 1)])
    const second = [s.sync(), s.sync(), s.sync()]
    s.append([ent(3, 1)])
    const third = s.sync()
    release()
    await Promise.all([first, ...second, third])
    expect(walSyncs(calls)).toBe(2)
    await s.abandon()
    expect((await openIn(dir)).lastIndex()).toBe(3)
  })

  it('fails for good after an I/O error: sync() rejects and writes are refused', async () => {
    const boom = new Error('EIO: injected')
    let fail = false
    const s = await openIn(await tempDir(), { hooks: { beforeSync: () => { if (fail) throw boom } } })
    s.append([ent(1, 1)])
    await s.sync()
    fail = true
    s.append([ent(2, 1)])
    await expect(s.sync()).rejects.toBe(boom)
    fail = false
    await expect(s.sync()).rejects.toBe(boom)
    expect(() => s.append([ent(3, 1)])).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'failed', cause: boom }))
  })
})

describe('FileRaftStorage snapshot files', () => {
  it('fails sync() when the snapshot file cannot be made durable, recording nothing', async () => {
    const boom = new Error('ENOSPC: injected')
    const dir = await tempDir()
    const s = await openIn(dir, { hooks: { beforeSync: (p) => { if (p.endsWith('.snap.tmp')) throw boom } } })
    s.append([ent(1, 1)])
    await s.sync()
    s.createSnapshot(1, cs, bytes(1))
    s.compact(1)
    await expect(s.sync()).rejects.toBe(boom)
    await s.abandon()
    const r = await openIn(dir)
    expect([r.firstIndex(), r.lastIndex(), r.snapshot().metadata.index]).toEqual([1, 1, 0])
  })

  const snapFiles = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => n.startsWith('snap-')).sort()

  it('writes snap-<term>-<index>.snap and keeps the latest two', async () => {
    const dir = await tempDir()
    const s = await openIn(dir)
    s.append([ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2)])
    s.createSnapshot(1, cs, bytes(1))
    await s.sync()
    expect(await snapFiles(dir)).toEqual(['snap-0000000000000001-0000000000000001.snap'])
    s.createSnapshot(2, cs, bytes(2))
    s.createSnapshot(3, cs, bytes(3))
    await s.sync()
    s.createSnapshot(4, cs, bytes(4))
    await s.sync()
    expect(await snapFiles(dir)).toEqual(['snap-0000000000000002-0000000000000003.snap', 'snap-0000000000000002-0000000000000004.snap'])
    await s.close()
    expect((await openIn(dir)).snapshot()).toEqual({ metadata: { index: 4, term: 2, confState: cs }, data: bytes(4) })
  })

  it('makes the snapshot file durable before the WAL records it', async () => {
    const order: string[] = []
    const dir = await tempDir()
    const s = await openIn(dir, { hooks: { beforeSync: (p) => void order.push(p.endsWith('.log') ? 'wal' : p.endsWith('.tmp') ? 'snap' : 'dir') } })
    s.append([ent(1, 1)])
    await s.sync()
    order.length = 0
    s.createSnapshot(1, cs, bytes(1))
    s.compact(1)
    await s.sync()
    expect(order).toEqual(['snap', 'dir', 'wal'])
  })
})

describe('FileRaftStorage incarnation', () => {
  it('is drawn once, kept in the file incarnation, and the same after reopening', async () => {
    const dir = await tempDir()
    const s = await openIn(dir, { random: new SeededRandom(5) })
    const x = s.incarnation
    expect(x).toBe(new SeededRandom(5).bytes(8).reduce((a, b) => (a << 8n) | BigInt(b), 0n)) // 8 random bytes, big-endian
    expect(s.initialState().incarnation).toBe(x)
    expect(await readFile(join(dir, 'incarnation'), 'utf8')).toBe(`${x.toString(16).padStart(16, '0')}\n`)
    s.append([ent(1, 1)])
    await s.close()
    const r = await openIn(dir, { random: new SeededRandom(6) })
    expect([r.incarnation, r.initialState().incarnation]).toEqual([x, x])
  })

  it('is new when the directory is lost (a wiped member), and differs between directories', async () => {
    const dir = await tempDir()
    const s = await openIn(dir)
    s.append([ent(1, 1)])
    s.setHardState({ term: 1, vote: 2n, commit: 1 })
    await s.sync()
    await s.close()
    await rm(dir, { recursive: true })
    const wiped = await openIn(dir)
    expect(wiped.lastIndex()).toBe(0)
    expect(wiped.incarnation).not.toBe(s.incarnation)
    expect((await openIn(await tempDir())).incarnation).not.toBe(wiped.incarnation)
  })

  it('a log whose incarnation file is lost gets a new incarnation (logged): it is not the same member any more', async () => {
    const dir = await tempDir()
    const s = await openIn(dir)
    s.append([ent(1, 1)])
    await s.close()
    await rm(join(dir, 'incarnation'))
    const warnings: string[] = []
    const logger: Logger = { debug: () => {}, info: () => {}, warn: (msg: string) => void warnings.push(msg), error: () => {}, child: () => logger }
    const r = await openIn(dir, { logger })
    expect(r.incarnation).not.toBe(s.incarnation)
    expect(r.lastIndex()).toBe(1)
    expect(warnings).toEqual(['raft storage: no incarnation file in a storage that holds a log; created one'])
  })

  it('refuses to open with a damaged incarnation file', async () => {
    for (const text of ['', '00000000000000000\n', '0000000000000000\n', 'xyz\n', '00000000000000ab']) {
      const dir = await tempDir()
      await (await openIn(dir)).close()
      await writeFile(join(dir, 'incarnation'), text)
      await expect(FileRaftStorage.open(dir)).rejects.toMatchObject({ name: 'WalCorruptionError', file: join(dir, 'incarnation'), offset: 0 })
    }
  })
})
