import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ManualClock, MemoryNetwork, SeededRandom } from '../src/index.ts'
import type { LinkFaults, MemoryNetworkInit, NetworkEvent } from '../src/index.ts'

interface Msg {
  readonly from: bigint
  readonly to: bigint
  readonly n: number
}

const msg = (from: bigint, to: bigint, n: number): Msg => ({ from, to, n })

/** Members 1..count on a seeded network; `got.get(id)` lists what each received, as `from:n`. */
function world(count: number, init: Partial<MemoryNetworkInit<Msg>> = {}, seed = 1) {
  const clock = new ManualClock()
  const events: NetworkEvent<Msg>[] = []
  const net = new MemoryNetwork<Msg>({ clock, random: new SeededRandom(seed), trace: (e) => events.push(e), ...init })
  const got = new Map<bigint, string[]>()
  const endpoints = Array.from({ length: count }, (_, i) => {
    const id = BigInt(i + 1)
    const ep = net.endpoint(id)
    got.set(id, [])
    void ep.start({ message: (m) => got.get(id)?.push(`${m.from}:${m.n}`) })
    return ep
  })
  /** Every member sends one message to every other member. */
  const allToAll = (n: number): void => {
    for (const ep of endpoints) ep.send(endpoints.filter((o) => o !== ep).map((o) => msg(ep.id, o.id, n)))
  }
  return { clock, net, got, events, endpoints, allToAll }
}

describe('MemoryNetwork random faults', () => {
  it('drops messages at the configured rate: exact counts for a fixed seed', () => {
    const { clock, net, endpoints, got } = world(2, { faults: { drop: 0.3 } }, 42)
    const [a] = endpoints
    for (let n = 0; n < 1000; n++) a?.send([msg(1n, 2n, n)])
    clock.runAll()
    expect(net.stats()).toEqual({ sent: 1000, delivered: 694, dropped: 306, duplicated: 0 })
    expect(got.get(2n)?.length).toBe(694)
  })

  it('duplicates messages at the configured rate, each copy arriving after its original', () => {
    const { clock, net, endpoints, events } = world(2, { faults: { duplicate: 0.2 }, defaultDelayMs: [1, 10] }, 7)
    const [a] = endpoints
    for (let n = 0; n < 1000; n++) a?.send([msg(1n, 2n, n)])
    clock.runAll()
    expect(net.stats()).toEqual({ sent: 1000, delivered: 1214, dropped: 0, duplicated: 214 })
    const firstArrival = new Map<number, number>()
    for (const e of events) {
      if (e.type !== 'deliver') continue
      if (e.duplicate) expect(e.at).toBeGreaterThanOrEqual(firstArrival.get(e.message.n) ?? Number.POSITIVE_INFINITY)
      else firstArrival.set(e.message.n, e.at)
    }
  })

  it('reorders only the messages it holds back', () => {
    const { clock, endpoints, got } = world(2, { faults: { reorder: 0.1, reorderDelayMs: [5, 20] } }, 3)
    const [a] = endpoints
    for (let n = 0; n < 200; n++) {
      a?.send([msg(1n, 2n, n)])
      clock.advance(1)
    }
    clock.runAll()
    const order = (got.get(2n) ?? []).map((s) => Number(s.split(':')[1]))
    expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    expect(order).not.toEqual([...order].sort((x, y) => x - y))
    // Removing the held-back messages leaves the rest in order.
    const late = order.filter((n, i) => order.slice(i + 1).some((m) => m < n))
    const inOrder = order.filter((n) => !late.includes(n))
    expect(inOrder).toEqual([...inOrder].sort((x, y) => x - y))
  })

  it('lets a link override the network-wide faults, field by field', () => {
    const { clock, net, endpoints, got } = world(3, { faults: { drop: 1 } })
    net.setLinkFaults(1n, 2n, { drop: 0, delayMs: [7, 7] })
    const [a] = endpoints
    a?.send([msg(1n, 2n, 1), msg(1n, 3n, 2)])
    clock.advance(6)
    expect(got.get(2n)).toEqual([])
    clock.advance(1)
    expect(got.get(2n)).toEqual(['1:1'])
    expect(got.get(3n)).toEqual([])
    net.setLinkFaults(1n, 2n, undefined)
    net.setFaults({})
    a?.send([msg(1n, 2n, 3), msg(1n, 3n, 4)])
    clock.runAll()
    expect([got.get(2n), got.get(3n)]).toEqual([['1:1', '1:3'], ['1:4']])
  })

  it('rejects bad fault settings, naming the field', () => {
    const clock = new ManualClock()
    const random = new SeededRandom(1)
    const bad = (init: Partial<MemoryNetworkInit<Msg>>, field: string): void => {
      expect(() => new MemoryNetwork<Msg>({ clock, random, ...init })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
    }
    bad({ defaultDelayMs: [5, 1] }, 'defaultDelayMs')
    bad({ defaultDelayMs: [-1, 1] }, 'defaultDelayMs')
    bad({ defaultDelayMs: [0.5, 1] }, 'defaultDelayMs')
    bad({ faults: { drop: 1.5 } }, 'faults.drop')
    bad({ faults: { duplicate: -0.1 } }, 'faults.duplicate')
    bad({ faults: { reorder: Number.NaN } }, 'faults.reorder')
    bad({ faults: { delayMs: [3, 2] } }, 'faults.delayMs')
    bad({ faults: { reorderDelayMs: [0, Number.POSITIVE_INFINITY] } }, 'faults.reorderDelayMs')
    const net = new MemoryNetwork<Msg>({ clock, random })
    expect(() => net.setLinkFaults(1n, 2n, { drop: 2 })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'faults.drop' }))
    expect(() => net.partition([1n, 2n], [2n])).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'sides[1]' }))
  })
})

describe('MemoryNetwork partitions', () => {
  it('cuts a symmetric partition both ways; members listed nowhere form one more side; heal restores', () => {
    const { clock, net, got, allToAll } = world(4)
    net.partition([1n, 2n], [3n])
    expect([net.isCut(1n, 3n), net.isCut(3n, 1n), net.isCut(1n, 2n), net.isCut(4n, 1n), net.isCut(4n, 4n)]).toEqual([true, true, false, true, false])
    allToAll(1)
    clock.runAll()
    expect(Object.fromEntries(got)).toEqual({ '1': ['2:1'], '2': ['1:1'], '3': [], '4': [] })
    net.heal()
    allToAll(2)
    clock.runAll()
    expect(got.get(3n)).toEqual(['1:2', '2:2', '4:2'])
    expect(net.stats()).toEqual({ sent: 24, delivered: 14, dropped: 10, duplicated: 0 })
  })

  it('replaces the previous partition', () => {
    const { net } = world(3)
    net.partition([1n], [2n, 3n])
    net.partition([1n, 2n], [3n])
    expect([net.isCut(1n, 2n), net.isCut(2n, 3n)]).toEqual([false, true])
    net.partition()
    expect(net.isCut(2n, 3n)).toBe(false)
  })

  it('blocks one direction only, until unblocked or healed', () => {
    const { clock, net, got, endpoints } = world(2)
    const [a, b] = endpoints
    net.block(1n, 2n)
    a?.send([msg(1n, 2n, 1)])
    b?.send([msg(2n, 1n, 2)])
    clock.runAll()
    expect([got.get(1n), got.get(2n)]).toEqual([['2:2'], []])
    net.unblock(1n, 2n)
    a?.send([msg(1n, 2n, 3)])
    net.block(2n, 1n)
    b?.send([msg(2n, 1n, 4)])
    net.heal()
    b?.send([msg(2n, 1n, 5)])
    clock.runAll()
    expect([got.get(1n), got.get(2n)]).toEqual([['2:2', '2:5'], ['1:3']])
  })

  it('isolates a member from everyone', () => {
    const { clock, net, got, allToAll } = world(3)
    net.isolate(2n)
    allToAll(1)
    clock.runAll()
    expect(Object.fromEntries(got)).toEqual({ '1': ['3:1'], '2': [], '3': ['1:1'] })
  })

  it('loses a message whose link is cut when it would arrive, or was cut when it was sent', () => {
    const { clock, net, got, endpoints, events } = world(2, { defaultDelayMs: [10, 10] })
    const [a] = endpoints
    a?.send([msg(1n, 2n, 1)])
    clock.advance(5)
    net.partition([1n], [2n])
    a?.send([msg(1n, 2n, 2)])
    clock.advance(5) // 1 arrives while the partition holds
    net.heal() // before 2 would arrive
    clock.runAll()
    expect(got.get(2n)).toEqual([])
    expect(events.map((e) => (e.type === 'drop' ? `${e.at} ${e.message.n} ${e.reason}` : e.type))).toEqual(['5 2 partition', '10 1 partition'])
  })
})

describe('MemoryNetwork determinism and accounting', () => {
  const faults: LinkFaults = { drop: 0.1, duplicate: 0.1, reorder: 0.1, delayMs: [1, 20] }

  /** A busy run: every member sends to every other member every tick, under faults and a partition. */
  function run(seed: number): string[] {
    const { clock, net, events, allToAll } = world(5, { faults }, seed)
    for (let tick = 0; tick < 50; tick++) {
      allToAll(tick)
      if (tick === 20) net.partition([1n, 2n], [3n, 4n, 5n])
      if (tick === 35) net.heal()
      clock.advance(3)
    }
    clock.runAll()
    return events.map((e) => JSON.stringify(e, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
  }

  it('replays the same seed to the same trace, and another seed to another', () => {
    const first = run(11)
    expect(first.length).toBeGreaterThan(1000)
    expect(run(11)).toEqual(first)
    expect(run(12)).not.toEqual(first)
  })

  it('accounts for every copy: sent + duplicated = delivered + dropped + in flight', () => {
    const arbAction = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), from: fc.integer({ min: 1, max: 4 }), to: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 15 }) }),
      fc.record({ kind: fc.constant('partition' as const), side: fc.subarray([1, 2, 3, 4]) }),
      fc.record({ kind: fc.constantFrom('heal' as const, 'faults' as const) }),
      fc.record({ kind: fc.constantFrom('disconnect' as const, 'reconnect' as const, 'block' as const), id: fc.integer({ min: 1, max: 4 }) }),
    )
    fc.assert(
      fc.property(fc.array(arbAction, { maxLength: 60 }), fc.integer(), (actions, seed) => {
        const { clock, net, endpoints } = world(4, { defaultDelayMs: [0, 10] }, seed)
        const check = (): void => {
          const s = net.stats()
          expect(s.sent + s.duplicated).toBe(s.delivered + s.dropped + net.inFlight())
        }
        for (const action of actions) {
          switch (action.kind) {
            case 'send':
              endpoints[action.from - 1]?.send([msg(BigInt(action.from), BigInt(action.to), 0)])
              break
            case 'advance':
              clock.advance(action.ms)
              break
            case 'partition':
              net.partition(action.side.map(BigInt))
              break
            case 'heal':
              net.heal()
              break
            case 'faults':
              net.setFaults(faults)
              break
            case 'disconnect':
              net.disconnect(BigInt(action.id))
              break
            case 'reconnect':
              net.reconnect(BigInt(action.id))
              break
            case 'block':
              net.block(BigInt(action.id), BigInt((action.id % 4) + 1))
              break
          }
          check()
        }
        clock.runAll()
        check()
        expect(net.inFlight()).toBe(0)
      }),
    )
  })
})
