/**
 * Lease-based ReadIndex (`readOnlyOption: 'lease-based'`, see src/lease.ts): the leader answers
 * reads at once only while a quorum acknowledged a heartbeat round sent less than
 * `electionTick − 1` ticks ago, and members honour the lease (no vote, no campaign) for an
 * election timeout after hearing from the leader or restarting. Members tick together here,
 * which is the documented assumption.
 */
import { describe, expect, it } from 'vitest'
import { Sim } from './helpers/sim.ts'
import type { NodeOptions, SimNode } from './helpers/sim.ts'

const ET = 10
const enc = new TextEncoder()
const lease: NodeOptions = { readOnlyOption: 'lease-based', checkQuorum: true, preVote: true, electionTick: ET, heartbeatTick: 1 }

/** A 3-member cluster with an elected leader `l` and followers `a` and `b`. */
function cluster(options: NodeOptions = lease): { sim: Sim; l: SimNode; a: bigint; b: bigint } {
  const sim = new Sim({ ids: [1n, 2n, 3n], options })
  const l = sim.electLeader()
  sim.tick(1)
  const [a, b] = [1n, 2n, 3n].filter((id) => id !== l.id) as [bigint, bigint]
  return { sim, l, a, b }
}

/** Whether a read on `n` is answered without any further message being delivered. */
function answersAtOnce(sim: Sim, n: SimNode, ctx: string): boolean {
  const before = n.readStates.length
  const rule = sim.drop(() => true)
  n.raw.readIndex(enc.encode(ctx))
  sim.stabilize()
  sim.recover(rule)
  return n.readStates.length > before
}

function leaderAmong(sim: Sim, ids: bigint[]): SimNode | undefined {
  return ids.map((id) => sim.node(id)).find((n) => n.state === 'leader')
}

describe('lease-based ReadIndex', () => {
  it('answers at once while a quorum acknowledged a recent heartbeat round', () => {
    const { sim, l } = cluster()
    expect(answersAtOnce(sim, l, 'a')).toBe(true)
    expect(l.readStates.at(-1)).toEqual({ index: l.commit, requestCtx: enc.encode('a') })
  })

  it('a partitioned leader stops answering before the others can elect a new leader', () => {
    const { sim, l: old, a, b } = cluster()
    sim.partition([old.id])
    let served = 0
    let refusedAt = -1
    let electedAt = -1
    for (let t = 1; t <= 4 * ET && electedAt < 0; t++) {
      sim.tick(1)
      if (old.state === 'leader' && answersAtOnce(sim, old, `r${t}`)) {
        served++
        // Every read the old leader serves comes before any other leader exists.
        expect(leaderAmong(sim, [a, b])).toBeUndefined()
      } else if (refusedAt < 0) {
        refusedAt = t
      }
      if (leaderAmong(sim, [a, b]) !== undefined) electedAt = t
    }
    // The last acknowledged round was sent at the tick before the partition: the lease lasts
    // ET − 1 ticks from there, one tick less than the followers' (tick phases may differ by one).
    expect(served).toBe(ET - 2)
    expect(refusedAt).toBe(ET - 1)
    expect(electedAt).toBeGreaterThanOrEqual(ET)
  })

  it('a read without a lease waits for a quorum to acknowledge a round sent after it', () => {
    const { sim, l } = cluster()
    const noAcks = sim.drop((m) => m.type === 'heartbeat-resp')
    sim.tick(ET - 1)
    expect(answersAtOnce(sim, l, 'late')).toBe(false)
    sim.recover(noAcks)
    sim.stabilize()
    expect(l.readStates).toEqual([])
    sim.tick(1)
    expect(l.readStates).toEqual([{ index: l.commit, requestCtx: enc.encode('late') }])
    expect(answersAtOnce(sim, l, 'fresh')).toBe(true)
  })

  it('a leader that sent timeout-now gives up its lease for the rest of its term', () => {
    const { sim, l, a } = cluster()
    const holdTimeout = sim.drop((m) => m.type === 'timeout-now')
    l.raw.transferLeadership(a)
    sim.stabilize()
    expect(sim.delivered.some((m) => m.type === 'timeout-now')).toBe(false)
    expect(l.state).toBe('leader')
    sim.recover(holdTimeout)
    sim.tick(ET) // the transfer times out, the leader stays
    expect(l.state).toBe('leader')
    expect(answersAtOnce(sim, l, 'after-transfer')).toBe(false)
    sim.tick(1) // confirmed by a heartbeat round instead
    expect(l.readStates.map((r) => new TextDecoder().decode(r.requestCtx))).toEqual(['after-transfer'])
  })

  it('a restarted member refuses votes for an election timeout of its own ticks', () => {
    const { sim, l, a, b } = cluster()
    sim.partition([l.id])
    sim.crash(a)
    sim.restart(a)
    // b runs out of lease and campaigns; a, restarted but not ticking, does not vote.
    sim.tick(3 * ET, [b])
    expect(leaderAmong(sim, [a, b])).toBeUndefined()
    sim.tick(ET, [a])
    sim.tick(2 * ET, [b])
    expect(leaderAmong(sim, [a, b])?.id).toBe(b)
  })

  it('with safe reads the restarted member votes at once (the lease rule is only for lease-based reads)', () => {
    const { sim, l, a, b } = cluster({ ...lease, readOnlyOption: 'safe' })
    sim.partition([l.id])
    sim.crash(a)
    sim.restart(a)
    sim.tick(3 * ET, [b])
    expect(leaderAmong(sim, [a, b])?.id).toBe(b)
  })

  it('a forced campaign within the lease is refused; a transfer is not', () => {
    const { sim, l, a, b } = cluster()
    const f = sim.node(a)
    const term = f.term
    sim.campaign(a)
    expect([f.state, f.term]).toEqual(['follower', term])
    l.raw.transferLeadership(b)
    sim.stabilize()
    expect(sim.node(b).state).toBe('leader')
  })

  it('a member that moved to a newer term without a leader still refuses votes within the lease', () => {
    const { sim, a, b } = cluster()
    const f = sim.node(b)
    const term = f.term
    // A pre-vote rejection from a newer term moves b there without a leader (stickiness no longer applies).
    f.raw.step({ type: 'pre-vote-resp', from: a, to: b, term: term + 5, reject: true })
    sim.stabilize()
    expect([f.term, f.lead]).toEqual([term + 5, 0n])
    f.raw.step({ type: 'vote', from: a, to: b, term: term + 6, index: 100, logTerm: term + 6, transfer: false })
    sim.stabilize()
    expect(f.sent.filter((m) => m.type === 'vote-resp' && m.to === a && m.term === term + 6)).toEqual([])
  })
})
