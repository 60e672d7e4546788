/**
 * From the store's objects to the driver's inputs: what an agent hands its {@link NetworkDriver}
 * for an allocated `Network` and for a `Task`.
 *
 * @module
 */
import { FailedPreconditionError, type Network, type Task } from '@swarmkit-ts/api'
import { VXLAN_ID_OPTION } from '../ipam/network-allocation.ts'
import type { DriverNetwork, TaskNetworkRequest } from './network-driver.ts'

/**
 * A driver's description of an allocated cluster network: its IPv4 (and IPv6) subnet and gateway
 * from `network.ipam.configs`, `internal` and `ingress` from its spec, its VXLAN id from its
 * driver state, its labels. `FailedPreconditionError` (reason `network-not-allocated`) while the
 * allocator has not given it an IPv4 subnet and gateway.
 */
export function driverNetworkOf(network: Network): DriverNetwork {
  const configs = network.ipam?.configs ?? []
  const familyOf = (c: (typeof configs)[number]): 'ipv4' | 'ipv6' => c.family ?? (c.subnet?.includes(':') === true ? 'ipv6' : 'ipv4')
  const v4 = configs.find((c) => familyOf(c) === 'ipv4' && c.subnet !== undefined && c.gateway !== undefined)
  if (v4?.subnet === undefined || v4.gateway === undefined) {
    throw new FailedPreconditionError(`network ${network.id} has no allocated IPv4 subnet and gateway yet`, { reason: 'network-not-allocated' })
  }
  const v6 = configs.find((c) => familyOf(c) === 'ipv6' && c.subnet !== undefined && c.gateway !== undefined)
  const vxlan = network.driverState?.options?.[VXLAN_ID_OPTION]?.split(',')[0]
  const labels = network.spec.annotations.labels
  return {
    id: network.id,
    name: network.spec.annotations.name,
    subnet: v4.subnet,
    gateway: v4.gateway,
    ...(v6?.subnet !== undefined && v6.gateway !== undefined ? { ipv6: { subnet: v6.subnet, gateway: v6.gateway } } : {}),
    ...(network.spec.internal === true ? { internal: true } : {}),
    ...(network.spec.ingress === true ? { ingress: true } : {}),
    ...(vxlan !== undefined && /^\d+$/.test(vxlan) ? { vxlanId: Number(vxlan) } : {}),
    ...(labels !== undefined && Object.keys(labels).length > 0 ? { labels } : {}),
  }
}

/** A task's request to its driver: its attachments (`task.networks`) and its endpoint's ports (`task.endpoint.ports`). */
export function taskNetworkRequestOf(task: Task): TaskNetworkRequest {
  return { taskId: task.id, attachments: task.networks ?? [], ports: task.endpoint?.ports ?? [] }
}
