/**
 * The IPAM state of a cluster as the allocator holds it in memory: every network's subnets
 * (so that none overlap) and, per subnet, the addresses in use by tasks and VIPs.
 *
 * Store-agnostic: the allocator fills it from the store with {@link Ipam.addNetwork} and
 * {@link Ipam.reserve} (or {@link rebuildIpam}) and keeps it in step with its own writes.
 *
 * @module
 */
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, ResourceExhaustedError } from '@swarmkit-ts/api'
import type { Network, Service, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { formatAddress, formatAttachmentAddress, formatSubnet, parseAddress, parseSubnet, subnetContains } from './address.ts'
import type { AddressFamily, IpAddress } from './address.ts'
import { SubnetAddresses } from './subnet-addresses.ts'
import { SubnetPool } from './subnet-pool.ts'
import type { SubnetPoolInit } from './subnet-pool.ts'

/** Construction options of {@link Ipam}: the cluster's address pools. */
export type IpamInit = SubnetPoolInit

/** One pool of one network in an {@link IpamSnapshot}. */
export interface IpamPoolSnapshot {
  readonly subnet: string
  readonly gateway?: string
  readonly range?: string
  /** Addresses in use, ascending, as plain addresses (no prefix). */
  readonly used: readonly string[]
}

/** One network in an {@link IpamSnapshot}. */
export interface IpamNetworkSnapshot {
  readonly id: string
  readonly pools: readonly IpamPoolSnapshot[]
}

/**
 * The whole IPAM state as plain data, deterministic and comparable with `toEqual`: networks by
 * id, pools in the network's order, used addresses ascending. The serial allocation cursor is not
 * part of it (a rebuilt state starts its search at the start of each window).
 */
export interface IpamSnapshot {
  readonly networks: readonly IpamNetworkSnapshot[]
}

interface NetworkState {
  readonly id: string
  readonly name: string
  readonly pools: readonly SubnetAddresses[]
}

/** Address management for every network of a cluster. */
export class Ipam {
  readonly #subnets: SubnetPool
  readonly #networks = new Map<string, NetworkState>()

  /** An empty state; `init` are the cluster's pools (validated as in {@link SubnetPool}). */
  constructor(init: IpamInit = {}) {
    this.#subnets = new SubnetPool(init)
  }

  /**
   * Takes in a network whose IPAM is allocated (`network.ipam.configs`, each with a subnet):
   * registers its subnets (`InvalidArgumentError` naming `ipam.configs[i].subnet` when one
   * overlaps another network's) and reserves each gateway. `AlreadyExistsError` when the network
   * is already known; `InvalidArgumentError('ipam')` when it has no allocated config.
   * Nothing is changed on error.
   */
  addNetwork(network: Frozen<Network>): void {
    if (this.#networks.has(network.id)) throw new AlreadyExistsError('network', network.id)
    const configs = network.ipam?.configs ?? []
    if (configs.length === 0) throw new InvalidArgumentError('ipam', `network ${network.id} has no allocated IPAM configs`)
    const name = network.spec.annotations.name
    const pools: SubnetAddresses[] = []
    try {
      configs.forEach((c, i) => {
        const field = `ipam.configs[${i}]`
        if (c.subnet === undefined) throw new InvalidArgumentError(`${field}.subnet`, `network ${network.id} has a config without a subnet`)
        const subnet = parseSubnet(c.subnet, `${field}.subnet`)
        const gateway = c.gateway === undefined ? undefined : parseAddress(c.gateway, `${field}.gateway`)
        const range = c.range === undefined ? undefined : parseSubnet(c.range, `${field}.range`)
        this.#subnets.reserve(subnet, network.id, `${field}.subnet`, name)
        pools.push(new SubnetAddresses(subnet, { ...(gateway && { gateway }), ...(range && { range }) }))
      })
    } catch (err) {
      this.#subnets.release(network.id)
      throw err
    }
    this.#networks.set(network.id, { id: network.id, name, pools })
  }

  /** Forgets network `id` with its subnets and addresses; false when it was not known. */
  removeNetwork(id: string): boolean {
    this.#subnets.release(id)
    return this.#networks.delete(id)
  }

  /** True when network `id` is known. */
  hasNetwork(id: string): boolean {
    return this.#networks.has(id)
  }

  /**
   * Allocates an address of `family` on network `networkId` and returns it CIDR-style
   * (`'10.0.1.5/24'`), from the network's first pool of that family with room.
   * `NotFoundError('network')` when unknown; `InvalidArgumentError('family')` when the network
   * has no pool of that family; `ResourceExhaustedError` when all are full.
   */
  allocate(networkId: string, family: AddressFamily = 'ipv4'): string {
    const state = this.#network(networkId)
    const pools = state.pools.filter((p) => p.subnet.family === family)
    if (pools.length === 0) throw new InvalidArgumentError('family', `network ${state.name} has no ${family} subnet`)
    const pool = pools.find((p) => p.free > 0)
    if (pool !== undefined) return formatAttachmentAddress(pool.allocate(), pool.subnet.prefix)
    throw new ResourceExhaustedError(`addresses of network ${state.name} (${pools.map((p) => formatSubnet(p.subnet)).join(', ')})`)
  }

  /**
   * Marks `address` as used on network `networkId`: an address the store records
   * (`'10.0.1.5/24'`) or a user's static address (with or without the prefix). Returns it
   * CIDR-style. `NotFoundError('network')`; `InvalidArgumentError(field)` when it is malformed,
   * in no subnet of the network, or its prefix is not the subnet's; `AlreadyExistsError`
   * (kind `address`) when it is taken.
   */
  reserve(networkId: string, address: string, field: string): string {
    const state = this.#network(networkId)
    const { addr, prefix } = parseMaybePrefixed(address, field)
    const pool = state.pools.find((p) => subnetContains(p.subnet, addr))
    if (pool === undefined) {
      throw new InvalidArgumentError(field, `${formatAddress(addr)} is not in a subnet of network ${state.name} (${state.pools.map((p) => formatSubnet(p.subnet)).join(', ')})`)
    }
    if (prefix !== undefined && prefix !== pool.subnet.prefix) {
      throw new InvalidArgumentError(field, `${address} does not have the prefix length of subnet ${formatSubnet(pool.subnet)}`)
    }
    pool.reserve(addr, field)
    return formatAttachmentAddress(addr, pool.subnet.prefix)
  }

  /**
   * Frees `address` (with or without its prefix) on network `networkId`. False when the network
   * is unknown (already removed), the address malformed or not in use: releasing is idempotent.
   */
  release(networkId: string, address: string): boolean {
    const state = this.#networks.get(networkId)
    if (state === undefined) return false
    let addr: IpAddress
    try {
      addr = parseMaybePrefixed(address, 'address').addr
    } catch {
      return false
    }
    const pool = state.pools.find((p) => subnetContains(p.subnet, addr))
    return pool?.release(addr) ?? false
  }

  /** True when `address` is in use on network `networkId`. */
  isUsed(networkId: string, address: string): boolean {
    const state = this.#networks.get(networkId)
    if (state === undefined) return false
    try {
      const { addr } = parseMaybePrefixed(address, 'address')
      return state.pools.some((p) => p.has(addr))
    } catch {
      return false
    }
  }

  /** The ids of the known networks, sorted. */
  networkIds(): string[] {
    return [...this.#networks.keys()].sort()
  }

  /** The state as plain data (see {@link IpamSnapshot}). */
  snapshot(): IpamSnapshot {
    return {
      networks: this.networkIds().map((id) => ({
        id,
        pools: (this.#networks.get(id)?.pools ?? []).map((p) => ({
          subnet: formatSubnet(p.subnet),
          ...(p.gateway && { gateway: formatAddress(p.gateway) }),
          ...(p.range && { range: formatSubnet(p.range) }),
          used: p.usedAddresses().map(formatAddress),
        })),
      })),
    }
  }

  #network(id: string): NetworkState {
    const state = this.#networks.get(id)
    if (state === undefined) throw new NotFoundError('network', id)
    return state
  }
}

function parseMaybePrefixed(text: string, field: string): { addr: IpAddress; prefix: number | undefined } {
  const slash = typeof text === 'string' ? text.indexOf('/') : -1
  if (slash < 0) return { addr: parseAddress(text, field), prefix: undefined }
  const prefixText = text.slice(slash + 1)
  const addr = parseAddress(text.slice(0, slash), field)
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) throw new InvalidArgumentError(field, `${JSON.stringify(text)} is not a valid address`)
  return { addr, prefix: Number(prefixText) }
}

/** An address the store records that {@link rebuildIpam} could not take back. */
export interface IpamConflict {
  /** What records it. */
  readonly kind: 'network' | 'service' | 'task'
  /** The id of the object. */
  readonly id: string
  /** The network concerned. */
  readonly networkId: string
  /** The address (or subnet, for a network). */
  readonly address: string
  /** Why it was refused (an overlap, an address taken twice, an unknown network…). */
  readonly error: Error
}

/** What {@link rebuildIpam} returns. */
export interface RebuiltIpam {
  readonly ipam: Ipam
  /** Every recorded allocation that could not be taken back, in input order. */
  readonly conflicts: readonly IpamConflict[]
}

/**
 * Rebuilds the IPAM state from what the store records (after a leader change): every network
 * with allocated IPAM, then every service's VIPs, then every task's attachment addresses.
 * Objects are taken in the order given; sort them (e.g. by id) for a deterministic outcome.
 * A recorded allocation that cannot be taken back (overlapping subnet, address taken twice,
 * network unknown) is reported in `conflicts`, never thrown, so one bad record does not stop
 * the allocator.
 */
export function rebuildIpam(
  networks: readonly Frozen<Network>[],
  tasks: readonly Frozen<Task>[],
  services: readonly Frozen<Service>[],
  init: IpamInit = {},
): RebuiltIpam {
  const ipam = new Ipam(init)
  const conflicts: IpamConflict[] = []
  const attempt = (kind: IpamConflict['kind'], id: string, networkId: string, address: string, fn: () => void): void => {
    try {
      fn()
    } catch (err) {
      conflicts.push({ kind, id, networkId, address, error: err instanceof Error ? err : new Error(String(err)) })
    }
  }
  for (const n of networks) {
    if ((n.ipam?.configs ?? []).length === 0) continue
    attempt('network', n.id, n.id, (n.ipam?.configs ?? []).map((c) => c.subnet ?? '').join(','), () => ipam.addNetwork(n))
  }
  for (const s of services) {
    for (const [i, vip] of (s.endpoint?.virtualIps ?? []).entries()) {
      if (vip.addr === undefined || vip.addr === '') continue
      attempt('service', s.id, vip.networkId, vip.addr, () => ipam.reserve(vip.networkId, vip.addr, `endpoint.virtualIps[${i}].addr`))
    }
  }
  for (const t of tasks) {
    for (const [i, att] of (t.networks ?? []).entries()) {
      for (const [j, addr] of (att.addresses ?? []).entries()) {
        attempt('task', t.id, att.networkId, addr, () => ipam.reserve(att.networkId, addr, `networks[${i}].addresses[${j}]`))
      }
    }
  }
  return { ipam, conflicts }
}
