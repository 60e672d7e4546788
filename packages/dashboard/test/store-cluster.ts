/**
 * A cluster's store filled directly (no Raft, no orchestrator): the dashboard's source for the
 * server's unit tests and for the benchmark at 1,000 nodes / 10,000 tasks. It has the shape of a
 * simulated cluster (`store()`, `raftStatus()`, handles), so `serveDashboard` takes it as one.
 */
import { NodeAvailability, NodeRole, NodeState, NotFoundError, TaskState, cryptoRandom, generateId, systemClock, withServiceDefaults } from '@swarmkit-ts/api'
import type { Node, Service, ServiceSpec, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { MemoryStore } from '@swarmkit-ts/store'
import type { SimulatedClusterLike } from '../src/index.ts'

/** A node object (READY, ACTIVE, 4 CPUs / 8 GiB). */
export function nodeObject(hostname: string, o: { role?: Node['role']; leader?: boolean; labels?: Record<string, string> } = {}): Omit<Node, 'meta'> {
  const role = o.role ?? NodeRole.WORKER
  return {
    id: generateId(cryptoRandom),
    spec: { annotations: { name: hostname, ...(o.labels === undefined ? {} : { labels: o.labels }) }, desiredRole: role, membership: 'accepted', availability: NodeAvailability.ACTIVE },
    description: { hostname, platform: { os: 'linux', architecture: 'x86_64' }, resources: { nanoCpus: 4e9, memoryBytes: 8 * 2 ** 30 } },
    status: { state: NodeState.READY, addr: '127.0.0.1' },
    role,
    ...(role === NodeRole.MANAGER ? { managerStatus: { raftId: 1n, addr: '127.0.0.1:4242', leader: o.leader === true, reachability: 'reachable' as const } } : {}),
  }
}

/** A replicated service object. */
export function serviceObject(name: string, replicas: number, labels: Record<string, string> = {}): Omit<Service, 'meta'> {
  const spec: ServiceSpec = withServiceDefaults({
    annotations: { name, labels },
    mode: { replicated: { replicas } },
    task: { container: { image: 'busybox:fake' }, resources: { reservations: { nanoCpus: 1e8, memoryBytes: 2 ** 26 } } },
  })
  return { id: generateId(cryptoRandom), spec, specVersion: { index: 1n } }
}

/** A task of `service` in `slot` on `nodeId`, in `state`. */
export function taskObject(service: Frozen<Service> | Omit<Service, 'meta'>, slot: number, nodeId: string, state: TaskState = TaskState.RUNNING): Omit<Task, 'meta'> {
  return {
    id: generateId(cryptoRandom),
    spec: service.spec.task,
    specVersion: { index: 1n },
    serviceId: service.id,
    slot,
    nodeId,
    annotations: { name: '' },
    serviceAnnotations: { name: service.spec.annotations.name },
    status: { timestamp: systemClock.now(), state },
    desiredState: TaskState.RUNNING,
  }
}

/** A store-backed stand-in for a simulated cluster; its handles write the store directly. */
export class StoreCluster implements SimulatedClusterLike {
  #store = new MemoryStore()
  leaderRaftId = 1n
  term = 1n
  readonly calls: string[] = []

  store(): MemoryStore {
    return this.#store
  }

  /** Swaps in a new store (as a simulated cluster's new leader's). */
  replaceStore(store: MemoryStore): void {
    this.#store = store
  }

  raftStatus(): ReturnType<SimulatedClusterLike['raftStatus']> {
    const v = this.#store.version
    return { leader: this.leaderRaftId, term: this.term, commitIndex: v, appliedIndex: v, members: [1n, 2n, 3n].map((raftId) => ({ raftId, nodeId: '', up: true })) }
  }

  now(): number {
    return systemClock.now()
  }

  readonly services = {
    scale: async (id: string, replicas: number) => {
      this.calls.push(`scale ${id} ${replicas}`)
      return this.#store.update((tx) => tx.services.update(id, (d) => void (d.spec.mode = { replicated: { replicas } })))
    },
    rollback: (id: string) => {
      this.calls.push(`rollback ${id}`)
      const s = this.#store.view((tx) => tx.services.get(id))
      return s === undefined ? Promise.reject(new NotFoundError('service', id)) : Promise.resolve(s)
    },
  }

  readonly nodes = {
    setAvailability: async (id: string, availability: Node['spec']['availability']) => {
      this.calls.push(`availability ${id} ${availability}`)
      return this.#store.update((tx) => tx.nodes.update(id, (d) => void (d.spec.availability = availability)))
    },
  }
}
