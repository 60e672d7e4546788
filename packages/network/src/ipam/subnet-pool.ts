/**
 * Pools of subnets: the cluster's default address pools (`Cluster.defaultAddressPool`, split in
 * subnets of `Cluster.subnetSize` bits), from which a network without a user subnet gets one,
 * and the registry of every subnet in use, so that no two networks ever overlap.
 *
 * @module
 */
import { InvalidArgumentError, ResourceExhaustedError } from '@swarmkit-ts/api'
import { formatSubnet, parseSubnet, subnetLast, subnetOf, subnetsOverlap, subnetSize } from './address.ts'
import type { AddressFamily, Subnet } from './address.ts'

/** libnetwork's global-scope default pool (`ipamutils`), SwarmKit's default address pool. */
export const DEFAULT_ADDRESS_POOL: readonly string[] = ['10.0.0.0/8']
/** Prefix length of a subnet taken from the default pools (libnetwork: /24). */
export const DEFAULT_SUBNET_SIZE = 24
/** The largest prefix length `subnetSize` may take for IPv4 pools (SwarmKit: /29, 8 addresses). */
export const MAX_IPV4_SUBNET_SIZE = 29
/**
 * The pool an IPv6 subnet comes from when a network with `ipv6Enabled` gives none: unique
 * local addresses, split in /64 (beyond SwarmKit, which allocates no IPv6 subnet by itself).
 */
export const DEFAULT_IPV6_ADDRESS_POOL: readonly string[] = ['fd00::/8']
/** Prefix length of a subnet taken from the IPv6 pools. */
export const DEFAULT_IPV6_SUBNET_SIZE = 64

/** Construction options of {@link SubnetPool}. */
export interface SubnetPoolInit {
  /** IPv4 (or IPv6) pools in CIDR form; {@link DEFAULT_ADDRESS_POOL} when absent or empty. */
  readonly pools?: readonly string[] | undefined
  /** Prefix length of each subnet taken from `pools`; {@link DEFAULT_SUBNET_SIZE} when absent or 0. */
  readonly subnetSize?: number | undefined
  /** IPv6 pools used when `pools` has no IPv6 pool; {@link DEFAULT_IPV6_ADDRESS_POOL} by default. */
  readonly ipv6Pools?: readonly string[] | undefined
  /** Prefix length of each subnet taken from `ipv6Pools`; {@link DEFAULT_IPV6_SUBNET_SIZE} by default. */
  readonly ipv6SubnetSize?: number | undefined
}

/** A subnet in use, with the owner that holds it. */
export interface OwnedSubnet {
  readonly subnet: Subnet
  /** Who holds it (a network id, or any key the caller chooses). */
  readonly owner: string
  /** How errors name the owner (its network's name); the owner by default. */
  readonly label: string
}

interface Pool {
  readonly subnet: Subnet
  readonly size: number
}

/**
 * Checks cluster address pool settings the way SwarmKit's `validateDefaultAddrPool` does: each
 * pool a CIDR (`InvalidArgumentError` naming `defaultAddressPool[i]`), the subnet size an
 * integer no larger than 29 for IPv4 pools (field `subnetSize`) and no smaller than any pool's
 * prefix (field `defaultAddressPool[i]`). Returns the parsed pools.
 */
export function validateAddressPools(pools: readonly string[], size: number, field = 'defaultAddressPool', sizeField = 'subnetSize'): Subnet[] {
  if (!Number.isInteger(size) || size < 1 || size > 128) throw new InvalidArgumentError(sizeField, `${size} is not a valid subnet size`)
  return pools.map((text, i) => {
    const f = `${field}[${i}]`
    const subnet = parseSubnet(typeof text === 'string' ? text.trim() : text, f)
    if (subnet.family === 'ipv4' && size > MAX_IPV4_SUBNET_SIZE) {
      throw new InvalidArgumentError(sizeField, `subnet size ${size} is out of range: at most ${MAX_IPV4_SUBNET_SIZE} for IPv4 pools`)
    }
    if (size < subnet.prefix) throw new InvalidArgumentError(f, `subnet size ${size} is too small for pool ${formatSubnet(subnet)}`)
    return subnet
  })
}

/**
 * Subnets in use and the pools new ones come from. Allocation takes the lowest subnet of the
 * pool size, in pool order, that overlaps no subnet in use; user subnets are registered with
 * {@link SubnetPool.reserve}, which refuses an overlap with the owner named.
 */
export class SubnetPool {
  readonly #pools: Pool[]
  /** Subnets in use, sorted by (family, base). */
  readonly #used: OwnedSubnet[] = []

  /** Pools from `init` (validated: see {@link validateAddressPools}). */
  constructor(init: SubnetPoolInit = {}) {
    const pools = init.pools !== undefined && init.pools.length > 0 ? init.pools : DEFAULT_ADDRESS_POOL
    const size = init.subnetSize === undefined || init.subnetSize === 0 ? DEFAULT_SUBNET_SIZE : init.subnetSize
    this.#pools = validateAddressPools(pools, size).map((subnet) => ({ subnet, size }))
    if (!this.#pools.some((p) => p.subnet.family === 'ipv6')) {
      const v6 = init.ipv6Pools ?? DEFAULT_IPV6_ADDRESS_POOL
      const v6Size = init.ipv6SubnetSize ?? DEFAULT_IPV6_SUBNET_SIZE
      for (const subnet of validateAddressPools(v6, v6Size, 'ipv6Pools', 'ipv6SubnetSize')) this.#pools.push({ subnet, size: v6Size })
    }
  }

  /**
   * Takes the lowest free subnet of `family` for `owner` (label: how errors name it).
   * `ResourceExhaustedError('subnets of <pools>')` when every pool of that family is full.
   */
  allocate(owner: string, family: AddressFamily = 'ipv4', label = owner): Subnet {
    const pools = this.#pools.filter((p) => p.subnet.family === family)
    for (const pool of pools) {
      const subnet = this.#lowestFree(pool)
      if (subnet !== undefined) {
        this.#insert({ subnet, owner, label })
        return subnet
      }
    }
    throw new ResourceExhaustedError(`subnets of ${pools.map((p) => `${formatSubnet(p.subnet)} in /${p.size}`).join(', ') || `${family} pools`}`)
  }

  /**
   * Registers `subnet` as held by `owner` (a user subnet, or one rebuilt from the store).
   * `InvalidArgumentError(field, 'overlaps network "<label>" (10.0.1.0/24)')` when it overlaps a
   * subnet in use (by any owner, the same one included).
   */
  reserve(subnet: Subnet, owner: string, field: string, label = owner): void {
    const clash = this.overlapping(subnet)
    if (clash !== undefined) {
      throw new InvalidArgumentError(field, `${formatSubnet(subnet)} overlaps network "${clash.label}" (${formatSubnet(clash.subnet)})`)
    }
    this.#insert({ subnet, owner, label })
  }

  /**
   * Registers `subnet` as held by `owner` without the overlap check: for subnets the store
   * already records (two overlapping ones there must not stop allocation; new subnets still go
   * around both).
   */
  record(subnet: Subnet, owner: string, label = owner): void {
    this.#insert({ subnet, owner, label })
  }

  /** The first subnet in use that overlaps `subnet`, if any. */
  overlapping(subnet: Subnet): OwnedSubnet | undefined {
    return this.#used.find((u) => subnetsOverlap(u.subnet, subnet))
  }

  /** Frees every subnet `owner` holds; returns how many. */
  release(owner: string): number {
    let n = 0
    for (let i = this.#used.length - 1; i >= 0; i--) {
      if (this.#used[i]?.owner === owner) {
        this.#used.splice(i, 1)
        n++
      }
    }
    return n
  }

  /** The owners holding subnets, sorted. */
  owners(): string[] {
    return [...new Set(this.#used.map((u) => u.owner))].sort()
  }

  /** The subnets in use, sorted by family (IPv4 first) and address. */
  subnets(): OwnedSubnet[] {
    return [...this.#used]
  }

  #insert(entry: OwnedSubnet): void {
    let i = this.#used.length
    while (i > 0 && compareSubnets(this.#used[i - 1]!.subnet, entry.subnet) > 0) i--
    this.#used.splice(i, 0, entry)
  }

  /** The lowest subnet of `pool.size` bits in `pool` that overlaps nothing in use. */
  #lowestFree(pool: Pool): Subnet | undefined {
    const step = subnetSize({ family: pool.subnet.family, base: 0n, prefix: pool.size })
    const end = subnetLast(pool.subnet)
    let candidate = pool.subnet.base
    // #used is sorted by base: skip past every used subnet that meets the candidate.
    for (const u of this.#used) {
      if (u.subnet.family !== pool.subnet.family) continue
      const last = subnetLast(u.subnet)
      if (last < candidate) continue
      if (u.subnet.base > candidate + step - 1n) break
      candidate = ((last + 1n + step - 1n) / step) * step
      if (candidate > end) return undefined
    }
    if (candidate + step - 1n > end) return undefined
    return subnetOf(pool.subnet.family, candidate, pool.size)
  }
}

/** Orders subnets by family (IPv4 first), then base, then prefix. */
export function compareSubnets(a: Subnet, b: Subnet): number {
  if (a.family !== b.family) return a.family === 'ipv4' ? -1 : 1
  if (a.base !== b.base) return a.base < b.base ? -1 : 1
  return a.prefix - b.prefix
}
