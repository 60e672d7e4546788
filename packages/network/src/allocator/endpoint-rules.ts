/**
 * The endpoint rules a service must satisfy before anything is allocated for it (SwarmKit's
 * controlapi validateEndpointSpec, checkPortConflicts and the ingress checks, inventory §1.3):
 * shared by {@link checkServiceEndpoint} (the control API, before a write) and the allocator
 * (which meets services written any other way). Pure functions.
 *
 * @module
 */
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@swarmkit-ts/api'
import type { EndpointSpec, Network, NetworkAttachmentConfig, PortProtocol, TaskSpec } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { normalizePort, portLabel } from './ports.ts'

/** Finds a network by id or name; undefined when there is none. */
export type NetworkLookup = (target: string) => Frozen<Network> | undefined

/** The network attachments a service's tasks ask for, and the spec field they come from. */
export interface AttachmentList {
  readonly configs: readonly Frozen<NetworkAttachmentConfig>[]
  /** `task.networks`, or the deprecated `networks` when only that one is set. */
  readonly field: 'task.networks' | 'networks'
}

/**
 * The attachments of a service (or of a task, whose spec is a copy of the service's template):
 * `task.networks`, or the deprecated service-level `networks` when the first is empty.
 */
export function attachmentsOf(task: Frozen<TaskSpec>, legacy?: readonly Frozen<NetworkAttachmentConfig>[]): AttachmentList {
  const own = task.networks ?? []
  if (own.length > 0 || legacy === undefined || legacy.length === 0) return { configs: own, field: 'task.networks' }
  return { configs: legacy, field: 'networks' }
}

/** Whether a service's endpoint publishes a port through the routing mesh (so needs the ingress network). */
export function needsIngress(endpoint: Frozen<EndpointSpec> | undefined): boolean {
  return (endpoint?.ports ?? []).some((p) => (p.publishMode ?? 'ingress') === 'ingress')
}

/** The text of a port conflict: `port 8080/tcp is already in use by service 'web'`. */
export function portInUseMessage(port: number, protocol: PortProtocol, serviceName: string): string {
  return `port ${portLabel(port, protocol)} is already in use by service '${serviceName}'`
}

/**
 * The rules of the endpoint spec alone (as the api's `validateServiceSpec` states them): DNSRR
 * with an ingress-mode port, and a duplicate (published port, protocol), are refused with an
 * `InvalidArgumentError` naming the field.
 */
export function checkEndpointSpec(endpoint: Frozen<EndpointSpec> | undefined): void {
  if (endpoint === undefined) return
  const ports = (endpoint.ports ?? []).map(normalizePort)
  if ((endpoint.mode ?? 'vip') === 'dnsrr' && ports.some((p) => p.publishMode === 'ingress')) {
    throw new InvalidArgumentError('endpoint.mode', 'ports published in ingress mode cannot be used with dnsrr mode')
  }
  const seen = new Set<string>()
  for (const [i, p] of ports.entries()) {
    if (p.publishedPort === 0) continue
    const key = portLabel(p.publishedPort, p.protocol)
    if (seen.has(key)) throw new InvalidArgumentError(`endpoint.ports[${i}].publishedPort`, `duplicate published port ${key}`)
    seen.add(key)
  }
}

/**
 * The networks `list` attaches to, in order, each once: an unknown target is a
 * `NotFoundError('network', target)`, an explicit attachment to the ingress network an
 * `InvalidArgumentError` on `<field>[i].target` (SwarmKit: services reach ingress only through
 * published ports).
 */
export function resolveAttachments(list: AttachmentList, lookup: NetworkLookup): Frozen<Network>[] {
  const out: Frozen<Network>[] = []
  const seen = new Set<string>()
  for (const [i, a] of list.configs.entries()) {
    const n = lookup(a.target)
    if (n === undefined) throw new NotFoundError('network', a.target, { message: `network ${a.target} not found` })
    if (n.spec.ingress === true) {
      throw new InvalidArgumentError(`${list.field}[${i}].target`, `service cannot be explicitly attached to the ingress network "${n.spec.annotations.name}"`)
    }
    if (seen.has(n.id)) continue
    seen.add(n.id)
    out.push(n)
  }
  return out
}

/** The `FailedPreconditionError` of a service that publishes through the mesh in a cluster without an ingress network. */
export function noIngressNetworkError(): FailedPreconditionError {
  return new FailedPreconditionError('service needs the ingress network, but no ingress network is present', { reason: 'no-ingress-network' })
}
