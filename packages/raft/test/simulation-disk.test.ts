/**
 * The simulation's disk: writes are readable at once but durable only when a sync completes on
 * the clock; a crash keeps exactly the durable writes, or with a torn tail a prefix of the rest.
 */
import fc from 'fast-check'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { describe, expect, it } from 'vitest'
import { emptyConfState } from '../src/index.ts'
import type { Entry } from '../src/index.ts'
import { SimDisk } from './sim/sim-disk.ts'
import type { DiskFault } from './sim/sim-disk.ts'

const ent = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) })
const terms = (d: { firstIndex(): number; lastIndex(): number; entries(lo: number, hi: number): Entry[] }): number[] => d.entries(d.firstIndex(), d.lastIndex() + 1).map((e) => e.term)

function disk(seed = 1, fault: DiskFault = 'none'): { clock: ManualClock; d: SimDisk } {
  const clock = new ManualClock(0)
  return { clock, d: new SimDisk({ clock, random: new SeededRandom(seed), maxSyncDelayMs: 2, fault }) }
}

describe('SimDisk', () => {
  it('makes writes durable only when a sync completes', async () => {
    const { clock, d } = disk()
    d.append([ent(1, 1), ent(2, 1)])
    d.setHardState({ term: 1, vote: 2n, commit: 1 })
    expect(d.lastIndex()).toBe(2)
    expect(d.durable.lastIndex()).toBe(0)
    let synced = false
    const p = d.sync().then(() => (synced = true))
    await Promise.resolve()
    expect(synced).toBe(false)
    clock.advance(2)
    await p
    expect(synced).toBe(true)
    expect(terms(d.durable)).toEqual([1, 1])
    expect(d.durable.hardState()).toEqual({ term: 1, vote: 2n, commit: 1 })
    expect(d.durablyHolds(2, 1)).toBe(true)
    expect(d.durablyHolds(2, 2)).toBe(false)
    expect(d.durablyHolds(3, 1)).toBe(false)
  })

  it('loses unsynced writes on a crash, refuses use afterwards and never completes a pending sync', async () => {
    const { clock, d } = disk()
    d.append([ent(1, 1)])
    const first = d.sync()
    clock.advance(2)
    await first
    d.append([ent(2, 1)])
    d.setHardState({ term: 2, vote: 3n, commit: 1 })
    let late = false
    void d.sync().then(() => (late = true))
    const after = d.crash(false)
    clock.advance(10)
    await Promise.resolve()
    expect(late).toBe(false)
    expect(() => d.append([ent(3, 1)])).toThrow(expect.objectContaining({ name: 'DiskCrashedError' }))
    expect(terms(after)).toEqual([1])
    expect(after.initialState().hardState).toEqual({ term: 0, vote: 0n, commit: 0 })
    expect(after.unsyncedOps).toBe(0)
  })

  it('keeps snapshots and compaction through a crash once synced', async () => {
    const { clock, d } = disk()
    d.append([ent(1, 1), ent(2, 1), ent(3, 2)])
    d.createSnapshot(2, { ...emptyConfState(), voters: [1n] }, new Uint8Array([9]))
    d.compact(2)
    const p = d.sync()
    clock.advance(2)
    await p
    const after = d.crash(true)
    expect(after.firstIndex()).toBe(3)
    expect(after.snapshot().metadata).toEqual({ index: 2, term: 1, confState: { ...emptyConfState(), voters: [1n] } })
    expect(after.durablyHolds(1, 1)).toBe(true)
    expect(after.durablyHolds(3, 2)).toBe(true)
  })

  it('with a torn tail keeps a prefix of the unsynced writes, possibly part of an append', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), (seed, a, b) => {
        const { d } = disk(seed)
        d.append(Array.from({ length: a }, (_, i) => ent(i + 1, 1)))
        d.append(Array.from({ length: b }, (_, i) => ent(a + i + 1, 2)))
        const after = d.crash(true)
        const kept = terms(after)
        // A prefix of the written log, in order.
        expect(kept).toEqual(terms(d.live).slice(0, kept.length))
      }),
      { numRuns: 200 },
    )
  })

  it('tears some tails over many seeds, and a clean crash keeps none', () => {
    const kept = new Set<number>()
    for (let seed = 1; seed <= 50; seed++) {
      const { d } = disk(seed)
      d.append([ent(1, 1), ent(2, 1), ent(3, 1)])
      d.append([ent(4, 2), ent(5, 2)])
      kept.add(d.crash(true).lastIndex())
      const { d: clean } = disk(seed)
      clean.append([ent(1, 1)])
      expect(clean.crash(false).lastIndex()).toBe(0)
    }
    expect([...kept].sort()).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('atomicSnapshotWrites: a torn tail keeps a received snapshot only with the hard state after it', () => {
    const outcomes = new Set<string>()
    for (let seed = 1; seed <= 60; seed++) {
      const clock = new ManualClock(0)
      const d = new SimDisk({ clock, random: new SeededRandom(seed), atomicSnapshotWrites: true })
      d.setHardState({ term: 2, vote: 0n, commit: 0 })
      d.applySnapshot({ metadata: { index: 16, term: 2, confState: { ...emptyConfState(), voters: [1n] } }, data: new Uint8Array(0) })
      d.setHardState({ term: 2, vote: 0n, commit: 16 })
      const after = d.crash(true)
      const got = `${after.snapshot().metadata.index}/${after.initialState().hardState.commit}`
      outcomes.add(got)
      expect(['0/0', '16/16']).toContain(got)
    }
    expect(outcomes.size).toBe(2)
  })

  it('ack-before-durable: sync resolves while the data is not yet durable (the bug the simulation must catch)', async () => {
    const { clock, d } = disk(1, 'ack-before-durable')
    d.append([ent(1, 1)])
    await d.sync()
    expect(d.durable.lastIndex()).toBe(0)
    expect(d.crash(false).lastIndex()).toBe(0)
    clock.advance(10)
  })
})
