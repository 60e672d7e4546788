import { sharedBytes } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { EntryType, MemoryRaftStorage, RaftNode } from '../src/index.ts'
import fc from 'fast-check'
import { decodeProposals, encodeDriverBatch, encodeProposalBatch } from '../src/driver/raft-node-codec.ts'
import { DriverCluster } from './helpers/driver-cluster.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

/** The normal entries of a member's log with how many proposals each carries. */
function proposalsPerEntry(storage: MemoryRaftStorage): number[] {
  const out: number[] = []
  for (const e of storage.entries(storage.firstIndex(), storage.lastIndex() + 1)) {
    if (e.type === EntryType.normal && e.data.byteLength > 0) out.push(decodeProposals(e.data).length)
  }
  return out
}

describe('RaftNode proposal batching', () => {
  it("the driver's one-buffer encoder writes exactly what encodeProposalBatch writes with ids nonce ‖ seq", () => {
    const idOf = (nonce: Uint8Array, seq: number): Uint8Array => {
      const id = new Uint8Array(16)
      id.set(nonce)
      new DataView(id.buffer).setBigUint64(8, BigInt(seq))
      return id
    }
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.array(fc.record({ seq: fc.maxSafeNat(), payload: fc.uint8Array({ maxLength: 300 }) }), { minLength: 1, maxLength: 20 }),
        (nonce, items) => {
          expect(encodeDriverBatch(nonce, items)).toEqual(encodeProposalBatch(items.map((it) => ({ requestId: idOf(nonce, it.seq), payload: it.payload }))))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('proposals made in one turn share one entry, and each settles with its own apply result, in order', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    const results = await c.settle(Promise.all(Array.from({ length: 10 }, (_, i) => leader.node.propose(enc(`k${i}=v${i}`)))))
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`))
    await c.run(500)
    for (const m of c.members.values()) {
      expect(m.sm.applied).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}=v${i}`))
      expect(proposalsPerEntry(m.storage)).toEqual([10])
    }
  })

  it('takes the arrays of its entries and snapshot envelopes from allocBytes', async () => {
    const sizes: number[] = []
    const alloc = (n: number): Uint8Array => {
      sizes.push(n)
      return sharedBytes(n)
    }
    const c = new DriverCluster({ allocBytes: alloc, snapshotInterval: 5, logEntriesForSlowFollowers: 100 })
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    for (let i = 0; i < 3; i++) await c.settle(Promise.all(Array.from({ length: 4 }, (_, j) => leader.node.propose(enc(`k${i}.${j}=v`)))))
    await c.run(500)
    for (const m of c.members.values()) {
      expect(m.sm.applied.length).toBe(12)
      const data = m.storage.entries(m.storage.firstIndex(), m.storage.lastIndex() + 1).filter((e) => e.type === EntryType.normal && e.data.byteLength > 0)
      expect(data.length).toBe(3)
      for (const e of data) expect(e.data.buffer).toBeInstanceOf(SharedArrayBuffer)
      // Every member took a snapshot (5 entries applied): its envelope came from the allocator too.
      const snap = m.storage.snapshot()
      expect(snap.metadata.index).toBeGreaterThan(0)
      expect(snap.data.buffer).toBeInstanceOf(SharedArrayBuffer)
    }
    // The leader's three entries, then one envelope per member.
    expect(sizes.length).toBe(3 + 3)
  })

  it('respects maxBatchProposals and maxBatchBytes', async () => {
    const c = new DriverCluster({ maxBatchProposals: 4, maxBatchBytes: 10 })
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    // Nine 3-byte proposals: at most 4 per entry and at most 10 bytes (3 proposals) per entry.
    await c.settle(Promise.all(Array.from({ length: 9 }, (_, i) => leader.node.propose(enc(`a=${i}`)))))
    expect(proposalsPerEntry(leader.storage)).toEqual([3, 3, 3])
    // A proposal larger than maxBatchBytes still goes out, alone.
    await c.settle(Promise.all([leader.node.propose(enc('big=0123456789')), leader.node.propose(enc('b=1'))]))
    expect(proposalsPerEntry(leader.storage)).toEqual([3, 3, 3, 1, 1])
  })

  it('a follower forwards a whole batch to the leader as one entry', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    const follower = c.follower(leader)
    const results = await c.settle(Promise.all([follower.node.propose(enc('x=1')), follower.node.propose(enc('y=2'))]))
    expect(results).toEqual(['1', '2'])
    expect(proposalsPerEntry(leader.storage)).toEqual([2])
  })

  it('a proposal aborted before the loop picks it up is never proposed', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    const ac = new AbortController()
    const kept = leader.node.propose(enc('kept=1'))
    const aborted = leader.node.propose(enc('gone=1'), { signal: ac.signal })
    ac.abort(new Error('caller gave up'))
    await expect(aborted).rejects.toThrow('caller gave up')
    expect(await c.settle(kept)).toBe('1')
    await c.run(500)
    for (const m of c.members.values()) expect(m.sm.applied).toEqual(['kept=1'])
  })

  it('rejects a payload that is not a Uint8Array, naming the field', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n])
    const node: RaftNode = c.get(1n).node
    await expect(node.propose('text' as unknown as Uint8Array)).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'payload' })
  })

  it('rejects bad batch limits at construction, naming the field', () => {
    const c = new DriverCluster()
    expect(() => new RaftNode({ ...baseInit(c), maxBatchProposals: 0 })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'maxBatchProposals' }))
    expect(() => new RaftNode({ ...baseInit(c), maxBatchBytes: 1.5 })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'maxBatchBytes' }))
  })
})

function baseInit(c: DriverCluster): ConstructorParameters<typeof RaftNode>[0] {
  return { id: 9n, storage: new MemoryRaftStorage({ incarnation: null }), transport: c.bus.endpoint(9n), stateMachine: { apply: () => undefined, snapshot: () => new Uint8Array(0), restore: () => {} } }
}
