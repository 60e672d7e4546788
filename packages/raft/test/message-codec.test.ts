import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeMessage, transportSchema } from '../src/transport/message-codec.ts'
import { copyMessage } from '../src/transport/message-copy.ts'
import type { Entry, Message } from '../src/core/types.ts'
import { ID_2_63_PLUS_1, U64_MAX, arbMessage, byType } from './helpers/message-arbitraries.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('message codec', () => {
  it('round-trips every message type exactly (fast-check, 2,000 runs)', () => {
    const seen = new Set<string>()
    fc.assert(
      fc.property(arbMessage, (m) => {
        seen.add(m.type)
        const bytes = encodeMessage(m)
        const back = decodeMessage(bytes)
        expect(back).toEqual(m)
        expect(hex(encodeMessage(back))).toBe(hex(bytes))
      }),
      { numRuns: 2000 },
    )
    expect([...seen].sort()).toEqual(Object.keys(byType).sort())
  })

  it('round-trips each type with ids 2^64 − 1 and 2^63 + 1 and the largest safe term', () => {
    for (const arb of Object.values(byType)) {
      fc.assert(
        fc.property(arb, (m) => {
          const edge = { ...m, from: U64_MAX, to: ID_2_63_PLUS_1, term: Number.MAX_SAFE_INTEGER }
          expect(decodeMessage(encodeMessage(edge))).toEqual(edge)
        }),
        { numRuns: 20 },
      )
    }
  })

  it('has a stable wire format', () => {
    const m: Message = { type: 'timeout-now', from: U64_MAX, to: 5n, term: 3 }
    expect(hex(encodeMessage(m))).toBe('08ffffffffffffffffff01100518039a0100')
    const hb: Message = { type: 'heartbeat', from: 1n, to: 2n, term: 0, commit: 7, context: new Uint8Array([0xab]) }
    expect(hex(encodeMessage(hb))).toBe('0801100218008201050807' + '1201ab') // protobufjs writes explicit zeros
  })

  it('returns fresh Uint8Arrays that do not alias the input buffer', () => {
    const m: Message = { type: 'prop', from: 1n, to: 2n, term: 0, entries: [{ term: 0, index: 0, type: 'normal', data: new Uint8Array([1, 2, 3]) }] }
    const bytes = encodeMessage(m)
    const back = decodeMessage(bytes)
    bytes.fill(0)
    expect(back).toEqual(m)
    expect(Object.getPrototypeOf((back as { entries: Entry[] }).entries[0]?.data)).toBe(Uint8Array.prototype)
  })

  it('refuses a term or index above 2^53 − 1 on decode, naming the field', () => {
    const { message } = transportSchema()
    const big = { low: 0, high: 0x200000 } // 2^53
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ from: 1, to: 2, term: big, timeoutNow: {} }, 'term'],
      [{ from: 1, to: 2, app: { index: big } }, 'index'],
      [{ from: 1, to: 2, heartbeat: { commit: big } }, 'commit'],
      [{ from: 1, to: 2, prop: { entries: [{ index: 1 }, { index: big }] } }, 'entries[1].index'],
      [{ from: 1, to: 2, snapshot: { term: big } }, 'snapshot.metadata.term'],
    ]
    for (const [obj, field] of cases) {
      const bytes = message.encode(obj).finish()
      expect(() => decodeMessage(bytes)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
    }
    const ok = message.encode({ from: 1, to: 2, term: { low: -1, high: 0x1fffff }, timeoutNow: {} }).finish()
    expect(decodeMessage(ok)).toEqual({ type: 'timeout-now', from: 1n, to: 2n, term: Number.MAX_SAFE_INTEGER })
  })

  it('refuses malformed input with InvalidArgumentError', () => {
    expect(() => decodeMessage(new Uint8Array([0x0a, 0xff]))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: '' }))
    expect(() => decodeMessage(new Uint8Array(0))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'type' }))
    const badEntry = transportSchema().message.encode({ from: 1, to: 2, prop: { entries: [{ type: 7 }] } }).finish()
    expect(() => decodeMessage(badEntry)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'entries[0].type' }))
  })

  it('refuses values the wire cannot carry on encode, naming the field', () => {
    const hb = (over: Record<string, unknown>): Message => ({ type: 'heartbeat', from: 1n, to: 2n, term: 1, commit: 0, context: new Uint8Array(0), ...over })
    const cases: Array<[Message, string]> = [
      [hb({ to: 2n ** 64n }), 'to'],
      [hb({ from: -1n }), 'from'],
      [hb({ term: -1 }), 'term'],
      [hb({ commit: 1.5 }), 'commit'],
      [hb({ commit: 2 ** 53 }), 'commit'],
      [hb({ context: [1, 2] }), 'context'],
      [{ type: 'prop', from: 1n, to: 2n, term: 0, entries: [{ term: 0, index: 0, type: 'bogus', data: new Uint8Array(0) }] } as unknown as Message, 'entries[0].type'],
      [
        { type: 'snapshot', from: 1n, to: 2n, term: 0, snapshot: { metadata: { index: 1, term: 1, confState: { voters: [1n, 2n ** 64n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: new Uint8Array(0) } },
        'snapshot.metadata.confState.voters[1]',
      ],
      [{ type: 'bogus', from: 1n, to: 2n, term: 0 } as unknown as Message, 'type'],
    ]
    for (const [m, field] of cases) expect(() => encodeMessage(m)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
  })
})

/** Every byte array a message carries, in order. */
function bytesOf(m: Message): Uint8Array[] {
  switch (m.type) {
    case 'app':
    case 'prop':
      return m.entries.map((e) => e.data)
    case 'snapshot':
      return [m.snapshot.data]
    case 'heartbeat':
    case 'heartbeat-resp':
    case 'read-index':
    case 'read-index-resp':
      return [m.context]
    default:
      return []
  }
}

describe('copyMessage', () => {
  it('copies every part, bytes included, by default; shares only the bytes with shareBytes (fast-check, 1,000 runs)', () => {
    fc.assert(
      fc.property(arbMessage, fc.boolean(), (m, shareBytes) => {
        const c = shareBytes ? copyMessage(m, { shareBytes }) : copyMessage(m)
        expect(c).toEqual(m)
        expect(c).not.toBe(m)
        if (m.type === 'app' || m.type === 'prop') {
          const entries = (c as typeof m).entries
          expect(entries).not.toBe(m.entries)
          entries.forEach((e, i) => expect(e).not.toBe(m.entries[i]))
        }
        if (m.type === 'snapshot') {
          const snap = (c as typeof m).snapshot
          expect(snap.metadata).not.toBe(m.snapshot.metadata)
          expect(snap.metadata.confState.voters).not.toBe(m.snapshot.metadata.confState.voters)
        }
        const mine = bytesOf(m)
        const theirs = bytesOf(c)
        theirs.forEach((b, i) => (shareBytes ? expect(b).toBe(mine[i]) : expect(b).not.toBe(mine[i])))
        if (!shareBytes) {
          // A receiver writing into its copy changes nothing of the sender's.
          const before = mine.map(hex)
          for (const b of theirs) b.fill(0xff)
          expect(mine.map(hex)).toEqual(before)
        }
      }),
      { numRuns: 1_000 },
    )
  })
})
