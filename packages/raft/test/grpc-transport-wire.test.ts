import { createServer, type Socket } from 'node:net'
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js'
import type { Random } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { GrpcRaftTransport, type GrpcRaftTransportInit } from '../src/transport/grpc-transport.ts'
import { backoffDelay } from '../src/transport/grpc-transport-peer.ts'
import {
  SEND_SNAPSHOT_PATH,
  STREAM_PATH,
  deserializeSnapshotAck,
  deserializeStreamAck,
  originMetadata,
  serializeChunk,
  serializeEnvelope,
  statusError,
  type OutboundChunk,
} from '../src/transport/grpc-transport-wire.ts'
import { encodeMessage, messageToWire, transportSchema, type WireObject } from '../src/transport/message-codec.ts'
import type { UndeliverableReason } from '../src/transport/transport.ts'
import type { Message, SnapshotMessage } from '../src/core/types.ts'
import { until, cleanupAfterEach } from './helpers/real-time.ts'

const A = 11n
const B = 22n

const cleanup = cleanupAfterEach()

interface Member {
  t: GrpcRaftTransport
  got: Message[]
  unreachable: bigint[]
  undeliverable: Array<[Message, UndeliverableReason]>
}

async function member(id: bigint, init: Partial<GrpcRaftTransportInit> = {}): Promise<Member> {
  const t = new GrpcRaftTransport({ id, listenAddress: '127.0.0.1:0', ...init })
  const m: Member = { t, got: [], unreachable: [], undeliverable: [] }
  cleanup.push(() => t.stop())
  await t.start({ message: (msg) => m.got.push(msg), unreachable: (to) => m.unreachable.push(to), undeliverable: (msg, reason) => m.undeliverable.push([msg, reason]) })
  return m
}

function client(address: string): Client {
  const c = new Client(address, credentials.createInsecure())
  cleanup.push(() => c.close())
  return c
}

/** A typed error as `statusError` restores it (matched by name and typed fields). */
const typed = (fields: Record<string, unknown>): Error => expect.objectContaining(fields) as Error

type Outcome = { ok: true; value: unknown } | { ok: false; code: number; error: Error }

/** Runs one client-streaming call from member A (by default) that writes `requests` and half-closes. */
function call<T>(c: Client, path: string, serialize: (v: T) => Buffer, deserialize: (b: Buffer) => unknown, requests: T[], metadata: Metadata = originMetadata(A, 'a.example:1')): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = c.makeClientStreamRequest<T, unknown>(path, serialize, deserialize, metadata, {}, (err: ServiceError | null, value) => {
      resolve(err === null ? { ok: true, value } : { ok: false, code: err.code, error: statusError(err) })
    })
    for (const r of requests) s.write(r)
    s.end()
  })
}

const hb = (from: bigint, to: bigint, commit: number): Message => ({ type: 'heartbeat', from, to, term: 1, commit, context: new Uint8Array(0) })
const snap = (to: bigint, data: Uint8Array): SnapshotMessage => ({
  type: 'snapshot', from: A, to, term: 2,
  snapshot: { metadata: { index: 9, term: 2, confState: { voters: [A, B], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data },
})
const header = (m: SnapshotMessage): WireObject => messageToWire({ ...m, snapshot: { ...m.snapshot, data: new Uint8Array(0) } })

describe('Raft service (raw gRPC client)', () => {
  it('acknowledges a stream with the number of delivered messages', async () => {
    const b = await member(B)
    const out = await call(client(b.t.address), STREAM_PATH, serializeEnvelope, deserializeStreamAck, [[encodeMessage(hb(A, B, 1))], [encodeMessage(hb(A, B, 2)), encodeMessage(hb(A, B, 3))]])
    expect(out).toEqual({ ok: true, value: { delivered: 3 } })
    expect(b.got).toEqual([hb(A, B, 1), hb(A, B, 2), hb(A, B, 3)])
  })

  it('refuses a whole envelope holding a message for another member with FAILED_PRECONDITION', async () => {
    const b = await member(B)
    const out = await call(client(b.t.address), STREAM_PATH, serializeEnvelope, deserializeStreamAck, [[encodeMessage(hb(A, B, 1)), encodeMessage(hb(A, A, 2))]])
    expect(out).toEqual({ ok: false, code: 9, error: typed({ name: 'FailedPreconditionError', reason: 'wrong-member' }) })
    expect(b.got).toEqual([])
  })

  it('refuses a term above 2^53 − 1 and malformed bytes with INVALID_ARGUMENT naming the field', async () => {
    const b = await member(B)
    const c = client(b.t.address)
    const big = transportSchema().message.encode({ from: Number(A), to: Number(B), term: { low: 0, high: 0x200000 }, timeoutNow: {} }).finish()
    const out = await call(c, STREAM_PATH, serializeEnvelope, deserializeStreamAck, [[big]])
    expect(out).toEqual({ ok: false, code: 3, error: typed({ name: 'InvalidArgumentError', field: 'messages[0].term' }) })
    const raw = await call(c, STREAM_PATH, (x: Buffer) => x, deserializeStreamAck, [Buffer.from([0x0a, 0xff])])
    expect(raw).toEqual({ ok: false, code: 3, error: typed({ name: 'InvalidArgumentError', field: '' }) })
    expect(b.got).toEqual([])
  })

  it('reassembles a chunked snapshot and acknowledges its size', async () => {
    const b = await member(B)
    const m = snap(B, Uint8Array.from([1, 2, 3, 4, 5, 6, 7]))
    const chunks: OutboundChunk[] = [{ header: header(m), totalBytes: 7, data: m.snapshot.data.subarray(0, 2) }, { data: m.snapshot.data.subarray(2, 3) }, { data: new Uint8Array(0) }, { data: m.snapshot.data.subarray(3) }]
    const out = await call(client(b.t.address), SEND_SNAPSHOT_PATH, serializeChunk, deserializeSnapshotAck, chunks)
    expect(out).toEqual({ ok: true, value: { receivedBytes: 7 } })
    expect(b.got).toEqual([m])
  })

  it('refuses inconsistent snapshot chunks', async () => {
    const b = await member(B)
    const c = client(b.t.address)
    const m = snap(B, new Uint8Array([1, 2, 3]))
    const send = (chunks: OutboundChunk[]): Promise<Outcome> => call(c, SEND_SNAPSHOT_PATH, serializeChunk, deserializeSnapshotAck, chunks)
    const invalid = (field: string): Outcome => ({ ok: false, code: 3, error: typed({ name: 'InvalidArgumentError', field }) })
    expect(await send([])).toEqual(invalid('message'))
    expect(await send([{ data: new Uint8Array([1]) }])).toEqual(invalid('message'))
    expect(await send([{ header: messageToWire(hb(A, B, 1)), totalBytes: 0, data: new Uint8Array(0) }])).toEqual(invalid('message'))
    expect(await send([{ header: header(m), totalBytes: 3, data: new Uint8Array([1]) }, { header: header(m), data: new Uint8Array([2, 3]) }])).toEqual(invalid('message'))
    expect(await send([{ header: header(m), totalBytes: 3, data: new Uint8Array([1, 2]) }, { data: new Uint8Array([3, 4]) }])).toEqual(invalid('data'))
    expect(await send([{ header: header(m), totalBytes: 3, data: new Uint8Array([1, 2]) }])).toEqual(invalid('data'))
    const other = snap(A, new Uint8Array([1]))
    expect(await send([{ header: header(other), totalBytes: 1, data: new Uint8Array([1]) }])).toEqual({ ok: false, code: 9, error: typed({ name: 'FailedPreconditionError', reason: 'wrong-member' }) })
    expect(b.got).toEqual([])
  })

  it('refuses with PERMISSION_DENIED a call that names no sender, and a message whose from is not the named sender', async () => {
    const b = await member(B)
    const c = client(b.t.address)
    const denied = { ok: false, code: 7, error: typed({ name: 'PermissionDeniedError' }) }
    // No origin metadata: nobody to authorize.
    expect(await call(c, STREAM_PATH, serializeEnvelope, deserializeStreamAck, [[encodeMessage(hb(A, B, 1))]], new Metadata())).toEqual(denied)
    const m = snap(B, new Uint8Array([1]))
    expect(await call(c, SEND_SNAPSHOT_PATH, serializeChunk, deserializeSnapshotAck, [{ header: header(m), totalBytes: 1, data: new Uint8Array([1]) }], new Metadata())).toEqual(denied)
    // A call from A carrying a message from C (not a relayed kind): the whole batch is refused.
    const C = 33n
    expect(await call(c, STREAM_PATH, serializeEnvelope, deserializeStreamAck, [[encodeMessage(hb(A, B, 1)), encodeMessage({ type: 'timeout-now', from: C, to: B, term: 5 })]])).toEqual(denied)
    // A snapshot from C on a call from A.
    expect(await call(c, SEND_SNAPSHOT_PATH, serializeChunk, deserializeSnapshotAck, [{ header: header({ ...m, from: C }), totalBytes: 1, data: new Uint8Array([1]) }])).toEqual(denied)
    expect(b.got).toEqual([])
    expect(b.t.stats()).toEqual({ tooLarge: 0, queueFull: 0, refusedCalls: 2 })
    // Relayed kinds keep their original sender: allowed on A's call.
    const relayed: Message[] = [
      { type: 'prop', from: C, to: B, term: 0, entries: [] },
      { type: 'read-index', from: C, to: B, term: 0, context: new Uint8Array([9]) },
      { type: 'transfer-leader', from: C, to: B, term: 3 },
    ]
    expect(await call(c, STREAM_PATH, serializeEnvelope, deserializeStreamAck, [relayed.map(encodeMessage)])).toEqual({ ok: true, value: { delivered: 3 } })
    expect(b.got).toEqual(relayed)
  })
})

describe('GrpcRaftTransport options and edge cases', () => {
  it('validates its options, naming the field', () => {
    const make = (over: Partial<GrpcRaftTransportInit>): GrpcRaftTransport => new GrpcRaftTransport({ id: A, listenAddress: '127.0.0.1:0', ...over })
    const cases: Array<[Partial<GrpcRaftTransportInit>, string]> = [
      [{ id: 0n }, 'id'],
      [{ id: 2n ** 64n }, 'id'],
      [{ listenAddress: 'localhost' }, 'listenAddress'],
      [{ maxMessageBytes: 0 }, 'maxMessageBytes'],
      [{ maxMessageBytes: 100 }, 'maxMessageBytes'],
      [{ maxMessageBytes: 4096, snapshotChunkBytes: 4096 }, 'snapshotChunkBytes'],
      [{ maxQueuedMessages: 1.5 }, 'maxQueuedMessages'],
      [{ backoff: { initialMs: 0, maxMs: 10 } }, 'backoff.initialMs'],
      [{ backoff: { initialMs: 10, maxMs: 5 } }, 'backoff.maxMs'],
      [{ shutdownGraceMs: -1 }, 'shutdownGraceMs'],
    ]
    for (const [over, field] of cases) expect(() => make(over)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
    const t = make({ maxMessageBytes: 4096 })
    expect(() => t.addPeer(B, 'nope')).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'address' }))
    expect(() => t.send([hb(A, B, 1)])).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'not-running' }))
    expect(() => t.address).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'not-running' }))
  })

  it('starts once, and rejects a start on a port in use', async () => {
    const a = await member(A)
    await expect(a.t.start({ message: () => {} })).rejects.toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'already-started' }))
    const clash = new GrpcRaftTransport({ id: B, listenAddress: `127.0.0.1:${a.t.port}` })
    await expect(clash.start({ message: () => {} })).rejects.toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'listenAddress' }))
    expect(() => clash.send([hb(B, A, 1)])).not.toThrow()
    await clash.stop()
  })

  it('throws for a message it cannot encode and queues nothing of that call', async () => {
    const a = await member(A)
    const b = await member(B)
    a.t.addPeer(B, b.t.address)
    expect(() => a.t.send([hb(A, B, 1), { ...hb(A, B, 2), term: -1 }])).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'messages[1].term' }))
    a.t.send([hb(A, B, 3)])
    await until(() => b.got.length === 1, 'delivery')
    expect(b.got).toEqual([hb(A, B, 3)])
  })

  it('reports (never sends) a message larger than maxMessageBytes, counts it, never sends local messages', async () => {
    const a = await member(A, { maxMessageBytes: 2048 })
    const b = await member(B)
    a.t.addPeer(B, b.t.address)
    const big: Message = { type: 'app', from: A, to: B, term: 1, logTerm: 1, index: 1, commit: 1, entries: [{ term: 1, index: 2, type: 'normal', data: new Uint8Array(4096) }] }
    a.t.send([big, { type: 'unreachable', from: A, to: B, term: 0 }, hb(A, B, 1)])
    await until(() => b.got.length === 1, 'delivery')
    expect(b.got).toEqual([hb(A, B, 1)])
    expect(a.t.peerStats(B)).toEqual({ address: b.t.address, stream: 'open', queued: 0, dropped: 1, tooLarge: 1, snapshotsInFlight: 0 })
    expect(a.t.stats()).toEqual({ tooLarge: 1, queueFull: 0, refusedCalls: 0 })
    expect(a.undeliverable).toEqual([[big, 'too-large']])
  })

  it('keeps delivering when a handler throws', async () => {
    const a = await member(A)
    const b = new GrpcRaftTransport({ id: B, listenAddress: '127.0.0.1:0' })
    cleanup.push(() => b.stop())
    const got: number[] = []
    await b.start({ message: (m) => { got.push(m.type === 'heartbeat' ? m.commit : -1); if (got.length === 1) throw new Error('boom') } })
    a.t.addPeer(B, b.address)
    a.t.send([hb(A, B, 1)])
    a.t.send([hb(A, B, 2)])
    await until(() => got.length === 2, 'both messages')
    expect(got).toEqual([1, 2])
  })

  it('forgets a removed peer: later messages to it are unreachable', async () => {
    const a = await member(A)
    const b = await member(B)
    a.t.addPeer(B, b.t.address)
    a.t.send([hb(A, B, 1)])
    await until(() => b.got.length === 1, 'delivery')
    a.t.removePeer(B)
    expect(a.t.peerStats(B)).toBeUndefined()
    a.t.send([hb(A, B, 2)])
    await until(() => a.unreachable.length === 1, 'unreachable')
    expect(a.unreachable).toEqual([B])
    expect(b.got).toEqual([hb(A, B, 1)])
  })
})

describe('GrpcRaftTransport against peers that misbehave', () => {
  it('counts a peer that accepts connections but never answers as unreachable after connectTimeoutMs', async () => {
    const sockets = new Set<Socket>()
    const silent = createServer((sock) => {
      sockets.add(sock)
      sock.on('close', () => sockets.delete(sock))
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    cleanup.push(() => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      silent.close(() => resolve())
    }))
    const port = (silent.address() as { port: number }).port
    const a = await member(A, { connectTimeoutMs: 50, backoff: { initialMs: 60_000, maxMs: 60_000 } })
    a.t.addPeer(B, `127.0.0.1:${port}`)
    a.t.send([hb(A, B, 1)])
    await until(() => a.unreachable.length === 1, 'unreachable')
    expect(a.unreachable).toEqual([B])
    expect(a.t.peerStats(B)).toEqual({ address: `127.0.0.1:${port}`, stream: 'backoff', queued: 1, dropped: 0, tooLarge: 0, snapshotsInFlight: 0 })
  })

  it('stops cleanly when stop() is called while start() is binding', async () => {
    const t = new GrpcRaftTransport({ id: A, listenAddress: '127.0.0.1:0' })
    const got: Message[] = []
    const starting = t.start({ message: (m) => got.push(m) })
    await t.stop()
    await starting
    expect(() => t.address).toThrow(expect.objectContaining({ name: 'FailedPreconditionError' }))
    expect(() => t.send([hb(A, B, 1)])).not.toThrow()
    await until(() => !process.getActiveResourcesInfo().includes('TCPServerWrap'), 'listener closed')
  })
})

describe('backoffDelay', () => {
  const fixed = (x: number): Random => ({ float: () => x, int: () => 0, bytes: (n) => new Uint8Array(n) })
  it('doubles from initialMs up to maxMs, with the upper half random', () => {
    const b = { initialMs: 100, maxMs: 5000 }
    expect([0, 1, 2, 5, 6, 50, 5000].map((n) => backoffDelay(n, b, fixed(0)))).toEqual([50, 100, 200, 1600, 2500, 2500, 2500])
    expect([0, 1, 2, 5, 6, 50].map((n) => backoffDelay(n, b, fixed(0.5)))).toEqual([75, 150, 300, 2400, 3750, 3750])
  })
})
