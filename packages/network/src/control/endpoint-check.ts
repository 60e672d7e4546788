/**
 * What a control API checks before it writes a service: the endpoint rules of SwarmKit's
 * controlapi (inventory §1.3), on the transaction it writes in, so two concurrent creates
 * cannot both take one port. The allocator applies the same rules to services written any
 * other way.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { Network, PortConfig, ServiceSpec } from '@swarmkit-ts/api'
import type { Frozen, ReadTx } from '@swarmkit-ts/store'
import {
  attachmentsOf,
  checkEndpointSpec,
  needsIngress,
  noIngressNetworkError,
  portInUseMessage,
  resolveAttachments,
} from '../allocator/endpoint-rules.ts'
import { normalizePort } from '../allocator/ports.ts'

/** The network `target` names (an id, else a name) in `tx`. */
export function findNetwork(tx: ReadTx, target: string): Frozen<Network> | undefined {
  return tx.networks.get(target) ?? tx.networks.find({ name: target })[0]
}

/** The cluster's ingress network in `tx`, if any. */
export function findIngressNetwork(tx: ReadTx): Frozen<Network> | undefined {
  return tx.networks.find().find((n) => n.spec.ingress === true)
}

/**
 * Checks a service spec's endpoint and networks against the cluster in `tx`, for a create
 * (`serviceId` absent) or an update of service `serviceId`, in this order:
 * 1. DNSRR with an ingress-mode port, a duplicate (published port, protocol) →
 *    `InvalidArgumentError` (`endpoint.mode`, `endpoint.ports[i].publishedPort`);
 * 2. every network target exists (`NotFoundError` kind `network`) and none is the ingress
 *    network (`InvalidArgumentError` on `task.networks[i].target`);
 * 3. no published port conflicts with another service's (an ingress port with any of its
 *    ports, a host-mode port with its ingress ports; both its spec's and its allocated ones) →
 *    `InvalidArgumentError` on `endpoint.ports[i].publishedPort`, "port 8080/tcp is already in
 *    use by service 'web'";
 * 4. a service publishing through the mesh needs the ingress network →
 *    `FailedPreconditionError` reason `no-ingress-network`.
 */
export function checkServiceEndpoint(tx: ReadTx, spec: Frozen<ServiceSpec>, serviceId?: string): void {
  checkEndpointSpec(spec.endpoint)
  resolveAttachments(attachmentsOf(spec.task, spec.networks), (target) => findNetwork(tx, target))
  const wanted = (spec.endpoint?.ports ?? []).map(normalizePort)
  if (wanted.some((p) => p.publishedPort !== 0)) {
    const others = tx.services.find().filter((s) => s.id !== serviceId)
    for (const [i, p] of wanted.entries()) {
      if (p.publishedPort === 0) continue
      for (const other of others) {
        const theirs: readonly Frozen<PortConfig>[] = [...(other.spec.endpoint?.ports ?? []), ...(other.endpoint?.ports ?? [])]
        const clash = theirs.some((raw) => {
          const q = normalizePort(raw)
          return q.publishedPort === p.publishedPort && q.protocol === p.protocol && (q.publishMode === 'ingress' || p.publishMode === 'ingress')
        })
        if (clash) {
          throw new InvalidArgumentError(`endpoint.ports[${i}].publishedPort`, portInUseMessage(p.publishedPort, p.protocol, other.spec.annotations.name))
        }
      }
    }
  }
  if (needsIngress(spec.endpoint) && findIngressNetwork(tx) === undefined) throw noIngressNetworkError()
}
