/**
 * Acceptance scenarios of raft-anchors.md §5 about the log, commit and reads (5, 6, 8–11).
 */
import { describe, expect, it } from 'vitest'
import { Sim } from './helpers/sim.ts'
import type { SimNode } from './helpers/sim.ts'

const ET = 10
const enc = new TextEncoder()

/** Ticks every live node until `done` holds (at most `max` ticks); returns the ticks taken. */
function tickUntil(sim: Sim, done: () => boolean, max = 20 * ET, ids?: bigint[]): number {
  let n = 0
  while (!done()) {
    if (n >= max) throw new Error('condition not reached')
    sim.tick(1, ids)
    n++
  }
  return n
}

function leaderAmong(sim: Sim, ids: bigint[]): SimNode | undefined {
  return ids.map((id) => sim.node(id)).find((n) => n.state === 'leader')
}

describe('§5 log and commit', () => {
  it('5. Figure 8: a leader never commits an entry of an earlier term by counting replicas', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n, 4n, 5n], options: { preVote: false, checkQuorum: false, maxSizePerMsg: 0 } })
    sim.campaign(1n)
    expect(sim.node(1n).commit).toBe(6)
    // S1 (term 2) replicates index 7 to S2 only, then crashes.
    const onlyTo2 = sim.drop((m) => m.from === 1n && m.to !== 2n)
    sim.propose(1n, 'x')
    expect(sim.node(2n).log().at(-1)).toEqual([7, 2, 'x'])
    sim.crash(1n)
    sim.recover(onlyTo2)
    // S5 wins term 3 with S3 and S4, appends (3, 7) locally only, then crashes.
    const quiet5 = sim.drop((m) => m.from === 5n && m.type !== 'vote')
    sim.campaign(5n)
    expect([sim.node(5n).state, sim.node(5n).term]).toEqual(['leader', 3])
    expect(sim.node(5n).log().at(-1)).toEqual([7, 3, ''])
    sim.crash(5n)
    sim.recover(quiet5)
    // S1 restarts and wins term 4; it gets (2, 7) onto S3 — a majority — but its own term-4 entry is held back.
    sim.restart(1n)
    const no4 = sim.isolate(4n)
    sim.transform = (m) => (m.from === 1n && m.type === 'app' ? { ...m, entries: m.entries.filter((e) => e.term < 4) } : m)
    sim.campaign(1n) // term 3: S3 already voted for S5
    expect([sim.node(1n).state, sim.node(1n).term]).toEqual(['candidate', 3])
    sim.campaign(1n)
    expect([sim.node(1n).state, sim.node(1n).term]).toEqual(['leader', 4])
    expect(sim.node(3n).log().at(-1)).toEqual([7, 2, 'x'])
    const pr = sim.node(1n).status.progress
    expect([pr.get(1n)?.match, pr.get(2n)?.match, pr.get(3n)?.match]).toEqual([8, 7, 7])
    expect(sim.node(1n).commit).toBe(6) // (2, 7) is on 3 of 5 nodes, but not of term 4
    expect(sim.checker.applied.has(7)).toBe(false)
    // S1 crashes before its term-4 entry spreads; S5 returns, wins term 5 and overwrites index 7 — legally.
    sim.crash(1n)
    sim.transform = undefined
    sim.recover(no4)
    sim.restart(5n)
    sim.campaign(5n)
    sim.campaign(5n)
    expect([sim.node(5n).state, sim.node(5n).term]).toEqual(['leader', 5])
    for (const id of [2n, 3n, 4n, 5n]) expect(sim.node(id).log().slice(6)).toEqual([[7, 3, ''], [8, 5, '']])
    expect(sim.checker.applied.get(7)).toEqual({ index: 7, term: 3, type: 'normal', data: '' })
  })

  it('6. entries of a previous term commit through the new leader’s empty entry', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    const noAcks = sim.drop((m) => m.type === 'app-resp' && m.to === 1n)
    sim.propose(1n, 'a')
    for (const id of [1n, 2n, 3n]) {
      expect(sim.node(id).log().at(-1)).toEqual([5, 2, 'a'])
      expect(sim.node(id).commit).toBe(4)
    }
    sim.recover(noAcks)
    sim.isolate(1n)
    tickUntil(sim, () => leaderAmong(sim, [2n, 3n]) !== undefined, 10 * ET, [2n, 3n])
    const l = leaderAmong(sim, [2n, 3n]) as SimNode
    expect(l.term).toBe(3)
    expect(l.log().slice(4)).toEqual([[5, 2, 'a'], [6, 3, '']])
    for (const id of [2n, 3n]) {
      expect(sim.node(id).commit).toBe(6)
      expect(sim.node(id).appliedData()).toEqual(['a'])
    }
  })

  it('8. and 9. a stale leader in a minority partition commits nothing, serves no read, steps down, and is repaired', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    const part = sim.partition([1n])
    sim.propose(1n, 'stale') // accepted by the old leader, which cannot know
    sim.node(1n).raw.readIndex(enc.encode('old-read'))
    sim.stabilize()
    let ticks = 0
    let stepDownAt = -1
    while (sim.node(1n).state === 'leader' || leaderAmong(sim, [2n, 3n]) === undefined) {
      sim.tick(1)
      ticks++
      if (stepDownAt < 0 && sim.node(1n).state !== 'leader') stepDownAt = ticks
      expect(ticks).toBeLessThan(10 * ET)
    }
    expect(stepDownAt).toBe(2 * ET) // within ET..2·ET of the partition
    const l2 = leaderAmong(sim, [2n, 3n]) as SimNode
    expect(l2.term).toBe(3)
    sim.propose(l2.id, 'fresh')
    expect(l2.commit).toBe(6)
    // 9: the read on the old leader never completed; the new leader serves the latest index.
    l2.raw.readIndex(enc.encode('new-read'))
    sim.stabilize()
    expect(sim.node(1n).readStates).toEqual([])
    expect(l2.readStates).toEqual([{ index: 6, requestCtx: enc.encode('new-read') }])
    expect(sim.node(1n).commit).toBe(4)
    expect(sim.node(1n).appliedData()).toEqual([])
    sim.recover(part)
    sim.tick(ET)
    expect(sim.node(1n).lead).toBe(l2.id)
    expect(sim.node(1n).log()).toEqual(l2.log())
    expect(sim.node(1n).log().some((e) => e[2] === 'stale')).toBe(false)
    expect(sim.node(1n).appliedData()).toEqual(['fresh'])
  })

  it('10. ReadIndex on a brand-new leader waits for its first commit', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    const noAcks = sim.drop((m) => m.type === 'app-resp' && m.to === 1n)
    sim.campaign(1n)
    expect([sim.node(1n).state, sim.node(1n).commit]).toEqual(['leader', 3])
    sim.node(1n).raw.readIndex(enc.encode('r'))
    sim.stabilize()
    sim.tick(3, [1n])
    expect(sim.node(1n).readStates).toEqual([])
    sim.recover(noAcks)
    sim.tick(1, [1n]) // heartbeat -> response -> append -> ack -> commit -> read confirmed
    expect(sim.node(1n).commit).toBe(4)
    expect(sim.node(1n).readStates).toEqual([{ index: 4, requestCtx: enc.encode('r') }])
  })

  it('11. a follower read is forwarded; its index covers every acknowledged write', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    sim.propose(1n, 'a')
    sim.propose(3n, 'b')
    const f = sim.node(2n)
    f.raw.readIndex(enc.encode('f-read'))
    sim.stabilize()
    expect(f.readStates).toEqual([{ index: 6, requestCtx: enc.encode('f-read') }])
    expect(f.appliedIndex).toBeGreaterThanOrEqual(6)
    expect(f.appliedData()).toEqual(['a', 'b'])
    // The leader confirmed with a heartbeat round that carried the read's context.
    expect(sim.delivered.filter((m) => m.type === 'read-index-resp')).toEqual([
      { type: 'read-index-resp', from: 1n, to: 2n, term: 2, index: 6, context: enc.encode('f-read') },
    ])
  })
})
