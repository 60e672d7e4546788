/**
 * Regression over real grpc-js: 3 members whose GrpcRaftTransport carries at most 64 KiB per
 * message. A 128 KiB proposal used to neither resolve nor reject, and nothing committed after
 * it (the transport dropped the oversized append; the leader resent it forever). Now it rejects
 * at once with ProposalTooLargeError, and the cluster keeps committing, forwarded proposals
 * included; a proposal at the limit commits everywhere; no message is ever too large.
 */
import { describe, expect, it } from 'vitest'
import { DEFAULT_MAX_MESSAGE_BYTES, GrpcRaftTransport } from '../src/transport/grpc-transport.ts'
import { allowAnyRaftPeer } from '../src/transport/grpc-transport-auth.ts'
import { MemoryRaftStorage, ProposalTooLargeError, RaftNode, type StateMachine } from '../src/index.ts'
import { maxEntryDataBytes } from '../src/transport/transport.ts'
import { until, cleanupAfterEach } from './helpers/real-time.ts'

const KiB = 1024
const MAX = 64 * KiB

const cleanup = cleanupAfterEach()

/** Records the key (text before `=`) and length of each applied payload. */
class Recorder implements StateMachine {
  readonly applied: string[] = []
  apply(payload: Uint8Array): unknown {
    const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('latin1')
    const key = text.slice(0, text.indexOf('='))
    this.applied.push(`${key}:${payload.byteLength}`)
    return payload.byteLength
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.applied))
  }
  restore(data: Uint8Array): void {
    this.applied.splice(0, this.applied.length, ...(JSON.parse(new TextDecoder().decode(data)) as string[]))
  }
}

/** A `key=<filler>` payload of exactly `n` bytes. */
function payload(key: string, n: number): Uint8Array {
  const p = new Uint8Array(n).fill(0x78)
  p.set(new TextEncoder().encode(`${key}=`))
  return p
}

describe('RaftNode over GrpcRaftTransport with maxMessageBytes 64 KiB', () => {
  it('rejects a 128 KiB proposal at once (leader and follower), commits one at the limit, and keeps committing', async () => {
    const ids = [0x11n, (1n << 63n) + 0x22n, 0x33n]
    const transports = ids.map((id) => new GrpcRaftTransport({ id, listenAddress: '127.0.0.1:0', maxMessageBytes: MAX, authorize: allowAnyRaftPeer, backoff: { initialMs: 20, maxMs: 200 } }))
    for (const t of transports) cleanup.push(() => t.stop())
    const addresses = await Promise.all(transports.map((t) => t.listen()))
    const sms = ids.map(() => new Recorder())
    const nodes = ids.map((id, i) => {
      const node = new RaftNode({ id, storage: new MemoryRaftStorage(), transport: transports[i] as GrpcRaftTransport, stateMachine: sms[i] as Recorder, tickMs: 20, electionTick: 10 })
      node.bootstrap(ids.map((p, j) => ({ id: p, address: addresses[j] as string })))
      cleanup.push(() => node.stop())
      return node
    })
    await Promise.all(nodes.map((n) => n.start()))
    const leaderId = await nodes[0]!.waitForLeader()
    const leader = nodes[ids.indexOf(leaderId)] as RaftNode
    const follower = nodes.find((n) => n !== leader) as RaftNode
    const max = leader.maxProposalBytes
    expect(max).toBe(follower.maxProposalBytes)
    expect(max).toBeLessThan(maxEntryDataBytes(MAX))
    expect(max).toBeGreaterThan(63 * KiB)

    // Rejected synchronously with the typed error: nothing was proposed.
    for (const node of [leader, follower]) {
      await expect(node.propose(payload('big', 128 * KiB))).rejects.toBeInstanceOf(ProposalTooLargeError)
      await expect(node.propose(payload('big', 128 * KiB))).rejects.toMatchObject({ field: 'payload', limit: maxEntryDataBytes(MAX), maxMessageBytes: MAX })
    }

    // At the limit, from the leader and forwarded by a follower; then small ones.
    expect(await leader.propose(payload('edge', max))).toBe(max)
    expect(await follower.propose(payload('fwd', max))).toBe(max)
    expect(await leader.propose(payload('small', 10))).toBe(10)
    expect(await follower.propose(payload('after', 12))).toBe(12)
    const expected = [`edge:${max}`, `fwd:${max}`, 'small:10', 'after:12']
    await until(() => sms.every((sm) => sm.applied.length === expected.length), 'every member to apply the four proposals')
    for (const sm of sms) expect(sm.applied).toEqual(expected)
    for (const t of transports) expect(t.stats().tooLarge).toBe(0)
    for (const n of nodes) expect(n.undeliverable).toEqual({ 'too-large': 0, 'queue-full': 0 })
  }, 60_000)

  it('with the default 16 MiB limit, a 17 MiB proposal rejects at once and a small one commits', async () => {
    const t = new GrpcRaftTransport({ id: 1n, listenAddress: '127.0.0.1:0', authorize: allowAnyRaftPeer })
    cleanup.push(() => t.stop())
    const address = await t.listen()
    const sm = new Recorder()
    const node = new RaftNode({ id: 1n, storage: new MemoryRaftStorage(), transport: t, stateMachine: sm, tickMs: 20, electionTick: 10 })
    node.bootstrap([{ id: 1n, address }])
    cleanup.push(() => node.stop())
    await node.start()
    expect(await node.waitForLeader()).toBe(1n)
    await expect(node.propose(payload('huge', 17 * 1024 * KiB))).rejects.toMatchObject({ name: 'ProposalTooLargeError', maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES })
    expect(await node.propose(payload('ok', 3))).toBe(3)
    expect(sm.applied).toEqual(['ok:3'])
  }, 60_000)
})
