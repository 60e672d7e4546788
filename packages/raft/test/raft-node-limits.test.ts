/**
 * RaftNode's size limits follow its transport's `maxMessageBytes` (issue: one proposal larger
 * than the transport's limit stalled the cluster, the transport dropping the append and the
 * leader resending it forever). In process, on a ManualClock, over a bus that — like
 * GrpcRaftTransport — gives up on any message whose encoding does not fit and reports it.
 */
import fc from 'fast-check'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { describe, expect, it } from 'vitest'
import { EntryType, MemoryRaftStorage, ProposalDroppedError, ProposalTooLargeError, RaftNode, encodeMessage } from '../src/index.ts'
import { entrySize, limitSize } from '../src/core/entries.ts'
import type { Entry, Message, RaftTransport, RaftTransportHandlers } from '../src/index.ts'
import { decodeProposals } from '../src/driver/raft-node-codec.ts'
import { maxEntryDataBytes, messageSizeBound, type UndeliverableReason } from '../src/transport/transport.ts'
import { maxPayloadFor, maxSizePerMsgFor, proposalEntryBytes } from '../src/driver/raft-node-limits.ts'
import { KvStateMachine, flush } from './helpers/driver-cluster.ts'

const KiB = 1024
/** GrpcRaftTransport's framing of one message in a batch. */
const ENVELOPE_BYTES = 16

/**
 * Delivers messages on clock timers; a message whose protobuf encoding (plus its envelope) is
 * over `maxMessageBytes` is not sent but reported `undeliverable('too-large')`, as
 * GrpcRaftTransport does.
 */
class LimitedBus {
  readonly handlers = new Map<bigint, RaftTransportHandlers>()
  readonly clock = new ManualClock(0)
  readonly maxMessageBytes: number
  /** Every message given up on. */
  readonly tooLarge: Message[] = []
  /** The largest message encoding delivered. */
  largest = 0
  constructor(maxMessageBytes: number) {
    this.maxMessageBytes = maxMessageBytes
  }

  endpoint(self: bigint): RaftTransport {
    return {
      maxMessageBytes: this.maxMessageBytes,
      start: (h) => {
        this.handlers.set(self, h)
        return Promise.resolve()
      },
      send: (msgs: readonly Message[]) => {
        for (const m of msgs) {
          const size = m.type === 'snapshot' ? 0 : encodeMessage(m).byteLength + ENVELOPE_BYTES
          this.clock.setTimeout(() => {
            if (size > this.maxMessageBytes) {
              this.tooLarge.push(m)
              this.handlers.get(self)?.undeliverable?.(m, 'too-large')
              return
            }
            this.largest = Math.max(this.largest, size)
            if (m.type === 'snapshot') this.handlers.get(self)?.snapshotStatus?.(m.to, this.handlers.has(m.to))
            this.handlers.get(m.to)?.message(m)
          }, 1)
        }
      },
      addPeer: () => {},
      removePeer: () => {},
      stop: () => {
        this.handlers.delete(self)
        return Promise.resolve()
      },
    }
  }
}

interface Member {
  id: bigint
  node: RaftNode
  storage: MemoryRaftStorage
  sm: KvStateMachine
}

/** Three members on a {@link LimitedBus}, started, with a leader elected. */
async function cluster(maxMessageBytes: number): Promise<{ bus: LimitedBus; members: Member[]; leader: Member; run: (ms: number) => Promise<void>; settle: <T>(p: Promise<T>) => Promise<T> }> {
  const bus = new LimitedBus(maxMessageBytes)
  const random = new SeededRandom(11)
  const ids = [1n, 2n, 3n]
  const members = ids.map((id) => {
    const storage = new MemoryRaftStorage({ incarnation: null })
    const sm = new KvStateMachine()
    const node = new RaftNode({ id, storage, transport: bus.endpoint(id), stateMachine: sm, clock: bus.clock, random: random.fork(), tickMs: 100 })
    node.bootstrap(ids.map((p) => ({ id: p, address: `node-${p}` })))
    return { id, node, storage, sm }
  })
  for (const m of members) await m.node.start()
  const run = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 10) {
      bus.clock.advance(10)
      await flush()
    }
  }
  const settle = async <T,>(p: Promise<T>): Promise<T> => {
    let done = false
    const guarded = p.finally(() => (done = true))
    for (let t = 0; t < 60_000 && !done; t += 10) await run(10)
    return guarded
  }
  let leader: Member | undefined
  for (let t = 0; t < 30_000 && leader === undefined; t += 100) {
    await run(100)
    leader = members.find((m) => m.node.isLeader)
  }
  if (leader === undefined) throw new Error('no leader elected')
  return { bus, members, leader, run, settle }
}

/** A `key=<filler>` payload of exactly `n` bytes. */
function payload(key: string, n: number): Uint8Array {
  const p = new Uint8Array(n).fill(0x78)
  p.set(new TextEncoder().encode(`${key}=`))
  return p
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

/** What a promise rejected with (fails the test if it resolved). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${String(v)}`)
    },
    (e: unknown) => e,
  )
}

describe('RaftNode limits derived from the transport', () => {
  it('maxSizePerMsgFor: an append the core cuts at it, of any entries, fits the transport (bound and real encoding)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1024, max: 96 * KiB }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 400 }),
        fc.boolean(),
        (maxMessageBytes, sizes, bigFirst) => {
          const maxEntry = maxEntryDataBytes(maxMessageBytes)
          const cap = maxSizePerMsgFor(maxMessageBytes)
          // Worst-case numbers on the wire: 64-bit ids and incarnations, terms and indexes near 2^53.
          const top = Number.MAX_SAFE_INTEGER - 1000
          const datas = sizes.map((n) => Math.min(n, maxEntry))
          if (bigFirst) datas[0] = maxEntry
          const ents: Entry[] = datas.map((n, i) => ({ term: top, index: top + i, type: i % 5 === 0 ? 'conf-change' : 'normal', data: new Uint8Array(n) }))
          const cut = limitSize(ents, cap)
          const msg: Message = { type: 'app', from: 2n ** 64n - 1n, to: 2n ** 64n - 2n, fromIncarnation: 2n ** 64n - 3n, toIncarnation: 2n ** 64n - 4n, term: top, logTerm: top, index: top - 1, commit: top, entries: cut }
          expect(messageSizeBound(msg)).toBeLessThanOrEqual(maxMessageBytes)
          expect(encodeMessage(msg).byteLength + ENVELOPE_BYTES).toBeLessThanOrEqual(maxMessageBytes)
          if (cut.length > 1) expect(cut.reduce((s: number, e: Entry) => s + entrySize(e), 0)).toBeLessThanOrEqual(cap)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('maxPayloadFor is the exact largest payload whose entry fits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 30, max: 20_000_000 }), (maxEntry) => {
        const n = maxPayloadFor(maxEntry)
        expect(proposalEntryBytes(n)).toBeLessThanOrEqual(maxEntry)
        expect(proposalEntryBytes(n + 1)).toBeGreaterThan(maxEntry)
      }),
    )
  })

  it('refuses an init whose maxSizePerMsg the transport cannot carry, or a bad transport limit, naming the field', () => {
    const base = { id: 1n, storage: new MemoryRaftStorage(), stateMachine: new KvStateMachine(), clock: new ManualClock(0), random: new SeededRandom(1) }
    const bus = new LimitedBus(64 * KiB)
    const cap = maxSizePerMsgFor(64 * KiB)
    expect(() => new RaftNode({ ...base, transport: bus.endpoint(1n), maxSizePerMsg: cap + 1 })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'maxSizePerMsg' }))
    expect(new RaftNode({ ...base, transport: bus.endpoint(1n), maxSizePerMsg: cap }).maxProposalBytes).toBe(maxPayloadFor(maxEntryDataBytes(64 * KiB)))
    for (const bad of [0, -1, 1.5, 300]) {
      expect(() => new RaftNode({ ...base, transport: { ...bus.endpoint(1n), maxMessageBytes: bad } })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'transport.maxMessageBytes' }))
    }
    // Without a transport limit there is none on proposals either.
    expect(new RaftNode({ ...base, transport: { ...bus.endpoint(1n), maxMessageBytes: undefined } }).maxProposalBytes).toBe(Number.POSITIVE_INFINITY)
  })

  it('64 KiB messages: a 128 KiB proposal rejects at once with ProposalTooLargeError, one just under the limit commits, and the cluster keeps committing', async () => {
    const { bus, members, leader, settle, run } = await cluster(64 * KiB)
    const max = leader.node.maxProposalBytes
    expect(max).toBe(maxPayloadFor(maxEntryDataBytes(64 * KiB)))
    expect(max).toBeGreaterThan(60 * KiB)

    const err = await rejection(leader.node.propose(payload('big', 128 * KiB)))
    expect(err).toBeInstanceOf(ProposalTooLargeError)
    expect(err).toMatchObject({ name: 'ProposalTooLargeError', field: 'payload', limit: maxEntryDataBytes(64 * KiB), maxMessageBytes: 64 * KiB, size: proposalEntryBytes(128 * KiB) })
    expect(await rejection(leader.node.propose(payload('edge', max + 1)))).toBeInstanceOf(ProposalTooLargeError)

    expect(await settle(leader.node.propose(payload('edge', max)))).toHaveLength(max - 'edge='.length)
    expect(await settle(leader.node.propose(enc('small=1')))).toBe('1')
    await run(1000)
    for (const m of members) expect(m.sm.applied.map((a) => a.slice(0, a.indexOf('=')))).toEqual(['edge', 'small'])
    expect(bus.tooLarge).toEqual([])
    expect(bus.largest).toBeLessThanOrEqual(64 * KiB)
    expect(leader.node.undeliverable).toEqual({ 'too-large': 0, 'queue-full': 0 })
  })

  it('a follower refuses a forwarded proposal over the limit at once and forwards one at the limit', async () => {
    const { bus, members, leader, settle, run } = await cluster(64 * KiB)
    const follower = members.find((m) => m !== leader) as Member
    const max = follower.node.maxProposalBytes
    expect(await rejection(follower.node.propose(payload('far', 128 * KiB)))).toMatchObject({ name: 'ProposalTooLargeError', field: 'payload' })
    expect(await settle(follower.node.propose(payload('fwd', max)))).toHaveLength(max - 'fwd='.length)
    expect(await settle(follower.node.propose(enc('after=2')))).toBe('2')
    await run(1000)
    for (const m of members) expect(m.sm.applied.map((a) => a.slice(0, a.indexOf('=')))).toEqual(['fwd', 'after'])
    expect(bus.tooLarge).toEqual([])
  })

  it('splits a burst of proposals into entries that each fit, and appends the core cuts to fit too', async () => {
    const { bus, members, leader, settle, run } = await cluster(64 * KiB)
    // 24 proposals of 10 KiB in one turn: 240 KiB, far over one message.
    const burst = Array.from({ length: 24 }, (_, i) => leader.node.propose(payload(`k${i}`, 10 * KiB)))
    await settle(Promise.all(burst))
    await run(1000)
    const maxEntry = maxEntryDataBytes(64 * KiB)
    for (const m of members) {
      expect(m.sm.applied).toHaveLength(24)
      const normal = m.storage.entries(m.storage.firstIndex(), m.storage.lastIndex() + 1).filter((e) => e.type === EntryType.normal && e.data.byteLength > 0)
      expect(normal.map((e) => decodeProposals(e.data).length).reduce((a, b) => a + b, 0)).toBe(24)
      expect(normal.length).toBeGreaterThan(1)
      for (const e of normal) expect(e.data.byteLength).toBeLessThanOrEqual(maxEntry)
    }
    expect(bus.tooLarge).toEqual([])
    expect(bus.largest).toBeLessThanOrEqual(64 * KiB)
  })

  it('refuses a membership change whose address would not fit, naming the field', async () => {
    const { leader } = await cluster(2 * KiB)
    const huge = `${'h'.repeat(4 * KiB)}:1`
    expect(await rejection(leader.node.addMember(9n, huge))).toMatchObject({ name: 'ProposalTooLargeError', field: 'address', maxMessageBytes: 2 * KiB })
    const fresh = new RaftNode({ id: 5n, storage: new MemoryRaftStorage(), transport: new LimitedBus(2 * KiB).endpoint(5n), stateMachine: new KvStateMachine(), clock: new ManualClock(0), random: new SeededRandom(2) })
    expect(() => fresh.bootstrap([{ id: 5n, address: 'ok:1' }, { id: 6n, address: huge }])).toThrow(expect.objectContaining({ name: 'ProposalTooLargeError', field: 'peers[1].address' }))
  })
})

describe('RaftNode and messages the transport gives up on', () => {
  /** A leader-less member whose transport records what it sends and reports on demand. */
  async function single(): Promise<{ node: RaftNode; sent: Message[]; report: (m: Message, r: UndeliverableReason) => void }> {
    let h: RaftTransportHandlers | undefined
    const sent: Message[] = []
    const clock = new ManualClock(0)
    const node = new RaftNode({
      id: 2n,
      storage: new MemoryRaftStorage(),
      transport: { maxMessageBytes: 64 * KiB, start: (x) => ((h = x), Promise.resolve()), send: (ms) => void sent.push(...ms), addPeer: () => {}, removePeer: () => {}, stop: () => Promise.resolve() },
      stateMachine: new KvStateMachine(),
      clock,
      random: new SeededRandom(5),
    })
    node.bootstrap([1n, 2n, 3n].map((id) => ({ id, address: `node-${id}` })))
    await node.start()
    await flush()
    // Member 1 is the leader of term 1: a heartbeat makes this member its follower.
    h?.message({ type: 'heartbeat', from: 1n, to: 2n, term: 1, commit: 0, context: new Uint8Array(0) })
    await flush()
    expect(node.leader).toBe(1n)
    return { node, sent, report: (m, r) => h?.undeliverable?.(m, r) }
  }

  it('drops our proposals in a forward the transport gave up on (ProposalDroppedError undeliverable), counts it and emits it', async () => {
    const { node, sent, report } = await single()
    const events: Array<[string, UndeliverableReason]> = []
    node.on('message:undeliverable', (m, r) => events.push([m.type, r]))
    const p = rejection(node.propose(enc('a=1')))
    await flush()
    const prop = sent.find((m) => m.type === 'prop')
    expect(prop).toBeDefined()
    report(prop as Message, 'queue-full')
    const err = await p
    expect(err).toBeInstanceOf(ProposalDroppedError)
    expect(err).toMatchObject({ reason: 'undeliverable' })
    expect(node.undeliverable).toEqual({ 'too-large': 0, 'queue-full': 1 })
    expect(events).toEqual([['prop', 'queue-full']])
    // A later proposal is forwarded as usual.
    void node.propose(enc('b=2')).catch(() => undefined)
    await flush()
    expect(sent.filter((m) => m.type === 'prop')).toHaveLength(2)
    await node.stop()
  })

  it("counts an append the transport could not carry and makes the core probe that follower instead of streaming to it", async () => {
    const c = await cluster(64 * KiB)
    const follower = c.members.find((m) => m !== c.leader) as Member
    await c.settle(c.leader.node.propose(enc('x=1')))
    expect(c.leader.node.status().progress.get(follower.id)?.state).toBe('replicate')
    const app: Message = { type: 'app', from: c.leader.id, to: follower.id, term: c.leader.node.status().hardState.term, logTerm: 0, index: 0, commit: 0, entries: [] }
    c.bus.handlers.get(c.leader.id)?.undeliverable?.(app, 'too-large')
    await flush()
    expect(c.leader.node.undeliverable).toEqual({ 'too-large': 1, 'queue-full': 0 })
    expect(c.leader.node.status().progress.get(follower.id)?.state).toBe('probe')
    // And it recovers: the next proposal commits everywhere.
    expect(await c.settle(c.leader.node.propose(enc('y=2')))).toBe('2')
    await c.run(1000)
    for (const m of c.members) expect(m.sm.applied).toEqual(['x=1', 'y=2'])
  })
})
