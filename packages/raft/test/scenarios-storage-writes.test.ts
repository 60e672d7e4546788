/**
 * Scenario 25 of raft-anchors.md §5 ("async storage writes"). This core hands work out through a
 * synchronous Ready/advance contract, so "acks only after the write is durable" is structural:
 * acknowledgements leave in the Ready whose writes the caller persists first, and the leader's own
 * acknowledgement waits for `advance`. What remains to prove is the ABA race: entries handed out
 * for persistence are overwritten by a higher-term leader before the caller finishes writing
 * them, and the late `advance` must not mark the new entries stable.
 */
import { cryptoRandom } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { MemoryRaftStorage, RawNode } from '../src/index.ts'
import type { Entry, Message, Ready } from '../src/index.ts'

const e = (term: number, index: number): Entry => ({ term, index, type: 'normal', data: new Uint8Array([term, index]) })

function app(from: bigint, term: number, index: number, logTerm: number, entries: Entry[], commit: number): Message {
  return { type: 'app', from, to: 2n, term, index, logTerm, entries, commit }
}

function persist(st: MemoryRaftStorage, rd: Ready): void {
  if (rd.snapshot !== undefined) st.applySnapshot(rd.snapshot)
  st.append(rd.entries)
  if (rd.hardState !== undefined) st.setHardState(rd.hardState)
}

function follower(): { node: RawNode; st: MemoryRaftStorage } {
  const st = new MemoryRaftStorage()
  st.setHardState({ term: 1, vote: 0n, commit: 0 })
  st.applySnapshot({ metadata: { index: 0, term: 0, confState: { voters: [1n, 2n, 3n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: new Uint8Array(0) })
  return { node: new RawNode({ id: 2n, storage: st, random: cryptoRandom }), st }
}

const acks = (rd: Ready): [bigint, number, number, boolean][] =>
  rd.messages.filter((m) => m.type === 'app-resp').map((m) => [m.to, m.term, m.type === 'app-resp' ? m.index : -1, m.type === 'app-resp' && m.reject])

describe('§5 storage writes', () => {
  it('25. acknowledgements travel only in the Ready whose writes they cover', () => {
    const { node } = follower()
    node.step(app(1n, 1, 0, 0, [e(1, 1), e(1, 2)], 0))
    const rd = node.ready()
    expect(rd.entries.map((x) => [x.index, x.term])).toEqual([[1, 1], [2, 1]])
    expect(rd.mustSync).toBe(true)
    expect(acks(rd)).toEqual([[1n, 1, 2, false]])
  })

  it('25. entries overwritten by a higher term while their write is in flight stay unstable after the late advance (ABA)', () => {
    const { node, st } = follower()
    // Term 1 leader 1 sends indexes 1–2; the caller takes the Ready and starts writing it.
    node.step(app(1n, 1, 0, 0, [e(1, 1), e(1, 2)], 0))
    const rd1 = node.ready()
    // Before that write finishes, leader 3 of term 2 overwrites index 1 (and drops index 2).
    node.step(app(3n, 2, 0, 0, [e(2, 1)], 0))
    // The first write completes and is advanced late.
    persist(st, rd1)
    node.advance(rd1)
    // The term-2 entry is still handed out for persistence: the stale advance did not mark it stable.
    const rd2 = node.ready()
    expect(rd2.entries.map((x) => [x.index, x.term])).toEqual([[1, 2]])
    expect(rd2.hardState?.term).toBe(2)
    expect(acks(rd2)).toEqual([[3n, 2, 1, false]])
    persist(st, rd2)
    node.advance(rd2)
    expect(node.hasReady()).toBe(false)
    // Storage ends with exactly the new leader's log: index 2 of term 1 is gone.
    expect(st.lastIndex()).toBe(1)
    expect(st.term(1)).toBe(2)
    expect(node.status().lastIndex).toBe(1)
  })

  it('25. the same race with the same term and a longer overwrite keeps the newest suffix', () => {
    const { node, st } = follower()
    node.step(app(1n, 1, 0, 0, [e(1, 1), e(1, 2), e(1, 3)], 0))
    const rd1 = node.ready()
    node.step(app(3n, 2, 1, 1, [e(2, 2), e(2, 3), e(2, 4)], 1))
    persist(st, rd1)
    node.advance(rd1)
    const rd2 = node.ready()
    // The late advance named (3, term 1), which no longer exists, so nothing was marked stable:
    // index 1 is handed out again (a harmless rewrite of the same entry) with the new suffix.
    expect(rd2.entries.map((x) => [x.index, x.term])).toEqual([[1, 1], [2, 2], [3, 2], [4, 2]])
    persist(st, rd2)
    node.advance(rd2)
    expect([st.term(1), st.term(2), st.term(3), st.term(4)]).toEqual([1, 2, 2, 2])
  })

  it('24. restarts after a torn write that kept a received snapshot but lost the hard state written after it', () => {
    const st = new MemoryRaftStorage()
    st.applySnapshot({ metadata: { index: 16, term: 3, confState: { voters: [1n, 2n, 3n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: new Uint8Array(0) })
    st.setHardState({ term: 3, vote: 0n, commit: 0 }) // the stale hard state on disk
    const node = new RawNode({ id: 2n, storage: st, random: cryptoRandom, applied: 16 })
    expect(node.status().hardState).toEqual({ term: 3, vote: 0n, commit: 16 })
    expect(() => new RawNode({ id: 2n, storage: (st.setHardState({ term: 3, vote: 0n, commit: 17 }), st), random: cryptoRandom })).toThrow(
      expect.objectContaining({ name: 'RaftInvariantError' }),
    )
  })
})
