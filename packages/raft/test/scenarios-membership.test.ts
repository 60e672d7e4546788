/**
 * Acceptance scenarios of raft-anchors.md §5 about leadership transfer, membership and
 * snapshots (17–23, 29).
 */
import { describe, expect, it } from 'vitest'
import { leaveJointConfChange } from '../src/index.ts'
import type { AnyConfChange, ConfChangeType } from '../src/index.ts'
import { Sim } from './helpers/sim.ts'

const ET = 10
const enc = new TextEncoder()
const none = new Uint8Array(0)

function v1(type: ConfChangeType, nodeId: bigint): AnyConfChange {
  return { version: 1, type, nodeId, context: none }
}

describe('§5 leadership transfer', () => {
  it('17. transfer to an up-to-date follower: new leader at term + 1; proposals during the transfer are dropped', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    sim.delivered = []
    sim.node(1n).raw.transferLeadership(2n)
    expect(sim.node(1n).status.leadTransferee).toBe(2n)
    expect(() => sim.node(1n).raw.propose(enc.encode('x'))).toThrow(expect.objectContaining({ name: 'ProposalDroppedError', reason: 'transfer-in-progress' }))
    sim.stabilize()
    expect(sim.leader()?.id).toBe(2n)
    expect([sim.node(1n).state, sim.node(1n).term, sim.node(1n).lead]).toEqual(['follower', 3, 2n])
    const votes = sim.delivered.filter((m) => m.type === 'vote')
    expect(votes.map((m) => [m.from, m.to, m.term, m.type === 'vote' && m.transfer])).toEqual([[2n, 1n, 3, true], [2n, 3n, 3, true]])
  })

  it('18. transfer to a lagging follower: it is caught up first, then takes over', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    const iso = sim.isolate(3n)
    sim.propose(1n, 'a')
    sim.propose(1n, 'b')
    sim.recover(iso)
    sim.delivered = []
    sim.node(1n).raw.transferLeadership(3n)
    sim.stabilize()
    expect(sim.leader()?.id).toBe(3n)
    expect(sim.node(3n).term).toBe(3)
    const kinds = sim.delivered.filter((m) => m.from === 1n && m.to === 3n).map((m) => m.type)
    expect(kinds.indexOf('timeout-now')).toBeGreaterThan(kinds.indexOf('app'))
    expect(sim.node(3n).appliedData()).toEqual(['a', 'b'])
  })

  it('18. transfer to a follower that needs a snapshot', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    const iso = sim.isolate(3n)
    sim.propose(1n, 'a')
    sim.propose(1n, 'b')
    sim.compact(1n)
    sim.recover(iso)
    sim.delivered = []
    sim.node(1n).raw.transferLeadership(3n)
    sim.stabilize()
    expect(sim.delivered.filter((m) => m.type === 'snapshot').map((m) => [m.from, m.to])).toEqual([[1n, 3n]])
    expect(sim.leader()?.id).toBe(3n)
    expect(sim.node(3n).appliedData()).toEqual(['a', 'b'])
  })

  it('18. transfer to an unreachable follower aborts after ET; self or non-member transfers do nothing', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    sim.isolate(3n)
    const l = sim.node(1n)
    l.raw.transferLeadership(3n)
    sim.tick(ET - 1, [1n])
    expect(() => l.raw.propose(enc.encode('x'))).toThrow(expect.objectContaining({ reason: 'transfer-in-progress' }))
    sim.tick(1, [1n])
    expect(l.status.leadTransferee).toBe(0n)
    sim.propose(1n, 'after-abort')
    expect([l.state, l.term]).toEqual(['leader', 2])
    l.raw.transferLeadership(1n)
    l.raw.transferLeadership(99n)
    expect(l.status.leadTransferee).toBe(0n)
    sim.propose(1n, 'still-leader')
    expect(sim.node(2n).appliedData()).toEqual(['after-abort', 'still-leader'])
  })
})

describe('§5 membership', () => {
  it('19. a learner catches up by snapshot, never counts toward quorum, then is promoted on apply', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    sim.propose(1n, 'a')
    const leader = sim.node(1n).raw
    leader.proposeConfChange(v1('add-learner', 4n))
    sim.stabilize()
    expect(sim.node(2n).status.config).toMatchObject({ voters: [1n, 2n, 3n], learners: [4n] })
    sim.compact(1n)
    const n4 = sim.addNode(4n)
    sim.tick(1)
    expect(sim.delivered.filter((m) => m.type === 'snapshot').map((m) => m.to)).toEqual([4n])
    expect(n4.appliedData()).toEqual(['a'])
    // Learner acks do not make a quorum.
    const p = sim.partition([2n, 3n])
    sim.propose(1n, 'b')
    expect(n4.log().at(-1)).toEqual([7, 2, 'b'])
    expect(sim.node(1n).commit).toBe(6)
    // A learner never campaigns.
    sim.isolate(4n)
    sim.tick(5 * ET, [4n])
    expect([n4.state, n4.term]).toEqual(['follower', 2])
    sim.recover()
    sim.tick(1)
    expect(sim.node(1n).commit).toBe(7)
    // Promotion takes effect when applied, not when proposed.
    leader.proposeConfChange(v1('add-voter', 4n))
    sim.processReady(1n)
    expect(sim.node(1n).status.config.voters).toEqual([1n, 2n, 3n])
    // A second change while one is pending becomes an empty entry.
    leader.proposeConfChange(v1('add-learner', 5n))
    sim.processReady(1n)
    expect(sim.node(1n).log().slice(-2)).toEqual([[8, 2, 'cc'], [9, 2, '']])
    sim.stabilize()
    for (const id of [1n, 2n, 3n, 4n]) expect(sim.node(id).status.config).toMatchObject({ voters: [1n, 2n, 3n, 4n], learners: [] })
    sim.recover(p)
  })

  it('19. a member added after the leader’s latest snapshot still catches up from it', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    sim.propose(1n, 'a')
    sim.compact(1n) // snapshot at 5: configuration {1,2,3}
    const n4 = sim.addNode(4n)
    sim.node(1n).raw.proposeConfChange(v1('add-learner', 4n))
    sim.stabilize()
    expect(sim.delivered.filter((m) => m.type === 'snapshot').map((m) => [m.to, m.type === 'snapshot' && m.snapshot.metadata.index])).toEqual([[4n, 5]])
    expect(n4.appliedData()).toEqual(['a'])
    expect(n4.status.config).toMatchObject({ voters: [1n, 2n, 3n], learners: [4n] })
    expect(sim.node(1n).status.progress.get(4n)).toMatchObject({ match: 6, state: 'replicate' })
  })

  it('20. removing the leader (V1): pending entries commit by the remaining voters only; the removed node stays out', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n], options: { maxSizePerMsg: 0 } })
    sim.campaign(1n)
    const l = sim.node(1n)
    l.raw.proposeConfChange(v1('remove', 1n))
    l.raw.propose(enc.encode('foo'))
    const holdFoo = sim.drop((m) => m.type === 'app' && m.entries.some((e) => e.index === 6))
    sim.stabilize()
    expect([l.state, l.commit, l.status.config.voters]).toEqual(['leader', 5, [2n, 3n]])
    sim.recover(holdFoo)
    const not3 = sim.drop((m) => m.type === 'app' && m.to === 3n)
    sim.tick(1, [1n])
    expect(sim.node(2n).log().at(-1)).toEqual([6, 2, 'foo'])
    expect(l.commit).toBe(5) // 1 and 2 hold it, but 1 no longer counts
    sim.recover(not3)
    sim.tick(1, [1n])
    expect(l.commit).toBe(6)
    expect(sim.node(3n).appliedData()).toEqual(['foo'])
    expect(() => l.raw.propose(enc.encode('bar'))).toThrow(expect.objectContaining({ reason: 'not-member' }))
    sim.isolate(1n)
    sim.tick(5 * ET)
    expect([l.state, l.term]).toEqual(['follower', 2])
    const nl = sim.leader()
    expect(nl === undefined ? undefined : [nl.id === 2n || nl.id === 3n, nl.term]).toEqual([true, 3])
  })

  it('20. with stepDownOnRemoval the removed leader steps down when the removal applies', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n], options: { stepDownOnRemoval: true } })
    sim.campaign(1n)
    sim.node(1n).raw.proposeConfChange(v1('remove', 1n))
    sim.stabilize()
    expect([sim.node(1n).state, sim.node(1n).lead]).toEqual(['follower', 0n])
    const nl = sim.electLeader()
    expect([nl.id === 2n || nl.id === 3n, nl.term]).toEqual([true, 3])
  })

  it('21. joint consensus replaces {1,2,3} with {2,3,4}: both majorities needed, transfer while joint, explicit leave', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    sim.propose(1n, 'a')
    const n4 = sim.addNode(4n)
    sim.node(1n).raw.proposeConfChange({ version: 2, transition: 'explicit-joint', changes: [{ type: 'add-voter', nodeId: 4n }, { type: 'remove', nodeId: 1n }], context: none })
    sim.stabilize()
    const joint = { voters: [2n, 3n, 4n], votersOutgoing: [1n, 2n, 3n], learners: [], learnersNext: [], autoLeave: false }
    for (const id of [1n, 2n, 3n, 4n]) expect(sim.node(id).status.config).toEqual(joint)
    expect(n4.appliedData()).toEqual(['a'])
    // {1,2} is a majority of the outgoing config only: no commit.
    const p = sim.partition([3n, 4n])
    sim.propose(1n, 'b')
    expect(sim.node(2n).log().at(-1)).toEqual([7, 2, 'b'])
    expect(sim.node(1n).commit).toBe(6)
    sim.recover(p)
    sim.tick(1, [1n])
    expect(sim.node(1n).commit).toBe(7)
    // Hand leadership to 4 while joint; it needs votes from both configs.
    sim.node(1n).raw.transferLeadership(4n)
    sim.stabilize()
    expect([sim.leader()?.id, n4.term]).toEqual([4n, 3])
    n4.raw.proposeConfChange(leaveJointConfChange())
    sim.stabilize()
    const final = { voters: [2n, 3n, 4n], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false }
    for (const id of [1n, 2n, 3n, 4n]) expect(sim.node(id).status.config).toEqual(final)
    sim.node(1n).raw.campaign()
    sim.tick(5 * ET)
    expect([sim.node(1n).state, sim.leader()?.id, n4.term]).toEqual(['follower', 4n, 3])
  })

  it('21. joint consensus with auto leave: the leader leaves the joint config by itself', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n], options: { stepDownOnRemoval: true } })
    sim.campaign(1n)
    sim.addNode(4n)
    sim.node(1n).raw.proposeConfChange({ version: 2, transition: 'auto', changes: [{ type: 'add-voter', nodeId: 4n }, { type: 'remove', nodeId: 1n }], context: none })
    sim.stabilize()
    const final = { voters: [2n, 3n, 4n], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false }
    for (const id of [2n, 3n, 4n]) expect(sim.node(id).status.config).toEqual(final)
    expect(sim.node(4n).log().slice(-2)).toEqual([[5, 2, 'cc'], [6, 2, 'cc']])
    expect(sim.node(1n).state).toBe('follower')
    const nl = sim.electLeader()
    expect([[2n, 3n, 4n].includes(nl.id), nl.term]).toEqual([true, 3])
  })

  it('22. a conf change that lowers the quorum unblocks pending entries', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n, 4n], options: { maxSizePerMsg: 0 } })
    sim.campaign(1n)
    sim.crash(4n)
    const l = sim.node(1n)
    l.raw.proposeConfChange(v1('remove', 4n)) // index 6
    l.raw.propose(enc.encode('x')) // index 7, never reaches 3
    sim.drop((m) => m.type === 'app' && m.to === 3n && m.entries.some((e) => e.index === 7))
    const seen: Array<[number, number]> = []
    for (let i = 0; i < 20; i++) {
      const a = sim.processAllReady()
      seen.push([l.commit, l.status.config.voters.length])
      const b = sim.deliverAll()
      seen.push([l.commit, l.status.config.voters.length])
      if (!a && !b) break
    }
    expect(seen).toContainEqual([6, 4]) // 7 was on 1 and 2 only: 2 of 4
    expect(seen).not.toContainEqual([7, 4])
    expect(seen.at(-1)).toEqual([7, 3]) // 2 of 3 after the removal applied
    expect(sim.node(2n).appliedData()).toEqual(['x'])
    expect(sim.node(3n).status.lastIndex).toBe(6)
  })
})

describe('§5 snapshots', () => {
  it('23. a lagging follower is restored from a snapshot: probe → snapshot → replicate', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    const iso = sim.isolate(3n)
    for (const v of ['a', 'b', 'c']) sim.propose(1n, v)
    sim.compact(1n)
    sim.compact(2n)
    sim.recover(iso)
    const states: string[] = []
    const record = (): void => {
      const s = sim.node(1n).status.progress.get(3n)?.state ?? '?'
      if (states.at(-1) !== s) states.push(s)
    }
    record()
    sim.node(1n).raw.tick()
    for (let i = 0; i < 20; i++) {
      const a = sim.processAllReady()
      record()
      const b = sim.deliverAll()
      record()
      if (!a && !b) break
    }
    expect(states).toEqual(['replicate', 'snapshot', 'probe', 'replicate'])
    expect(sim.node(3n).appliedData()).toEqual(['a', 'b', 'c'])
    expect(sim.node(3n).storage.snapshot().metadata.index).toBe(7)
    expect(sim.node(1n).status.progress.get(3n)).toMatchObject({ match: 7, next: 8, state: 'replicate' })
    sim.propose(1n, 'd')
    expect(sim.node(3n).appliedData()).toEqual(['a', 'b', 'c', 'd'])
  })

  it('23. a failed snapshot (reportSnapshot false) is retried after a heartbeat', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    const iso = sim.isolate(3n)
    sim.propose(1n, 'a')
    sim.compact(1n)
    sim.recover(iso)
    sim.reportSnapshots = false
    let dropped = 0
    sim.drop((m) => m.type === 'snapshot' && dropped++ === 0)
    sim.tick(1, [1n])
    expect(sim.node(1n).status.progress.get(3n)?.state).toBe('snapshot')
    sim.node(1n).raw.reportSnapshot(3n, false)
    expect(sim.node(1n).status.progress.get(3n)).toMatchObject({ state: 'probe', paused: true })
    sim.tick(1, [1n])
    expect(sim.node(1n).sent.filter((m) => m.type === 'snapshot').length).toBe(2)
    expect(sim.node(3n).appliedData()).toEqual(['a'])
  })

  it('23. a snapshot older than the follower’s commit index is ignored', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    sim.propose(1n, 'a')
    sim.compact(1n, 4)
    const f = sim.node(2n)
    f.raw.step({ type: 'snapshot', from: 1n, to: 2n, term: 2, snapshot: sim.node(1n).storage.snapshot() })
    const rd = f.raw.ready()
    expect(rd.snapshot).toBeUndefined()
    expect(rd.messages).toEqual([{ type: 'app-resp', from: 2n, to: 1n, term: 2, index: 5, reject: false, rejectHint: 0, logTerm: 0 }])
    f.raw.advance(rd)
    expect(f.status.lastIndex).toBe(5)
  })
})

describe('§5 identifiers', () => {
  it('29. 64-bit member ids elect, replicate, snapshot and reconfigure exactly', () => {
    const A = (1n << 63n) - 1n
    const B = (1n << 62n) + 12345n
    const C = (1n << 64n) - 1n
    const D = (1n << 53n) + 1n
    const sim = new Sim({ ids: [A, B, C] })
    sim.campaign(A)
    expect(sim.leader()?.id).toBe(A)
    sim.propose(B, 'x')
    for (const id of [A, B, C]) expect(sim.node(id).lead).toBe(A)
    sim.node(A).raw.proposeConfChange(v1('add-learner', D))
    sim.stabilize()
    sim.compact(A)
    sim.addNode(D)
    sim.tick(1)
    expect(sim.node(D).appliedData()).toEqual(['x'])
    expect(sim.node(D).status.config).toMatchObject({ voters: [B, A, C], learners: [D] })
    sim.node(A).raw.proposeConfChange(v1('add-voter', D))
    sim.stabilize()
    sim.node(A).raw.proposeConfChange(v1('remove', B))
    sim.stabilize()
    expect(sim.node(C).status.config.voters).toEqual([D, A, C])
    sim.node(A).raw.transferLeadership(C)
    sim.stabilize()
    expect(sim.leader()?.id).toBe(C)
    expect(sim.node(D).lead).toBe(C)
    expect(new Set(sim.delivered.map((m) => m.from))).toEqual(new Set([A, B, C, D]))
  })
})
