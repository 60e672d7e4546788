import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { NodeSnapshotWriter, decodeMemberContext, decodeNodeSnapshot, decodeProposal, decodeProposals, encodeMemberContext, encodeNodeSnapshot, encodeProposal, encodeProposalBatch } from '../src/driver/raft-node-codec.ts'

const root = protobuf.parse(readFileSync(new URL('../proto/raft-node.proto', import.meta.url), 'utf8')).root
const Proposal = root.lookupType('swarmkit_ts.raft.node.v1.Proposal')
const NodeSnapshot = root.lookupType('swarmkit_ts.raft.node.v1.NodeSnapshot')

/** Steps `writer` `chunk` bytes at a time until it returns the envelope: the envelope and the number of steps. */
function drain(writer: NodeSnapshotWriter, chunk: number): [Uint8Array, number] {
  for (let steps = 1; ; steps++) {
    const out = writer.step(chunk)
    if (out !== undefined) return [out, steps]
  }
}

describe('RaftNode envelopes', () => {
  it('hand-written proposal encoding is standard protobuf, both ways', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16, minLength: 0 }), fc.uint8Array({ maxLength: 40_000 }), (requestId, payload) => {
        const bytes = encodeProposal({ requestId, payload })
        const viaSchema = Proposal.toObject(Proposal.decode(bytes), { bytes: Array }) as { requestId?: number[]; payload?: number[] }
        expect(Uint8Array.from(viaSchema.requestId ?? [])).toEqual(requestId)
        expect(Uint8Array.from(viaSchema.payload ?? [])).toEqual(payload)
        const back = decodeProposal(bytes)
        expect(back.requestId).toEqual(requestId)
        expect(back.payload).toEqual(payload)
        const fromSchema = Proposal.encode(Proposal.fromObject({ requestId, payload })).finish()
        const back2 = decodeProposal(fromSchema)
        expect(Uint8Array.from(back2.payload)).toEqual(payload)
      }),
      { numRuns: 300 },
    )
  })

  it('a batch of proposals is one standard protobuf Proposal (repeated field 3), decoded in order', () => {
    const envelope = fc.record({ requestId: fc.uint8Array({ maxLength: 16 }), payload: fc.uint8Array({ maxLength: 300 }) })
    fc.assert(
      fc.property(fc.array(envelope, { minLength: 1, maxLength: 40 }), (ps) => {
        const bytes = encodeProposalBatch(ps)
        const back = decodeProposals(bytes)
        expect(back.map((p) => [Uint8Array.from(p.requestId), Uint8Array.from(p.payload)])).toEqual(ps.map((p) => [p.requestId, p.payload]))
        if (ps.length > 1) {
          const viaSchema = Proposal.toObject(Proposal.decode(bytes), { bytes: Array }) as { batch?: { requestId?: number[]; payload?: number[] }[] }
          expect((viaSchema.batch ?? []).map((b) => [Uint8Array.from(b.requestId ?? []), Uint8Array.from(b.payload ?? [])])).toEqual(ps.map((p) => [p.requestId, p.payload]))
          // Written by another encoder (protobufjs), it still decodes.
          const other = Proposal.encode(Proposal.fromObject({ batch: ps })).finish()
          expect(decodeProposals(other).map((p) => Uint8Array.from(p.payload))).toEqual(ps.map((p) => p.payload))
        }
      }),
      { numRuns: 300 },
    )
    // A single proposal is written exactly as encodeProposal writes it (entries stay readable by older drivers).
    const one = { requestId: new Uint8Array([1]), payload: new Uint8Array([2, 3]) }
    expect(encodeProposalBatch([one])).toEqual(encodeProposal(one))
  })

  it('member contexts and node snapshots round-trip with exact 64-bit ids', () => {
    expect(decodeMemberContext(encodeMemberContext({ requestId: new Uint8Array([1, 2]), address: '127.0.0.1:9' }))).toEqual({
      requestId: new Uint8Array([1, 2]),
      address: '127.0.0.1:9',
    })
    const members = new Map([
      [2n ** 64n - 1n, 'a:1'],
      [2n ** 63n + 1n, 'b:2'],
      [1n, 'c:3'],
    ])
    const back = decodeNodeSnapshot(encodeNodeSnapshot({ members, state: new Uint8Array([9, 9]), sessions: new Map([['0102030405060708', 2 ** 40 + 5]]) }))
    expect(back.members).toEqual(members)
    expect(back.state).toEqual(new Uint8Array([9, 9]))
    expect(back.sessions).toEqual(new Map([['0102030405060708', 2 ** 40 + 5]]))
  })

  it('node snapshots are the bytes protobufjs writes for the whole envelope (the state copied once, in place, in steps if asked)', () => {
    const id = fc.bigInt({ min: 1n, max: 2n ** 64n - 1n })
    fc.assert(
      fc.property(
        fc.array(fc.tuple(id, fc.string({ maxLength: 20 })), { maxLength: 4 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.tuple(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.nat()), { maxLength: 3 }),
        fc.array(fc.tuple(id, id), { maxLength: 3 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.nat(300), { maxLength: 6 }),
        (members, state, sessions, incarnations, chunk, cuts) => {
          const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
          const envelope = { members: new Map(members), state, sessions: new Map(sessions.map(([n, seq]) => [hex(n), seq])), incarnations: new Map(incarnations) }
          const bytes = encodeNodeSnapshot(envelope)
          // Written `chunk` bytes of the state per step: the same bytes, in ceil(n / chunk) steps.
          const [sliced, steps] = drain(new NodeSnapshotWriter(envelope), chunk)
          expect(sliced).toEqual(bytes)
          expect(steps).toBe(Math.max(1, Math.ceil(state.length / chunk)))
          // The state as consecutive parts (empty ones included): the same bytes in as many steps.
          const at = [0, ...cuts.map((c) => Math.min(c, state.length)).sort((x, y) => x - y), state.length]
          const parts = at.slice(1).map((end, i) => state.slice(at[i], end))
          const [joined, partSteps] = drain(new NodeSnapshotWriter({ ...envelope, state: parts }), chunk)
          expect(joined).toEqual(bytes)
          expect(partSteps).toBe(steps)
          const reference = NodeSnapshot.encode(
            NodeSnapshot.fromObject({
              members: [...new Map(members)].map(([i, address]) => ({ id: i.toString(), address })),
              state,
              sessions: [...new Map(sessions.map(([n, seq]) => [hex(n), seq]))].map(([n, lastSeq]) => ({ nonce: Uint8Array.from(Buffer.from(n, 'hex')), lastSeq })),
              incarnations: [...new Map(incarnations)].map(([i, inc]) => ({ id: i.toString(), incarnation: inc.toString() })),
            }),
          ).finish()
          expect(bytes).toEqual(new Uint8Array(reference))
          expect(decodeNodeSnapshot(bytes).state).toEqual(state)
        },
      ),
    )
  })
})
