import { describe, expect, it } from 'vitest'
import { SeededRandom } from '@swarmkit-ts/testkit'
import { MemoryRaftStorage, emptyConfState } from '../src/index.ts'
import { ent } from './helpers/storage-contract.ts'

describe('MemoryRaftStorage', () => {
  it('starts from a given snapshot, entries and hard state', () => {
    const confState = { ...emptyConfState(), voters: [1n] }
    const s = new MemoryRaftStorage({
      hardState: { term: 3, vote: 1n, commit: 6 },
      snapshot: { metadata: { index: 5, term: 2, confState }, data: new Uint8Array([1]) },
      entries: [ent(6, 3), ent(7, 3)],
    })
    expect(s.firstIndex()).toBe(6)
    expect(s.lastIndex()).toBe(7)
    expect(s.term(5)).toBe(2)
    expect(s.initialState()).toEqual({ hardState: { term: 3, vote: 1n, commit: 6 }, confState })
    expect(s.hardState()).toEqual({ term: 3, vote: 1n, commit: 6 })
  })

  it('rejects unsafe indexes and non-contiguous entries with the field name', () => {
    const s = new MemoryRaftStorage()
    expect(() => s.append([ent(1, 1), ent(3, 1)])).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'entries[1].index' }))
    expect(() => s.append([ent(2 ** 53, 1)])).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'entries[0].index' }))
    expect(() => s.setHardState({ term: -1, vote: 0n, commit: 0 })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'hardState.term' }))
  })

  it('does not let a caller mutate the stored configuration through a returned copy', () => {
    const s = new MemoryRaftStorage()
    s.append([ent(1, 1)])
    s.createSnapshot(1, { ...emptyConfState(), voters: [1n] }, new Uint8Array())
    s.initialState().confState.voters.push(9n)
    expect(s.initialState().confState.voters).toEqual([1n])
  })

  it('has an incarnation when created empty (a new disk), given one or given a Random to draw it', () => {
    const a = new MemoryRaftStorage()
    const b = new MemoryRaftStorage()
    expect(a.incarnation).not.toBe(0n)
    expect(a.initialState().incarnation).toBe(a.incarnation)
    expect(b.incarnation).not.toBe(a.incarnation) // drawn at random: two new disks differ
    expect([new MemoryRaftStorage({ incarnation: null }).incarnation, new MemoryRaftStorage({ incarnation: null }).initialState().incarnation]).toEqual([0n, undefined])
    const prior = new MemoryRaftStorage({ hardState: { term: 2, vote: 1n, commit: 0 } })
    expect([prior.incarnation, prior.initialState().incarnation]).toEqual([0n, undefined])
    expect(new MemoryRaftStorage({ incarnation: 0xffffffffffffffffn }).initialState().incarnation).toBe(0xffffffffffffffffn)
    const drawn = new MemoryRaftStorage({ random: new SeededRandom(3) })
    expect(drawn.incarnation).toBe(new MemoryRaftStorage({ random: new SeededRandom(3) }).incarnation)
    expect(drawn.incarnation).not.toBe(0n)
    for (const bad of [0n, -1n, 1n << 64n]) {
      expect(() => new MemoryRaftStorage({ incarnation: bad })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'incarnation' }))
    }
  })
})
