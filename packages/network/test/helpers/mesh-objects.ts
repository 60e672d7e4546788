/** Store objects for the routing mesh tests: services with published ports, tasks, nodes, networks. */
import { NodeAvailability, NodeRole, NodeState, TaskState } from '@swarmkit-ts/api'
import type { NetworkAttachment, PortConfig } from '@swarmkit-ts/api'
import type { NewObject } from '@swarmkit-ts/store'

/** A 25-character id from a short name (ids in the store are 25-character base36 strings). */
export function id(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, 'x').padEnd(25, '0').slice(0, 25)
}

/** A replicated service publishing `ports` in its spec; with `allocated`, `endpoint.ports` too. */
export function serviceObj(name: string, ports: readonly PortConfig[], allocated?: readonly PortConfig[]): NewObject<'service'> {
  return {
    id: id(name),
    spec: { annotations: { name }, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'busybox' } }, endpoint: { ports } },
    ...(allocated === undefined ? {} : { endpoint: { spec: { ports }, ports: allocated } }),
  }
}

/** Options of {@link taskObj}. */
export interface TaskOpts {
  readonly state?: TaskState
  readonly desiredState?: TaskState
  readonly nodeId?: string
  readonly ports?: readonly PortConfig[]
  readonly networks?: readonly NetworkAttachment[]
  readonly slot?: number
}

/** A task of `serviceName`'s service, RUNNING by default, on `node-a`. */
export function taskObj(name: string, serviceName: string, o: TaskOpts = {}): NewObject<'task'> {
  return {
    id: id(name),
    spec: { container: { image: 'busybox' } },
    serviceId: id(serviceName),
    slot: o.slot ?? 1,
    nodeId: o.nodeId ?? id('node-a'),
    annotations: { name: `${serviceName}.${o.slot ?? 1}` },
    serviceAnnotations: { name: serviceName },
    status: { timestamp: 0, state: o.state ?? TaskState.RUNNING, ...(o.ports === undefined ? {} : { portStatus: { ports: o.ports } }) },
    desiredState: o.desiredState ?? TaskState.RUNNING,
    ...(o.networks === undefined ? {} : { networks: o.networks }),
  }
}

/** A READY worker node at `addr`. */
export function nodeObj(name: string, addr: string | undefined): NewObject<'node'> {
  return {
    id: id(name),
    spec: { annotations: { name }, desiredRole: NodeRole.WORKER, membership: 'accepted', availability: NodeAvailability.ACTIVE },
    status: { state: NodeState.READY, ...(addr === undefined ? {} : { addr }) },
    role: NodeRole.WORKER,
  }
}

/** A network; `ingress` marks the ingress network. */
export function networkObj(name: string, ingress = false): NewObject<'network'> {
  return { id: id(name), spec: { annotations: { name }, ...(ingress ? { ingress: true } : {}) } }
}

/** The portStatus entry the agent reports for a port the runtime published on the node. */
export function hostPort(targetPort: number, publishedPort: number, protocol: 'tcp' | 'udp' = 'tcp'): PortConfig {
  return { protocol, targetPort, publishedPort, publishMode: 'host' }
}
