import { describe, expect, it } from 'vitest'
import { RaftLogView } from '../src/core/log-view.ts'
import { MemoryRaftStorage, emptyConfState } from '../src/index.ts'
import type { Entry } from '../src/index.ts'

const e = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) })
const terms = (ents: Entry[]): number[][] => ents.map((x) => [x.index, x.term])

/** A log with entries 1..3 (terms 1,1,2) in storage and 4..5 (terms 2,3) unstable. */
function mixed(): RaftLogView {
  const s = new MemoryRaftStorage({ entries: [e(1, 1), e(2, 1), e(3, 2)] })
  const l = new RaftLogView(s, undefined)
  l.append([e(4, 2), e(5, 3)])
  return l
}

describe('RaftLogView', () => {
  it('reads across storage and the unstable part', () => {
    const l = mixed()
    expect([l.firstIndex(), l.lastIndex(), l.lastTerm()]).toEqual([1, 5, 3])
    expect(terms(l.slice(2, 6, undefined))).toEqual([[2, 1], [3, 2], [4, 2], [5, 3]])
    expect(terms(l.entries(3, 17 * 2))).toEqual([[3, 2], [4, 2]])
    expect([l.term(0), l.term(3), l.term(5)]).toEqual([0, 2, 3])
    expect(() => l.term(6)).toThrow(expect.objectContaining({ name: 'EntryUnavailableError' }))
    expect(l.termOrZero(6)).toBe(0)
  })

  it('maybeAppend: matches (index, logTerm), truncates a conflicting suffix, commits up to the last new entry', () => {
    const l = mixed()
    expect(l.maybeAppend(5, 2, 5, [])).toBeUndefined() // term mismatch at 5
    expect(l.maybeAppend(3, 2, 10, [e(4, 4)])).toBe(4)
    expect(terms(l.allEntries())).toEqual([[1, 1], [2, 1], [3, 2], [4, 4]])
    expect(l.committed).toBe(4) // min(leader commit 10, last new index 4)
    expect(l.maybeAppend(2, 1, 4, [e(3, 2)])).toBe(3) // already present: nothing truncated
    expect(l.lastIndex()).toBe(4)
    expect(() => l.maybeAppend(2, 1, 4, [e(3, 9)])).toThrow(expect.objectContaining({ name: 'RaftInvariantError' }))
  })

  it('findConflict and findConflictByTerm', () => {
    const l = mixed()
    expect(l.findConflict([e(2, 1), e(3, 2)])).toBe(0)
    expect(l.findConflict([e(3, 2), e(4, 5)])).toBe(4)
    expect(l.findConflict([e(5, 3), e(6, 3)])).toBe(6)
    expect(l.findConflictByTerm(5, 2)).toEqual({ index: 4, term: 2 })
    expect(l.findConflictByTerm(5, 1)).toEqual({ index: 2, term: 1 })
    expect(l.findConflictByTerm(5, 0)).toEqual({ index: 0, term: 0 })
  })

  it('commits only entries of the given term and hands out committed entries once', () => {
    const l = mixed()
    expect(l.maybeCommit(4, 3)).toBe(false)
    expect(l.maybeCommit(5, 3)).toBe(true)
    expect(terms(l.nextCommittedEntries())).toEqual([[1, 1], [2, 1], [3, 2], [4, 2], [5, 3]])
    l.applyingTo(3)
    expect(terms(l.nextCommittedEntries())).toEqual([[4, 2], [5, 3]])
    l.appliedTo(5)
    expect(l.hasNextCommittedEntries()).toBe(false)
    expect(() => l.appliedTo(6)).toThrow(expect.objectContaining({ name: 'RaftInvariantError' }))
  })

  it('unstable entries become stable only if not overwritten meanwhile', () => {
    const l = mixed()
    l.unstable.stableTo(5, 2) // wrong term: ignored
    expect(l.unstable.entries.length).toBe(2)
    l.unstable.stableTo(4, 2)
    expect([l.unstable.offset, l.unstable.entries.length]).toEqual([5, 1])
  })

  it('restores from a snapshot: committed and log start at its index; entries before are compacted', () => {
    const l = mixed()
    l.restore({ metadata: { index: 20, term: 7, confState: emptyConfState() }, data: new Uint8Array() })
    expect([l.firstIndex(), l.lastIndex(), l.committed, l.term(20)]).toEqual([21, 20, 20, 7])
    expect(() => l.slice(5, 6, undefined)).toThrow(expect.objectContaining({ name: 'CompactedError' }))
    expect(l.hasPendingSnapshot()).toBe(true)
    expect(l.nextCommittedEntries()).toEqual([])
  })

  it('limits slices by size (at least one entry)', () => {
    const l = mixed()
    expect(l.slice(1, 6, 0).length).toBe(1)
    expect(l.slice(1, 6, 17 * 3).length).toBe(3) // crosses into the unstable part
    expect(l.slice(2, 6, 17 * 2).length).toBe(2)
  })
})
