/**
 * The `RaftStorage` + `RaftLog` compliance suite: every obligation of the storage contract
 * (storage/storage.ts) that the Raft core relies on — empty start, append with truncation of a
 * conflicting suffix, gaps refused, unavailable and compacted ranges named, `maxBytes` limits,
 * hard state, snapshots and compaction, a received snapshot replacing the log, exact 64-bit
 * member ids.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { RaftStorageWithLog } from '../storage/storage.ts'
import type { Entry, Snapshot } from '../core/types.ts'
import { emptyConfState } from '../core/types.ts'

/** Options of {@link describeRaftStorageCompliance}. */
export interface RaftStorageComplianceOptions<S extends RaftStorageWithLog> {
  /** Names the implementation in the suite's title. */
  name: string
  /** A fresh, empty storage (may be async, e.g. opening files in a new directory). */
  create: () => S | Promise<S>
  /** Releases a storage the suite created (close it, remove its files). @default nothing */
  destroy?: ((storage: S) => void | Promise<void>) | undefined
}

/** A normal entry with a 1-byte payload. */
function ent(index: number, term: number, byte = index & 0xff): Entry {
  return { index, term, type: 'normal', data: new Uint8Array([byte]) }
}

const cs = { ...emptyConfState(), voters: [1n, 2n, 3n] }

/**
 * Registers the `RaftStorage` + `RaftLog` compliance tests (call it at the top level of a vitest
 * test file). Each test creates a fresh storage with `options.create` and hands it to
 * `options.destroy` afterwards, also when the test failed.
 */
export function describeRaftStorageCompliance<S extends RaftStorageWithLog>(options: RaftStorageComplianceOptions<S>): void {
  describe(`RaftStorage compliance: ${options.name}`, () => {
    const created: S[] = []
    const make = async (): Promise<S> => {
      const s = await options.create()
      created.push(s)
      return s
    }
    afterEach(async () => {
      for (const s of created.splice(0)) await options.destroy?.(s)
    })

    it('starts empty: firstIndex 1, lastIndex 0, term(0) = 0, empty snapshot', async () => {
      const s = await make()
      expect(s.firstIndex()).toBe(1)
      expect(s.lastIndex()).toBe(0)
      expect(s.term(0)).toBe(0)
      expect(s.snapshot().metadata.index).toBe(0)
      // An implementation may report more (e.g. its incarnation): these two are the contract.
      expect(s.initialState().hardState).toEqual({ term: 0, vote: 0n, commit: 0 })
      expect(s.initialState().confState).toEqual(emptyConfState())
      expect(s.entries(1, 1)).toEqual([])
    })

    it('appends, reads ranges and terms, and truncates a conflicting suffix', async () => {
      const s = await make()
      s.append([ent(1, 1), ent(2, 1), ent(3, 2)])
      expect(s.lastIndex()).toBe(3)
      expect(s.entries(1, 4).map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 2]])
      expect(s.term(3)).toBe(2)
      s.append([ent(2, 3, 9)])
      expect(s.lastIndex()).toBe(2)
      expect(s.entries(1, 3).map((e) => [e.index, e.term, e.data[0]])).toEqual([[1, 1, 1], [2, 3, 9]])
      s.append([ent(3, 3), ent(4, 3)])
      expect(s.lastIndex()).toBe(4)
      await s.sync()
    })

    it('rejects a gap and reports unavailable and compacted ranges by name', async () => {
      const s = await make()
      s.append([ent(1, 1), ent(2, 1)])
      expect(() => s.append([ent(4, 1)])).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
      expect(() => s.entries(1, 4)).toThrow(expect.objectContaining({ name: 'EntryUnavailableError' }))
      expect(() => s.term(3)).toThrow(expect.objectContaining({ name: 'EntryUnavailableError', index: 3 }))
      s.createSnapshot(1, cs, new Uint8Array([7]))
      s.compact(1)
      expect(() => s.entries(1, 2)).toThrow(expect.objectContaining({ name: 'CompactedError', index: 1 }))
      expect(() => s.term(0)).toThrow(expect.objectContaining({ name: 'CompactedError', index: 0 }))
      expect(() => s.append([ent(1, 1)])).toThrow(expect.objectContaining({ name: 'CompactedError' }))
    })

    it('limits entries by maxBytes but returns at least one', async () => {
      const s = await make()
      s.append([ent(1, 1), ent(2, 1), ent(3, 1)])
      // each entry is 1 byte of payload + 16 bytes of overhead
      expect(s.entries(1, 4, 0).length).toBe(1)
      expect(s.entries(1, 4, 34).length).toBe(2)
      expect(s.entries(1, 4, 33).length).toBe(1)
      expect(s.entries(1, 4, 1000).length).toBe(3)
    })

    it('keeps the hard state', async () => {
      const s = await make()
      const vote = (1n << 63n) - 1n
      s.setHardState({ term: 5, vote, commit: 0 })
      expect(s.initialState().hardState).toEqual({ term: 5, vote, commit: 0 })
    })

    it('creates a snapshot, compacts to it, and keeps the term at the compaction point', async () => {
      const s = await make()
      s.append([ent(1, 1), ent(2, 2), ent(3, 2), ent(4, 3)])
      const snap = s.createSnapshot(3, cs, new Uint8Array([1, 2]))
      expect(snap.metadata).toEqual({ index: 3, term: 2, confState: cs })
      expect(s.snapshot().metadata.index).toBe(3)
      expect(s.firstIndex()).toBe(1) // createSnapshot does not compact
      s.compact(3)
      expect(s.firstIndex()).toBe(4)
      expect(s.lastIndex()).toBe(4)
      expect(s.term(3)).toBe(2)
      expect(s.entries(4, 5).map((e) => e.term)).toEqual([3])
      expect(s.initialState().confState).toEqual(cs)
      s.compact(2) // at or below the compaction point: no-op
      expect(s.firstIndex()).toBe(4)
      expect(() => s.compact(4)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'index' }))
      expect(() => s.createSnapshot(2, cs, new Uint8Array())).toThrow(expect.objectContaining({ name: 'SnapshotOutOfDateError' }))
      expect(() => s.createSnapshot(9, cs, new Uint8Array())).toThrow(expect.objectContaining({ name: 'EntryUnavailableError' }))
    })

    it('refuses to compact past a log truncated below its snapshot, and changes nothing', async () => {
      const s = await make()
      s.append([ent(1, 1), ent(2, 1), ent(3, 1), ent(4, 1)])
      s.createSnapshot(3, cs, new Uint8Array([5]))
      s.append([ent(2, 2, 20)])
      expect(s.lastIndex()).toBe(2)
      expect(() => s.compact(3)).toThrow(expect.objectContaining({ name: 'EntryUnavailableError', index: 3 }))
      expect([s.firstIndex(), s.lastIndex(), s.term(2), s.snapshot().metadata.index]).toEqual([1, 2, 2, 3])
      expect(() => s.compact(4)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'index' }))
      s.compact(2)
      expect([s.firstIndex(), s.lastIndex(), s.term(2)]).toEqual([3, 2, 2])
      expect(s.entries(3, 3)).toEqual([])
      await s.sync()
    })

    it('applies a received snapshot, replacing the log', async () => {
      const s = await make()
      s.append([ent(1, 1), ent(2, 1)])
      const snap: Snapshot = { metadata: { index: 10, term: 4, confState: cs }, data: new Uint8Array([42]) }
      s.applySnapshot(snap)
      expect(s.firstIndex()).toBe(11)
      expect(s.lastIndex()).toBe(10)
      expect(s.term(10)).toBe(4)
      expect(s.snapshot().metadata).toEqual(snap.metadata)
      expect([...s.snapshot().data]).toEqual([42])
      expect(s.initialState().confState).toEqual(cs)
      s.append([ent(11, 4)])
      expect(s.lastIndex()).toBe(11)
      const old: Snapshot = { metadata: { index: 5, term: 1, confState: cs }, data: new Uint8Array() }
      expect(() => s.applySnapshot(old)).toThrow(expect.objectContaining({ name: 'SnapshotOutOfDateError', index: 5, current: 10 }))
    })

    it('keeps 64-bit member ids exact in hard state and configuration', async () => {
      const s = await make()
      const big = [(1n << 63n) - 1n, (1n << 62n) + 12345n, (1n << 64n) - 1n]
      const conf = { voters: big, learners: [(1n << 53n) + 1n], votersOutgoing: [], learnersNext: [], autoLeave: false }
      s.append([ent(1, 1)])
      s.setHardState({ term: 1, vote: big[0] as bigint, commit: 1 })
      s.createSnapshot(1, conf, new Uint8Array())
      const st = s.initialState()
      expect(st.hardState.vote).toBe((1n << 63n) - 1n)
      expect(st.confState).toEqual(conf)
    })
  })
}
