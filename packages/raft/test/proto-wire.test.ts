/**
 * The hand-written codec of the steady-state messages (app, app-resp, heartbeat, heartbeat-resp),
 * of envelopes and of WAL entry records against protobufjs: the same bytes out, the same messages
 * in, and a give-up (then protobufjs) on anything the hand-written reader does not expect.
 */
import fc from 'fast-check'
import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { decodeMessage, decodeSteadyState, encodeMessage, messageFromWire, messageToWire, transportSchema, type WireObject } from '../src/transport/message-codec.ts'
import { deserializeEnvelope, serializeEnvelope } from '../src/transport/grpc-transport-wire.ts'
import { decodeEntries, decodeHardState, decodeSealed, encodeEntries, encodeHardState, encodeSealed } from '../src/storage/wal-codec.ts'
import type { Entry, Message } from '../src/core/types.ts'
import { U64_MAX, arbMessage, byType } from './helpers/message-arbitraries.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const STEADY = new Set(['app', 'app-resp', 'heartbeat', 'heartbeat-resp'])

/** protobufjs's encoding, as encodeMessage wrote every message before. */
const slowEncode = (m: Message): Uint8Array => transportSchema().message.encode(messageToWire(m)).finish()

/** protobufjs's decoding: the message, or the field its error names. */
function slowDecode(bytes: Uint8Array): { ok: true; m: Message } | { ok: false; field: string } {
  try {
    return { ok: true, m: messageFromWire(transportSchema().message.decode(bytes) as unknown as WireObject) }
  } catch (err) {
    return { ok: false, field: (err as { field?: string }).field ?? '' }
  }
}

/** Any message, some with incarnations stamped on (a zero incarnation is never stamped). */
const arbStamped: fc.Arbitrary<Message> = fc
  .tuple(arbMessage, fc.option(fc.bigInt({ min: 1n, max: U64_MAX })), fc.option(fc.bigInt({ min: 1n, max: U64_MAX })))
  .map(([m, f, t]) => ({ ...m, ...(f === null ? {} : { fromIncarnation: f }), ...(t === null ? {} : { toIncarnation: t }) }))

/** The steady-state types only. */
const arbSteady: fc.Arbitrary<Message> = fc.oneof(byType.app, byType['app-resp'], byType.heartbeat, byType['heartbeat-resp'])

/** Bytes near valid ones: flipped, inserted, removed or truncated bytes. */
const arbMangled: fc.Arbitrary<Uint8Array> = fc
  .tuple(arbSteady.map(encodeMessage), fc.array(fc.tuple(fc.constantFrom('flip', 'insert', 'remove', 'truncate'), fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }))
  .map(([bytes, edits]) => {
    let b = [...bytes]
    for (const [op, at, v] of edits) {
      const i = b.length === 0 ? 0 : at % b.length
      if (op === 'flip') b[i] = v
      else if (op === 'insert') b.splice(i, 0, v)
      else if (op === 'remove') b.splice(i, 1)
      else b = b.slice(0, i)
    }
    return new Uint8Array(b)
  })

describe('hand-written message codec', () => {
  it('writes exactly the bytes protobufjs writes, for every type (fast-check, 3,000 runs)', () => {
    fc.assert(
      fc.property(arbStamped, (m) => {
        expect(hex(encodeMessage(m))).toBe(hex(slowEncode(m)))
      }),
      { numRuns: 3000 },
    )
  })

  it('reads the steady-state types as protobufjs does, and leaves every other type to it (fast-check, 3,000 runs)', () => {
    fc.assert(
      fc.property(arbStamped, (m) => {
        const bytes = slowEncode(m)
        const fast = decodeSteadyState(bytes, 0, bytes.length)
        if (STEADY.has(m.type)) expect(fast).toEqual(m)
        else expect(fast).toBeUndefined()
        expect(decodeMessage(bytes)).toEqual(m)
      }),
      { numRuns: 3000 },
    )
  })

  it('reads fields in any order, as protobuf requires (the body first, then the header)', () => {
    fc.assert(
      fc.property(arbSteady, (m) => {
        const head = transportSchema().message.encode({ ...messageToWire(m), app: undefined, appResp: undefined, heartbeat: undefined, heartbeatResp: undefined }).finish()
        const whole = slowEncode(m)
        const body = whole.subarray(head.length)
        const swapped = new Uint8Array([...body, ...head])
        expect(decodeSteadyState(swapped, 0, swapped.length)).toEqual(m)
      }),
      { numRuns: 500 },
    )
  })

  it('on bytes near valid ones, reads what protobufjs reads or gives up; decodeMessage answers as protobufjs (fast-check, 5,000 runs)', () => {
    fc.assert(
      fc.property(arbMangled, (bytes) => {
        const slow = slowDecode(bytes)
        const fast = decodeSteadyState(bytes, 0, bytes.length)
        if (fast !== undefined) expect(slow).toEqual({ ok: true, m: fast })
        if (slow.ok) expect(decodeMessage(bytes)).toEqual(slow.m)
        else expect(() => decodeMessage(bytes)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: slow.field }))
      }),
      { numRuns: 5000 },
    )
  })

  it('gives up on what it does not expect: an unknown field, a second body, a wire type other than the schema’s, a term above 2^53 − 1', () => {
    const hb: Message = { type: 'heartbeat', from: 1n, to: 2n, term: 3, commit: 4, context: new Uint8Array([9]) }
    const bytes = encodeMessage(hb)
    const cases = [
      new Uint8Array([...bytes, 0x30, 0x01]), // field 6, varint: unknown
      new Uint8Array([...bytes, ...bytes.subarray(6)]), // the heartbeat body twice
      new Uint8Array([0x09, 1, 0, 0, 0, 0, 0, 0, 0, ...bytes.subarray(2)]), // from as fixed64
      transportSchema().message.encode({ from: 1, to: 2, term: { low: 0, high: 0x200000 }, heartbeat: { commit: 1 } }).finish(),
    ]
    for (const b of cases) expect(decodeSteadyState(b, 0, b.length)).toBeUndefined()
    expect(decodeMessage(cases[0] as Uint8Array)).toEqual(hb) // protobufjs skips the unknown field
    expect(() => decodeMessage(cases[3] as Uint8Array)).toThrow(expect.objectContaining({ field: 'term' }))
  })

  it('copies byte fields out of the input', () => {
    const m: Message = { type: 'app', from: 1n, to: 2n, term: 1, logTerm: 1, index: 1, commit: 1, entries: [{ term: 1, index: 2, type: 'normal', data: new Uint8Array([1, 2, 3]) }] }
    const bytes = Buffer.from(encodeMessage(m))
    const back = decodeSteadyState(bytes, 0, bytes.length)
    bytes.fill(0)
    expect(back).toEqual(m)
    expect(Object.getPrototypeOf((back as { entries: Entry[] }).entries[0]?.data)).toBe(Uint8Array.prototype)
  })
})

describe('envelopes', () => {
  it('serializes as protobufjs did and reads back any mix of types (fast-check, 1,000 runs)', () => {
    fc.assert(
      fc.property(fc.array(arbStamped, { maxLength: 6 }), (ms) => {
        const encoded = ms.map(encodeMessage)
        const w = protobuf.Writer.create()
        for (const e of encoded) w.uint32((1 << 3) | 2).bytes(e)
        const bytes = serializeEnvelope(encoded)
        expect(hex(bytes)).toBe(hex(w.finish()))
        expect(deserializeEnvelope(bytes)).toEqual({ ok: true, value: ms })
      }),
      { numRuns: 1000 },
    )
  })

  it('names the message and field of a malformed one, as before', () => {
    const good = encodeMessage({ type: 'heartbeat', from: 1n, to: 2n, term: 1, commit: 0, context: new Uint8Array(0) })
    const bad = transportSchema().message.encode({ from: 1, to: 2, app: { commit: { low: 0, high: 0x200000 } } }).finish()
    const r = deserializeEnvelope(serializeEnvelope([good, bad]))
    expect(r.ok).toBe(false)
    expect(r.ok ? '' : r.error.field).toBe('messages[1].commit')
  })
})

describe('WAL records: entries, hard state, sealed payloads', () => {
  const entriesType = (): protobuf.Type => transportSchema().message.root.lookupType('swarmkit_ts.raft.storage.v1.Entries')
  const arbRun: fc.Arbitrary<Entry[]> = fc
    .tuple(fc.integer({ min: 1, max: 2 ** 40 }), fc.array(fc.record({ term: fc.maxSafeNat(), type: fc.constantFrom('normal' as const, 'conf-change' as const), data: fc.uint8Array({ maxLength: 300 }) }), { minLength: 1, maxLength: 8 }))
    .map(([first, es]) => es.map((e, i) => ({ ...e, index: first + i })))

  it('writes exactly the bytes protobufjs wrote and reads them back (fast-check, 1,000 runs)', () => {
    fc.assert(
      fc.property(arbRun, (ents) => {
        const bytes = encodeEntries(ents)
        const slow = entriesType()
          .encode({ entries: ents.map((e) => ({ term: e.term, index: e.index, type: e.type === 'normal' ? 0 : 1, data: e.data })) })
          .finish()
        expect(hex(bytes)).toBe(hex(slow))
        expect(decodeEntries(bytes)).toEqual(ents)
      }),
      { numRuns: 1000 },
    )
  })

  const storageType = (name: string): protobuf.Type => transportSchema().message.root.lookupType(`swarmkit_ts.raft.storage.v1.${name}`)

  it('writes HARD_STATE and sealed payloads exactly as protobufjs did, and reads them back (fast-check, 1,000 runs each)', () => {
    fc.assert(
      fc.property(fc.record({ term: fc.maxSafeNat(), vote: fc.bigInt({ min: 0n, max: U64_MAX }), commit: fc.maxSafeNat() }), (hs) => {
        const bytes = encodeHardState(hs)
        const slow = storageType('HardState')
          .encode({ term: hs.term, vote: { low: Number(hs.vote & 0xffffffffn) | 0, high: Number(hs.vote >> 32n) | 0 }, commit: hs.commit })
          .finish()
        expect(hex(bytes)).toBe(hex(slow))
        expect(decodeHardState(bytes)).toEqual(hs)
      }),
      { numRuns: 1000 },
    )
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }), fc.uint8Array({ maxLength: 300 }), (keyId, sealed) => {
        const bytes = encodeSealed({ keyId, sealed })
        expect(hex(bytes)).toBe(hex(storageType('Sealed').encode({ keyId, sealed }).finish()))
        const back = decodeSealed(bytes)
        expect(back.keyId).toBe(keyId)
        expect(hex(back.sealed)).toBe(hex(sealed))
      }),
      { numRuns: 1000 },
    )
  })

  it('refuses a hard state it cannot write, naming the field', () => {
    expect(() => encodeHardState({ term: 1, vote: -1n, commit: 0 })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'hardState.vote' }))
    expect(() => encodeHardState({ term: 1.5, vote: 0n, commit: 0 })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'hardState.term' }))
  })

  it('refuses an entry it cannot write, naming it', () => {
    const e = (over: Partial<Entry>): Entry => ({ term: 1, index: 1, type: 'normal', data: new Uint8Array(0), ...over })
    expect(() => encodeEntries([e({}), e({ index: 2, type: 'bogus' as Entry['type'] })])).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'entries[1].type' }))
    expect(() => encodeEntries([e({ term: -1 })])).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'entries[0].term' }))
  })
})
