import { describe, expect, it } from 'vitest'
import { MemoryRaftStorage, RawNode, emptyConfState } from '../src/index.ts'
import type { Ready, RawNodeInit } from '../src/index.ts'
import { ScriptedRandom, TestRandom } from './helpers/seeded-random.ts'

const enc = new TextEncoder()

function node(init: Partial<RawNodeInit> = {}): { n: RawNode; s: MemoryRaftStorage } {
  const s = new MemoryRaftStorage()
  return { n: new RawNode({ id: 1n, storage: s, random: new TestRandom(1), ...init }), s }
}

/** Persists and applies one Ready the documented way. */
function handle(n: RawNode, s: MemoryRaftStorage): Ready {
  const rd = n.ready()
  if (rd.snapshot !== undefined) s.applySnapshot(rd.snapshot)
  s.append(rd.entries)
  if (rd.hardState !== undefined) s.setHardState(rd.hardState)
  for (const e of rd.committedEntries) if (e.type === 'conf-change') n.applyConfChange({ version: 1, type: 'add-voter', nodeId: 1n, context: new Uint8Array() })
  n.advance(rd)
  return rd
}

describe('RawNode configuration', () => {
  it('rejects bad options naming the field', () => {
    const s = new MemoryRaftStorage()
    const r = new TestRandom(1)
    const bad: Array<[Partial<RawNodeInit>, string]> = [
      [{ id: 0n }, 'id'],
      [{ id: 1n << 64n }, 'id'],
      [{ electionTick: 0 }, 'electionTick'],
      [{ electionTick: 1, heartbeatTick: 1 }, 'electionTick'],
      [{ heartbeatTick: 1.5 }, 'heartbeatTick'],
      [{ maxInflightMsgs: 0 }, 'maxInflightMsgs'],
      [{ maxSizePerMsg: -1 }, 'maxSizePerMsg'],
      [{ readOnlyOption: 'lease-based', checkQuorum: false }, 'readOnlyOption'],
      [{ applied: -1 }, 'applied'],
    ]
    for (const [opts, field] of bad) {
      expect(() => new RawNode({ id: 1n, storage: s, random: r, ...opts })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
    }
  })

  it('bootstrap refuses an empty peer list and a non-empty storage', () => {
    const { n, s } = node()
    expect(() => n.bootstrap([])).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'peers' }))
    n.bootstrap([{ id: 1n }])
    handle(n, s)
    const again = new RawNode({ id: 1n, storage: s, random: new TestRandom(2) })
    expect(() => again.bootstrap([{ id: 1n }])).toThrow(expect.objectContaining({ name: 'FailedPreconditionError' }))
  })

  it('draws the election timeout from [electionTick, 2·electionTick) with the injected Random', () => {
    for (const [draw, ticks] of [[0, 10], [9, 19], [4, 14]] as const) {
      const { n, s } = node({ random: new ScriptedRandom([0, draw]), preVote: false })
      n.bootstrap([{ id: 1n }, { id: 2n }])
      handle(n, s)
      let t = 0
      while (n.status().softState.state === 'follower') {
        n.tick()
        t++
      }
      expect(t).toBe(ticks)
    }
  })
})

describe('RawNode Ready protocol', () => {
  it('hands out bootstrap entries, hard state and soft state, then nothing', () => {
    const { n, s } = node()
    expect(n.hasReady()).toBe(false)
    n.bootstrap([{ id: 1n }, { id: 2n }])
    expect(n.hasReady()).toBe(true)
    const rd = handle(n, s)
    expect(rd.entries.map((e) => [e.index, e.term, e.type])).toEqual([[1, 1, 'conf-change'], [2, 1, 'conf-change']])
    expect(rd.committedEntries.length).toBe(2)
    expect(rd.hardState).toEqual({ term: 1, vote: 0n, commit: 2 })
    expect(rd.softState).toBeUndefined()
    expect(rd.mustSync).toBe(true)
    expect(n.hasReady()).toBe(false)
    expect(n.status()).toMatchObject({ id: 1n, applied: 2, lastIndex: 2, config: { ...emptyConfState(), voters: [1n, 2n] } })
  })

  it('mustSync is false when only the commit index changes', () => {
    const { n, s } = node()
    n.bootstrap([{ id: 1n }, { id: 2n }])
    handle(n, s)
    n.campaign()
    let rd = handle(n, s)
    expect(rd.softState).toEqual({ lead: 0n, state: 'pre-candidate' })
    expect(rd.mustSync).toBe(false) // a pre-vote changes neither term nor vote
    expect(rd.messages.map((m) => [m.type, m.to, m.term])).toEqual([['pre-vote', 2n, 2]])
    n.step({ type: 'pre-vote-resp', from: 2n, to: 1n, term: 2, reject: false })
    rd = handle(n, s)
    expect(rd.hardState).toEqual({ term: 2, vote: 1n, commit: 2 })
    expect(rd.mustSync).toBe(true)
    n.step({ type: 'vote-resp', from: 2n, to: 1n, term: 2, reject: false })
    rd = handle(n, s) // leader: appends its empty entry at 3
    expect(rd.softState).toEqual({ lead: 1n, state: 'leader' })
    n.step({ type: 'app-resp', from: 2n, to: 1n, term: 2, index: 3, reject: false, rejectHint: 0, logTerm: 0 })
    rd = handle(n, s)
    expect([rd.hardState, rd.mustSync, rd.entries.length]).toEqual([{ term: 2, vote: 1n, commit: 3 }, false, 0])
  })

  it('refuses local message types from the network and ignores responses from strangers', () => {
    const { n, s } = node()
    n.bootstrap([{ id: 1n }])
    handle(n, s)
    expect(() => n.step({ type: 'unreachable', from: 2n, to: 1n, term: 0 })).toThrow(expect.objectContaining({ name: 'StepLocalMessageError', type: 'unreachable' }))
    n.step({ type: 'vote-resp', from: 9n, to: 1n, term: 5, reject: true })
    expect(n.status().hardState.term).toBe(1)
  })

  it('a single voter answers ReadIndex at once and commits alone', () => {
    const { n, s } = node()
    n.bootstrap([{ id: 1n }])
    handle(n, s)
    n.campaign()
    handle(n, s)
    handle(n, s)
    expect(n.status().softState.state).toBe('leader')
    n.readIndex(enc.encode('q'))
    const rd = handle(n, s)
    expect(rd.readStates).toEqual([{ index: 2, requestCtx: enc.encode('q') }])
  })

  it('a forwarded conf change that does not decode becomes an empty entry', () => {
    const { n, s } = node()
    n.bootstrap([{ id: 1n }])
    handle(n, s)
    n.campaign()
    handle(n, s)
    n.step({ type: 'prop', from: 2n, to: 1n, term: 0, entries: [{ term: 0, index: 0, type: 'conf-change', data: new Uint8Array([9, 9]) }] })
    const rd = handle(n, s)
    expect(rd.entries.map((e) => [e.index, e.type, e.data.byteLength])).toEqual([[3, 'normal', 0]])
  })

  it('restarts from storage with its hard state and configuration', () => {
    const { n, s } = node()
    n.bootstrap([{ id: 1n }])
    handle(n, s)
    n.campaign()
    handle(n, s)
    n.propose(enc.encode('x'))
    handle(n, s)
    handle(n, s)
    s.createSnapshot(2, { ...emptyConfState(), voters: [1n] }, new Uint8Array())
    const again = new RawNode({ id: 1n, storage: s, random: new TestRandom(3), applied: 2 })
    expect(again.status()).toMatchObject({ hardState: { term: 2, vote: 1n, commit: 3 }, applied: 2, lastIndex: 3, softState: { state: 'follower', lead: 0n } })
    const rd = again.ready()
    expect(rd.committedEntries.map((e) => [e.index, new TextDecoder().decode(e.data)])).toEqual([[3, 'x']])
    expect(rd.hardState).toBeUndefined()
  })
})
