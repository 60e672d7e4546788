import { describe, expect, it } from 'vitest'
import { MemoryRaftStorage, RaftNode } from '../src/index.ts'
import { DriverCluster, flush } from './helpers/driver-cluster.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('RaftNode driver', () => {
  it('elects a leader, applies a proposal on every member and resolves with the apply result', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    const leaderEvents: bigint[] = []
    c.get(2n).node.on('leader:changed', (l) => leaderEvents.push(l))
    expect(await c.settle(leader.node.propose(enc('a=1')))).toBe('1')
    await c.run(500)
    for (const id of [1n, 2n, 3n]) {
      expect(c.get(id).sm.data.get('a')).toBe('1')
      expect(c.get(id).node.leader).toBe(leader.id)
      expect([...c.get(id).node.members.keys()].sort()).toEqual([1n, 2n, 3n])
    }
  })

  it('forwards a follower proposal to the leader and resolves on the follower', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    const follower = c.follower(leader)
    expect(await c.settle(follower.node.propose(enc('k=v')))).toBe('v')
    expect(follower.sm.data.get('k')).toBe('v')
  })

  it('serves linearizable reads after every earlier write is applied locally', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    const writes = Array.from({ length: 20 }, (_, i) => leader.node.propose(enc(`k${i}=${i}`)))
    await c.settle(Promise.all(writes))
    const follower = c.follower(leader)
    await c.settle(follower.node.linearizableRead())
    expect(follower.sm.data.size).toBe(20)
  })

  it('batches concurrent proposals into few storage syncs', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n])
    const leader = await c.waitLeader()
    let syncs = 0
    const sync = leader.storage.sync.bind(leader.storage)
    leader.storage.sync = () => {
      syncs++
      return sync()
    }
    const results = await c.settle(Promise.all(Array.from({ length: 100 }, (_, i) => leader.node.propose(enc(`x${i}=${i}`)))))
    expect(results).toHaveLength(100)
    expect(syncs).toBeLessThanOrEqual(2)
  })

  it('takes snapshots, compacts the log and restores the state machine on restart', async () => {
    const c = new DriverCluster({ snapshotInterval: 10, logEntriesForSlowFollowers: 2 })
    await c.bootstrap([1n])
    const m = await c.waitLeader()
    for (let i = 0; i < 25; i++) await c.settle(m.node.propose(enc(`k${i}=${i}`)))
    expect(m.storage.snapshot().metadata.index).toBeGreaterThanOrEqual(20)
    expect(m.storage.firstIndex()).toBeGreaterThan(10)
    await m.node.stop()
    const again = c.create(1n, m.storage)
    expect(again.sm.data.size).toBeGreaterThanOrEqual(17) // restored from the snapshot before any replay
    await again.node.start()
    await c.waitLeader()
    await c.run(500)
    expect(again.sm.data.size).toBe(25)
    expect(again.sm.data.get('k24')).toBe('24')
  })

  it('adds a member that catches up through a snapshot, then promotes a learner', async () => {
    const c = new DriverCluster({ snapshotInterval: 5, logEntriesForSlowFollowers: 0 })
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    for (let i = 0; i < 12; i++) await c.settle(leader.node.propose(enc(`k${i}=${i}`)))
    const joiner = c.create(4n)
    await joiner.node.start()
    await c.settle(leader.node.addLearner(4n, 'node-4'))
    await c.run(2000)
    expect(joiner.sm.data.size).toBe(12)
    await c.settle(leader.node.promote(4n))
    await c.run(500)
    expect(leader.node.status().config.voters.slice().sort()).toEqual([1n, 2n, 3n, 4n])
    expect(joiner.node.members.get(1n)).toBe('node-1')
    await c.settle(leader.node.removeMember(4n))
    expect(leader.node.status().config.voters.slice().sort()).toEqual([1n, 2n, 3n])
  })

  it('records a member\'s new address on every member', async () => {
    const c = new DriverCluster()
    const seen: [bigint, bigint, string][] = []
    const endpoint = c.bus.endpoint.bind(c.bus)
    c.bus.endpoint = (self) => {
      const t = endpoint(self)
      return { ...t, addPeer: (id, addr) => void seen.push([self, id, addr]) }
    }
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    await c.settle(leader.node.updateMember(2n, 'node-2-moved:7000'))
    await c.run(500)
    for (const id of [1n, 2n, 3n]) expect(c.get(id).node.members.get(2n)).toBe('node-2-moved:7000')
    expect(seen.filter(([, id, addr]) => id === 2n && addr === 'node-2-moved:7000').map(([self]) => self).sort()).toEqual([1n, 3n])
    expect(leader.node.status().config.voters.slice().sort()).toEqual([1n, 2n, 3n])
    await expect(leader.node.updateMember(2n, '')).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'address' })
  })

  it('transfers leadership', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    const target = leader.id === 3n ? 2n : 3n
    await c.settle(leader.node.transferLeadership(target))
    expect(c.get(target).node.isLeader).toBe(true)
  })

  it('rejects pending proposals with LeadershipLostError when the leader is cut off', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    c.bus.isolated.add(leader.id)
    const p = leader.node.propose(enc('lost=maybe'))
    const settled = p.then(
      () => 'resolved',
      (e: Error) => e.name,
    )
    await c.run(5000) // CheckQuorum makes the isolated leader step down
    expect(await settled).toBe('LeadershipLostError')
  })

  it('rejects pending requests with RaftStoppedError on stop, and refuses new ones', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    c.bus.isolated.add(leader.id)
    const p = leader.node.propose(enc('a=b')).catch((e: Error) => e.name)
    await flush()
    await leader.node.stop()
    expect(await p).toBe('RaftStoppedError')
    await expect(leader.node.propose(enc('c=d'))).rejects.toMatchObject({ name: 'RaftStoppedError' })
  })

  it('drops proposals at once when no leader is known', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n, 3n])
    await expect(c.get(1n).node.propose(enc('a=b'))).rejects.toMatchObject({ name: 'ProposalDroppedError', reason: 'no-leader' })
  })

  it('validates its options', () => {
    const c = new DriverCluster()
    const base = { storage: new MemoryRaftStorage(), transport: c.bus.endpoint(1n), stateMachine: { apply: () => 0, snapshot: () => new Uint8Array(), restore: () => {} } }
    expect(() => new RaftNode({ ...base, id: 0n })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'id' }))
    expect(() => new RaftNode({ ...base, id: 1n, tickMs: 0 })).toThrow(expect.objectContaining({ field: 'tickMs' }))
    expect(() => new RaftNode({ ...base, id: 1n, snapshotInterval: -1 })).toThrow(expect.objectContaining({ field: 'snapshotInterval' }))
    expect(() => new RaftNode({ ...base, id: 1n, electionTick: 1 })).toThrow(expect.objectContaining({ field: 'electionTick' }))
  })
})
