/**
 * Acceptance scenarios of raft-anchors.md §5 about elections (1–4, 12–16).
 */
import { describe, expect, it } from 'vitest'
import { storageWithLog } from './helpers/logs.ts'
import { ScriptedRandom } from './helpers/seeded-random.ts'
import { Sim } from './helpers/sim.ts'
import type { NodeOptions } from './helpers/sim.ts'
import { InvariantViolation } from './helpers/invariants.ts'
import type { Message } from '../src/index.ts'

const ET = 10

function votesOnlyBetween1And2(m: Message): boolean {
  const between = (m.from === 1n && m.to === 2n) || (m.from === 2n && m.to === 1n)
  return !(between && (m.type === 'vote' || m.type === 'vote-resp'))
}

function terms(sim: Sim): number[] {
  return sim.ids().map((id) => sim.node(id).term)
}

describe('§5 elections', () => {
  it('1. basic election: one leader within 10·ET, all agree, empty entry at its term', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    let ticks = 0
    while (sim.leader() === undefined && ticks < 10 * ET) {
      sim.tick(1)
      ticks++
    }
    const leader = sim.leader()
    expect(leader?.id).toBe(2n)
    expect(ticks).toBe(10)
    expect([...sim.nodes.values()].filter((n) => n.state === 'leader').length).toBe(1)
    for (const n of sim.nodes.values()) {
      expect([n.lead, n.term]).toEqual([2n, 2])
      expect(n.log()).toEqual([[1, 1, 'cc'], [2, 1, 'cc'], [3, 1, 'cc'], [4, 2, '']])
      expect(n.commit).toBe(4)
    }
  })

  for (const preVote of [false, true]) {
    it(`2. split vote${preVote ? ' (split pre-vote too)' : ''}: no term has two leaders; resolves once timeouts differ`, () => {
      const perNode = new Map<bigint, NodeOptions>([1n, 2n, 3n, 4n].map((id, i) => [id, { random: new ScriptedRandom([0, 0], i * 3) }]))
      const sim = new Sim({ ids: [1n, 2n, 3n, 4n], options: { preVote }, perNode })
      sim.tick(ET)
      // Every node timed out on the same tick and voted for itself: nobody won term 2.
      expect(sim.leader()).toBeUndefined()
      expect(terms(sim)).toEqual([2, 2, 2, 2])
      expect(sim.checker.leaders.size).toBe(0)
      sim.tick(ET)
      expect(sim.leader()?.id).toBe(1n)
      expect(terms(sim)).toEqual([3, 3, 3, 3])
      expect([...sim.checker.leaders]).toEqual([[3, 1n]])
    })
  }

  it('3. vote durability across a crash: a restarted voter refuses a second candidate in the same term', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n], options: { preVote: false, checkQuorum: false } })
    // Only votes between 1 and 2 get through: 2 grants its vote to 1 in term 2 (and sees no entry).
    const only12 = sim.drop(votesOnlyBetween1And2)
    sim.campaign(1n)
    expect(sim.node(1n).state).toBe('leader')
    expect(sim.node(2n).storage.hardState()).toEqual({ term: 2, vote: 1n, commit: 3 })
    sim.crash(2n)
    sim.restart(2n)
    sim.recover(only12)
    const only32 = sim.drop((m) => !((m.from === 3n && m.to === 2n) || (m.from === 2n && m.to === 3n)))
    sim.campaign(3n) // term 1 -> 2, same term as 1's victory
    expect(sim.node(3n).term).toBe(2)
    const resp = sim.delivered.filter((m) => m.from === 2n && m.to === 3n && m.type === 'vote-resp')
    expect(resp).toEqual([{ type: 'vote-resp', from: 2n, to: 3n, term: 2, reject: true }])
    expect(sim.node(3n).state).toBe('candidate')
    sim.recover(only32)
  })

  it('3. (control) losing the vote before sync lets two leaders share a term, which the checker catches', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n], options: { preVote: false, checkQuorum: false } })
    sim.drop(votesOnlyBetween1And2)
    sim.campaign(1n)
    sim.crash(2n)
    sim.node(2n).storage.setHardState({ term: 1, vote: 0n, commit: 3 }) // the vote was "never synced"
    sim.restart(2n)
    sim.recover()
    sim.drop((m) => m.from === 1n || m.to === 1n)
    expect(() => sim.campaign(3n)).toThrow(InvariantViolation)
  })

  describe('4. and 7. Figure 7 logs', () => {
    // ids 1..7 = the paper's leader and followers (a)–(f), all at term 8 with 3 entries committed.
    const logs: Record<string, number[]> = {
      '1': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6],
      '2': [1, 1, 1, 4, 4, 5, 5, 6, 6],
      '3': [1, 1, 1, 4],
      '4': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      '5': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      '6': [1, 1, 1, 4, 4, 4, 4],
      '7': [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    }
    const ids = [1n, 2n, 3n, 4n, 5n, 6n, 7n]
    const make = (): Sim => new Sim({ ids, storages: new Map(ids.map((id) => [id, storageWithLog(logs[String(id)] ?? [], ids, 8, 3)])) })

    it('4. up-to-date check: candidates behind a majority cannot win; the elected leader holds every committed entry', () => {
      const sim = make()
      for (const id of [7n, 3n, 6n]) {
        sim.campaign(id)
        expect(sim.leader()).toBeUndefined()
      }
      expect(terms(sim)).toEqual([8, 8, 8, 8, 8, 8, 8]) // PreVote: failed campaigns do not raise terms
      sim.campaign(5n)
      expect(sim.leader()?.id).toBe(5n)
      expect(sim.node(5n).term).toBe(9)
      for (const n of sim.nodes.values()) expect(n.appliedData().slice(0, 3)).toEqual(['1.1', '1.2', '1.3'])
    })

    it('7. divergent log repair: one rejection per follower (hint skips whole terms), logs converge', () => {
      const sim = make()
      sim.campaign(5n)
      const want = [...(logs['5'] ?? []), 9]
      for (const n of sim.nodes.values()) expect(n.log().map((e) => e[1])).toEqual(want)
      const rejections = new Map<bigint, number>()
      for (const m of sim.delivered) if (m.type === 'app-resp' && m.reject) rejections.set(m.from, (rejections.get(m.from) ?? 0) + 1)
      expect([...rejections].sort((a, b) => Number(a[0] - b[0]))).toEqual([[1n, 1], [2n, 1], [3n, 1], [4n, 1], [6n, 1], [7n, 1]])
      const hintsTo5 = sim.delivered.filter((m) => m.type === 'app-resp' && m.reject).map((m) => (m.type === 'app-resp' ? [m.from, m.rejectHint, m.logTerm] : []))
      expect(hintsTo5).toContainEqual([7n, 11, 3])
      expect(sim.node(7n).log().slice(3, 6)).toEqual([[4, 4, '4.4'], [5, 4, '4.5'], [6, 5, '5.6']])
      expect(sim.node(5n).commit).toBe(13)
    })
  })

  it('12. PreVote blocks disruption by a rejoining node', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    const iso = sim.isolate(3n)
    sim.tick(5 * ET)
    expect(sim.node(3n).term).toBe(2)
    expect(sim.node(3n).state).toBe('pre-candidate')
    sim.recover(iso)
    sim.tick(ET)
    expect(sim.leader()?.id).toBe(1n)
    expect(terms(sim)).toEqual([2, 2, 2])
    expect(sim.node(3n).lead).toBe(1n)
  })

  it('12. (control) without PreVote the rejoining node forces the leader to step down', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n], options: { preVote: false } })
    sim.campaign(1n)
    const iso = sim.isolate(3n)
    sim.tick(5 * ET)
    const t3 = sim.node(3n).term
    expect(t3).toBeGreaterThan(2)
    sim.recover(iso)
    sim.tick(1) // the leader's heartbeat meets 3's higher term
    expect(sim.node(1n).state).not.toBe('leader')
    expect(sim.node(1n).term).toBeGreaterThanOrEqual(t3)
  })

  it('13. CheckQuorum: a leader without a quorum steps down within 2·ET', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    sim.isolate(1n)
    let ticks = 0
    while (sim.node(1n).state === 'leader') {
      sim.tick(1, [1n])
      ticks++
    }
    expect(ticks).toBe(2 * ET)
    expect(sim.node(1n).state).toBe('follower')
    expect(sim.node(1n).term).toBe(2)
  })

  it('13. leader stickiness: voters with a live leader ignore (pre-)vote requests', () => {
    for (const preVote of [true, false]) {
      const sim = new Sim({ ids: [1n, 2n, 3n], options: { preVote } })
      sim.campaign(1n)
      sim.delivered = []
      sim.node(2n).raw.campaign()
      sim.processReady(2n)
      sim.deliverAll()
      sim.processAllReady()
      // 1 and 3 heard from the leader within ET: no response at all to 2's request.
      expect(sim.delivered.filter((m) => m.from !== 2n)).toEqual([])
      expect([sim.node(1n).state, sim.node(1n).term, sim.node(3n).term]).toEqual(['leader', 2, 2])
    }
  })

  it('14. partial connectivity: with PreVote and CheckQuorum the leader survives 50·ET and commits continue', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n, 4n, 5n] })
    sim.campaign(1n)
    // 4 only reaches 2, 5 only reaches 3.
    for (const [a, b] of [[4n, 1n], [4n, 3n], [4n, 5n], [5n, 1n], [5n, 2n]] as const) sim.cut(a, b)
    for (let round = 0; round < 50; round++) {
      sim.tick(ET)
      sim.propose(1n, `v${round}`)
    }
    expect(sim.leader()?.id).toBe(1n)
    expect(terms(sim)).toEqual([2, 2, 2, 2, 2])
    expect([...sim.checker.leaders]).toEqual([[2, 1n]])
    expect(sim.node(2n).appliedData().length).toBe(50)
  })

  it('15. a stuck candidate is freed under CheckQuorum: the cluster adopts its higher term', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n], options: { preVote: false } })
    sim.campaign(1n)
    const iso = sim.isolate(3n)
    sim.tick(3 * ET)
    const t3 = sim.node(3n).term
    expect(sim.node(3n).state).toBe('candidate')
    expect(t3).toBeGreaterThan(2)
    sim.recover(iso)
    sim.tick(1) // heartbeat to 3 is answered at 3's higher term
    expect(sim.node(1n).state).toBe('follower')
    expect(sim.node(1n).term).toBe(t3)
    const l = sim.electLeader()
    expect(l.term).toBe(t3 + 1)
    expect(terms(sim)).toEqual([t3 + 1, t3 + 1, t3 + 1])
  })

  it('16. a lagging node rejoining as the leader is cut off does not block the election (PreVote)', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    const iso3 = sim.isolate(3n)
    sim.propose(1n, 'a')
    sim.propose(1n, 'b')
    sim.recover(iso3)
    sim.isolate(1n)
    let ticks = 0
    while (sim.node(2n).state !== 'leader' && sim.node(3n).state !== 'leader' && ticks < 10 * ET) {
      sim.tick(1, [2n, 3n])
      ticks++
    }
    const l = sim.node(2n)
    expect(l.state).toBe('leader')
    expect(l.term).toBe(3)
    sim.propose(2n, 'c')
    expect(sim.node(3n).appliedData()).toEqual(['a', 'b', 'c'])
  })
})
