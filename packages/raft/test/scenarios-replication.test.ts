/**
 * Acceptance scenarios of raft-anchors.md §5 about replication mechanics (24 single node,
 * 26–28).
 */
import { describe, expect, it } from 'vitest'
import { MemoryRaftStorage, RawNode, entrySize } from '../src/index.ts'
import type { AppMessage, Message } from '../src/index.ts'
import { TestRandom } from './helpers/seeded-random.ts'
import { Sim } from './helpers/sim.ts'

const enc = new TextEncoder()

describe('§5 replication', () => {
  it('24. a single voter never reports an entry committed before it is persisted', () => {
    const storage = new MemoryRaftStorage()
    const n = new RawNode({ id: 1n, storage, random: new TestRandom(1) })
    n.bootstrap([{ id: 1n }])
    const persist = (): ReturnType<RawNode['ready']> => {
      const rd = n.ready()
      storage.append(rd.entries)
      if (rd.hardState !== undefined) storage.setHardState(rd.hardState)
      for (const e of rd.committedEntries) if (e.type === 'conf-change') n.applyConfChange({ version: 1, type: 'add-voter', nodeId: 1n, context: new Uint8Array() })
      return rd
    }
    n.advance(persist())
    n.campaign()
    n.advance(persist()) // becomes leader, appends its empty entry (index 2)
    n.propose(enc.encode('x'))
    const rd = persist()
    // The entry is handed out for persisting, but is not yet committed.
    expect(rd.entries.map((e) => e.index)).toEqual([3])
    expect(rd.committedEntries.map((e) => e.index)).toEqual([2])
    expect(rd.hardState?.commit).toBe(2)
    n.advance(rd) // persisted: the leader's own acknowledgement now counts
    const rd2 = persist()
    expect(rd2.entries).toEqual([])
    expect(rd2.committedEntries.map((e) => [e.index, new TextDecoder().decode(e.data)])).toEqual([[3, 'x']])
    expect(rd2.hardState).toEqual({ term: 2, vote: 1n, commit: 3 })
    n.advance(rd2)
    expect(n.hasReady()).toBe(false)
  })

  it('24. a restart from snapshot plus log reproduces the applied state exactly', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    for (const v of ['a', 'b', 'c']) sim.propose(1n, v)
    sim.compact(2n)
    sim.propose(1n, 'd')
    const before = [...sim.node(2n).applied.values()]
    sim.crash(2n)
    sim.restart(2n)
    expect([...sim.node(2n).applied.values()]).toEqual(before)
    expect(sim.node(2n).appliedData()).toEqual(['a', 'b', 'c', 'd'])
  })

  it('26. duplicated and reordered messages never regress match or commit; old terms are ignored', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    sim.propose(1n, 'a')
    const leader = sim.node(1n)
    // A stale (duplicate) acknowledgement does not move match back.
    leader.raw.step({ type: 'app-resp', from: 2n, to: 1n, term: 2, index: 3, reject: false, rejectHint: 0, logTerm: 0 })
    expect(leader.status.progress.get(2n)?.match).toBe(5)
    // A stale rejection is ignored too.
    leader.raw.step({ type: 'app-resp', from: 2n, to: 1n, term: 2, index: 2, reject: true, rejectHint: 2, logTerm: 1 })
    expect(leader.status.progress.get(2n)).toMatchObject({ match: 5, next: 6, state: 'replicate' })
    // An old append delivered late to a follower does not truncate or un-commit anything.
    const f = sim.node(3n)
    const late: AppMessage = { type: 'app', from: 1n, to: 3n, term: 2, index: 3, logTerm: 1, entries: [{ term: 2, index: 4, type: 'normal', data: new Uint8Array() }], commit: 3 }
    f.raw.step(late)
    sim.stabilize()
    expect([f.status.lastIndex, f.commit]).toEqual([5, 5])
    // A message from an older term is not applied, and its sender is told the newer term.
    f.raw.step({ ...late, term: 1, index: 5, logTerm: 2, entries: [{ term: 1, index: 6, type: 'normal', data: enc.encode('old') }] })
    sim.processReady(3n)
    expect(f.status.lastIndex).toBe(5)
    expect(f.sent.at(-1)).toEqual({ type: 'app-resp', from: 3n, to: 1n, term: 2, index: 0, reject: false, rejectHint: 0, logTerm: 0 })
  })

  it('26. random duplication and reordering keep every invariant and converge', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    const rnd = new TestRandom(42)
    const held: Message[] = []
    let lastMatch = 0
    for (let i = 0; i < 60; i++) {
      if (i % 3 === 0) sim.node(1n).raw.propose(enc.encode(`v${i}`))
      sim.processAllReady()
      const batch = [...sim.queue, ...held.splice(0)]
      sim.queue = []
      for (let k = batch.length - 1; k > 0; k--) {
        const j = rnd.int(k + 1)
        ;[batch[k], batch[j]] = [batch[j] as Message, batch[k] as Message]
      }
      for (const m of batch) {
        if (rnd.float() < 0.2) held.push(m) // delay to a later round
        else sim.deliver(m)
        if (rnd.float() < 0.3) sim.deliver(m) // duplicate
      }
      const match = sim.node(1n).status.progress.get(2n)?.match ?? 0
      expect(match).toBeGreaterThanOrEqual(lastMatch)
      lastMatch = match
      sim.checker.check(sim, true)
    }
    for (const m of held) sim.deliver(m)
    sim.tick(3)
    expect(sim.leader()?.id).toBe(1n)
    const want = Array.from({ length: 20 }, (_, k) => `v${k * 3}`)
    for (const id of [1n, 2n, 3n]) expect(sim.node(id).appliedData()).toEqual(want)
  })

  it('27. flow control: at most maxInflightMsgs unacknowledged appends; a heartbeat response resumes the stream', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n], options: { maxInflightMsgs: 3 } })
    sim.campaign(1n)
    const noAcks = sim.drop((m) => m.type === 'app-resp' && m.from === 2n)
    sim.delivered = []
    for (let i = 0; i < 10; i++) sim.node(1n).raw.propose(enc.encode(`e${i}`))
    sim.stabilize()
    const toTwo = sim.delivered.filter((m) => m.type === 'app' && m.to === 2n && m.entries.length > 0)
    expect(toTwo.length).toBe(3)
    expect(sim.node(1n).status.progress.get(2n)).toMatchObject({ state: 'replicate', inflight: 3, paused: true, match: 4 })
    expect(sim.node(2n).status.lastIndex).toBe(7)
    sim.recover(noAcks)
    sim.tick(1, [1n])
    expect(sim.node(2n).status.lastIndex).toBe(14)
    expect(sim.node(1n).status.progress.get(2n)).toMatchObject({ state: 'replicate', match: 14, inflight: 0, paused: false })
  })

  it('27. flow control: each append respects maxSizePerMsg unless a single entry is larger', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n], options: { maxSizePerMsg: 100 } })
    sim.campaign(1n)
    const iso = sim.isolate(2n)
    for (let i = 0; i < 6; i++) sim.propose(1n, 'x'.repeat(30)) // 46 bytes each with overhead
    sim.propose(1n, 'y'.repeat(500))
    sim.propose(1n, 'z')
    sim.recover(iso)
    sim.delivered = []
    sim.tick(2)
    const apps = sim.delivered.filter((m): m is AppMessage => m.type === 'app' && m.to === 2n && m.entries.length > 0)
    expect(apps.map((m) => m.entries.length)).toEqual([2, 2, 2, 1, 1])
    for (const m of apps) {
      const size = m.entries.reduce((s, e) => s + entrySize(e), 0)
      expect(size <= 100 || m.entries.length === 1).toBe(true)
    }
    expect(sim.node(2n).appliedData().length).toBe(8)
  })

  it('27. proposals fail fast once maxUncommittedEntriesSize is exceeded', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n], options: { maxUncommittedEntriesSize: 100 } })
    sim.campaign(1n)
    const iso = sim.partition([1n])
    sim.propose(1n, 'a'.repeat(60))
    expect(() => sim.node(1n).raw.propose(enc.encode('b'.repeat(60)))).toThrow(
      expect.objectContaining({ name: 'ProposalDroppedError', reason: 'uncommitted-limit' }),
    )
    sim.recover(iso)
    sim.tick(1)
    expect(sim.node(1n).appliedData()).toEqual(['a'.repeat(60)])
    sim.propose(1n, 'c'.repeat(60))
    expect(sim.node(2n).appliedData()).toEqual(['a'.repeat(60), 'c'.repeat(60)])
  })

  it('28. proposal forwarding: a follower’s proposal commits; disabled forwarding or no leader drops it', () => {
    const perNode = new Map([[3n, { disableProposalForwarding: true }]])
    const sim = new Sim({ ids: [1n, 2n, 3n], perNode })
    expect(() => sim.node(2n).raw.propose(enc.encode('early'))).toThrow(expect.objectContaining({ name: 'ProposalDroppedError', reason: 'no-leader' }))
    sim.campaign(1n)
    sim.propose(2n, 'via-follower')
    for (const id of [1n, 2n, 3n]) expect(sim.node(id).appliedData()).toEqual(['via-follower'])
    expect(() => sim.node(3n).raw.propose(enc.encode('x'))).toThrow(expect.objectContaining({ name: 'ProposalDroppedError', reason: 'forwarding-disabled' }))
    sim.isolate(2n)
    sim.node(2n).raw.campaign()
    sim.stabilize()
    expect(() => sim.node(2n).raw.propose(enc.encode('y'))).toThrow(expect.objectContaining({ name: 'ProposalDroppedError', reason: 'candidate' }))
  })
})
