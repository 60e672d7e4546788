/**
 * The transport's size contract: `messageSizeBound` bounds what GrpcRaftTransport puts on the
 * wire for every message (property), so `maxEntryDataBytes(maxMessageBytes)` is a proposal size
 * that always fits; a larger message is reported `undeliverable` over real grpc-js, counted, and
 * never retried, while later messages keep flowing.
 */
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { GrpcRaftTransport } from '../src/transport/grpc-transport.ts'
import { ENVELOPE_OVERHEAD_BYTES } from '../src/transport/grpc-transport-wire.ts'
import { encodeMessage } from '../src/transport/message-codec.ts'
import { MESSAGE_ENTRY_OVERHEAD_BYTES, MESSAGE_OVERHEAD_BYTES, maxEntryDataBytes, messageSizeBound, type UndeliverableReason } from '../src/transport/transport.ts'
import type { Entry, Message } from '../src/core/types.ts'
import { until } from './helpers/real-time.ts'

const MAX_ID = (1n << 64n) - 1n
const MAX_NUM = Number.MAX_SAFE_INTEGER

const id = fc.bigInt({ min: 1n, max: MAX_ID })
const num = fc.oneof(fc.constant(MAX_NUM), fc.nat())
const entry: fc.Arbitrary<Entry> = fc.record({
  term: num,
  index: num,
  type: fc.constantFrom('normal' as const, 'conf-change' as const),
  data: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 100_000, max: 300_000 }).map((n) => new Uint8Array(n))),
})
const bytes = fc.uint8Array({ maxLength: 300 })

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('app' as const), from: id, to: id, term: num, logTerm: num, index: num, commit: num, entries: fc.array(entry, { maxLength: 8 }) }),
  fc.record({ type: fc.constant('prop' as const), from: id, to: id, term: fc.constant(0), entries: fc.array(entry, { maxLength: 8 }) }),
  fc.record({ type: fc.constant('app-resp' as const), from: id, to: id, term: num, index: num, reject: fc.boolean(), rejectHint: num, logTerm: num }),
  fc.record({ type: fc.constant('vote' as const), from: id, to: id, term: num, logTerm: num, index: num, transfer: fc.boolean() }),
  fc.record({ type: fc.constant('heartbeat' as const), from: id, to: id, term: num, commit: num, context: bytes }),
  fc.record({ type: fc.constant('read-index-resp' as const), from: id, to: id, term: num, index: num, context: bytes }),
  fc.record({ type: fc.constant('timeout-now' as const), from: id, to: id, term: num }),
)

describe('messageSizeBound', () => {
  it('bounds the encoded size of every message, with its envelope framing (property)', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(encodeMessage(m).length + ENVELOPE_OVERHEAD_BYTES).toBeLessThanOrEqual(messageSizeBound(m))
      }),
      { numRuns: 300 },
    )
  })

  it('is exact about the entry case the driver relies on', () => {
    const m: Message = { type: 'app', from: MAX_ID, to: MAX_ID, term: MAX_NUM, logTerm: MAX_NUM, index: MAX_NUM, commit: MAX_NUM, entries: [{ term: MAX_NUM, index: MAX_NUM, type: 'conf-change', data: new Uint8Array(maxEntryDataBytes(64 * 1024)) }] }
    expect(messageSizeBound(m)).toBe(64 * 1024)
    expect(maxEntryDataBytes(64 * 1024)).toBe(64 * 1024 - MESSAGE_OVERHEAD_BYTES - MESSAGE_ENTRY_OVERHEAD_BYTES)
    expect(encodeMessage(m).length + ENVELOPE_OVERHEAD_BYTES).toBeLessThanOrEqual(64 * 1024)
    expect(maxEntryDataBytes(100)).toBe(0)
  })
})

const running: GrpcRaftTransport[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.stop()))
})

describe('GrpcRaftTransport with maxMessageBytes 64 KiB', () => {
  it('sends the largest proposal entry that fits, reports a 128 KiB one undeliverable once, and keeps delivering', async () => {
    const A = 1n
    const B = MAX_ID
    const a = new GrpcRaftTransport({ id: A, listenAddress: '127.0.0.1:0', maxMessageBytes: 64 * 1024 })
    const b = new GrpcRaftTransport({ id: B, listenAddress: '127.0.0.1:0', maxMessageBytes: 64 * 1024 })
    running.push(a, b)
    const reports: Array<[Message, UndeliverableReason]> = []
    const got: Message[] = []
    await a.start({ message: () => {}, undeliverable: (m, reason) => reports.push([m, reason]) })
    await b.start({ message: (m) => got.push(m) })
    expect(a.maxMessageBytes).toBe(64 * 1024)
    a.addPeer(B, b.address)
    const app = (index: number, size: number): Message => ({ type: 'app', from: A, to: B, term: MAX_NUM, logTerm: MAX_NUM, index, commit: MAX_NUM, entries: [{ term: MAX_NUM, index: index + 1, type: 'normal', data: new Uint8Array(size) }] })
    const huge = app(1, 128 * 1024)
    a.send([app(0, maxEntryDataBytes(64 * 1024)), huge, app(2, 10)])
    await until(() => got.length === 2 && reports.length === 1, 'deliveries and the report')
    expect(got.map((m) => (m.type === 'app' ? [m.index, m.entries[0]?.data.length] : m.type))).toEqual([[0, maxEntryDataBytes(64 * 1024)], [2, 10]])
    expect(reports).toEqual([[huge, 'too-large']])
    expect(a.peerStats(B)).toMatchObject({ dropped: 1, tooLarge: 1, queued: 0 })
    // A snapshot is streamed in chunks: its size is not limited by maxMessageBytes.
    a.send([{ type: 'snapshot', from: A, to: B, term: 1, snapshot: { metadata: { index: 5, term: 1, confState: { voters: [A, B], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: new Uint8Array(300 * 1024) } }])
    await until(() => got.length === 3, 'snapshot')
    expect(reports).toHaveLength(1)
  })
})
