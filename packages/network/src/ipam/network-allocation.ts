/**
 * Network-level allocation, pure on the store's contents: a new network's subnets (the user's,
 * validated, or the lowest free ones of the cluster's pools), gateways, and — for overlay
 * networks — its VXLAN ids. NetworkControl calls it inside the transaction that creates the
 * network; the allocator calls it for a network that reached the store without IPAM.
 *
 * @module
 */
import { InvalidArgumentError, ResourceExhaustedError } from '@swarmkit-ts/api'
import type { Cluster, Driver, IpamConfig, Network, NetworkSpec } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { formatAddress, formatSubnet, parseAddress, parseAttachmentAddress, parseSubnet, subnetContains, subnetLast, subnetOf } from './address.ts'
import type { AddressFamily, IpAddress, Subnet } from './address.ts'
import { SubnetPool } from './subnet-pool.ts'
import type { SubnetPoolInit } from './subnet-pool.ts'

/** The driver of a network whose spec names none. */
export const DEFAULT_NETWORK_DRIVER = 'overlay'
/** The IPAM driver recorded on allocated networks (libnetwork's built-in one). */
export const DEFAULT_IPAM_DRIVER = 'default'
/** The driver-state option holding an overlay network's VXLAN ids (comma-separated, one per IPv4 subnet). */
export const VXLAN_ID_OPTION = 'com.docker.network.driver.overlay.vxlanid_list'
/** Lowest VXLAN id given to an overlay network (libnetwork's `vxlanIDStart`). */
export const VXLAN_ID_MIN = 4096
/** Highest VXLAN id (24 bits). */
export const VXLAN_ID_MAX = 2 ** 24 - 1

/** A network's allocated IPAM, as `Network.ipam` records it. */
export type AllocatedIpam = NonNullable<Network['ipam']>

/** Options of {@link allocateNetworkIpam}. */
export interface NetworkAllocationOptions {
  /** The VXLAN ids overlay networks get (user ids included); {@link VXLAN_ID_MIN}–{@link VXLAN_ID_MAX} by default. */
  readonly vxlanIds?: { readonly min: number; readonly max: number }
}

/** What {@link allocateNetworkIpam} decides for a new network. */
export interface NetworkIpamAllocation {
  /** The pools: one per config of the spec (one IPv4 pool, plus one IPv6 pool with `ipv6Enabled`, when it has none). */
  readonly ipam: AllocatedIpam
  /** The driver's state: for overlay networks the VXLAN ids in {@link VXLAN_ID_OPTION}. */
  readonly driverState: Driver
}

/** The driver a network spec asks for: `spec.driverConfig.name`, or `'overlay'`. */
export function networkDriverName(spec: Frozen<NetworkSpec>): string {
  return spec.driverConfig?.name ?? DEFAULT_NETWORK_DRIVER
}

/** The subnet pools of a cluster (`defaultAddressPool`, `subnetSize`), or the defaults. */
export function subnetPoolInitOf(cluster: Frozen<Cluster> | undefined): SubnetPoolInit {
  return { pools: cluster?.defaultAddressPool, subnetSize: cluster?.subnetSize }
}

/** The VXLAN ids the networks' driver states hold (malformed entries ignored). */
export function usedVxlanIds(networks: readonly Frozen<Network>[]): Set<number> {
  const used = new Set<number>()
  for (const n of networks) {
    for (const id of (n.driverState?.options?.[VXLAN_ID_OPTION] ?? '').split(',')) {
      const v = Number(id.trim())
      if (id.trim() !== '' && Number.isInteger(v)) used.add(v)
    }
  }
  return used
}

interface CheckedConfig {
  readonly index: number
  readonly family: AddressFamily
  subnet: Subnet | undefined
  readonly gateway: IpAddress | undefined
  readonly range: Subnet | undefined
}

/**
 * Decides the IPAM and driver state of a new network with `spec`, given the networks that
 * exist (`existing`) and the cluster (its address pools). Deterministic. Throws, with nothing
 * decided:
 * - `InvalidArgumentError` naming `ipam.driver.name` for an IPAM driver other than `default`
 *   (no IPAM plugins), or `driverConfig.name` for an ingress network not on `overlay`;
 * - `InvalidArgumentError` naming `ipam.configs[i].subnet|gateway|range|family`: a malformed
 *   CIDR or address, host bits set, a family that does not match, a gateway or range outside
 *   its subnet (or without one), a gateway on the network or broadcast address, an IPv6 pool
 *   without `ipv6Enabled`, or a user subnet overlapping another network's (or another config
 *   of the same spec): `'10.0.1.0/24 overlaps network "web-net" (10.0.1.0/24)'`;
 * - `InvalidArgumentError` naming `driverConfig.options["…vxlanid_list"]` for a bad or taken
 *   user VXLAN id;
 * - `ResourceExhaustedError` when the pools have no free subnet, or no VXLAN id is left.
 */
export function allocateNetworkIpam(
  spec: Frozen<NetworkSpec>,
  existing: readonly Frozen<Network>[],
  cluster: Frozen<Cluster> | undefined,
  options: NetworkAllocationOptions = {},
): NetworkIpamAllocation {
  const name = spec.annotations.name
  const ipamDriver = spec.ipam?.driver?.name
  if (ipamDriver !== undefined && ipamDriver.toLowerCase() !== DEFAULT_IPAM_DRIVER) {
    throw new InvalidArgumentError('ipam.driver.name', `IPAM driver ${JSON.stringify(ipamDriver)} is not supported: only the built-in "${DEFAULT_IPAM_DRIVER}" driver is`)
  }
  if (spec.ingress === true && networkDriverName(spec) !== DEFAULT_NETWORK_DRIVER) {
    throw new InvalidArgumentError('driverConfig.name', `only the ${DEFAULT_NETWORK_DRIVER} driver is supported for the ingress network`)
  }
  const specConfigs = spec.ipam?.configs ?? []
  const configs: CheckedConfig[] =
    specConfigs.length > 0
      ? specConfigs.map((c, i) => checkConfig(c, i, spec.ipv6Enabled === true))
      : defaultConfigs(spec.ipv6Enabled === true)

  const pool = new SubnetPool(subnetPoolInitOf(cluster))
  const self = '\u0000new'
  for (const n of existing) {
    for (const c of n.ipam?.configs ?? []) {
      const subnet = c.subnet === undefined ? undefined : recordedSubnet(c.subnet)
      if (subnet !== undefined) pool.record(subnet, n.id, n.spec.annotations.name)
    }
  }
  // User subnets first, so that pool subnets go around them.
  for (const c of configs) {
    if (c.subnet !== undefined) pool.reserve(c.subnet, self, `ipam.configs[${c.index}].subnet`, name)
  }
  for (const c of configs) {
    if (c.subnet === undefined) c.subnet = pool.allocate(self, c.family, name)
  }

  const allocated = configs.map((c) => {
    const subnet = c.subnet as Subnet
    const gateway = c.gateway ?? defaultGateway(subnet, c.range)
    return {
      family: c.family,
      subnet: formatSubnet(subnet),
      ...(gateway !== undefined && { gateway: formatAddress(gateway) }),
      ...(c.range !== undefined && { range: formatSubnet(c.range) }),
    }
  })
  const ipam: AllocatedIpam = { driver: spec.ipam?.driver ?? { name: DEFAULT_IPAM_DRIVER }, configs: allocated }
  return { ipam, driverState: driverStateFor(spec, existing, configs, options.vxlanIds ?? { min: VXLAN_ID_MIN, max: VXLAN_ID_MAX }) }
}

function defaultConfigs(ipv6: boolean): CheckedConfig[] {
  const v4: CheckedConfig = { index: 0, family: 'ipv4', subnet: undefined, gateway: undefined, range: undefined }
  return ipv6 ? [v4, { index: 1, family: 'ipv6', subnet: undefined, gateway: undefined, range: undefined }] : [v4]
}

/** A subnet the store records, read leniently (host bits cleared) so that it is never overlapped. */
function recordedSubnet(text: string): Subnet | undefined {
  try {
    const { address, prefix } = parseAttachmentAddress(text, 'subnet')
    return subnetOf(address.family, address.value, prefix)
  } catch {
    return undefined
  }
}

function checkConfig(c: Frozen<IpamConfig>, index: number, ipv6Enabled: boolean): CheckedConfig {
  const f = `ipam.configs[${index}]`
  const subnet = c.subnet === undefined ? undefined : parseSubnet(c.subnet, `${f}.subnet`)
  if (subnet !== undefined && c.family !== undefined && c.family !== subnet.family) {
    throw new InvalidArgumentError(`${f}.subnet`, `${c.subnet} is not an ${c.family} subnet`)
  }
  const family = subnet?.family ?? c.family ?? 'ipv4'
  if (family === 'ipv6' && !ipv6Enabled) {
    throw new InvalidArgumentError(subnet === undefined ? `${f}.family` : `${f}.subnet`, 'an IPv6 pool needs the network to have ipv6Enabled')
  }
  let gateway: IpAddress | undefined
  if (c.gateway !== undefined) {
    const field = `${f}.gateway`
    gateway = parseAddress(c.gateway, field)
    if (subnet === undefined) throw new InvalidArgumentError(field, 'a gateway needs a subnet to lie in')
    if (!subnetContains(subnet, gateway)) throw new InvalidArgumentError(field, `${c.gateway} is not inside subnet ${c.subnet}`)
    const tiny = subnet.family === 'ipv4' && subnet.prefix >= 31
    if (!tiny && gateway.value === subnet.base) throw new InvalidArgumentError(field, `${c.gateway} is the network address of ${c.subnet}`)
    if (!tiny && subnet.family === 'ipv4' && gateway.value === subnetLast(subnet)) {
      throw new InvalidArgumentError(field, `${c.gateway} is the broadcast address of ${c.subnet}`)
    }
  }
  let range: Subnet | undefined
  if (c.range !== undefined) {
    const field = `${f}.range`
    range = parseSubnet(c.range, field)
    if (subnet === undefined) throw new InvalidArgumentError(field, 'a range needs a subnet to lie in')
    if (!subnetContains(subnet, range)) throw new InvalidArgumentError(field, `${c.range} is not inside subnet ${c.subnet}`)
  }
  return { index, family, subnet, gateway, range }
}

/**
 * The gateway libnetwork picks when none is given: the first address the pool would hand out
 * (the first of the range, or of the subnet after its network address); none when the subnet
 * has no room (an IPv4 /31 or /32, an IPv6 /128).
 */
function defaultGateway(subnet: Subnet, range: Subnet | undefined): IpAddress | undefined {
  if ((subnet.family === 'ipv4' && subnet.prefix >= 31) || subnet.prefix >= 128) return undefined
  const start = range?.base ?? subnet.base
  const value = start === subnet.base ? start + 1n : start
  if (subnet.family === 'ipv4' && value === subnetLast(subnet)) return undefined
  return { family: subnet.family, value }
}

function driverStateFor(
  spec: Frozen<NetworkSpec>,
  existing: readonly Frozen<Network>[],
  configs: readonly CheckedConfig[],
  range: { readonly min: number; readonly max: number },
): Driver {
  const driver = networkDriverName(spec)
  const userOptions = spec.driverConfig?.options
  if (driver !== DEFAULT_NETWORK_DRIVER) return { name: driver, ...(userOptions !== undefined && { options: { ...userOptions } }) }
  const used = usedVxlanIds(existing)
  // libnetwork's overlay driver gives one VXLAN id per IPv4 subnet; at least one here.
  const wanted = Math.max(1, configs.filter((c) => c.family === 'ipv4').length)
  const requested = userOptions?.[VXLAN_ID_OPTION]
  let ids: number[]
  if (requested !== undefined) {
    ids = parseRequestedVxlanIds(requested, used, range)
  } else {
    ids = []
    for (let id = range.min; ids.length < wanted && id <= range.max; id++) if (!used.has(id)) ids.push(id)
    if (ids.length < wanted) throw new ResourceExhaustedError(`VXLAN ids (${range.min}-${range.max})`)
  }
  return { name: driver, options: { ...userOptions, [VXLAN_ID_OPTION]: ids.join(',') } }
}

function parseRequestedVxlanIds(text: string, used: ReadonlySet<number>, range: { readonly min: number; readonly max: number }): number[] {
  const field = `driverConfig.options[${JSON.stringify(VXLAN_ID_OPTION)}]`
  const ids = text.split(',').map((part) => {
    const t = part.trim()
    const id = Number(t)
    if (!/^[0-9]+$/.test(t) || id < range.min || id > range.max) {
      throw new InvalidArgumentError(field, `${JSON.stringify(part)} is not a VXLAN id (${range.min}-${range.max})`)
    }
    if (used.has(id)) throw new InvalidArgumentError(field, `VXLAN id ${id} is already in use by another network`)
    return id
  })
  if (new Set(ids).size !== ids.length) throw new InvalidArgumentError(field, `${text} lists a VXLAN id twice`)
  return ids
}
