/**
 * Tests derived from sentences of the Raft paper (§5), one RawNode at a time with hand-made
 * messages.
 */
import { describe, expect, it } from 'vitest'
import { RawNode } from '../src/index.ts'
import type { Message, RawNodeInit } from '../src/index.ts'
import { storageWithLog } from './helpers/logs.ts'
import { TestRandom } from './helpers/seeded-random.ts'

/** Node 1 of {1,2,3} with a log of the given terms at term `term`; PreVote off (paper semantics). */
function make(terms: number[] = [], term = 1, init: Partial<RawNodeInit> = {}): { n: RawNode; drain: () => Message[] } {
  const storage = storageWithLog(terms, [1n, 2n, 3n], term, 0)
  const n = new RawNode({ id: 1n, storage, random: new TestRandom(7), preVote: false, ...init })
  const drain = (): Message[] => {
    const out: Message[] = []
    while (n.hasReady()) {
      const rd = n.ready()
      storage.append(rd.entries)
      if (rd.hardState !== undefined) storage.setHardState(rd.hardState)
      out.push(...rd.messages)
      n.advance(rd)
    }
    return out
  }
  return { n, drain }
}

function leaderAtTerm2(): ReturnType<typeof make> {
  const x = make([1], 1)
  x.n.campaign()
  x.drain()
  x.n.step({ type: 'vote-resp', from: 2n, to: 1n, term: 2, reject: false })
  x.drain()
  return x
}

describe('Raft paper §5.1: terms', () => {
  it('any role adopts a higher term seen in a message and becomes follower of its sender', () => {
    const follower = make([], 1)
    const candidate = make([], 1)
    candidate.n.campaign()
    const leader = leaderAtTerm2()
    for (const { n } of [follower, candidate, leader]) {
      n.step({ type: 'app', from: 2n, to: 1n, term: 5, index: 0, logTerm: 0, entries: [], commit: 0 })
      expect(n.status().softState).toEqual({ state: 'follower', lead: 2n })
      expect(n.status().hardState.term).toBe(5)
    }
  })

  it('a request with a stale term is rejected: nothing is appended', () => {
    const { n, drain } = make([1, 2], 2)
    n.step({ type: 'app', from: 2n, to: 1n, term: 1, index: 2, logTerm: 2, entries: [{ term: 1, index: 3, type: 'normal', data: new Uint8Array() }], commit: 0 })
    expect(n.status().lastIndex).toBe(2)
    expect(drain()).toEqual([{ type: 'app-resp', from: 1n, to: 2n, term: 2, index: 0, reject: false, rejectHint: 0, logTerm: 0 }])
  })
})

describe('Raft paper §5.2: leader election', () => {
  it('election timeouts are randomized in [ET, 2·ET)', () => {
    const seen = new Set<number>()
    for (let seed = 1; seed <= 60; seed++) {
      const n = new RawNode({ id: 1n, storage: storageWithLog([], [1n, 2n, 3n], 1, 0), random: new TestRandom(seed), preVote: false })
      let t = 0
      while (n.status().softState.state === 'follower') {
        n.tick()
        t++
      }
      seen.add(t)
    }
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(10)
    expect(Math.max(...seen)).toBeLessThanOrEqual(19)
    expect(seen.size).toBeGreaterThanOrEqual(8)
  })

  it('a candidate votes for itself and asks every other voter', () => {
    const { n, drain } = make([1, 1], 1)
    n.campaign()
    expect(drain()).toEqual([
      { type: 'vote', from: 1n, to: 2n, term: 2, index: 2, logTerm: 1, transfer: false },
      { type: 'vote', from: 1n, to: 3n, term: 2, index: 2, logTerm: 1, transfer: false },
    ])
    expect(n.status().hardState).toEqual({ term: 2, vote: 1n, commit: 0 })
  })

  it('a candidate falls back to follower on an append from a leader of its term', () => {
    const { n } = make([], 1)
    n.campaign()
    n.step({ type: 'app', from: 3n, to: 1n, term: 2, index: 0, logTerm: 0, entries: [], commit: 0 })
    expect(n.status().softState).toEqual({ state: 'follower', lead: 3n })
  })

  it('a voter grants at most one vote per term, first come first served', () => {
    const { n, drain } = make([], 1)
    n.step({ type: 'vote', from: 2n, to: 1n, term: 2, index: 0, logTerm: 0, transfer: false })
    n.step({ type: 'vote', from: 3n, to: 1n, term: 2, index: 0, logTerm: 0, transfer: false })
    n.step({ type: 'vote', from: 2n, to: 1n, term: 2, index: 0, logTerm: 0, transfer: false }) // a retry is granted again
    expect(drain().map((m) => (m.type === 'vote-resp' ? [m.to, m.reject] : []))).toEqual([[2n, false], [3n, true], [2n, false]])
  })
})

describe('Raft paper §5.4.1: election restriction', () => {
  // voter log: terms [1, 2] (last entry term 2, index 2)
  const cases: Array<[number, number, boolean]> = [
    [2, 2, true], // same last entry
    [2, 3, true], // same term, longer
    [2, 1, false], // same term, shorter
    [3, 1, true], // higher last term wins even if shorter
    [1, 5, false], // lower last term loses even if longer
  ]
  for (const [logTerm, index, granted] of cases) {
    it(`candidate with last entry (term ${logTerm}, index ${index}) is ${granted ? 'granted' : 'refused'}`, () => {
      const { n, drain } = make([1, 2], 2)
      n.step({ type: 'vote', from: 2n, to: 1n, term: 3, index, logTerm, transfer: false })
      expect(drain().at(-1)).toMatchObject({ type: 'vote-resp', to: 2n, reject: !granted })
    })
  }
})

describe('Raft paper §5.3: log replication', () => {
  it('the leader appends a proposal and sends it with the preceding index and term', () => {
    const { n, drain } = leaderAtTerm2()
    n.step({ type: 'app-resp', from: 2n, to: 1n, term: 2, index: 2, reject: false, rejectHint: 0, logTerm: 0 })
    drain()
    n.propose(new TextEncoder().encode('x'))
    const apps = drain().filter((m) => m.type === 'app' && m.to === 2n)
    expect(apps).toMatchObject([{ index: 2, logTerm: 2, entries: [{ index: 3, term: 2 }] }])
  })

  // follower log: terms [1, 2]
  const checks: Array<[string, number, number, boolean, number]> = [
    ['matches at the start', 0, 0, false, 0],
    ['matches at index 1', 1, 1, false, 1],
    ['matches at the end', 2, 2, false, 2],
    ['wrong term at index 1', 1, 2, true, 1],
    ['beyond the end', 3, 3, true, 2],
  ]
  for (const [name, index, logTerm, reject, hint] of checks) {
    it(`follower consistency check: ${name}`, () => {
      const { n, drain } = make([1, 2], 2)
      n.step({ type: 'app', from: 2n, to: 1n, term: 2, index, logTerm, entries: [], commit: 0 })
      const resp = drain().at(-1)
      expect(resp).toMatchObject(reject ? { type: 'app-resp', reject: true, index, rejectHint: hint } : { type: 'app-resp', reject: false, index })
    })
  }
})
