/**
 * WAL damage on the data directory of a real member. A single-member cluster runs as a
 * `kv-node.ts` process, acknowledges 60 sequential writes and stops cleanly; then copies of its
 * directory are damaged. A torn tail of the last segment is truncated on open (in-process and in
 * a fresh process); damage to a record in the middle is refused with `WalCorruptionError`
 * naming the file and byte offset, and a process on that copy exits non-zero printing it.
 */
import { cp, readFile, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileRaftStorage } from '../src/index.ts'
import type { Entry, HardState } from '../src/index.ts'
import { NodeProcess, runUntilExit } from './process/node-process.ts'
import { ProcessCluster, poll } from './process/process-cluster.ts'
import type { SegmentLayout } from './process/wal-layout.ts'
import { walLayout } from './process/wal-layout.ts'

const WRITES = 60
const RECORD_ENTRIES = 2
const RECORD_HARD_STATE = 3

interface StoredState {
  hardState: HardState
  firstIndex: number
  lastIndex: number
  entries: Entry[]
}

/** Opens the storage in `dir` in this process and reads everything. */
async function readStorage(dir: string): Promise<StoredState> {
  const s = await FileRaftStorage.open(dir)
  try {
    const firstIndex = s.firstIndex()
    const lastIndex = s.lastIndex()
    return { hardState: s.hardState(), firstIndex, lastIndex, entries: s.entries(firstIndex, lastIndex + 1) }
  } finally {
    await s.close()
  }
}

async function patchFile(path: string, f: (buf: Buffer) => Buffer): Promise<void> {
  await writeFile(path, f(await readFile(path)))
}

/** Flips every bit of the byte at `offset`. */
const flipByte =
  (offset: number) =>
  (buf: Buffer): Buffer => {
    buf[offset] = (buf[offset] as number) ^ 0xff
    return buf
  }

function last<T>(xs: readonly T[]): T {
  const x = xs[xs.length - 1]
  if (x === undefined) throw new Error('empty')
  return x
}

describe('WAL corruption on the data directory of a real member', () => {
  const cluster = new ProcessCluster([1n], { segmentBytes: 2048 })
  const started: NodeProcess[] = []
  let pristine = ''
  let layout: SegmentLayout[] = []
  let full: StoredState
  let copies = 0

  /** A copy of the clean directory; `damage` gets the copy's segment layout. */
  async function copyWith(damage: (segs: SegmentLayout[]) => Promise<void>): Promise<{ dir: string; segs: SegmentLayout[] }> {
    const dir = join(cluster.root, `copy-${++copies}`)
    await cp(pristine, dir, { recursive: true })
    const segs = await walLayout(dir)
    await damage(segs)
    return { dir, segs }
  }

  beforeAll(async () => {
    await cluster.bootstrap()
    await cluster.waitLeader()
    const p = cluster.proc(1n)
    for (let i = 0; i < WRITES; i++) await p.request('put', { key: `k${i}`, value: `v${i}`, timeoutMs: 10_000 })
    expect(await p.stop()).toEqual({ code: 0, signal: null })
    pristine = cluster.dir(1n)
    layout = await walLayout(pristine)
    full = await readStorage(await copyWith(() => Promise.resolve()).then((c) => c.dir))
  }, 120_000)

  afterAll(async () => {
    await Promise.all(started.map((p) => p.crash()))
    await cluster.close()
  })

  it('the clean run left several segments ending with an entries record and a hard state record', () => {
    expect(layout.length).toBeGreaterThanOrEqual(2)
    const tail = last(layout).records.slice(-2).map((r) => r.type)
    expect(tail).toEqual([RECORD_ENTRIES, RECORD_HARD_STATE])
    expect(full.firstIndex).toBe(1)
    expect(full.entries.map((e) => e.index)).toEqual(Array.from({ length: full.lastIndex }, (_, i) => i + 1))
    expect(full.hardState.commit).toBe(full.lastIndex)
  })

  it('a torn or garbled last record of the last segment is truncated: every entry is kept', async () => {
    // The reference: the same directory with the last record cut off cleanly.
    const cut = await copyWith(async (segs) => truncate(last(segs).path, last(last(segs).records).offset))
    const reference = await readStorage(cut.dir)
    expect(reference.entries).toEqual(full.entries)

    const torn = await copyWith(async (segs) => {
      const r = last(last(segs).records)
      await truncate(last(segs).path, r.offset + r.size - 3)
    })
    const garbled = await copyWith(async (segs) => {
      const r = last(last(segs).records)
      await patchFile(last(segs).path, flipByte(r.offset + r.size - 1))
    })
    const zeros = await copyWith(async (segs) => patchFile(last(segs).path, (b) => Buffer.concat([b, Buffer.alloc(100)])))
    expect(await readStorage(torn.dir)).toEqual(reference)
    expect(await readStorage(garbled.dir)).toEqual(reference)
    expect(await readStorage(zeros.dir)).toEqual(full)
    // Recovery truncated the file to its valid prefix.
    expect((await readFile(last(torn.segs).path)).length).toBe(last(last(torn.segs).records).offset)
  })

  it('a write torn inside the last entries record loses only that entry', async () => {
    const torn = await copyWith(async (segs) => {
      const r = last(last(segs).records.filter((x) => x.type === RECORD_ENTRIES))
      await truncate(last(segs).path, r.offset + Math.floor(r.size / 2))
    })
    const st = await readStorage(torn.dir)
    expect(st.lastIndex).toBe(full.lastIndex - 1)
    expect(st.entries).toEqual(full.entries.slice(0, -1))
  })

  it('a process on a copy with a torn last entry starts, elects itself and has every other write', async () => {
    const torn = await copyWith(async (segs) => {
      const r = last(last(segs).records.filter((x) => x.type === RECORD_ENTRIES))
      await truncate(last(segs).path, r.offset + Math.floor(r.size / 2))
    })
    const p = await NodeProcess.spawn({ ...cluster.options, id: '1', dir: torn.dir })
    started.push(p)
    await p.request('start', {})
    await poll('the restarted member to lead', async () => ((await p.request('status', {})).role === 'leader' ? true : undefined))
    const dump = await poll('the log to be applied', async () => {
      const d = await p.request('dump', {})
      const st = await p.request('status', {})
      return d.applied === st.commit && d.applied > 0 ? d : undefined
    })
    const expected = Array.from({ length: WRITES - 1 }, (_, i): [string, string] => [`k${i}`, `v${i}`]).sort(([a], [b]) => (a < b ? -1 : 1))
    expect(dump.kv).toEqual(expected)
    expect(p.stderr).toContain('truncating a torn tail')
  }, 60_000)

  const middleCases = [
    { name: 'a flipped payload byte in the middle of the last segment', seg: 'last', at: (size: number) => size - 1 },
    { name: 'a flipped length byte in the middle of the last segment', seg: 'last', at: () => 1 },
    { name: 'a flipped payload byte in the middle of the first segment', seg: 'first', at: (size: number) => size - 1 },
  ] as const

  for (const c of middleCases) {
    it(`${c.name} refuses to open with WalCorruptionError naming the file and byte offset`, async () => {
      let file = ''
      let offset = -1
      const damaged = await copyWith(async (segs) => {
        const seg = c.seg === 'last' ? last(segs) : (segs[0] as SegmentLayout)
        const r = seg.records[Math.floor(seg.records.length / 2)] as SegmentLayout['records'][number]
        file = seg.path
        offset = r.offset
        await patchFile(seg.path, flipByte(r.offset + c.at(r.size)))
      })
      expect(file.startsWith(damaged.dir)).toBe(true)
      const err = await FileRaftStorage.open(damaged.dir).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toMatchObject({ name: 'WalCorruptionError', file, offset })
      expect((err as Error).message).toContain(`${file} at byte ${offset}`)
    })
  }

  it('a process on the copy with a damaged middle record exits non-zero and prints the error', async () => {
    let file = ''
    let offset = -1
    const damaged = await copyWith(async (segs) => {
      const seg = last(segs)
      const r = seg.records[Math.floor(seg.records.length / 2)] as SegmentLayout['records'][number]
      file = seg.path
      offset = r.offset
      await patchFile(seg.path, flipByte(r.offset + r.size - 1))
    })
    const run = await runUntilExit({ ...cluster.options, id: '1', dir: damaged.dir })
    expect(run).toMatchObject({ code: 2, signal: null })
    expect(run.stderr).toContain(`WalCorruptionError: WAL corrupted: ${file} at byte ${offset}`)
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ event: 'failed', error: { name: 'WalCorruptionError' } })
  }, 60_000)
})
