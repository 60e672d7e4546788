/**
 * A leader brings back a follower whose log is behind what it believed (issue 12 #3): probing
 * falls back below the old match when the follower lost entries it had acknowledged, and a
 * follower that needs a snapshot the leader cannot send yet waits in probe — the leader never
 * throws — and gets it once storage has one.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryRaftStorage, SnapshotTemporarilyUnavailableError, emptySnapshot } from '../src/index.ts'
import type { Snapshot } from '../src/index.ts'
import { Sim, SimNode } from './helpers/sim.ts'

const opts = { electionTick: 10, heartbeatTick: 1, preVote: true, checkQuorum: true, maxSizePerMsg: 1024 * 1024 }

/** A 3-member cluster with 1 as leader and `n` proposals applied everywhere. */
function clusterWithWrites(n: number): Sim {
  const sim = new Sim({ ids: [1n, 2n, 3n], options: opts })
  sim.campaign(1n)
  for (let i = 0; i < n; i++) sim.propose(1n, `w${i}`)
  sim.tick(2)
  return sim
}

/** Replaces member `id` by one with empty storage under the same id, bootstrapped like the founders. */
function wipe(sim: Sim, id: bigint): SimNode {
  const fresh = new SimNode(id, new MemoryRaftStorage(), opts)
  fresh.raw.bootstrap([{ id: 1n }, { id: 2n }, { id: 3n }])
  sim.queue = sim.queue.filter((m) => m.from !== id && m.to !== id)
  sim.nodes.set(id, fresh)
  sim.stabilize()
  return fresh
}

describe('a follower behind what the leader believed', () => {
  it('is probed below its old match and caught up with entries (it used to stay in probe at the old match forever)', () => {
    const sim = clusterWithWrites(5)
    const leader = sim.node(1n)
    const last = leader.storage.lastIndex()
    expect(leader.status.progress.get(3n)?.match).toBe(last)
    const fresh = wipe(sim, 3n)
    expect(fresh.storage.lastIndex()).toBe(3) // the bootstrap entries only

    sim.tick(3)
    expect(leader.state).toBe('leader')
    expect(leader.status.progress.get(3n)?.match).toBe(leader.storage.lastIndex())
    expect(fresh.log()).toEqual(leader.log())
    expect(fresh.appliedData()).toEqual(leader.appliedData())
  })

  it('gets a snapshot when the part of the log it lost is compacted on the leader', () => {
    const sim = clusterWithWrites(6)
    const leader = sim.node(1n)
    sim.compact(1n)
    const fresh = wipe(sim, 3n)
    sim.tick(3)
    expect(sim.delivered.filter((m) => m.type === 'snapshot').map((m) => [m.from, m.to, m.type === 'snapshot' ? m.snapshot.metadata.index : 0])).toEqual([[1n, 3n, leader.storage.snapshot().metadata.index]])
    expect(fresh.storage.lastIndex()).toBe(leader.storage.lastIndex())
    expect(fresh.appliedData()).toEqual(leader.appliedData())
    expect(leader.status.progress.get(3n)?.state).toBe('replicate')
  })

  it('property: a follower rolled back to any prefix of its log, or wiped, is caught up (log compacted on the leader or not)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.nat(), fc.boolean(), (writes, cut, compact) => {
        const sim = clusterWithWrites(writes)
        const leader = sim.node(1n)
        if (compact) sim.compact(1n)
        const old = sim.node(3n)
        const k = cut % (old.storage.lastIndex() + 1)
        const hs = old.storage.initialState().hardState
        const storage = new MemoryRaftStorage({ hardState: { ...hs, commit: Math.min(hs.commit, k) }, entries: k === 0 ? [] : old.storage.entries(1, k + 1) })
        sim.queue = sim.queue.filter((m) => m.from !== 3n && m.to !== 3n)
        const back = new SimNode(3n, storage, opts)
        sim.nodes.set(3n, back)
        sim.tick(4)
        expect(leader.state).toBe('leader')
        expect(back.storage.lastIndex()).toBe(leader.storage.lastIndex())
        expect(back.storage.term(back.storage.lastIndex())).toBe(leader.storage.term(leader.storage.lastIndex()))
        expect(leader.status.progress.get(3n)?.match).toBe(leader.storage.lastIndex())
      }),
      { numRuns: 80 },
    )
  })

  it('an empty follower (not even bootstrapped) is caught up the same way', () => {
    const sim = clusterWithWrites(3)
    const leader = sim.node(1n)
    const fresh = new SimNode(3n, new MemoryRaftStorage(), opts)
    sim.nodes.set(3n, fresh)
    sim.tick(3)
    expect(fresh.log()).toEqual(leader.log())
    expect(leader.status.progress.get(3n)?.state).toBe('replicate')
  })
})

describe('a follower that needs a snapshot the leader cannot send yet', () => {
  for (const kind of ['temporarily unavailable', 'empty'] as const) {
    it(`(${kind}) stays in probe without the leader throwing, and gets the snapshot once there is one`, () => {
      const sim = clusterWithWrites(0)
      const leader = sim.node(1n)
      const cut = sim.isolate(3n)
      for (let i = 0; i < 6; i++) sim.propose(1n, `w${i}`)
      sim.compact(1n)
      sim.compact(2n)
      expect(leader.storage.firstIndex()).toBeGreaterThan(sim.node(3n).storage.lastIndex() + 1)

      let available = false
      const real = leader.storage.snapshot.bind(leader.storage)
      leader.storage.snapshot = (): Snapshot => {
        if (available) return real()
        if (kind === 'empty') return emptySnapshot()
        throw new SnapshotTemporarilyUnavailableError()
      }
      sim.recover(cut)
      sim.tick(5) // used to throw RaftInvariantError('need a non-empty snapshot to send') (empty case)
      expect(leader.state).toBe('leader')
      expect(leader.status.progress.get(3n)?.state).toBe('probe')
      expect(sim.delivered.filter((m) => m.type === 'snapshot')).toEqual([])
      // The rest of the cluster keeps committing meanwhile.
      sim.propose(1n, 'during')
      expect(sim.node(2n).appliedData().at(-1)).toBe('during')

      available = true
      sim.tick(3)
      expect(sim.delivered.filter((m) => m.type === 'snapshot').map((m) => [m.from, m.to])).toEqual([[1n, 3n]])
      expect(sim.node(3n).storage.lastIndex()).toBe(leader.storage.lastIndex())
      expect(leader.status.progress.get(3n)?.state).toBe('replicate')
    })
  }
})
