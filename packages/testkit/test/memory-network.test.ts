import { describe, expect, it } from 'vitest'
import { EndpointState, ManualClock, MemoryNetwork, SeededRandom } from '../src/index.ts'
import type { MemoryNetworkInit, NetworkEvent } from '../src/index.ts'

interface Msg {
  readonly from: bigint
  readonly to: bigint
  readonly type: 'app' | 'snapshot'
  readonly n: number
}

const msg = (from: bigint, to: bigint, n: number, type: Msg['type'] = 'app'): Msg => ({ from, to, type, n })

/** A network on a ManualClock, and started members that record what they hear. */
function setup(init: Partial<MemoryNetworkInit<Msg>> = {}) {
  const clock = new ManualClock()
  const events: NetworkEvent<Msg>[] = []
  const net = new MemoryNetwork<Msg>({
    clock,
    random: new SeededRandom(1),
    isSnapshot: (m) => m.type === 'snapshot',
    trace: (e) => events.push(e),
    ...init,
  })
  const member = (id: bigint) => {
    const ep = net.endpoint(id)
    const got: number[] = []
    const unreachable: bigint[] = []
    const snapshots: [bigint, boolean][] = []
    void ep.start({
      message: (m) => got.push(m.n),
      unreachable: (to) => unreachable.push(to),
      snapshotStatus: (to, ok) => snapshots.push([to, ok]),
    })
    return { ep, got, unreachable, snapshots }
  }
  return { clock, net, member, events }
}

describe('MemoryNetwork delivery', () => {
  it('delivers on clock timers after the default 1 ms, never inside send', () => {
    const { clock, net, member } = setup()
    const a = member(1n)
    const b = member(2n)
    a.ep.send([msg(1n, 2n, 1), msg(1n, 2n, 2)])
    expect(b.got).toEqual([])
    expect(net.inFlight()).toBe(2)
    clock.advance(0)
    expect(b.got).toEqual([])
    clock.advance(1)
    expect(b.got).toEqual([1, 2])
    expect(net.stats()).toEqual({ sent: 2, delivered: 2, dropped: 0, duplicated: 0 })
    expect(net.inFlight()).toBe(0)
  })

  it('keeps the order of each link under random delays', () => {
    const { clock, member } = setup({ defaultDelayMs: [1, 30] })
    const a = member(1n)
    const b = member(2n)
    const c = member(3n)
    for (let n = 0; n < 200; n++) {
      a.ep.send([msg(1n, 2n, n), msg(1n, 3n, n)])
      c.ep.send([msg(3n, 2n, 1000 + n)])
      if (n % 3 === 0) clock.advance(2)
    }
    clock.runAll()
    const range = (from: number) => Array.from({ length: 200 }, (_, i) => from + i)
    expect(b.got.filter((n) => n < 1000)).toEqual(range(0))
    expect(b.got.filter((n) => n >= 1000)).toEqual(range(1000))
    expect(c.got).toEqual(range(0))
    // The two links into 2 interleave: ordering is per link, not global.
    expect(b.got.slice(0, 400)).not.toEqual([...range(0), ...range(1000)])
  })

  it('lets a handler answer: a ping-pong runs on timers', () => {
    const { clock, net } = setup({ defaultDelayMs: [5, 5] })
    const a = net.endpoint(1n)
    const b = net.endpoint(2n)
    const seen: [number, number][] = []
    void a.start({ message: (m) => seen.push([m.n, clock.now()]) })
    void b.start({ message: (m) => b.send([msg(2n, 1n, m.n + 1)]) })
    a.send([msg(1n, 2n, 1)])
    clock.runAll()
    expect(seen).toEqual([[2, 10]])
  })

  it('delivers a clone per copy when asked', () => {
    const { clock, net } = setup({ clone: (m) => ({ ...m }) })
    const got: Msg[] = []
    void net.endpoint(2n).start({ message: (m) => got.push(m) })
    const a = net.endpoint(1n)
    void a.start({ message: () => {} })
    const sent = msg(1n, 2n, 7)
    a.send([sent])
    clock.runAll()
    expect(got).toEqual([sent])
    expect(got[0]).not.toBe(sent)
  })

  it('ignores sends of an endpoint that is not running', async () => {
    const { clock, net, member } = setup()
    const b = member(2n)
    const a = net.endpoint(1n)
    expect(a.state).toBe(EndpointState.created)
    a.send([msg(1n, 2n, 1)])
    await a.start({ message: () => {} })
    expect(a.state).toBe(EndpointState.running)
    a.send([msg(1n, 2n, 4)])
    await a.stop()
    expect(a.state).toBe(EndpointState.stopped)
    a.send([msg(1n, 2n, 5)])
    clock.runAll()
    expect(b.got).toEqual([4])
    expect(net.stats().sent).toBe(1)
  })

  it('carries a relayed message (another member in from) on the sending endpoint links, with its from kept', async () => {
    const { clock, net, member } = setup()
    const froms: bigint[] = []
    const c = net.endpoint(3n)
    await c.start({ message: (m) => froms.push(m.from) })
    const b = member(2n)
    b.ep.send([msg(1n, 3n, 1), msg(2n, 3n, 2)])
    clock.runAll()
    expect(froms).toEqual([1n, 2n])
    // The link is 2 -> 3: cutting 1 from 3 does not stop a message relayed by 2.
    net.block(1n, 3n)
    b.ep.send([msg(1n, 3n, 3)])
    clock.runAll()
    net.block(2n, 3n)
    b.ep.send([msg(1n, 3n, 4)])
    clock.runAll()
    expect(froms).toEqual([1n, 2n, 1n])
  })

  it('tells the receiver the sending endpoint and its address when the endpoint has one', async () => {
    const { clock, net } = setup()
    const origins: unknown[] = []
    const r = net.endpoint(9n)
    await r.start({ message: (m, origin) => origins.push([m.n, origin]) })
    const a = net.endpoint(1n, { address: 'host-1:7000' })
    const b = net.endpoint(2n)
    expect([a.address, b.address]).toEqual(['host-1:7000', undefined])
    await a.start({ message: () => {} })
    await b.start({ message: () => {} })
    a.send([msg(1n, 9n, 1), msg(5n, 9n, 2)])
    b.send([msg(2n, 9n, 3)])
    clock.runAll()
    expect(origins).toEqual([
      [1, { id: 1n, address: 'host-1:7000' }],
      [2, { id: 1n, address: 'host-1:7000' }],
      [3, undefined],
    ])
  })

  it('refuses to start twice, after stop, or once replaced', async () => {
    const { net } = setup()
    const a = net.endpoint(1n)
    await a.start({ message: () => {} })
    await expect(a.start({ message: () => {} })).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'endpoint-running' })
    await a.stop()
    await expect(a.start({ message: () => {} })).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'endpoint-stopped' })
    const old = net.endpoint(2n)
    net.endpoint(2n)
    expect(old.state).toBe(EndpointState.replaced)
    await expect(old.start({ message: () => {} })).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'endpoint-replaced' })
  })

  it('records peers; removePeer drops messages to that peer still in flight', () => {
    const { clock, net, member } = setup({ defaultDelayMs: [10, 10] })
    const a = member(1n)
    const b = member(2n)
    a.ep.addPeer(2n, 'b:4242')
    expect(a.ep.peers()).toEqual(new Map([[2n, 'b:4242']]))
    a.ep.send([msg(1n, 2n, 1)])
    clock.advance(5)
    a.ep.removePeer(2n)
    a.ep.send([msg(1n, 2n, 2)]) // sent after the removal: not affected
    clock.runAll()
    expect(b.got).toEqual([2])
    expect(a.ep.peers().size).toBe(0)
    expect(net.stats()).toEqual({ sent: 2, delivered: 1, dropped: 1, duplicated: 0 })
  })

  it('with strictPeers, loses messages to members never added and reports them unreachable', () => {
    const { clock, member, events } = setup({ strictPeers: true })
    const a = member(1n)
    const b = member(2n)
    a.ep.send([msg(1n, 2n, 1)])
    expect(a.unreachable).toEqual([]) // reported on a timer, not inside send
    clock.runAll()
    expect(b.got).toEqual([])
    expect(a.unreachable).toEqual([2n])
    a.ep.addPeer(2n, 'b')
    a.ep.send([msg(1n, 2n, 2)])
    clock.runAll()
    expect(b.got).toEqual([2])
    expect(events.filter((e) => e.type === 'drop').map((e) => e.type === 'drop' && e.reason)).toEqual(['unknown-peer'])
  })
})

describe('MemoryNetwork crashes and restarts', () => {
  it('loses messages to a disconnected member and tells the sender, once per instant', () => {
    const { clock, net, member } = setup()
    const a = member(1n)
    const b = member(2n)
    net.disconnect(2n)
    expect(net.isDown(2n)).toBe(true)
    a.ep.send([msg(1n, 2n, 1), msg(1n, 2n, 2)])
    clock.runAll()
    expect(b.got).toEqual([])
    expect(a.unreachable).toEqual([2n])
    // What a disconnected member sends is lost too, silently.
    b.ep.send([msg(2n, 1n, 3)])
    clock.runAll()
    expect(a.got).toEqual([])
    expect(b.unreachable).toEqual([])
    net.reconnect(2n)
    a.ep.send([msg(1n, 2n, 4)])
    b.ep.send([msg(2n, 1n, 5)])
    clock.runAll()
    expect([a.got, b.got]).toEqual([[5], [4]])
    expect(net.stats()).toEqual({ sent: 5, delivered: 2, dropped: 3, duplicated: 0 })
  })

  it('loses a message in flight when its recipient goes down before it arrives', () => {
    const { clock, net, member } = setup({ defaultDelayMs: [10, 10] })
    const a = member(1n)
    const b = member(2n)
    a.ep.send([msg(1n, 2n, 1)])
    clock.advance(5)
    net.disconnect(2n)
    clock.advance(5)
    expect(b.got).toEqual([])
    expect(a.unreachable).toEqual([2n])
  })

  it('treats a stopped or never started member as unreachable', async () => {
    const { clock, net, member } = setup()
    const a = member(1n)
    const b = member(2n)
    net.endpoint(3n) // created, not started
    await b.ep.stop()
    a.ep.send([msg(1n, 2n, 1), msg(1n, 3n, 2), msg(1n, 4n, 3)])
    clock.runAll()
    expect(a.unreachable).toEqual([2n, 3n, 4n])
    expect(b.got).toEqual([])
  })

  it('restarts a member with a new endpoint: the old one is dead, its messages on the wire still arrive', () => {
    const { clock, member } = setup({ defaultDelayMs: [10, 10] })
    const a = member(1n)
    const b1 = member(2n)
    b1.ep.send([msg(2n, 1n, 1), msg(2n, 3n, 99, 'snapshot')])
    a.ep.send([msg(1n, 2n, 2)])
    clock.advance(5)
    const b2 = member(2n) // the process restarted
    expect(b1.ep.state).toBe(EndpointState.replaced)
    b1.ep.send([msg(2n, 1n, 3)]) // ignored
    clock.runAll()
    expect(a.got).toEqual([1])
    expect(b1.got).toEqual([])
    expect(b2.got).toEqual([2])
    // Reports for the old incarnation's sends go nowhere.
    expect([b1.unreachable, b1.snapshots, b2.unreachable, b2.snapshots]).toEqual([[], [], [], []])
  })
})

describe('MemoryNetwork snapshots', () => {
  it('reports a delivered snapshot after the receiver got it, and a lost one as failed', () => {
    const { clock, net, member } = setup({ defaultDelayMs: [3, 3] })
    const a = member(1n)
    const b = member(2n)
    const order: string[] = []
    const c = net.endpoint(3n)
    void c.start({ message: (m) => order.push(`got ${m.n}`) })
    void a.ep.stop()
    const s = net.endpoint(1n)
    void s.start({ message: () => {}, snapshotStatus: (to, ok) => order.push(`status ${to} ${ok}`), unreachable: (to) => order.push(`unreachable ${to}`) })
    s.send([msg(1n, 3n, 1, 'snapshot'), msg(1n, 3n, 2)])
    clock.runAll()
    expect(order).toEqual(['got 1', 'status 3 true', 'got 2'])
    order.length = 0
    net.partition([1n], [2n, 3n])
    s.send([msg(1n, 3n, 3, 'snapshot')])
    expect(order).toEqual([])
    clock.runAll()
    expect(order).toEqual(['status 3 false'])
    net.heal()
    order.length = 0
    net.disconnect(3n)
    s.send([msg(1n, 3n, 4, 'snapshot')])
    clock.runAll()
    expect(order).toEqual(['unreachable 3', 'status 3 false'])
    expect(b.snapshots).toEqual([])
  })

  it('reports a duplicated snapshot once, and a randomly dropped one as failed', () => {
    const duplicated = setup({ faults: { duplicate: 1 } })
    const a = duplicated.member(1n)
    const b = duplicated.member(2n)
    a.ep.send([msg(1n, 2n, 1, 'snapshot')])
    duplicated.clock.runAll()
    expect(b.got).toEqual([1, 1])
    expect(a.snapshots).toEqual([[2n, true]])

    const dropped = setup({ faults: { drop: 1 } })
    const c = dropped.member(1n)
    dropped.member(2n)
    c.ep.send([msg(1n, 2n, 1, 'snapshot')])
    expect(c.snapshots).toEqual([])
    dropped.clock.runAll()
    expect(c.snapshots).toEqual([[2n, false]])
  })
})

describe('README example', () => {
  it('cuts a member off, then heals', () => {
    interface Ping {
      from: bigint
      to: bigint
      n: number
    }
    const clock = new ManualClock()
    const net = new MemoryNetwork<Ping>({ clock, random: new SeededRandom(7), defaultDelayMs: [1, 5] })
    const a = net.endpoint(1n)
    const got: string[] = []
    for (const ep of [a, net.endpoint(2n), net.endpoint(3n)]) void ep.start({ message: (m) => got.push(`${m.from}→${m.to}:${m.n}`) })

    net.partition([1n, 2n], [3n]) // 3 is cut off, both ways
    a.send([
      { from: 1n, to: 2n, n: 1 },
      { from: 1n, to: 3n, n: 2 },
    ])
    clock.runAll() // deliveries are clock timers, never inside send
    net.heal()
    net.setFaults({ drop: 0.1, duplicate: 0.05, reorder: 0.05 })
    expect(got).toEqual(['1→2:1'])
    expect(net.stats()).toEqual({ sent: 2, delivered: 1, dropped: 1, duplicated: 0 })
  })
})
