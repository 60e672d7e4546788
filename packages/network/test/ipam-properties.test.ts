/**
 * Properties of the IPAM, each checked against a brute-force model over random operation
 * sequences (≥ 500 runs each): an address is never handed out twice, released addresses are
 * reusable, exhaustion comes exactly at capacity, subnets never overlap, and an Ipam rebuilt
 * from what the store records equals the original.
 */
import { AlreadyExistsError, InvalidArgumentError, ResourceExhaustedError, TaskState } from '@swarmkit-ts/api'
import type { Cluster, Network, NetworkSpec, Service, Task } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, test, vi } from 'vitest'
import {
  Ipam,
  MAX_BITMAP_ADDRESSES,
  SubnetAddresses,
  SubnetPool,
  allocateNetworkIpam,
  formatAddress,
  formatSubnet,
  parseSubnet,
  rebuildIpam,
  subnetLast,
  subnetOf,
  subnetSize,
  subnetsOverlap,
} from '../src/ipam/index.ts'
import type { AddressFamily, IpAddress, Subnet } from '../src/ipam/index.ts'
import { network, service, task } from './ipam-fixtures.ts'

// Property runs of thousands of cases: a failure guard for CI's loaded 2 cores (a run took 3–5 s there), not a timing assertion.
vi.setConfig({ testTimeout: 60_000 })

const RUNS = 500

function outcome(fn: () => unknown): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: fn() }
  } catch (error) {
    return { ok: false, error }
  }
}

// ---------------------------------------------------------------- SubnetAddresses

interface PoolCase {
  readonly subnet: Subnet
  readonly gateway: IpAddress | undefined
  readonly range: Subnet | undefined
}

const poolCase: fc.Arbitrary<PoolCase> = fc
  .record({
    family: fc.constantFrom<AddressFamily>('ipv4', 'ipv6'),
    hostBits: fc.integer({ min: 1, max: 8 }),
    big: fc.boolean(),
    baseSeed: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
    gatewayOffset: fc.option(fc.bigInt({ min: 0n, max: 255n }), { nil: undefined }),
    rangeBits: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
    rangeSeed: fc.bigInt({ min: 0n, max: 255n }),
  })
  .map((r) => {
    const bits = r.family === 'ipv4' ? 32 : 128
    // Mostly tiny subnets (/24–/31, /120–/127) so that exhaustion is reached; some IPv6 /64.
    const prefix = r.family === 'ipv6' && r.big ? 64 : bits - r.hostBits
    const seed = r.family === 'ipv4' ? (0x0a000000n | (r.baseSeed & 0xffffffn)) : (0xfd00n << 112n) | (r.baseSeed << 64n) | r.baseSeed
    const subnet = subnetOf(r.family, seed, prefix)
    const size = subnetSize(subnet)
    const gateway = r.gatewayOffset === undefined ? undefined : { family: r.family, value: subnet.base + (r.gatewayOffset % size) }
    let range: Subnet | undefined
    if (r.rangeBits !== undefined && BigInt(r.rangeBits) <= BigInt(bits - prefix)) {
      range = subnetOf(r.family, subnet.base + (r.rangeSeed % size), bits - r.rangeBits)
    }
    return { subnet, gateway, range }
  })

type AddressOp = { readonly op: 'allocate' } | { readonly op: 'reserve' | 'release'; readonly pick: bigint; readonly held: boolean }

const addressOps: fc.Arbitrary<AddressOp[]> = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.constant({ op: 'allocate' } as const) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('reserve' as const), pick: fc.bigInt({ min: 0n, max: 1023n }), held: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.bigInt({ min: 0n, max: 1023n }), held: fc.boolean() }) },
  ),
  { minLength: 10, maxLength: 150 },
)

function checkAddressSequence(c: PoolCase, ops: readonly AddressOp[]): void {
  const pool = new SubnetAddresses(c.subnet, { ...(c.gateway && { gateway: c.gateway }), ...(c.range && { range: c.range }) })
  const family = c.subnet.family
  const tiny = family === 'ipv4' && c.subnet.prefix >= 31
  const system = new Set<bigint>()
  if (!tiny) system.add(c.subnet.base)
  if (!tiny && family === 'ipv4') system.add(subnetLast(c.subnet))
  if (c.gateway !== undefined) system.add(c.gateway.value)
  const window = c.range ?? c.subnet
  const windowSize = subnetSize(window) < BigInt(MAX_BITMAP_ADDRESSES) ? subnetSize(window) : BigInt(MAX_BITMAP_ADDRESSES)
  const inWindow = (v: bigint): boolean => v >= window.base && v < window.base + windowSize
  const capacity = Number(windowSize) - [...system].filter(inWindow).length
  expect(pool.capacity).toBe(capacity)
  const held = new Set<bigint>()
  let cursor = 0n
  const firstFree = (): bigint | undefined => {
    for (let i = 0n; i < windowSize; i++) {
      const pos = (cursor + i) % windowSize
      const v = window.base + pos
      if (!held.has(v) && !system.has(v)) return v
    }
    return undefined
  }
  for (const op of ops) {
    if (op.op === 'allocate') {
      const expected = firstFree()
      const got = outcome(() => pool.allocate())
      if (expected === undefined) {
        // Exhaustion exactly at capacity.
        expect([...held].filter(inWindow).length).toBe(capacity)
        expect(got.ok).toBe(false)
        expect(got.ok ? undefined : got.error).toBeInstanceOf(ResourceExhaustedError)
      } else {
        // Serial: the first free address after the last allocated; never one in use.
        expect(got).toEqual({ ok: true, value: { family, value: expected } })
        held.add(expected)
        cursor = (expected - window.base + 1n) % windowSize
      }
    } else {
      const list = [...held]
      const value =
        op.held && list.length > 0 ? (list[Number(op.pick % BigInt(list.length))] as bigint) : c.subnet.base + (op.pick % (subnetSize(c.subnet) + 2n)) - 1n
      const addr = { family, value }
      const inside = value >= c.subnet.base && value <= subnetLast(c.subnet)
      if (op.op === 'release') {
        expect(pool.release(addr)).toBe(inside && held.has(value))
        held.delete(value)
      } else {
        const got = outcome(() => pool.reserve(addr, 'addr'))
        if (!inside) expect(got.ok ? undefined : got.error).toBeInstanceOf(InvalidArgumentError)
        else if (held.has(value) || system.has(value)) expect(got.ok ? undefined : got.error).toBeInstanceOf(AlreadyExistsError)
        else {
          // A released (or never used) address can be taken again.
          expect(got.ok).toBe(true)
          held.add(value)
        }
      }
    }
    expect(pool.used).toBe(held.size)
    expect(pool.free).toBe(capacity - [...held].filter(inWindow).length)
  }
  expect(pool.usedAddresses()).toEqual([...held].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((value) => ({ family, value })))
}

const fill: AddressOp[] = [...Array.from({ length: 6 }, () => ({ op: 'allocate' }) as const), { op: 'release', pick: 0n, held: true }, { op: 'allocate' }, { op: 'allocate' }]
const sub = (t: string): Subnet => parseSubnet(t, 'x')
const ip = (family: AddressFamily, value: bigint): IpAddress => ({ family, value })
/** Edge cases always run first: no network/broadcast on /31 and /32, IPv6 /127 and /128, a gateway on the broadcast or outside the range, a range equal to the subnet, a one-address range. */
const EDGE_CASES: [PoolCase, AddressOp[]][] = [
  [{ subnet: sub('10.0.0.0/31'), gateway: ip('ipv4', 0x0a000001n), range: undefined }, fill],
  [{ subnet: sub('10.0.0.7/32'), gateway: undefined, range: undefined }, fill],
  [{ subnet: sub('fd00::/127'), gateway: undefined, range: undefined }, fill],
  [{ subnet: sub('fd00::1/128'), gateway: undefined, range: undefined }, fill],
  [{ subnet: sub('10.0.0.0/29'), gateway: ip('ipv4', 0x0a000007n), range: undefined }, fill],
  [{ subnet: sub('10.0.0.0/28'), gateway: ip('ipv4', 0x0a000001n), range: sub('10.0.0.8/30') }, fill],
  [{ subnet: sub('10.0.0.0/30'), gateway: undefined, range: sub('10.0.0.0/30') }, fill],
  [{ subnet: sub('10.0.0.0/24'), gateway: ip('ipv4', 0x0a000005n), range: sub('10.0.0.5/32') }, fill],
]

describe('SubnetAddresses properties', () => {
  test('serial allocation never hands out an address in use, reuses released ones, and is exhausted exactly at capacity', () => {
    fc.assert(
      fc.property(poolCase, addressOps, (c, ops) => checkAddressSequence(c, ops)),
      { numRuns: RUNS, examples: EDGE_CASES },
    )
  })

  test('filling a tiny subnet hands out exactly its capacity, then every released address comes back', () => {
    fc.assert(
      fc.property(poolCase.filter((c) => c.subnet.prefix !== 64), fc.array(fc.nat(), { maxLength: 10 }), (c, picks) => {
        const pool = new SubnetAddresses(c.subnet, { ...(c.gateway && { gateway: c.gateway }), ...(c.range && { range: c.range }) })
        const got: IpAddress[] = []
        for (let i = 0; i < pool.capacity; i++) got.push(pool.allocate())
        expect(new Set(got.map((a) => a.value)).size).toBe(pool.capacity)
        expect(() => pool.allocate()).toThrow(ResourceExhaustedError)
        const released = new Set<bigint>()
        for (const p of picks) {
          if (got.length === 0) break
          const a = got[p % got.length] as IpAddress
          if (pool.release(a)) released.add(a.value)
        }
        const again = new Set(Array.from({ length: released.size }, () => pool.allocate().value))
        expect(again).toEqual(released)
        expect(() => pool.allocate()).toThrow(ResourceExhaustedError)
      }),
      { numRuns: RUNS },
    )
  })
})

// ---------------------------------------------------------------- SubnetPool

type PoolOp =
  | { readonly op: 'allocate'; readonly family: AddressFamily; readonly owner: number }
  | { readonly op: 'reserve'; readonly family: AddressFamily; readonly owner: number; readonly seed: number; readonly prefixDelta: number }
  | { readonly op: 'release'; readonly owner: number }

const poolOps: fc.Arbitrary<PoolOp[]> = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('allocate' as const), family: fc.constantFrom<AddressFamily>('ipv4', 'ipv6'), owner: fc.nat(5) }),
    fc.record({
      op: fc.constant('reserve' as const),
      family: fc.constantFrom<AddressFamily>('ipv4', 'ipv6'),
      owner: fc.nat(5),
      seed: fc.nat(63),
      prefixDelta: fc.integer({ min: -2, max: 4 }),
    }),
    fc.record({ op: fc.constant('release' as const), owner: fc.nat(5) }),
  ),
  { minLength: 10, maxLength: 60 },
)

describe('SubnetPool properties', () => {
  test('user and pool subnets never overlap; allocation takes the lowest free slot; exhaustion only when no slot is free', () => {
    const v4Pool = parseSubnet('10.0.0.0/20', 'p')
    const v6Pool = parseSubnet('fd00::/60', 'p')
    fc.assert(
      fc.property(poolOps, (ops) => {
        const pool = new SubnetPool({ pools: ['10.0.0.0/20'], subnetSize: 24, ipv6Pools: ['fd00::/60'], ipv6SubnetSize: 64 })
        const held: { subnet: Subnet; owner: string }[] = []
        const overlaps = (s: Subnet): boolean => held.some((h) => subnetsOverlap(h.subnet, s))
        for (const op of ops) {
          if (op.op === 'release') {
            const n = held.filter((h) => h.owner === `o${op.owner}`).length
            expect(pool.release(`o${op.owner}`)).toBe(n)
            held.splice(0, held.length, ...held.filter((h) => h.owner !== `o${op.owner}`))
            continue
          }
          const base = op.family === 'ipv4' ? v4Pool : v6Pool
          const size = op.family === 'ipv4' ? 24 : 64
          if (op.op === 'allocate') {
            const slots = Array.from({ length: 16 }, (_, k) => subnetOf(op.family, base.base + BigInt(k) * (1n << BigInt((op.family === 'ipv4' ? 32 : 128) - size)), size))
            const expected = slots.find((s) => !overlaps(s))
            const got = outcome(() => pool.allocate(`o${op.owner}`, op.family))
            if (expected === undefined) expect(got.ok ? undefined : got.error).toBeInstanceOf(ResourceExhaustedError)
            else {
              expect(got).toEqual({ ok: true, value: expected })
              held.push({ subnet: expected, owner: `o${op.owner}` })
            }
          } else {
            // User subnets around and across the pool (the pool's /20 within a /19).
            const prefix = size + op.prefixDelta
            const span = 1n << BigInt((op.family === 'ipv4' ? 32 : 128) - (size - 5))
            const s = subnetOf(op.family, base.base + ((BigInt(op.seed) << BigInt((op.family === 'ipv4' ? 32 : 128) - prefix)) % span), prefix)
            const got = outcome(() => pool.reserve(s, `o${op.owner}`, 'subnet'))
            if (overlaps(s)) expect(got.ok ? undefined : got.error).toBeInstanceOf(InvalidArgumentError)
            else {
              expect(got.ok).toBe(true)
              held.push({ subnet: s, owner: `o${op.owner}` })
            }
          }
          const all = pool.subnets().map((u) => u.subnet)
          for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) expect(subnetsOverlap(all[i] as Subnet, all[j] as Subnet)).toBe(false)
        }
        expect(pool.subnets().length).toBe(held.length)
      }),
      { numRuns: RUNS },
    )
  })

  test('networks created one after another with random user subnets never overlap', () => {
    const cluster = { defaultAddressPool: ['10.0.0.0/22'], subnetSize: 24 } as unknown as Cluster
    const userSubnet = fc.option(
      fc.record({ seed: fc.nat(), prefix: fc.integer({ min: 21, max: 28 }) }).map(({ seed, prefix }) => formatSubnet(subnetOf('ipv4', 0x0a000000n + (BigInt(seed) % 2048n) * 4n, prefix))),
      { nil: undefined },
    )
    fc.assert(
      fc.property(fc.array(userSubnet, { maxLength: 12 }), (subnets) => {
        const existing: Network[] = []
        for (const [i, subnet] of subnets.entries()) {
          const spec: NetworkSpec = { annotations: { name: `n${i}` }, ...(subnet !== undefined && { ipam: { configs: [{ subnet }] } }) }
          const taken = existing.flatMap((n) => (n.ipam?.configs ?? []).map((c) => parseSubnet(c.subnet ?? '', 'x')))
          const got = outcome(() => allocateNetworkIpam(spec, existing, cluster))
          if (subnet !== undefined && taken.some((t) => subnetsOverlap(t, parseSubnet(subnet, 'x')))) {
            expect(got.ok ? undefined : got.error).toBeInstanceOf(InvalidArgumentError)
            continue
          }
          if (subnet === undefined) {
            const free = [0n, 1n, 2n, 3n].map((k) => subnetOf('ipv4', 0x0a000000n + k * 256n, 24)).find((s) => !taken.some((t) => subnetsOverlap(t, s)))
            if (free === undefined) {
              expect(got.ok ? undefined : got.error).toBeInstanceOf(ResourceExhaustedError)
              continue
            }
          }
          expect(got.ok).toBe(true)
          const decided = (got as { value: ReturnType<typeof allocateNetworkIpam> }).value
          const mine = parseSubnet(decided.ipam.configs?.[0]?.subnet ?? '', 'x')
          expect(taken.some((t) => subnetsOverlap(t, mine))).toBe(false)
          existing.push(network(`id${i}`, `n${i}`, decided.ipam.configs ?? [], decided.driverState))
        }
      }),
      { numRuns: RUNS },
    )
  })
})

// ---------------------------------------------------------------- Ipam rebuilt from the store

type IpamOp =
  | { readonly op: 'allocate'; readonly net: number; readonly family: AddressFamily; readonly vip: boolean }
  | { readonly op: 'reserve'; readonly net: number; readonly offset: number; readonly vip: boolean }
  | { readonly op: 'release'; readonly pick: number }
  | { readonly op: 'removeNetwork'; readonly net: number }
  | { readonly op: 'addNetwork'; readonly prefix: number; readonly ipv6: boolean }

const addNetworkOp = fc.record({ op: fc.constant('addNetwork' as const), prefix: fc.integer({ min: 26, max: 30 }), ipv6: fc.boolean() })

const ipamOps: fc.Arbitrary<IpamOp[]> = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ op: fc.constant('allocate' as const), net: fc.nat(), family: fc.constantFrom<AddressFamily>('ipv4', 'ipv6'), vip: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('reserve' as const), net: fc.nat(), offset: fc.nat(40), vip: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('removeNetwork' as const), net: fc.nat() }) },
    { weight: 1, arbitrary: addNetworkOp },
  ),
  { minLength: 20, maxLength: 150 },
)

describe('Ipam properties', () => {
  test('an Ipam rebuilt by addNetwork + reserve from the recorded allocations equals the original', () => {
    fc.assert(
      fc.property(fc.array(addNetworkOp, { minLength: 1, maxLength: 3 }), ipamOps, (initial, rest) => {
        const ops = [...initial, ...rest]
        const cluster = { defaultAddressPool: ['10.0.0.0/16'], subnetSize: 28 } as unknown as Cluster
        const ipam = new Ipam({ pools: ['10.0.0.0/16'], subnetSize: 28 })
        const networks: Network[] = []
        // Where the store records each address: a task attachment or a service VIP.
        const records: { networkId: string; address: string; vip: boolean }[] = []
        let created = 0
        for (const op of ops) {
          const net = 'net' in op ? networks[op.net % Math.max(1, networks.length)] : undefined
          switch (op.op) {
            case 'addNetwork': {
              const id = `net${created++}`
              const v4 = op.prefix === 30 ? {} : { subnet: formatSubnet(subnetOf('ipv4', 0x0a010000n + BigInt(created) * 64n, op.prefix)) }
              const spec: NetworkSpec = { annotations: { name: id }, ipv6Enabled: op.ipv6, ipam: { configs: op.ipv6 ? [v4, { family: 'ipv6' }] : [v4] } }
              const decided = outcome(() => allocateNetworkIpam(spec, networks, cluster))
              if (!decided.ok) continue
              const value = decided.value as ReturnType<typeof allocateNetworkIpam>
              const n = network(id, id, value.ipam.configs ?? [], value.driverState)
              ipam.addNetwork(n)
              networks.push(n)
              break
            }
            case 'removeNetwork':
              if (net === undefined) break
              ipam.removeNetwork(net.id)
              networks.splice(networks.indexOf(net), 1)
              records.splice(0, records.length, ...records.filter((r) => r.networkId !== net.id))
              break
            case 'allocate': {
              if (net === undefined) break
              const got = outcome(() => ipam.allocate(net.id, op.family))
              if (got.ok) records.push({ networkId: net.id, address: got.value as string, vip: op.vip })
              break
            }
            case 'reserve': {
              if (net === undefined) break
              const base = parseSubnet(net.ipam?.configs?.[0]?.subnet ?? '', 'x')
              const addr = formatAddress({ family: 'ipv4', value: base.base + BigInt(op.offset) })
              const got = outcome(() => ipam.reserve(net.id, addr, 'addr'))
              if (got.ok) records.push({ networkId: net.id, address: got.value as string, vip: op.vip })
              break
            }
            case 'release': {
              const r = records[op.pick % Math.max(1, records.length)]
              if (r === undefined) break
              expect(ipam.release(r.networkId, r.address)).toBe(true)
              records.splice(records.indexOf(r), 1)
              break
            }
          }
        }
        const tasks: Task[] = records.filter((r) => !r.vip).map((r, i) => task(`t${i}`, [{ networkId: r.networkId, addresses: [r.address] }], TaskState.RUNNING))
        const services: Service[] = records.filter((r) => r.vip).map((r, i) => service(`s${i}`, [{ networkId: r.networkId, addr: r.address }]))
        const rebuilt = rebuildIpam(networks, tasks, services, { pools: ['10.0.0.0/16'], subnetSize: 28 })
        expect(rebuilt.conflicts).toEqual([])
        expect(rebuilt.ipam.snapshot()).toEqual(ipam.snapshot())
      }),
      { numRuns: RUNS },
    )
  })
})
