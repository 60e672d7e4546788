/**
 * Store objects for the DNS tests, written the way the allocator fills them in (CIDR-style
 * addresses on task attachments and VIPs), and a wait for the resolver to catch up.
 */
import { TaskState } from '@swarmkit-ts/api'
import type { EndpointMode, PortConfig, TaskState as TaskStateT } from '@swarmkit-ts/api'
import type { MemoryStore, NewObject } from '@swarmkit-ts/store'
import type { ServiceResolver } from '../src/index.ts'

/** A network as the allocator leaves it. */
export function network(id: string, name: string, opts: { ingress?: boolean } = {}): NewObject<'network'> {
  return {
    id,
    spec: { annotations: { name }, ...(opts.ingress === true ? { ingress: true } : {}) },
    driverState: { name: 'overlay', options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' } },
  }
}

/** What a test service is attached to and how it is reached. */
export interface ServiceShape {
  readonly mode?: EndpointMode
  /** Network ids or names, with aliases. */
  readonly networks?: readonly { readonly target: string; readonly aliases?: readonly string[] }[]
  /** VIPs, CIDR-style, per network id. */
  readonly vips?: readonly { readonly networkId: string; readonly addr: string }[]
  readonly ports?: readonly PortConfig[]
}

/** A replicated service with its allocated endpoint. */
export function service(id: string, name: string, shape: ServiceShape = {}): NewObject<'service'> {
  const mode = shape.mode ?? 'vip'
  const endpointSpec = { mode, ...(shape.ports === undefined ? {} : { ports: shape.ports }) }
  return {
    id,
    spec: {
      annotations: { name },
      mode: { replicated: { replicas: 1 } },
      task: { container: { image: 'busybox' }, networks: shape.networks ?? [] },
      endpoint: endpointSpec,
    },
    endpoint: {
      spec: endpointSpec,
      ...(shape.ports === undefined ? {} : { ports: shape.ports }),
      virtualIps: shape.vips ?? [],
    },
  }
}

/** A task of `serviceName`'s service with its addresses (CIDR-style) per network id. */
export function task(
  id: string,
  serviceId: string,
  serviceName: string,
  slot: number,
  addresses: Readonly<Record<string, readonly string[]>>,
  opts: { state?: TaskStateT; desired?: TaskStateT; nodeId?: string } = {},
): NewObject<'task'> {
  return {
    id,
    serviceId,
    slot,
    nodeId: opts.nodeId ?? 'node1',
    annotations: { name: '' },
    serviceAnnotations: { name: serviceName },
    spec: { container: { image: 'busybox' } },
    status: { timestamp: 0, state: opts.state ?? TaskState.RUNNING },
    desiredState: opts.desired ?? TaskState.RUNNING,
    networks: Object.entries(addresses).map(([networkId, addrs]) => ({ networkId, addresses: addrs })),
  }
}

/**
 * Resolves once `check()` holds, looking again after each change the resolver applies; rejects
 * after `timeoutMs` (a guard against a hang, not a timing assertion).
 */
export function until(resolver: ServiceResolver, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  if (check()) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error('the resolver did not reach the expected state'))
    }, timeoutMs)
    const off = resolver.onChange(() => {
      if (!check()) return
      clearTimeout(timer)
      off()
      resolve()
    })
  })
}

/** Applies `fn` to the store and waits until the resolver has applied that transaction. */
export async function write(store: MemoryStore, resolver: ServiceResolver, fn: Parameters<MemoryStore['update']>[0]): Promise<void> {
  let seen = false
  const off = resolver.onChange(() => {
    seen = true
  })
  try {
    await store.update(fn)
    await until(resolver, () => seen)
  } finally {
    off()
  }
}
