import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { decodeProposals, encodeDriverBatch, encodeProposalBatch } from '../src/driver/raft-node-codec.ts'
import type { ProposalEnvelope } from '../src/driver/raft-node-codec.ts'

const root = protobuf.parse(readFileSync(new URL('../proto/raft-node.proto', import.meta.url), 'utf8')).root
const Proposal = root.lookupType('swarmkit_ts.raft.node.v1.Proposal')
const bytesOf = (v: unknown): Uint8Array => (v instanceof Uint8Array ? new Uint8Array(v) : new Uint8Array(0))

/**
 * The reference: the decoder as it was before it decoded batch items in place (each item a view
 * of its own, every varint read returning a pair).
 */
function referenceDecodeProposals(data: Uint8Array): ProposalEnvelope[] {
  const readVarint = (d: Uint8Array, o: number): [number, number] => {
    let v = 0
    let mul = 1
    for (let i = 0; i < 8 && o < d.byteLength; i++) {
      const b = d[o++] ?? 0
      v += (b & 0x7f) * mul
      if (b < 0x80) return [v, o]
      mul *= 128
    }
    return [-1, d.byteLength + 1]
  }
  const decodeOne = (d: Uint8Array): ProposalEnvelope => {
    if (d[0] === 0x0a) {
      const [idLen, o1] = readVarint(d, 1)
      const o2 = o1 + idLen
      if (d[o2] === 0x12) {
        const [n, o3] = readVarint(d, o2 + 1)
        if (o3 + n === d.byteLength) return { requestId: d.subarray(o1, o2), payload: d.subarray(o3, o3 + n) }
      }
    }
    const o = Proposal.decode(d) as unknown as { requestId?: Uint8Array; payload?: Uint8Array }
    return { requestId: bytesOf(o.requestId), payload: bytesOf(o.payload) }
  }
  if (data[0] !== 0x1a) return [decodeOne(data)]
  const out: ProposalEnvelope[] = []
  let o = 0
  while (o < data.byteLength && data[o] === 0x1a) {
    const [n, start] = readVarint(data, o + 1)
    if (n < 0 || start + n > data.byteLength) break
    out.push(decodeOne(data.subarray(start, start + n)))
    o = start + n
  }
  if (o === data.byteLength) return out
  const m = Proposal.decode(data) as unknown as { batch?: { requestId?: Uint8Array; payload?: Uint8Array }[] }
  return (m.batch ?? []).map((b) => ({ requestId: bytesOf(b.requestId), payload: bytesOf(b.payload) }))
}

/** The outcome of a decode: the proposals as plain byte arrays, or that it threw. */
function outcome(decode: (d: Uint8Array) => ProposalEnvelope[], data: Uint8Array): { ok: number[][][] } | { threw: true } {
  try {
    return { ok: decode(data).map((p) => [Array.from(p.requestId), Array.from(p.payload)]) }
  } catch {
    return { threw: true }
  }
}

const envelope = fc.record({ requestId: fc.uint8Array({ maxLength: 20 }), payload: fc.uint8Array({ maxLength: 200 }) })

describe('decodeProposals (in-place fast path)', () => {
  it('decodes every input exactly as the previous decoder did: valid batches, and batches with bytes changed, cut or appended', () => {
    fc.assert(
      fc.property(
        fc.array(envelope, { minLength: 1, maxLength: 12 }),
        fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
        fc.nat(),
        fc.uint8Array({ maxLength: 6 }),
        (ps, edits, cut, tail) => {
          const valid = encodeProposalBatch(ps)
          expect(outcome(decodeProposals, valid)).toEqual(outcome(referenceDecodeProposals, valid))
          const changed = Uint8Array.from(valid)
          for (const e of edits) changed[e.at % changed.byteLength] = e.byte
          for (const data of [changed, changed.subarray(0, cut % (changed.byteLength + 1)), Uint8Array.from([...changed, ...tail])]) {
            expect(outcome(decodeProposals, data)).toEqual(outcome(referenceDecodeProposals, data))
          }
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('decodes arbitrary bytes exactly as the previous decoder did', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (raw, asBatch) => {
        const data = asBatch && raw.byteLength > 0 ? Uint8Array.from([0x1a, ...raw]) : raw
        expect(outcome(decodeProposals, data)).toEqual(outcome(referenceDecodeProposals, data))
      }),
      { numRuns: 1000 },
    )
  })

  it("decodes the driver's batches (ids nonce ‖ seq) into views of the entry", () => {
    const nonce = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2])
    const items = [
      { seq: 1, payload: new Uint8Array([1, 2, 3]) },
      { seq: 2 ** 40 + 3, payload: new Uint8Array(300).fill(4) },
    ]
    const data = encodeDriverBatch(nonce, items)
    const back = decodeProposals(data)
    expect(back.map((p) => Array.from(p.requestId))).toEqual([
      [9, 8, 7, 6, 5, 4, 3, 2, 0, 0, 0, 0, 0, 0, 0, 1],
      [9, 8, 7, 6, 5, 4, 3, 2, 0, 0, 1, 0, 0, 0, 0, 3],
    ])
    expect(back.map((p) => p.payload)).toEqual(items.map((it) => it.payload))
    for (const p of back) expect(p.payload.buffer).toBe(data.buffer)
  })
})
