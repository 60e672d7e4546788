import { describe, expect, it } from 'vitest'
import { DriverCluster, flush, recordSends } from './helpers/driver-cluster.ts'
import type { DriverMember } from './helpers/driver-cluster.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Holds every `sync()` of `m`'s storage until released, in call order. */
function holdSyncs(m: DriverMember): { held: () => number; release: () => void } {
  const waiting: Array<() => void> = []
  const sync = m.storage.sync.bind(m.storage)
  m.storage.sync = () =>
    new Promise<void>((resolve, reject) =>
      waiting.push(() => {
        sync().then(resolve, reject)
      }),
    )
  return { held: () => waiting.length, release: () => waiting.shift()?.() }
}

/** Records the settlement of `p`. */
function track(p: Promise<unknown>): { state: 'pending' | 'resolved' | 'rejected'; value: unknown } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; value: unknown } = { state: 'pending', value: undefined }
  p.then(
    (v) => Object.assign(t, { state: 'resolved', value: v }),
    (e: unknown) => Object.assign(t, { state: 'rejected', value: e }),
  )
  return t
}

describe('RaftNode applies committed entries while a write is in flight', () => {
  it('resolves a committed proposal stored by an earlier Ready before the next Ready is durable', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n])
    const m = await c.waitLeader()
    const gate = holdSyncs(m)

    const b = track(m.node.propose(enc('b=2')))
    await flush()
    expect(gate.held()).toBe(1) // b's write
    const cc = track(m.node.propose(enc('c=3')))
    await flush()
    expect({ held: gate.held(), b: b.state, c: cc.state }).toEqual({ held: 1, b: 'pending', c: 'pending' })

    // b is durable: the next Ready commits it and appends c; b applies while c's write is held.
    gate.release()
    await flush()
    expect({ held: gate.held(), b: b.state, value: b.value, c: cc.state, data: m.sm.data.get('b') }).toEqual({ held: 1, b: 'resolved', value: '2', c: 'pending', data: '2' })
    expect(m.sm.data.has('c')).toBe(false)

    gate.release()
    await flush()
    gate.release() // a later Ready may sync again (e.g. the commit index)
    await flush()
    expect({ c: cc.state, value: cc.value, applied: m.node.applied }).toEqual({ c: 'resolved', value: '3', applied: m.storage.lastIndex() })
  })

  it('never applies an entry that arrives committed in the same Ready before it is durable here', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    const f = c.follower(leader)
    // The leader commits x with the other follower while f is cut off…
    c.bus.isolated.add(f.id)
    expect(await c.settle(leader.node.propose(enc('x=1')))).toBe('1')
    // …then f receives x together with a commit index covering it, and its write is held.
    const gate = holdSyncs(f)
    c.bus.isolated.delete(f.id)
    for (let t = 0; t < 3000 && gate.held() === 0; t += 10) await c.run(10)
    expect(gate.held()).toBe(1)
    await c.run(200)
    // It knows x is committed, and still has not applied it.
    expect({ knowsCommitted: f.node.status().hardState.commit >= leader.node.applied, applied: f.sm.data.has('x'), held: gate.held() }).toEqual({ knowsCommitted: true, applied: false, held: 1 })
    gate.release()
    for (let t = 0; t < 3000 && !f.sm.data.has('x'); t += 10) {
      gate.release()
      await c.run(10)
    }
    expect(f.sm.data.get('x')).toBe('1')
  })
})

describe('RaftNode follower: its acknowledgement does not wait for its apply', () => {
  it('sends the acknowledgement of new entries before it applies the committed entries that came with them', async () => {
    // A long commit-broadcast delay and ticks of 1 s: x's commit index reaches the followers only
    // with the append of y, in one Ready that both stores y and applies x.
    const c = new DriverCluster({ commitBroadcastDelayMs: 10_000, tickMs: 1000 })
    const events: string[] = []
    recordSends(c.bus, (self, msgs) => {
      for (const m of msgs) if (m.type === 'app-resp' && !m.reject) events.push(`${self} ack ${m.index}`)
    })
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader(60_000)
    await c.run(3000)
    for (const m of c.members.values()) {
      if (m === leader) continue
      const apply = m.sm.apply.bind(m.sm)
      m.sm.apply = (payload: Uint8Array): unknown => {
        events.push(`${m.id} apply ${new TextDecoder().decode(payload)}`)
        return apply(payload)
      }
    }
    expect(await c.settle(leader.node.propose(enc('x=1')))).toBe('1')
    const x = leader.storage.lastIndex()
    events.length = 0
    expect(await c.settle(leader.node.propose(enc('y=2')))).toBe('2')
    await c.run(50)
    for (const f of [...c.members.values()].filter((m) => m !== leader)) {
      const mine = events.filter((e) => e.startsWith(`${f.id} `))
      // The Ready holding y acknowledges it first, then applies x (committed, durable earlier).
      expect(mine.slice(0, 2)).toEqual([`${f.id} ack ${x + 1}`, `${f.id} apply x=1`])
    }
  })
})
