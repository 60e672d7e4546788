/**
 * Networks between Docker's JSON (`types.NetworkResource`, `types.NetworkCreateRequest`) and the
 * api's objects. Only swarm-scoped overlay networks exist in a swarmkit-ts cluster: another
 * driver, a local scope, config-only networks and IPAM plugins are refused naming the field.
 *
 * @module
 */
import { InvalidArgumentError, type IpamConfig, type Network, type NetworkSpec } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { dockerTime } from './meta.ts'
import { annotationsFrom, checkFields, objectAt, optBool, optString, optStringMap } from './swarm-json.ts'

/** The only network driver of a cluster. */
export const OVERLAY = 'overlay'

/** One IPAM pool in Docker's JSON. */
export interface DockerIpamConfig {
  Subnet?: string
  IPRange?: string
  Gateway?: string
  AuxiliaryAddresses?: Record<string, string>
}

/** Docker's `NetworkResource` of a swarm network. */
export interface DockerNetwork {
  Name: string
  Id: string
  Created: string
  Scope: 'swarm'
  Driver: string
  EnableIPv6: boolean
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: DockerIpamConfig[] }
  Internal: boolean
  Attachable: boolean
  Ingress: boolean
  ConfigFrom: { Network: string }
  ConfigOnly: boolean
  Containers: Record<string, never>
  Options: Record<string, string>
  Labels: Record<string, string>
}

function ipamToDocker(c: Frozen<IpamConfig>): DockerIpamConfig {
  return {
    ...(c.subnet === undefined ? {} : { Subnet: c.subnet }),
    ...(c.range === undefined ? {} : { IPRange: c.range }),
    ...(c.gateway === undefined ? {} : { Gateway: c.gateway }),
    ...(c.reserved === undefined ? {} : { AuxiliaryAddresses: { ...c.reserved } }),
  }
}

/** A network as Docker's JSON: the allocated pools (or the asked ones before allocation), the driver's state. */
export function networkToDocker(n: Frozen<Network>): DockerNetwork {
  const s = n.spec
  const pools = n.ipam?.configs ?? s.ipam?.configs ?? []
  const ipamOptions = n.ipam?.driver?.options ?? s.ipam?.driver?.options
  return {
    Name: s.annotations.name,
    Id: n.id,
    Created: dockerTime(n.meta.createdAt),
    Scope: 'swarm',
    Driver: n.driverState?.name ?? s.driverConfig?.name ?? OVERLAY,
    EnableIPv6: s.ipv6Enabled ?? false,
    IPAM: { Driver: n.ipam?.driver?.name ?? s.ipam?.driver?.name ?? 'default', Options: ipamOptions === undefined ? null : { ...ipamOptions }, Config: pools.map(ipamToDocker) },
    Internal: s.internal ?? false,
    Attachable: s.attachable ?? false,
    Ingress: s.ingress ?? false,
    ConfigFrom: { Network: s.configFrom ?? '' },
    ConfigOnly: false,
    Containers: {},
    Options: { ...(n.driverState?.options ?? s.driverConfig?.options ?? {}) },
    Labels: { ...(s.annotations.labels ?? {}) },
  }
}

const NOT_SUPPORTED = {
  ConfigOnly: 'config-only networks are not part of a swarmkit-ts cluster',
  ConfigFrom: 'config-only networks are not part of a swarmkit-ts cluster',
} as const

function ipamConfigFrom(v: unknown, path: string): IpamConfig {
  const c = objectAt(v, path)
  checkFields(c, path, ['Subnet', 'IPRange', 'Gateway', 'AuxiliaryAddresses'])
  const subnet = optString(c['Subnet'], `${path}.Subnet`) ?? ''
  const range = optString(c['IPRange'], `${path}.IPRange`) ?? ''
  const gateway = optString(c['Gateway'], `${path}.Gateway`) ?? ''
  const reserved = optStringMap(c['AuxiliaryAddresses'], `${path}.AuxiliaryAddresses`)
  if (subnet === '' && (range !== '' || gateway !== '')) throw new InvalidArgumentError(`${path}.Subnet`, 'an IP range or a gateway needs a subnet')
  return {
    ...(subnet === '' ? {} : { subnet }),
    ...(range === '' ? {} : { range }),
    ...(gateway === '' ? {} : { gateway }),
    ...(reserved === undefined ? {} : { reserved }),
  }
}

/**
 * The api's network spec from Docker's `NetworkCreateRequest` (`POST /networks/create`). The
 * driver must be `overlay` (or empty), the scope `swarm` (or empty). Refuses unknown fields and
 * what a cluster cannot honour, naming the field.
 */
export function networkSpecFromDocker(body: unknown): NetworkSpec {
  const obj = objectAt(body, 'NetworkCreateRequest')
  checkFields(obj, '', ['Name', 'CheckDuplicate', 'Driver', 'Scope', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable', 'Ingress', 'Options', 'Labels'], NOT_SUPPORTED)
  const annotations = annotationsFrom(obj, '')
  if (annotations.name === '') throw new InvalidArgumentError('Name', 'a network needs a name')
  optBool(obj['CheckDuplicate'], 'CheckDuplicate') // names are always unique in a cluster
  const driver = optString(obj['Driver'], 'Driver') ?? ''
  if (driver !== '' && driver !== OVERLAY) {
    throw new InvalidArgumentError('Driver', `${JSON.stringify(driver)} is not supported by swarmkit-ts: only overlay networks span the cluster (docker network create -d overlay)`)
  }
  const scope = optString(obj['Scope'], 'Scope') ?? ''
  if (scope !== '' && scope !== 'swarm') throw new InvalidArgumentError('Scope', `${JSON.stringify(scope)} is not supported by swarmkit-ts: every network is swarm-scoped`)
  const options = optStringMap(obj['Options'], 'Options')
  if (options?.['encrypted'] !== undefined) throw new InvalidArgumentError('Options.encrypted', 'is not supported by swarmkit-ts: overlay traffic is not encrypted')
  const ipam = objectAt(obj['IPAM'], 'IPAM')
  checkFields(ipam, 'IPAM', ['Driver', 'Config', 'Options'])
  const ipamDriver = optString(ipam['Driver'], 'IPAM.Driver') ?? ''
  if (ipamDriver !== '' && ipamDriver !== 'default') {
    throw new InvalidArgumentError('IPAM.Driver', `${JSON.stringify(ipamDriver)} is not supported by swarmkit-ts: only the default IPAM allocates addresses`)
  }
  const ipamOptions = optStringMap(ipam['Options'], 'IPAM.Options')
  const rawConfigs = ipam['Config'] ?? []
  if (!Array.isArray(rawConfigs)) throw new InvalidArgumentError('IPAM.Config', 'must be a list')
  const configs = rawConfigs.map((c, i) => ipamConfigFrom(c, `IPAM.Config[${i}]`)).filter((c) => Object.keys(c).length > 0)
  const ipv6 = optBool(obj['EnableIPv6'], 'EnableIPv6') ?? false
  const internal = optBool(obj['Internal'], 'Internal') ?? false
  const attachable = optBool(obj['Attachable'], 'Attachable') ?? false
  const ingress = optBool(obj['Ingress'], 'Ingress') ?? false
  const spec: NetworkSpec = { annotations, driverConfig: options === undefined ? { name: OVERLAY } : { name: OVERLAY, options } }
  if (configs.length > 0 || ipamOptions !== undefined) {
    spec.ipam = { ...(ipamOptions === undefined ? {} : { driver: { name: 'default', options: ipamOptions } }), ...(configs.length > 0 ? { configs } : {}) }
  }
  if (ipv6) spec.ipv6Enabled = true
  if (internal) spec.internal = true
  if (attachable) spec.attachable = true
  if (ingress) spec.ingress = true
  return spec
}
