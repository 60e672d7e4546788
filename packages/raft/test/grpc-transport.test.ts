import { afterEach, describe, expect, it } from 'vitest'
import { GrpcRaftTransport, type GrpcRaftTransportInit } from '../src/transport/grpc-transport.ts'
import type { RaftTransportHandlers, UndeliverableReason } from '../src/transport/transport.ts'
import type { Entry, Message, MessageType, SnapshotMessage } from '../src/core/types.ts'
import { until } from './helpers/real-time.ts'

const A = 2n ** 64n - 1n
const B = 2n ** 63n + 1n
const C = 7n

interface Recorder {
  messages: Message[]
  unreachable: bigint[]
  snapshotStatus: Array<[bigint, boolean]>
  undeliverable: Array<[Message, UndeliverableReason]>
  handlers: RaftTransportHandlers
}

function recorder(): Recorder {
  const r: Recorder = {
    messages: [],
    unreachable: [],
    snapshotStatus: [],
    undeliverable: [],
    handlers: {
      message: (m) => r.messages.push(m),
      unreachable: (to) => r.unreachable.push(to),
      snapshotStatus: (to, ok) => r.snapshotStatus.push([to, ok]),
      undeliverable: (m, reason) => r.undeliverable.push([m, reason]),
    },
  }
  return r
}

const running: GrpcRaftTransport[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.stop()))
})

async function member(id: bigint, init: Partial<GrpcRaftTransportInit> = {}): Promise<{ t: GrpcRaftTransport; r: Recorder }> {
  const t = new GrpcRaftTransport({ id, listenAddress: '127.0.0.1:0', ...init })
  const r = recorder()
  running.push(t)
  await t.start(r.handlers)
  return { t, r }
}

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff
  return b
}

const REMOTE_TYPES: ReadonlyArray<Exclude<MessageType, 'unreachable' | 'snap-status'>> = [
  'app', 'app-resp', 'vote', 'pre-vote', 'vote-resp', 'pre-vote-resp', 'heartbeat', 'heartbeat-resp',
  'snapshot', 'timeout-now', 'read-index', 'read-index-resp', 'transfer-leader', 'prop',
]

/** One message of every type that travels between members; `n` makes the values unique. */
function everyType(from: bigint, to: bigint, n: number): Message[] {
  const base = { from, to, term: 100 + n }
  const e = (index: number, type: Entry['type'] = 'normal'): Entry => ({ term: n, index, type, data: bytes(index % 7, n) })
  const ctx = bytes(8, n)
  return [
    { ...base, type: 'app', logTerm: n, index: 10, entries: [e(11), e(12, 'conf-change')], commit: 9 },
    { ...base, type: 'app-resp', index: 12, reject: true, rejectHint: 8, logTerm: 5 },
    { ...base, type: 'vote', logTerm: 6, index: Number.MAX_SAFE_INTEGER, transfer: true },
    { ...base, type: 'pre-vote', logTerm: 6, index: 12, transfer: false },
    { ...base, type: 'vote-resp', reject: false },
    { ...base, type: 'pre-vote-resp', reject: true },
    { ...base, type: 'heartbeat', commit: 9, context: ctx },
    { ...base, type: 'heartbeat-resp', context: ctx },
    {
      ...base,
      type: 'snapshot',
      snapshot: { metadata: { index: 20 + n, term: 6, confState: { voters: [A, B], learners: [C], votersOutgoing: [A], learnersNext: [], autoLeave: true } }, data: bytes(3000 + n, n) },
    },
    { ...base, type: 'timeout-now' },
    { ...base, type: 'read-index', context: ctx },
    { ...base, type: 'read-index-resp', index: 12, context: ctx },
    { ...base, type: 'transfer-leader' },
    { ...base, type: 'prop', entries: [e(0), e(0)] },
    // Local: never sent.
    { ...base, type: 'unreachable' },
    { ...base, type: 'snap-status', reject: false },
  ]
}

/** The same value with byte arrays as hex strings: vitest compares big typed arrays slowly. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`
  if (Array.isArray(v)) return v.map(plain)
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
  return v
}

const heartbeat = (from: bigint, to: bigint, commit: number): Message => ({ type: 'heartbeat', from, to, term: 1, commit, context: new Uint8Array(0) })
const commits = (ms: Message[]): number[] => ms.map((m) => (m.type === 'heartbeat' ? m.commit : -1))

describe('GrpcRaftTransport', () => {
  it('exchanges messages of every type between 3 members, in order per link', async () => {
    const ids = [A, B, C]
    const ms = await Promise.all(ids.map((id) => member(id)))
    for (const [i, x] of ms.entries()) for (const [j, y] of ms.entries()) if (i !== j) x.t.addPeer(ids[j] as bigint, y.t.address)
    expect(new Set(everyType(A, B, 0).map((m) => m.type))).toEqual(new Set([...REMOTE_TYPES, 'unreachable', 'snap-status']))

    const sent = new Map<string, Message[]>()
    for (let round = 0; round < 3; round++) {
      for (const [i, x] of ms.entries()) {
        const batch: Message[] = []
        for (const [j] of ms.entries()) {
          if (i === j) continue
          const msgs = everyType(ids[i] as bigint, ids[j] as bigint, round * 10 + i * 3 + j)
          const key = `${ids[i]}>${ids[j]}`
          sent.set(key, [...(sent.get(key) ?? []), ...msgs.filter((m) => m.type !== 'unreachable' && m.type !== 'snap-status')])
          batch.push(...msgs)
        }
        x.t.send(batch)
      }
    }
    const perLink = REMOTE_TYPES.length * 3
    await until(() => ms.every((m) => m.r.messages.length === 2 * perLink), 'every message')
    await until(() => ms.every((m) => m.r.snapshotStatus.length === 2 * 3), 'snapshot outcomes')

    for (const [j, y] of ms.entries()) {
      for (const [i] of ms.entries()) {
        if (i === j) continue
        const expected = sent.get(`${ids[i]}>${ids[j]}`) ?? []
        const got = y.r.messages.filter((m) => m.from === ids[i])
        // Snapshots travel on their own call: ordered among themselves, not with the rest.
        expect(plain(got.filter((m) => m.type !== 'snapshot'))).toEqual(plain(expected.filter((m) => m.type !== 'snapshot')))
        expect(plain(got.filter((m) => m.type === 'snapshot'))).toEqual(plain(expected.filter((m) => m.type === 'snapshot')))
      }
    }
    for (const [i, x] of ms.entries()) {
      const peers = ids.filter((_, j) => j !== i)
      expect(x.r.snapshotStatus.filter(([, ok]) => ok).map(([to]) => to).sort()).toEqual([...peers, ...peers, ...peers].sort())
      expect(x.r.unreachable).toEqual([])
    }
  })

  it('streams a 5 MiB snapshot in 1 MiB chunks to a member that accepts 2 MiB messages', async () => {
    const a = await member(A)
    const b = await member(B, { maxMessageBytes: 2 * 1024 * 1024 })
    a.t.addPeer(B, b.t.address)
    const snap: SnapshotMessage = {
      type: 'snapshot', from: A, to: B, term: 3,
      snapshot: { metadata: { index: 1000, term: 3, confState: { voters: [A, B], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: bytes(5 * 1024 * 1024 + 17, 5) },
    }
    a.t.send([snap])
    await until(() => a.r.snapshotStatus.length === 1, 'snapshot outcome')
    expect(a.r.snapshotStatus).toEqual([[B, true]])
    expect(b.r.messages).toHaveLength(1)
    const got = b.r.messages[0] as SnapshotMessage
    expect(got.snapshot.metadata).toEqual(snap.snapshot.metadata)
    expect(got.snapshot.data.length).toBe(5 * 1024 * 1024 + 17)
    expect(Buffer.from(got.snapshot.data).equals(Buffer.from(snap.snapshot.data))).toBe(true)
    expect(plain(got)).toEqual(plain(snap))
  })

  it('uses a configured chunk size, and sends an empty snapshot as one chunk', async () => {
    const a = await member(A, { snapshotChunkBytes: 1000, maxMessageBytes: 70 * 1024 })
    const b = await member(B, { maxMessageBytes: 70 * 1024 })
    a.t.addPeer(B, b.t.address)
    const snap = (data: Uint8Array, index: number): SnapshotMessage => ({
      type: 'snapshot', from: A, to: B, term: 3,
      snapshot: { metadata: { index, term: 3, confState: { voters: [A], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data },
    })
    const sent = [snap(bytes(200 * 1024 + 3, 1), 1), snap(new Uint8Array(0), 2)]
    a.t.send(sent)
    await until(() => a.r.snapshotStatus.length === 2, 'snapshot outcomes')
    expect(a.r.snapshotStatus).toEqual([[B, true], [B, true]])
    expect(plain([...b.r.messages].sort((x, y) => (x as SnapshotMessage).snapshot.metadata.index - (y as SnapshotMessage).snapshot.metadata.index))).toEqual(plain(sent))
  })

  it('keeps order through batching and flow control (3,000 messages, 64 KiB batches)', async () => {
    const a = await member(A, { maxMessageBytes: 128 * 1024, snapshotChunkBytes: 32 * 1024 })
    const b = await member(B, { maxMessageBytes: 128 * 1024 })
    a.t.addPeer(B, b.t.address)
    const sent: Message[] = []
    for (let i = 0; i < 3000; i++) sent.push({ type: 'app', from: A, to: B, term: 1, logTerm: 1, index: i, commit: i, entries: [{ term: 1, index: i + 1, type: 'normal', data: bytes(1024, i) }] })
    for (let i = 0; i < sent.length; i += 100) a.t.send(sent.slice(i, i + 100))
    await until(() => b.r.messages.length === sent.length, 'all messages')
    expect(plain(b.r.messages)).toEqual(plain(sent))
    expect(a.t.peerStats(B)).toEqual({ address: b.t.address, stream: 'open', queued: 0, dropped: 0, tooLarge: 0, snapshotsInFlight: 0 })
  })

  it('tells the receiver who sent each message and at which address (advertised, or the bound one)', async () => {
    const a = await member(A, { advertiseAddress: 'a.example:7001' })
    const b = await member(B)
    const c = await member(C)
    const origins: unknown[] = []
    c.r.handlers.message = (m, origin) => {
      origins.push([m.from, origin])
      c.r.messages.push(m)
    }
    a.t.addPeer(C, c.t.address)
    b.t.addPeer(C, c.t.address)
    // A relayed message keeps its original sender in from; the origin is the member that sent it.
    a.t.send([heartbeat(A, C, 1), { type: 'prop', from: B, to: C, term: 0, entries: [] }])
    await until(() => origins.length === 2, 'messages from A')
    b.t.send([heartbeat(B, C, 2)])
    await until(() => origins.length === 3, 'message from B')
    expect(origins).toEqual([
      [A, { id: A, address: 'a.example:7001' }],
      [B, { id: A, address: 'a.example:7001' }],
      [B, { id: B, address: b.t.address }],
    ])
  })

  it('rejects a bad advertised address', () => {
    expect(() => new GrpcRaftTransport({ id: A, listenAddress: '127.0.0.1:0', advertiseAddress: 'no-port' })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'advertiseAddress' }))
  })

  it('reports a member without an address as unreachable, later than send', async () => {
    const a = await member(A)
    a.t.send([heartbeat(A, B, 1), heartbeat(A, B, 2), heartbeat(A, C, 3)])
    expect(a.r.unreachable).toEqual([])
    await Promise.resolve()
    expect(a.r.unreachable).toEqual([B, C])
  })

  it('reports a stopped member unreachable at each failed attempt, and delivers again once it is back on a new port', async () => {
    const a = await member(A, { backoff: { initialMs: 10, maxMs: 40 } })
    const b = await member(B)
    a.t.addPeer(B, b.t.address)
    a.t.send([heartbeat(A, B, 1)])
    await until(() => b.r.messages.length === 1, 'first message')
    await b.t.stop()
    await until(() => a.r.unreachable.length >= 1, 'unreachable after the stream broke')
    a.t.send([heartbeat(A, B, 2)])
    // The queued message makes the link retry; each failed attempt is one report.
    await until(() => a.r.unreachable.length >= 4, 'unreachable at each retry')
    expect(new Set(a.r.unreachable)).toEqual(new Set([B]))
    expect(b.r.messages).toHaveLength(1)

    const b2 = await member(B)
    a.t.addPeer(B, b2.t.address)
    a.t.send([heartbeat(A, B, 3)])
    await until(() => b2.r.messages.length === 2, 'delivery to the restarted member')
    expect(commits(b2.r.messages)).toEqual([2, 3])
  })

  it('bounds the queue of an unreachable member, dropping the oldest messages and keeping snapshots', async () => {
    const a = await member(A, { backoff: { initialMs: 60_000, maxMs: 60_000 }, maxQueuedMessages: 4 })
    const b = await member(B)
    const oldAddress = b.t.address
    a.t.addPeer(B, oldAddress)
    a.t.send([heartbeat(A, B, 1)])
    await until(() => b.r.messages.length === 1, 'first message')
    await b.t.stop()
    await until(() => a.r.unreachable.length === 1, 'unreachable')
    const snap: SnapshotMessage = { type: 'snapshot', from: A, to: B, term: 1, snapshot: { metadata: { index: 5, term: 1, confState: { voters: [A, B], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: bytes(10, 1) } }
    a.t.send([heartbeat(A, B, 10), snap])
    for (let c = 11; c <= 20; c++) a.t.send([heartbeat(A, B, c)])
    expect(a.t.peerStats(B)).toEqual({ address: oldAddress, stream: 'backoff', queued: 4, dropped: 8, tooLarge: 0, snapshotsInFlight: 0 })
    // Each dropped message is reported (later than send), never retried.
    expect(a.r.undeliverable).toEqual([])
    await Promise.resolve()
    expect(a.r.undeliverable.map(([m, reason]) => [m.type === 'heartbeat' ? m.commit : -1, reason])).toEqual([10, 11, 12, 13, 14, 15, 16, 17].map((c) => [c, 'queue-full']))
    expect(a.t.stats()).toEqual({ tooLarge: 0, queueFull: 8, refusedCalls: 0 })

    const b2 = await member(B)
    a.t.addPeer(B, b2.t.address) // a new address skips the backoff
    await until(() => b2.r.messages.length === 4 && a.r.snapshotStatus.length === 1, 'queued messages')
    expect(plain(b2.r.messages.filter((m) => m.type === 'snapshot'))).toEqual(plain([snap]))
    expect(commits(b2.r.messages.filter((m) => m.type === 'heartbeat'))).toEqual([18, 19, 20])
    expect(a.r.snapshotStatus).toEqual([[B, true]])
    expect(a.r.unreachable).toEqual([B])
  })

  it('refuses messages and snapshots addressed to another member', async () => {
    const a = await member(A, { backoff: { initialMs: 60_000, maxMs: 60_000 } })
    const a2 = await member(A, { backoff: { initialMs: 60_000, maxMs: 60_000 } })
    const c = await member(C)
    a.t.addPeer(B, c.t.address) // wrong: B's id at C's address
    a2.t.addPeer(B, c.t.address)
    a.t.send([heartbeat(A, B, 1)])
    a2.t.send([{ type: 'snapshot', from: A, to: B, term: 1, snapshot: { metadata: { index: 5, term: 1, confState: { voters: [A, B], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: bytes(10, 1) } }])
    await until(() => a.r.unreachable.length === 1 && a2.r.snapshotStatus.length === 1, 'refusals')
    expect(a.r.unreachable).toEqual([B])
    expect(a.t.peerStats(B)?.stream).toBe('backoff')
    expect(a2.r.snapshotStatus).toEqual([[B, false]])
    expect(a2.r.unreachable).toEqual([B])
    expect(c.r.messages).toEqual([])
  })

  it('stops cleanly: no handler afterwards, peers see it unreachable, no open handles', async () => {
    const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length
    await until(() => tcpHandles() === 0, 'handles of earlier tests released')
    const a = await member(A)
    const b = await member(B)
    a.t.addPeer(B, b.t.address)
    b.t.addPeer(A, a.t.address)
    a.t.send([heartbeat(A, B, 1)])
    b.t.send([heartbeat(B, A, 1)])
    await until(() => a.r.messages.length === 1 && b.r.messages.length === 1, 'messages both ways')
    await a.t.stop()
    await a.t.stop() // idempotent
    // A's sockets are closed: what is left is B's listener (B's retries to A come and go).
    await until(() => tcpHandles() === 1 && process.getActiveResourcesInfo().includes('TCPServerWrap'), 'only B listening')
    a.t.send([heartbeat(A, B, 2), heartbeat(A, C, 2)])
    b.t.send([heartbeat(B, A, 2)])
    await until(() => b.r.unreachable.length >= 1, 'peer sees the stopped member')
    expect(a.r.messages).toHaveLength(1)
    expect(a.r.unreachable).toEqual([])
    await b.t.stop()
    // Node releases the listening socket's handle within a turn of the event loop.
    await until(() => tcpHandles() === 0, 'handles released')
    expect(() => a.t.address).toThrow(expect.objectContaining({ name: 'FailedPreconditionError' }))
  })
})
