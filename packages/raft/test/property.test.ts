/**
 * Random schedules of ticks, proposals, message loss, partitions, crashes/restarts, leadership
 * transfers and compactions over 3 and 5 nodes. The simulator checks after every step: at most
 * one leader per term, one vote per term per node, log matching, leader completeness and
 * state-machine safety. After healing, the cluster must elect a leader and commit again.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { leaveJointConfChange } from '../src/index.ts'
import type { AnyConfChange } from '../src/index.ts'
import { TestRandom } from './helpers/seeded-random.ts'
import { Sim } from './helpers/sim.ts'
import type { SimNode } from './helpers/sim.ts'

type Action =
  | { kind: 'tick'; n: number }
  | { kind: 'tick-one'; node: number; n: number }
  | { kind: 'propose'; node: number }
  | { kind: 'partition'; mask: number }
  | { kind: 'heal' }
  | { kind: 'lossy'; percent: number }
  | { kind: 'crash'; node: number }
  | { kind: 'restart'; node: number }
  | { kind: 'transfer'; node: number; to: number }
  | { kind: 'compact'; node: number }
  | { kind: 'campaign'; node: number }
  | { kind: 'conf'; node: number; transition: 'auto' | 'explicit-joint' | 'implicit-joint'; changes: Array<{ type: 'add-voter' | 'add-learner' | 'remove'; id: number }> }
  | { kind: 'leave-joint'; node: number }

function actionArb(size: number, membership = false): fc.Arbitrary<Action> {
  const node = fc.integer({ min: 0, max: size - 1 })
  const change = fc.record({ type: fc.constantFrom('add-voter' as const, 'add-learner' as const, 'remove' as const), id: node })
  const conf: Array<fc.WeightedArbitrary<Action>> = membership
    ? [
        { weight: 4, arbitrary: fc.record({ kind: fc.constant('conf' as const), node, transition: fc.constantFrom('auto' as const, 'explicit-joint' as const, 'implicit-joint' as const), changes: fc.array(change, { minLength: 1, maxLength: 3 }) }) },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('leave-joint' as const), node }) },
      ]
    : []
  return fc.oneof(
    ...conf,
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('tick' as const), n: fc.integer({ min: 1, max: 12 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick-one' as const), node, n: fc.integer({ min: 1, max: 25 }) }) },
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('propose' as const), node }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('partition' as const), mask: fc.integer({ min: 1, max: (1 << size) - 2 }) }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'heal' as const }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('lossy' as const), percent: fc.integer({ min: 0, max: 50 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), node }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('restart' as const), node }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('transfer' as const), node, to: node }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), node }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('campaign' as const), node }) },
  )
}

const enc = new TextEncoder()

function run(size: number, seed: number, actions: Action[], voters = size): void {
  const ids = Array.from({ length: size }, (_, i) => BigInt(i + 1))
  const sim = new Sim({ ids: ids.slice(0, voters), options: { random: new TestRandom(seed), stepDownOnRemoval: true } })
  // Members beyond the initial voters start empty and wait to be added.
  for (const extra of ids.slice(voters)) sim.addNode(extra, { random: new TestRandom(seed + Number(extra)), stepDownOnRemoval: true })
  // One shared generator for all election timeouts (draws interleave, so timeouts differ) and one for loss.
  const loss = new TestRandom(seed ^ 0x5bd1e995)
  let lossPercent = 0
  sim.drop(() => lossPercent > 0 && loss.int(100) < lossPercent)
  let next = 0
  const id = (i: number): bigint => ids[i] as bigint
  for (const a of actions) {
    switch (a.kind) {
      case 'tick':
        sim.tick(a.n)
        break
      case 'tick-one':
        sim.tick(a.n, [id(a.node)])
        break
      case 'propose': {
        const n = sim.node(id(a.node))
        if (!n.alive) break
        try {
          n.raw.propose(enc.encode(`p${next++}`))
        } catch (err) {
          expect(err).toMatchObject({ name: 'ProposalDroppedError' })
        }
        sim.stabilize()
        break
      }
      case 'partition': {
        sim.recover()
        sim.drop(() => lossPercent > 0 && loss.int(100) < lossPercent)
        sim.partition(ids.filter((_, i) => (a.mask & (1 << i)) !== 0))
        break
      }
      case 'heal':
        sim.recover()
        sim.drop(() => lossPercent > 0 && loss.int(100) < lossPercent)
        break
      case 'lossy':
        lossPercent = a.percent
        break
      case 'crash':
        if ([...sim.nodes.values()].filter((n) => !n.alive).length < Math.floor((size - 1) / 2)) sim.crash(id(a.node))
        break
      case 'restart':
        if (!sim.node(id(a.node)).alive) sim.restart(id(a.node))
        break
      case 'transfer':
        if (sim.node(id(a.node)).alive) sim.node(id(a.node)).raw.transferLeadership(id(a.to))
        sim.stabilize()
        break
      case 'compact': {
        const n = sim.node(id(a.node))
        if (n.alive && n.appliedIndex > n.storage.firstIndex()) sim.compact(n.id)
        break
      }
      case 'campaign':
        if (sim.node(id(a.node)).alive) sim.campaign(id(a.node))
        break
      case 'conf':
      case 'leave-joint': {
        // Usually through the leader (so that changes happen), sometimes forwarded.
        const n = a.node % 2 === 0 ? (sim.leader() ?? sim.node(id(a.node))) : sim.node(id(a.node))
        if (!n.alive) break
        const cc: AnyConfChange =
          a.kind === 'leave-joint'
            ? leaveJointConfChange()
            : { version: 2, transition: a.transition, changes: a.changes.map((c) => ({ type: c.type, nodeId: id(c.id) })), context: new Uint8Array(0) }
        try {
          n.raw.proposeConfChange(cc)
        } catch (err) {
          expect(err).toMatchObject({ name: 'ProposalDroppedError' })
        }
        sim.stabilize()
        break
      }
    }
  }
  // Heal everything: a leader must emerge and new proposals must commit everywhere.
  lossPercent = 0
  sim.recover()
  for (const i of ids) if (!sim.node(i).alive) sim.restart(i)
  // A leader that is a voter of its own configuration, followed by every member of it.
  const membersOf = (l: SimNode): bigint[] => {
    const c = l.status.config
    return ids.filter((i) => [...c.voters, ...c.votersOutgoing, ...c.learners].includes(i))
  }
  const stable = (): SimNode | undefined => {
    const l = sim.leader()
    if (l === undefined || !l.status.config.voters.concat(l.status.config.votersOutgoing).includes(l.id)) return undefined
    return membersOf(l).every((i) => sim.node(i).lead === l.id) ? l : undefined
  }
  let leader = stable()
  for (let t = 0; t < 300 && leader === undefined; t++) {
    sim.tick(1)
    leader = stable()
  }
  if (leader === undefined) throw new Error('no stable leader after healing')
  // A leadership transfer may still be pending: it completes or aborts within an election
  // timeout. While it does, the leader refuses proposals; if it completes, the old leader steps
  // down (and refuses with no-leader until it hears from the new one), so the client proposes to
  // whichever node is the stable leader then.
  const proposeFinal = (first: SimNode): SimNode => {
    let to: SimNode | undefined = first
    for (let t = 0; ; t++) {
      if (to !== undefined) {
        try {
          sim.propose(to.id, 'final')
          return to
        } catch (err) {
          expect(err).toMatchObject({ name: 'ProposalDroppedError' })
          expect(['transfer-in-progress', 'no-leader']).toContain((err as { reason: string }).reason)
        }
      }
      expect(t).toBeLessThan(60)
      sim.tick(1)
      to = stable()
    }
  }
  leader = proposeFinal(leader)
  const members = membersOf(leader)
  // A client whose leader is replaced before its proposal is replicated proposes again on the
  // new leader (the first proposal may be lost: Raft promises nothing for it). At most twice.
  let proposedTo = leader.id
  let retries = 0
  for (let t = 0; t < 50 && members.some((i) => sim.node(i).appliedData().at(-1) !== 'final'); t++) {
    sim.tick(1)
    const now = stable()
    if (now !== undefined && now.id !== proposedTo && retries < 2) {
      proposedTo = proposeFinal(now).id
      retries++
    }
  }
  // Every member has applied the same sequence, ending with the final proposal.
  for (const i of members) expect(sim.node(i).appliedData().at(-1)).toBe('final')
  const applied = members.map((i) => sim.node(i).appliedData())
  for (const a of applied) expect(a).toEqual(applied[0])
}

describe('raft safety under random schedules', () => {
  it('3 nodes: election safety, log matching, state-machine safety, then liveness after healing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.array(actionArb(3), { minLength: 10, maxLength: 60 }), (seed, actions) => run(3, seed, actions)),
      { numRuns: 250 },
    )
  }, 30_000)

  // Traced (2026-11-22): node 3 became leader by transfer, then was cut off from everyone for 9
  // ticks. At the heal every member still named 3 as leader, so the test saw a "stable" leader
  // and proposed there; 3 sent the entry to node 2 only (the others were paused in probe state,
  // their earlier appends lost). On the next tick 3's check-quorum interval ended having heard
  // from node 2 alone, so it stepped down, and node 5, whose election timer ran out on the same
  // tick, won term 4 with the votes of 1 and 4 (their logs, like 5's, end at index 9, and they
  // had not heard from a leader for an election timeout either). The uncommitted entry on 2 and 3
  // was overwritten. This is Raft working as specified, not a bug: the client proposes again.
  it('5 nodes: a leader elected right after healing loses the final proposal; the client proposes again (seed -925867364)', () => {
    run(5, 768616239, [
      { kind: 'tick', n: 5 },
      { kind: 'tick', n: 1 },
      { kind: 'lossy', percent: 22 },
      { kind: 'tick', n: 10 },
      { kind: 'propose', node: 0 },
      { kind: 'tick-one', node: 0, n: 3 },
      { kind: 'restart', node: 0 },
      { kind: 'propose', node: 1 },
      { kind: 'restart', node: 0 },
      { kind: 'restart', node: 0 },
      { kind: 'transfer', node: 0, to: 2 },
      { kind: 'propose', node: 0 },
      { kind: 'propose', node: 0 },
      { kind: 'partition', mask: 4 },
      { kind: 'tick', n: 9 },
    ])
  })

  // CI, 2026-12-07 (fast-check seed 362016607): the stable leader after healing still had a
  // leadership transfer pending and refused the final proposal (transfer-in-progress); a tick
  // later the transfer went through and the old leader stepped down, so it refused again with
  // no-leader. Raft as specified: the harness now proposes to whichever node is the stable
  // leader once the transfer has settled.
  it('membership: the transfer pending at the heal completes while the client waits; it proposes to the new leader', () => {
    run(5, 801034126, [
      { kind: 'lossy', percent: 14 },
      { kind: 'campaign', node: 2 },
      { kind: 'leave-joint', node: 0 },
      { kind: 'tick-one', node: 0, n: 1 },
      { kind: 'restart', node: 0 },
      { kind: 'propose', node: 3 },
      { kind: 'conf', node: 0, transition: 'auto', changes: [{ type: 'add-voter', id: 0 }, { type: 'add-learner', id: 2 }] },
      { kind: 'propose', node: 3 },
      { kind: 'propose', node: 3 },
      { kind: 'transfer', node: 0, to: 1 },
      { kind: 'tick', n: 1 },
      { kind: 'conf', node: 0, transition: 'auto', changes: [{ type: 'add-voter', id: 0 }] },
      { kind: 'restart', node: 0 },
    ], 3)
  })

  it('5 nodes: election safety, log matching, state-machine safety, then liveness after healing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.array(actionArb(5), { minLength: 10, maxLength: 60 }), (seed, actions) => run(5, seed, actions)),
      { numRuns: 120 },
    )
  }, 30_000)

  it('3 voters + 2 spare members with simple and joint membership changes under faults', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.array(actionArb(5, true), { minLength: 10, maxLength: 60 }), (seed, actions) => run(5, seed, actions, 3)),
      { numRuns: 150 },
    )
  }, 30_000)
})
