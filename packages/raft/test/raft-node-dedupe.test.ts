/**
 * RaftNode applies a proposal at most once even when the network duplicates the forward that
 * carries it: per proposing driver, only sequence numbers above the highest applied one are
 * applied, on every member, and that state travels in snapshots.
 */
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { describe, expect, it } from 'vitest'
import { MemoryRaftStorage, RaftNode } from '../src/index.ts'
import type { Message, RaftTransport, RaftTransportHandlers } from '../src/index.ts'
import { encodeProposal } from '../src/driver/raft-node-codec.ts'
import { flush } from './helpers/driver-cluster.ts'
import { TextLog } from './helpers/logs.ts'

function transport(): { t: RaftTransport; deliver: (m: Message) => void } {
  let h: RaftTransportHandlers | undefined
  return {
    t: { start: (x) => ((h = x), Promise.resolve()), send: () => {}, addPeer: () => {}, removePeer: () => {}, stop: () => Promise.resolve() },
    deliver: (m) => h?.message(m),
  }
}

/** A forwarded proposal of the driver with `nonce` (default 0xaa…), sequence `seq`. */
function forward(seq: number, text: string, nonce: Uint8Array = new Uint8Array(8).fill(0xaa)): Message {
  const requestId = new Uint8Array(16)
  requestId.set(nonce, 0)
  new DataView(requestId.buffer).setUint32(12, seq)
  const data = encodeProposal({ requestId, payload: new TextEncoder().encode(text) })
  return { type: 'prop', from: 2n, to: 1n, term: 0, entries: [{ term: 0, index: 0, type: 'normal', data }] }
}

async function leader(storage: MemoryRaftStorage, sm: TextLog, fresh: boolean): Promise<{ node: RaftNode; deliver: (m: Message) => void }> {
  const { t, deliver } = transport()
  const node = new RaftNode({ id: 1n, storage, transport: t, stateMachine: sm, clock: new ManualClock(0), random: new SeededRandom(7), tickMs: 10, snapshotInterval: 2, logEntriesForSlowFollowers: 0 })
  if (fresh) node.bootstrap([{ id: 1n, address: 'a1' }])
  await node.start()
  await flush()
  node.campaign()
  await flush()
  expect(node.isLeader).toBe(true)
  return { node, deliver }
}

describe('RaftNode proposal deduplication', () => {
  it('applies a duplicated forward once, skips an overtaken one, and remembers it across a snapshot and restart', async () => {
    const storage = new MemoryRaftStorage()
    const sm = new TextLog()
    const first = await leader(storage, sm, true)
    first.deliver(forward(5, 'five'))
    first.deliver(forward(5, 'five'))
    first.deliver(forward(3, 'three (overtaken)'))
    first.deliver(forward(6, 'six'))
    await flush()
    expect(sm.applied).toEqual(['five', 'six'])
    expect(storage.snapshot().metadata.index).toBeGreaterThan(0)
    await first.node.stop()

    // A new process on the same storage: state (and dedup state) from the snapshot, the rest replayed.
    const sm2 = new TextLog()
    const second = await leader(storage, sm2, false)
    expect(sm2.applied).toEqual(['five', 'six'])
    second.deliver(forward(6, 'six'))
    second.deliver(forward(7, 'seven'))
    await flush()
    expect(sm2.applied).toEqual(['five', 'six', 'seven'])
    await second.node.stop()
  })

  it('an own proposal that was overtaken rejects with ProposalDroppedError (overtaken); later ones apply', async () => {
    const storage = new MemoryRaftStorage()
    const sm = new TextLog()
    const { node, deliver } = await leader(storage, sm, true)
    // The driver's nonce is the first draw of its Random; a forward with sequence 1 overtakes its
    // first two requests (0 and 1).
    deliver(forward(1, 'later', new SeededRandom(7).bytes(8)))
    await flush()
    await expect(node.propose(new TextEncoder().encode('mine'))).rejects.toMatchObject({ name: 'ProposalDroppedError', reason: 'overtaken' })
    await expect(node.propose(new TextEncoder().encode('again'))).rejects.toMatchObject({ name: 'ProposalDroppedError', reason: 'overtaken' })
    await expect(node.propose(new TextEncoder().encode('third'))).resolves.toBe(2)
    expect(sm.applied).toEqual(['later', 'third'])
    await node.stop()
  })
})
