import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { DriverCluster, recordSends } from './helpers/driver-cluster.ts'
import type { DriverMember } from './helpers/driver-cluster.ts'
import { MemoryRaftStorage, RaftNode } from '../src/index.ts'
import type { Message } from '../src/index.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

/** A cluster of three whose members' transports record every message they are handed. */
async function recordingCluster(commitBroadcastDelayMs: number, readOnlyOption: 'safe' | 'lease-based' = 'safe'): Promise<{ c: DriverCluster; sent: Message[]; leader: DriverMember; followers: DriverMember[] }> {
  // Ticks of 1 s: no heartbeat (which carries the commit index too) falls in the short windows below.
  const c = new DriverCluster({ commitBroadcastDelayMs, tickMs: 1000, readOnlyOption })
  const sent: Message[] = []
  recordSends(c.bus, (_from, msgs) => sent.push(...msgs))
  await c.bootstrap([1n, 2n, 3n])
  const leader = await c.waitLeader(60_000)
  // Let the election's own entry reach every member, then start recording afresh.
  await c.run(3000)
  sent.length = 0
  return { c, sent, leader, followers: [...c.members.values()].filter((m) => m !== leader) }
}

const emptyAppends = (sent: readonly Message[], from: bigint): Message[] => sent.filter((m) => m.type === 'app' && m.from === from && m.entries.length === 0)

describe('RaftNode commitBroadcastDelayMs: the leader defers sending a new commit index', () => {
  it('sends a quiet leader\'s last commit index on its own once the delay has passed, and the followers apply it then', async () => {
    const { c, sent, leader, followers } = await recordingCluster(50)
    expect(await c.settle(leader.node.propose(enc('a=1')))).toBe('1')
    const index = leader.storage.lastIndex()
    // Committed and applied on the leader; no empty append yet, the followers have not applied it.
    expect(emptyAppends(sent, leader.id)).toEqual([])
    for (const f of followers) expect(f.sm.data.get('a')).toBeUndefined()

    await c.run(100)
    const empties = emptyAppends(sent, leader.id)
    expect(empties.map((m) => (m.type === 'app' ? [m.to, m.commit] : [])).sort()).toEqual(followers.map((f) => [f.id, index]).sort())
    for (const f of followers) expect(f.sm.data.get('a')).toBe('1')
  })

  it('lets the next append carry the commit index under steady load: no empty append, no acknowledgement of one', async () => {
    const { c, sent, leader, followers } = await recordingCluster(50)
    const indexes: number[] = []
    for (let i = 0; i < 5; i++) {
      expect(await c.settle(leader.node.propose(enc(`k${i}=${i}`)))).toBe(String(i))
      indexes.push(leader.storage.lastIndex())
    }
    expect(emptyAppends(sent, leader.id)).toEqual([])
    // Each write's append carried the previous write's commit index, so the followers applied it.
    for (let i = 1; i < indexes.length; i++) {
      const carrying = sent.filter((m) => m.type === 'app' && m.from === leader.id && m.entries.some((e) => e.index === indexes[i]))
      expect(carrying.map((m) => (m.type === 'app' ? m.commit : 0))).toEqual(followers.map(() => indexes[i - 1]))
    }
    for (const f of followers) expect(f.sm.data.get('k3')).toBe('3')
    // The last one goes out on its own after the delay.
    await c.run(100)
    for (const f of followers) expect(f.sm.data.get('k4')).toBe('4')
  })

  it('tells a follower asking for a lease-based linearizable read the commit index with the answer, without waiting for the delay', async () => {
    // (A safe read confirms leadership with heartbeats, which carry the commit index anyway.)
    const { c, leader, followers } = await recordingCluster(10_000, 'lease-based')
    const f = followers[0] as DriverMember
    expect(await c.settle(leader.node.propose(enc('a=1')))).toBe('1')
    expect(f.sm.data.get('a')).toBeUndefined()
    let served = false
    const read = f.node.linearizableRead().then(() => (served = true))
    // Far below the 10 s delay and the 1 s heartbeat.
    await c.run(50)
    expect(served).toBe(true)
    await read
    expect(f.sm.data.get('a')).toBe('1')
  })

  it('sends the commit index at once by default (an empty append to each follower right after the commit)', async () => {
    const { c, sent, leader, followers } = await recordingCluster(0)
    expect(await c.settle(leader.node.propose(enc('a=1')))).toBe('1')
    const index = leader.storage.lastIndex()
    await c.run(20)
    const empties = emptyAppends(sent, leader.id)
    expect(empties.map((m) => (m.type === 'app' ? [m.to, m.commit] : [])).sort()).toEqual(followers.map((f) => [f.id, index]).sort())
  })

  it('refuses a negative or non-finite delay, naming the option', () => {
    const c = new DriverCluster()
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const make = (): RaftNode =>
        new RaftNode({ id: 1n, storage: new MemoryRaftStorage({ incarnation: null }), transport: c.bus.endpoint(1n), stateMachine: { apply: () => undefined, snapshot: () => new Uint8Array(0), restore: () => {} }, commitBroadcastDelayMs: bad })
      expect(make).toThrow(InvalidArgumentError)
      expect(make).toThrow(/commitBroadcastDelayMs/)
    }
  })
})
