/**
 * The `RaftTransport` compliance suite: the obligations of transport.ts checked between real
 * transports of one implementation — order per peer, `addPeer`/`removePeer`, unreachable reports,
 * snapshot outcomes, handlers never called from inside `send`, nothing after `stop`, the origin
 * of each message, and `maxMessageBytes` with `undeliverable`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { RaftMemberId } from '@swarmkit-ts/api'
import { maxEntryDataBytes, type MessageOrigin, type RaftTransport, type RaftTransportHandlers, type UndeliverableReason } from '../transport/transport.ts'
import type { AppMessage, HeartbeatMessage, Message, SnapshotMessage } from '../core/types.ts'

/** Options of {@link describeRaftTransportCompliance}. */
export interface RaftTransportComplianceOptions<T extends RaftTransport> {
  /** Names the implementation in the suite's title. */
  name: string
  /**
   * A new, unstarted transport for member `id`, on a fresh address. The suite may create several
   * for one id in a test (a restarted member). Members of one test must be able to reach each
   * other by the addresses {@link address} gives.
   */
  create: (id: RaftMemberId) => T | Promise<T>
  /** The address peers reach a started transport at (what receivers get as its origin). */
  address: (transport: T) => string
  /** Releases a transport after its test (the suite has stopped it already). @default nothing */
  destroy?: ((transport: T) => void | Promise<void>) | undefined
  /**
   * Lets time pass while the suite waits for a delivery or a report — advance a virtual clock
   * here. @default a real pause of 5 ms
   */
  advance?: (() => void | Promise<void>) | undefined
  /** Whether receivers are told each sender's id and address as `origin`. @default true */
  origin?: boolean | undefined
  /** How long (real time) the suite waits for an expected event before failing. @default 10000 */
  timeoutMs?: number | undefined
}

/** What one started member observed. */
interface Observed<T extends RaftTransport> {
  readonly id: RaftMemberId
  readonly t: T
  readonly messages: Message[]
  readonly origins: Array<MessageOrigin | undefined>
  readonly unreachable: RaftMemberId[]
  readonly snapshotStatus: Array<[RaftMemberId, boolean]>
  readonly undeliverable: Array<[Message, UndeliverableReason]>
  /** Any handler call, in order, for the nothing-after-stop check. */
  calls: number
}

const A = 0xa1n
const B = (1n << 64n) - 0xb2n
const C = 0xc3n

const heartbeat = (from: RaftMemberId, to: RaftMemberId, commit: number): HeartbeatMessage => ({ type: 'heartbeat', from, to, term: 1, commit, context: new Uint8Array(0) })
const commits = (ms: readonly Message[]): number[] => ms.map((m) => (m.type === 'heartbeat' ? m.commit : -1))

function snapshot(from: RaftMemberId, to: RaftMemberId, bytes: number): SnapshotMessage {
  const data = new Uint8Array(bytes)
  for (let i = 0; i < bytes; i++) data[i] = (i * 7 + 3) & 0xff
  return {
    type: 'snapshot', from, to, term: 2,
    snapshot: { metadata: { index: 40, term: 2, confState: { voters: [from, to], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data },
  }
}

function append(from: RaftMemberId, to: RaftMemberId, dataBytes: number): AppMessage {
  return { type: 'app', from, to, term: 1, logTerm: 1, index: 1, commit: 1, entries: [{ term: 1, index: 2, type: 'normal', data: new Uint8Array(dataBytes).fill(0x5a) }] }
}

/**
 * Registers the `RaftTransport` compliance tests (call it at the top level of a vitest test
 * file). Each test creates its members with `options.create`, starts them, and stops and
 * destroys every one of them afterwards, also when it failed.
 */
export function describeRaftTransportCompliance<T extends RaftTransport>(options: RaftTransportComplianceOptions<T>): void {
  const timeoutMs = options.timeoutMs ?? 10_000
  const withOrigin = options.origin ?? true

  describe(`RaftTransport compliance: ${options.name}`, () => {
    const created: T[] = []
    afterEach(async () => {
      for (const t of created.splice(0)) {
        await t.stop()
        await options.destroy?.(t)
      }
    })

    async function member(id: RaftMemberId): Promise<Observed<T>> {
      const t = await options.create(id)
      created.push(t)
      const o: Observed<T> = { id, t, messages: [], origins: [], unreachable: [], snapshotStatus: [], undeliverable: [], calls: 0 }
      const handlers: RaftTransportHandlers = {
        message: (m, origin) => {
          o.calls++
          o.messages.push(m)
          o.origins.push(origin)
        },
        unreachable: (to) => {
          o.calls++
          o.unreachable.push(to)
        },
        snapshotStatus: (to, ok) => {
          o.calls++
          o.snapshotStatus.push([to, ok])
        },
        undeliverable: (m, reason) => {
          o.calls++
          o.undeliverable.push([m, reason])
        },
      }
      await t.start(handlers)
      return o
    }

    /** Starts members and tells each the addresses of the others. */
    async function cluster(...ids: RaftMemberId[]): Promise<Array<Observed<T>>> {
      const ms: Array<Observed<T>> = []
      for (const id of ids) ms.push(await member(id))
      for (const x of ms) for (const y of ms) if (x !== y) x.t.addPeer(y.id, options.address(y.t))
      return ms
    }

    /** Lets time pass until `cond` holds (a guard against hanging, not a timing assertion). */
    async function until(cond: () => boolean, what: string): Promise<void> {
      const deadline = Date.now() + timeoutMs
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
        if (options.advance === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
        else await options.advance()
      }
    }

    /** Lets some time pass, for checks that something does NOT happen. */
    async function pause(): Promise<void> {
      for (let i = 0; i < 20; i++) {
        if (options.advance === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
        else await options.advance()
      }
    }

    it('delivers the messages of one sender to one peer in the order they were sent', async () => {
      const [a, b] = await cluster(A, B) as [Observed<T>, Observed<T>]
      const sent: number[] = []
      for (let batch = 0; batch < 5; batch++) {
        const ms: Message[] = []
        for (let i = 0; i < 20; i++) {
          sent.push(batch * 20 + i)
          ms.push(heartbeat(A, B, batch * 20 + i))
        }
        a.t.send(ms)
      }
      await until(() => b.messages.length >= sent.length, 'every message')
      expect(commits(b.messages)).toEqual(sent)
      expect(b.messages.every((m) => m.from === A && m.to === B && m.type === 'heartbeat')).toBe(true)
      expect(a.unreachable).toEqual([])
    })

    it('keeps 64-bit member ids exact and delivers each message to its own peer only', async () => {
      const [a, b, c] = await cluster(A, B, C) as [Observed<T>, Observed<T>, Observed<T>]
      a.t.send([heartbeat(A, B, 1), heartbeat(A, C, 2), heartbeat(A, B, 3)])
      await until(() => b.messages.length >= 2 && c.messages.length >= 1, 'deliveries')
      expect(b.messages).toEqual([heartbeat(A, B, 1), heartbeat(A, B, 3)])
      expect(c.messages).toEqual([heartbeat(A, C, 2)])
      expect(a.messages).toEqual([])
    })

    it('never calls a handler from inside send: a peer without an address is reported unreachable later', async () => {
      const a = await member(A)
      a.t.send([heartbeat(A, B, 1), heartbeat(A, C, 2)])
      expect(a.calls).toBe(0)
      await until(() => a.unreachable.includes(B) && a.unreachable.includes(C), 'unreachable reports')
      expect(new Set(a.unreachable)).toEqual(new Set([B, C]))
    })

    it('forgets a removed peer (reported unreachable, nothing delivered) and reaches it again once added back', async () => {
      const [a, b] = await cluster(A, B) as [Observed<T>, Observed<T>]
      a.t.send([heartbeat(A, B, 1)])
      await until(() => b.messages.length === 1, 'first delivery')
      a.t.removePeer(B)
      a.t.send([heartbeat(A, B, 2)])
      await until(() => a.unreachable.includes(B), 'unreachable after removePeer')
      await pause()
      expect(commits(b.messages)).toEqual([1])
      a.t.addPeer(B, options.address(b.t))
      a.t.send([heartbeat(A, B, 3)])
      await until(() => b.messages.length === 2, 'delivery after addPeer')
      expect(commits(b.messages)).toEqual([1, 3])
    })

    it('reports a stopped peer unreachable, and reaches its restarted process at a new address', async () => {
      const [a, b] = await cluster(A, B) as [Observed<T>, Observed<T>]
      a.t.send([heartbeat(A, B, 1)])
      await until(() => b.messages.length === 1, 'first delivery')
      await b.t.stop()
      a.t.send([heartbeat(A, B, 2)])
      await until(() => a.unreachable.includes(B), 'unreachable')
      const b2 = await member(B)
      a.t.addPeer(B, options.address(b2.t))
      a.t.send([heartbeat(A, B, 3)])
      await until(() => b2.messages.some((m) => m.type === 'heartbeat' && m.commit === 3), 'delivery to the restarted member')
      // Message 2 may arrive (queued until the peer is back) or be lost; never out of order.
      expect([[3], [2, 3]]).toContainEqual(commits(b2.messages))
      expect(commits(b.messages)).toEqual([1])
    })

    it('delivers a snapshot whole and reports its outcome to the sender', async () => {
      const [a, b] = await cluster(A, B) as [Observed<T>, Observed<T>]
      const snap = snapshot(A, B, 100_000)
      a.t.send([snap])
      await until(() => a.snapshotStatus.length === 1 && b.messages.length === 1, 'snapshot and its outcome')
      expect(a.snapshotStatus).toEqual([[B, true]])
      const got = b.messages[0] as SnapshotMessage
      expect(got.type).toBe('snapshot')
      expect(got.snapshot.metadata).toEqual(snap.snapshot.metadata)
      expect(Buffer.from(got.snapshot.data).equals(Buffer.from(snap.snapshot.data))).toBe(true)
    })

    it.runIf(withOrigin)("tells the receiver the sender's id and address as the origin, also for a relayed message", async () => {
      const [a, b] = await cluster(A, B) as [Observed<T>, Observed<T>]
      a.t.send([heartbeat(A, B, 1), { type: 'prop', from: C, to: B, term: 0, entries: [] }])
      await until(() => b.messages.length === 2, 'deliveries')
      expect(b.messages[1]).toMatchObject({ type: 'prop', from: C })
      for (const origin of b.origins) expect(origin).toMatchObject({ id: A, address: options.address(a.t) })
    })

    it('calls no handler once stop() resolved, and ignores send afterwards', async () => {
      const [a, b] = await cluster(A, B) as [Observed<T>, Observed<T>]
      a.t.send([heartbeat(A, B, 1)])
      b.t.send([heartbeat(B, A, 1)])
      await until(() => a.messages.length === 1 && b.messages.length === 1, 'messages both ways')
      await a.t.stop()
      const calls = a.calls
      expect(() => a.t.send([heartbeat(A, B, 2), heartbeat(A, C, 2)])).not.toThrow()
      b.t.send([heartbeat(B, A, 2), snapshot(B, A, 10)])
      await until(() => b.unreachable.includes(A), 'the peer sees the stopped member unreachable')
      await pause()
      expect(a.calls).toBe(calls)
      expect(commits(b.messages)).toEqual([1])
    })

    it('with maxMessageBytes: delivers a message as large as it allows and reports a larger one undeliverable (too-large), never sending it; without: delivers 1 MiB', async () => {
      const [a, b] = await cluster(A, B) as [Observed<T>, Observed<T>]
      const max = a.t.maxMessageBytes
      if (max === undefined) {
        const big = append(A, B, 1024 * 1024)
        a.t.send([big])
        await until(() => b.messages.length === 1, 'delivery')
        expect((b.messages[0] as AppMessage).entries[0]?.data.byteLength).toBe(1024 * 1024)
        return
      }
      const fits = append(A, B, maxEntryDataBytes(max))
      const tooLarge = append(A, B, max + 1)
      a.t.send([fits, tooLarge, heartbeat(A, B, 7)])
      expect(a.calls).toBe(0)
      await until(() => b.messages.length === 2 && a.undeliverable.length === 1, 'delivery and the report')
      await pause()
      expect(b.messages.map((m) => m.type)).toEqual(['app', 'heartbeat'])
      expect((b.messages[0] as AppMessage).entries[0]?.data.byteLength).toBe(maxEntryDataBytes(max))
      expect(a.undeliverable).toEqual([[tooLarge, 'too-large']])
    })
  })
}
