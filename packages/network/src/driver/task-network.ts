/**
 * Pure pieces every {@link NetworkDriver} shares: checking a cluster network and a task's
 * attachments against it, planning a task's runtime port mappings, computing its endpoints from
 * its running container, and turning those into the task's `portStatus`.
 *
 * @module
 */
import { FailedPreconditionError, InvalidArgumentError, type PortConfig } from '@swarmkit-ts/api'
import type { ContainerInfo, PortMapping, RuntimeContainerSpec } from '@swarmkit-ts/engine-adapter'
import { formatAddress, parseAddress, parseAttachmentAddress, parseSubnet, subnetContains, subnetLast, type IpAddress, type Subnet } from '../ipam/address.ts'
import type { DriverNetwork, TaskEndpoint, TaskNetworkConfig, TaskNetworkRequest } from './network-driver.ts'

/** A task's attachment to one network, checked: plain addresses (at most one per family). */
export interface CheckedAttachment {
  /** The cluster network. */
  network: DriverNetwork
  /** The IPv4 address, without prefix. */
  ipv4: string | undefined
  /** The IPv6 address, without prefix. */
  ipv6: string | undefined
  /** Extra DNS names. */
  aliases: readonly string[]
}

function checkGateway(field: string, subnet: Subnet, gatewayText: string): void {
  const gateway = parseAddress(gatewayText, field)
  if (!subnetContains(subnet, gateway) || gateway.value === subnet.base || (subnet.family === 'ipv4' && gateway.value === subnetLast(subnet))) {
    throw new InvalidArgumentError(field, `${gatewayText} is not a host address of ${formatAddress({ family: subnet.family, value: subnet.base })}/${subnet.prefix}`)
  }
}

/** Parses a network's subnets, throwing `InvalidArgumentError` naming the field (`subnet`, `gateway`, `ipv6.subnet`, …). */
export function checkDriverNetwork(network: DriverNetwork): { ipv4: Subnet; ipv6: Subnet | undefined } {
  if (typeof network.id !== 'string' || network.id === '') throw new InvalidArgumentError('id', 'must be a non-empty network id')
  if (typeof network.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(network.name)) {
    throw new InvalidArgumentError('name', 'must match [A-Za-z0-9][A-Za-z0-9_.-]*')
  }
  const ipv4 = parseSubnet(network.subnet, 'subnet')
  if (ipv4.family !== 'ipv4') throw new InvalidArgumentError('subnet', 'must be an IPv4 subnet (IPv6 goes in ipv6.subnet)')
  if (ipv4.prefix > 30) throw new InvalidArgumentError('subnet', 'must leave room for a gateway and a task (/30 or larger)')
  checkGateway('gateway', ipv4, network.gateway)
  let ipv6: Subnet | undefined
  if (network.ipv6 !== undefined) {
    ipv6 = parseSubnet(network.ipv6.subnet, 'ipv6.subnet')
    if (ipv6.family !== 'ipv6') throw new InvalidArgumentError('ipv6.subnet', 'must be an IPv6 subnet')
    checkGateway('ipv6.gateway', ipv6, network.ipv6.gateway)
  }
  if (network.vxlanId !== undefined && !(Number.isInteger(network.vxlanId) && network.vxlanId >= 4096 && network.vxlanId < 1 << 24)) {
    throw new InvalidArgumentError('vxlanId', 'must be an integer from 4096 to 16777215')
  }
  return { ipv4, ipv6 }
}

/** True when two descriptions of one network differ in what its data plane is built from. */
export function networkChanged(a: DriverNetwork, b: DriverNetwork): boolean {
  return a.subnet !== b.subnet || a.gateway !== b.gateway || a.ipv6?.subnet !== b.ipv6?.subnet || a.ipv6?.gateway !== b.ipv6?.gateway ||
    (a.internal === true) !== (b.internal === true) || (a.ingress === true) !== (b.ingress === true)
}

function checkAddress(field: string, text: string, subnets: { ipv4: Subnet; ipv6: Subnet | undefined }, network: DriverNetwork): IpAddress {
  const { address, prefix } = parseAttachmentAddress(text, field)
  const subnet = address.family === 'ipv4' ? subnets.ipv4 : subnets.ipv6
  const gateway = address.family === 'ipv4' ? network.gateway : network.ipv6?.gateway
  const reserved = subnet !== undefined && (address.value === subnet.base || (subnet.family === 'ipv4' && address.value === subnetLast(subnet)))
  if (subnet === undefined || prefix !== subnet.prefix || !subnetContains(subnet, address) || reserved || formatAddress(address) === gateway) {
    throw new InvalidArgumentError(field, `${text} is not a task address of network ${network.name}`)
  }
  return address
}

/**
 * Checks a task's attachments against the networks a driver holds: `NotFoundError` is the
 * caller's (`lookup` throws it); addresses must be host addresses of their network's subnet with
 * its prefix length, not its gateway, at most one per family.
 */
export function checkAttachments(task: TaskNetworkRequest, lookup: (networkId: string) => DriverNetwork): CheckedAttachment[] {
  if (typeof task.taskId !== 'string' || task.taskId === '') throw new InvalidArgumentError('taskId', 'must be a non-empty task id')
  const seen = new Set<string>()
  return task.attachments.map((a, i) => {
    if (seen.has(a.networkId)) throw new InvalidArgumentError(`attachments[${i}].networkId`, `duplicate network ${a.networkId}`)
    seen.add(a.networkId)
    const network = lookup(a.networkId)
    const subnets = checkDriverNetwork(network)
    let ipv4: string | undefined
    let ipv6: string | undefined
    ;(a.addresses ?? []).forEach((text, j) => {
      const field = `attachments[${i}].addresses[${j}]`
      const address = checkAddress(field, text, subnets, network)
      if ((address.family === 'ipv4' ? ipv4 : ipv6) !== undefined) throw new InvalidArgumentError(field, `a second ${address.family} address`)
      if (address.family === 'ipv4') ipv4 = formatAddress(address)
      else ipv6 = formatAddress(address)
    })
    ;(a.aliases ?? []).forEach((alias, j) => {
      if (alias === '' || /\s/.test(alias)) throw new InvalidArgumentError(`attachments[${i}].aliases[${j}]`, 'must be a non-empty name without whitespace')
    })
    return { network, ipv4, ipv6, aliases: a.aliases ?? [] }
  })
}

const protocolOf = (p: PortConfig): 'tcp' | 'udp' => (p.protocol === 'udp' ? 'udp' : 'tcp')
const modeOf = (p: PortConfig): 'ingress' | 'host' => (p.publishMode === 'host' ? 'host' : 'ingress')

/**
 * The runtime port mappings of a task: each host-mode port at its `publishedPort` (0 =
 * ephemeral); each ingress-mode port at an ephemeral node port unless `ingressByAddress` (the
 * task is reached at its ingress address). Ports are checked (`ports[i].targetPort`, …); a
 * target/protocol pair is mapped once (a later port sharing it is reached at the same node port).
 */
export function planPorts(ports: readonly PortConfig[], ingressByAddress: boolean): PortMapping[] {
  const out: PortMapping[] = []
  const mapped = new Map<string, number>()
  ports.forEach((p, i) => {
    if (!Number.isInteger(p.targetPort) || p.targetPort < 1 || p.targetPort > 65535) throw new InvalidArgumentError(`ports[${i}].targetPort`, 'must be a port number 1-65535')
    const published = p.publishedPort ?? 0
    if (!Number.isInteger(published) || published < 0 || published > 65535) throw new InvalidArgumentError(`ports[${i}].publishedPort`, 'must be 0 or a port number 1-65535')
    if (p.protocol !== undefined && p.protocol !== 'tcp' && p.protocol !== 'udp' && p.protocol !== 'sctp') throw new InvalidArgumentError(`ports[${i}].protocol`, 'must be tcp, udp or sctp')
    if (p.protocol === 'sctp') throw new InvalidArgumentError(`ports[${i}].protocol`, 'sctp is not supported by this driver')
    const host = modeOf(p) === 'host'
    if (!host && ingressByAddress) return
    const key = `${p.targetPort}/${protocolOf(p)}`
    const at = mapped.get(key)
    if (at !== undefined) {
      const prev = out[at]
      // Two host-mode ports on one target with different fixed node ports cannot both be honoured.
      if (host && published !== 0 && prev !== undefined && (prev.published ?? 0) !== 0 && prev.published !== published) {
        throw new InvalidArgumentError(`ports[${i}].targetPort`, `target ${key} is already published on node port ${String(prev.published)}`)
      }
      if (host && published !== 0 && prev !== undefined) out[at] = { ...prev, published }
      return
    }
    mapped.set(key, out.length)
    out.push({ target: p.targetPort, published: host ? published : 0, protocol: protocolOf(p) })
  })
  return out
}

/**
 * A task's endpoints: a port published on the node is reached at `nodeAddress` and the port the
 * runtime allocated (from `container.ports`); an ingress port of a task attached to an ingress
 * network of an address-capable driver at its address there. Throws `FailedPreconditionError`
 * when a port the driver published is missing from the container (not running yet?).
 */
export function computeEndpoints(
  ports: readonly PortConfig[],
  container: ContainerInfo,
  nodeAddress: string,
  ingress: { networkId: string; address: string } | undefined,
): TaskEndpoint[] {
  return ports.map((p, i) => {
    const protocol = protocolOf(p)
    const publishMode = modeOf(p)
    if (publishMode === 'ingress' && ingress !== undefined) {
      return { targetPort: p.targetPort, protocol, publishMode, via: 'task', address: ingress.address, port: p.targetPort, networkId: ingress.networkId }
    }
    const published = container.ports.find((q) => q.target === p.targetPort && q.protocol === protocol)
    if (published === undefined) {
      throw new FailedPreconditionError(`container ${container.id} does not publish port ${String(i)} (${String(p.targetPort)}/${protocol}): is it running, from the prepared spec?`, { reason: 'port-not-published' })
    }
    return { targetPort: p.targetPort, protocol, publishMode, via: 'node', address: nodeAddress, port: published.published }
  })
}

/**
 * The task's `status.portStatus.ports` as the agent reports it: one entry per port published on
 * the node (`via: 'node'`), `publishMode: 'host'` with the node port — the mesh reaches those at
 * `node.status.addr:publishedPort`, and any other task at its ingress address.
 */
export function toPortStatus(endpoints: readonly TaskEndpoint[]): PortConfig[] {
  const out: PortConfig[] = []
  const seen = new Set<string>()
  for (const e of endpoints) {
    if (e.via !== 'node') continue
    const key = `${e.targetPort}/${e.protocol}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ protocol: e.protocol, targetPort: e.targetPort, publishedPort: e.port, publishMode: 'host' })
  }
  return out
}

/**
 * A runtime spec with a task's network config merged in: its networks (replacing none the spec
 * had), its port mappings after the spec's own, its environment under the spec's own.
 */
export function withTaskNetwork(spec: RuntimeContainerSpec, config: TaskNetworkConfig): RuntimeContainerSpec {
  const out: RuntimeContainerSpec = { ...spec }
  if (config.networks.length > 0) out.networks = [...(spec.networks ?? []), ...config.networks]
  if (config.ports.length > 0) out.ports = [...(spec.ports ?? []), ...config.ports]
  if (Object.keys(config.env).length > 0) out.env = { ...config.env, ...(spec.env ?? {}) }
  return out
}
