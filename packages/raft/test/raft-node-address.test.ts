/**
 * RaftNode learns the address of a sender its log has not named yet from the transport's
 * `origin` (e.g. a leader added by a conf change this member has not applied), so that it can
 * answer; the log's addresses win and removed members are not learned again.
 */
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { describe, expect, it } from 'vitest'
import { MemoryRaftStorage, RaftNode } from '../src/index.ts'
import type { Message, MessageOrigin, RaftTransport, RaftTransportHandlers, StateMachine } from '../src/index.ts'
import { flush } from './helpers/driver-cluster.ts'

const nothing: StateMachine = { apply: () => undefined, snapshot: () => new Uint8Array(0), restore: () => {} }

/** A transport that records what the driver asks of it. */
function fakeTransport(): { t: RaftTransport; calls: string[]; deliver: (m: Message, origin?: MessageOrigin) => void } {
  let handlers: RaftTransportHandlers | undefined
  const calls: string[] = []
  const t: RaftTransport = {
    start: (h) => {
      handlers = h
      return Promise.resolve()
    },
    send: (msgs) => {
      for (const m of msgs) calls.push(`send ${m.type} to ${m.to}`)
    },
    addPeer: (id, address) => calls.push(`addPeer ${id} ${address}`),
    removePeer: (id) => calls.push(`removePeer ${id}`),
    stop: () => Promise.resolve(),
  }
  return { t, calls, deliver: (m, origin) => (origin === undefined ? handlers?.message(m) : handlers?.message(m, origin)) }
}

const heartbeat = (from: bigint, term: number): Message => ({ type: 'heartbeat', from, to: 1n, term, commit: 0, context: new Uint8Array(0) })

describe('RaftNode address learning', () => {
  it('answers a sender the log does not name at the address the transport told, and keeps the log address of a known member', async () => {
    const clock = new ManualClock(0)
    const { t, calls, deliver } = fakeTransport()
    const node = new RaftNode({ id: 1n, storage: new MemoryRaftStorage(), transport: t, stateMachine: nothing, clock, random: new SeededRandom(1), tickMs: 10 })
    node.bootstrap([
      { id: 1n, address: 'a1' },
      { id: 2n, address: 'a2' },
    ])
    await node.start()
    await flush()
    expect(calls).toEqual(['addPeer 2 a2'])
    calls.length = 0
    // A leader of a later term, added by a change not applied here yet.
    deliver(heartbeat(9n, 5), { id: 9n, address: 'a9' })
    await flush()
    expect(calls).toEqual(['addPeer 9 a9', 'send heartbeat-resp to 9'])
    calls.length = 0
    // Known from the log: its address stays; an unchanged learned address is not added twice.
    deliver(heartbeat(9n, 5), { id: 9n, address: 'a9' })
    deliver({ type: 'timeout-now', from: 2n, to: 1n, term: 4 }, { id: 2n, address: 'elsewhere' })
    await flush()
    expect(calls.filter((c) => c.startsWith('addPeer'))).toEqual([])
    await node.stop()
  })

  it('never learns a member removed by an applied conf change', async () => {
    const clock = new ManualClock(0)
    const { t, calls, deliver } = fakeTransport()
    const node = new RaftNode({ id: 1n, storage: new MemoryRaftStorage(), transport: t, stateMachine: nothing, clock, random: new SeededRandom(1), tickMs: 10, electionTick: 2 })
    node.bootstrap([
      { id: 1n, address: 'a1' },
      { id: 2n, address: 'a2' },
    ])
    await node.start()
    await flush()
    // Member 1 alone cannot commit without 2: make 2 answer the election and the append.
    node.campaign()
    await flush()
    deliver({ type: 'pre-vote-resp', from: 2n, to: 1n, term: 2, reject: false })
    await flush()
    deliver({ type: 'vote-resp', from: 2n, to: 1n, term: 2, reject: false })
    await flush()
    expect(node.isLeader).toBe(true)
    const removal = node.removeMember(2n)
    await flush()
    deliver({ type: 'app-resp', from: 2n, to: 1n, term: 2, index: node.status().lastIndex, reject: false, rejectHint: 0, logTerm: 0 })
    await removal
    expect(calls).toContain('removePeer 2')
    calls.length = 0
    deliver(heartbeat(2n, 1), { id: 2n, address: 'a2' })
    await flush()
    expect(calls.filter((c) => c.startsWith('addPeer'))).toEqual([])
    await node.stop()
  })
})
