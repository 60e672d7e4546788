/**
 * The setting of the allocator's tests: a {@link NetworkAllocator} on a MemoryStore with a
 * ManualClock and a SeededRandom; networks, services and tasks written directly to the store.
 */
import { TaskState } from '@swarmkit-ts/api'
import type { EndpointMode, Network, NetworkAttachmentConfig, PortConfig, Service, ServiceSpec, Task } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import type { Draft, Frozen, MemoryStoreInit } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { NetworkAllocator } from '../../src/allocator/network-allocator.ts'
import type { NetworkAllocatorHandle, NetworkAllocatorInit } from '../../src/allocator/network-allocator.ts'


/** A store id (25 characters of base36) for a short test name. */
export function fid(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '').padStart(25, '0')
}

/** Lets every pending callback and I/O callback run once. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Options of {@link AllocatorFixture.addService}. */
export interface ServiceOptions {
  /** Network targets (names or ids) in `task.networks`. */
  readonly networks?: readonly (string | NetworkAttachmentConfig)[]
  /** Targets in the deprecated service-level `networks`. */
  readonly legacyNetworks?: readonly string[]
  readonly ports?: readonly PortConfig[]
  readonly mode?: EndpointMode
}

/** The spec of a test service. */
export function serviceSpec(name: string, opts: ServiceOptions = {}): ServiceSpec {
  const networks = (opts.networks ?? []).map((n) => (typeof n === 'string' ? { target: n } : n))
  return {
    annotations: { name },
    task: { container: { image: 'busybox' }, ...(networks.length > 0 && { networks }) },
    mode: { replicated: { replicas: 1 } },
    ...(opts.legacyNetworks !== undefined && { networks: opts.legacyNetworks.map((target) => ({ target })) }),
    ...((opts.ports !== undefined || opts.mode !== undefined) && {
      endpoint: { ...(opts.mode !== undefined && { mode: opts.mode }), ...(opts.ports !== undefined && { ports: opts.ports }) },
    }),
  }
}

/** A NetworkAllocator on a store with a ManualClock. */
export class AllocatorFixture {
  readonly clock = new ManualClock(1_700_000_000_000)
  readonly random = new SeededRandom(7)
  readonly store: MemoryStore
  allocator: NetworkAllocator
  handle: NetworkAllocatorHandle | undefined
  #tasks = 0

  /** `proposer`: the store's (default: applied on the next microtask). */
  constructor(init: Partial<Pick<NetworkAllocatorInit, 'bootstrapIngress'>> & { readonly proposer?: MemoryStoreInit['proposer'] } = {}) {
    this.store = new MemoryStore({ clock: this.clock, ...(init.proposer !== undefined && { proposer: init.proposer }) })
    this.allocator = this.newAllocator(init.bootstrapIngress === undefined ? {} : { bootstrapIngress: init.bootstrapIngress })
  }

  /** Another allocator on the same store (a new leader). */
  newAllocator(init: Partial<Pick<NetworkAllocatorInit, 'bootstrapIngress'>> = {}): NetworkAllocator {
    return new NetworkAllocator({ store: this.store, clock: this.clock, random: this.random, ...init })
  }

  /** Starts the allocator. */
  start(): void {
    this.handle = this.allocator.start()
  }

  /** Stops it. */
  async stop(): Promise<void> {
    await this.handle?.stop()
    this.handle = undefined
  }

  /** Runs until the store's version stays put for three rounds. */
  async settle(limit = 10_000): Promise<void> {
    let quiet = 0
    for (let i = 0; quiet < 3; i++) {
      if (i >= limit) throw new Error(`settle: still changing after ${limit} rounds`)
      const before = this.store.version
      await flush()
      quiet = this.store.version === before ? quiet + 1 : 0
    }
  }

  /** Writes a network (without IPAM unless `subnet` is given: the allocator allocates it). */
  async addNetwork(name: string, opts: { subnet?: string; gateway?: string; ingress?: boolean; ipv6?: string } = {}): Promise<string> {
    const id = fid(`net${name}`)
    const configs = [
      ...(opts.subnet !== undefined ? [{ family: 'ipv4' as const, subnet: opts.subnet, gateway: opts.gateway ?? opts.subnet.replace(/\.0\/\d+$/, '.1') }] : []),
      ...(opts.ipv6 !== undefined ? [{ family: 'ipv6' as const, subnet: opts.ipv6, gateway: opts.ipv6.replace(/::\/\d+$/, '::1') }] : []),
    ]
    await this.store.update((tx) =>
      tx.networks.create({
        id,
        spec: { annotations: { name }, ...(opts.ingress === true && { ingress: true }), ...(opts.ipv6 !== undefined && { ipv6Enabled: true }) },
        ...(configs.length > 0 && { ipam: { driver: { name: 'default' }, configs } }),
      }),
    )
    return id
  }

  /** Writes a service; resolves with its id. */
  async addService(name: string, opts: ServiceOptions = {}): Promise<string> {
    const id = fid(`svc${name}`)
    await this.store.update((tx) => tx.services.create({ id, spec: serviceSpec(name, opts) }))
    return id
  }

  /** Replaces a service's spec. */
  async updateService(name: string, opts: ServiceOptions): Promise<void> {
    const spec = serviceSpec(name, opts)
    await this.store.update((tx) => tx.services.update(fid(`svc${name}`), (d) => void (d.spec = spec as Draft<ServiceSpec>)))
  }

  /** Deletes a service. */
  async removeService(name: string): Promise<void> {
    await this.store.update((tx) => tx.services.delete(fid(`svc${name}`)))
  }

  /** Writes `n` NEW tasks of service `name` (task spec copied from the service); resolves with their ids. */
  async addTasks(name: string, n: number, opts: { desiredState?: TaskState } = {}): Promise<string[]> {
    const serviceId = fid(`svc${name}`)
    const ids: string[] = []
    await this.store.update((tx) => {
      const s = tx.services.get(serviceId)
      if (s === undefined) throw new Error(`no service ${name}`)
      for (let i = 0; i < n; i++) {
        const id = fid(`task${++this.#tasks}`)
        ids.push(id)
        tx.tasks.create(newTask(id, s, this.#tasks, this.clock.now(), opts.desiredState))
      }
    })
    return ids
  }

  /** Applies `recipe` to task `id`. */
  async updateTask(id: string, recipe: (d: Draft<Task>) => void): Promise<void> {
    await this.store.update((tx) => tx.tasks.update(id, recipe))
  }

  task(id: string): Frozen<Task> {
    const t = this.store.view((tx) => tx.tasks.get(id))
    if (t === undefined) throw new Error(`no task ${id}`)
    return t
  }

  tasks(): Frozen<Task>[] {
    return this.store.view((tx) => tx.tasks.find()).sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  service(name: string): Frozen<Service> {
    const s = this.store.view((tx) => tx.services.get(fid(`svc${name}`)))
    if (s === undefined) throw new Error(`no service ${name}`)
    return s
  }

  network(name: string): Frozen<Network> {
    const n = this.store.view((tx) => tx.networks.find({ name })[0])
    if (n === undefined) throw new Error(`no network ${name}`)
    return n
  }
}

/** A NEW task of service `s`. */
export function newTask(id: string, s: Frozen<Service>, slot: number, now: number, desiredState: TaskState = TaskState.RUNNING): Omit<Task, 'meta'> {
  return {
    id,
    spec: s.spec.task,
    serviceId: s.id,
    slot,
    nodeId: '',
    annotations: { name: `${s.spec.annotations.name}.${slot}` },
    serviceAnnotations: { name: s.spec.annotations.name },
    status: { timestamp: now, state: TaskState.NEW },
    desiredState,
  }
}
