/**
 * The leader's whole pipeline on one store: the orchestrator creates tasks (NEW), the network
 * allocator gives them addresses, VIPs and published ports (PENDING), the scheduler places them
 * (ASSIGNED), and the resolver answers for them once they run. Deterministic: ManualClock,
 * SeededRandom; the agents' part (ASSIGNED → RUNNING, SHUTDOWN) is played by the test.
 */
import { NodeAvailability, NodeRole, NodeState, TaskState, generateId, silentLogger, withServiceDefaults } from '@swarmkit-ts/api'
import type { ServiceSpec, Task } from '@swarmkit-ts/api'
import { Orchestrator, ServiceControl } from '@swarmkit-ts/orchestrator'
import type { OrchestratorHandle } from '@swarmkit-ts/orchestrator'
import { MemoryStore } from '@swarmkit-ts/store'
import type { Frozen } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NetworkAllocator, NetworkControl, ServiceResolver } from '../src/index.ts'
import type { NetworkAllocatorHandle } from '../src/index.ts'

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

class Pipeline {
  readonly clock = new ManualClock(1_700_000_000_000)
  readonly random = new SeededRandom(16)
  readonly store = new MemoryStore({ clock: this.clock })
  readonly effects = { store: this.store, clock: this.clock, random: this.random, logger: silentLogger }
  readonly services = new ServiceControl(this.effects)
  readonly networks = new NetworkControl(this.effects)
  readonly resolver = new ServiceResolver({ store: this.store })
  orchestrator: OrchestratorHandle | undefined
  readonly allocation = new NetworkAllocator({ ...this.effects, bootstrapIngress: true })
  allocator: NetworkAllocatorHandle | undefined

  async start(): Promise<void> {
    for (const name of ['node-1', 'node-2', 'node-3']) {
      await this.store.update((tx) =>
        tx.nodes.create({
          id: generateId(this.random),
          spec: { annotations: { name }, desiredRole: NodeRole.WORKER, membership: 'accepted', availability: NodeAvailability.ACTIVE },
          description: { hostname: name, platform: { os: 'linux', architecture: 'x86_64' } },
          status: { state: NodeState.READY, addr: '127.0.0.1' },
          role: NodeRole.WORKER,
        }),
      )
    }
    this.allocator = this.allocation.start()
    this.orchestrator = new Orchestrator({ ...this.effects, scheduler: true }).start()
    this.resolver.start()
    await this.settle()
  }

  async stop(): Promise<void> {
    await this.orchestrator?.stop()
    await this.allocator?.stop()
    await this.resolver.stop()
  }

  /** Runs every loop until the store stops changing, moving the clock timer by timer (the scheduler batches for 50 ms). */
  async settle(): Promise<void> {
    let quiet = 0
    for (let i = 0; quiet < 3; i++) {
      if (i > 5_000) throw new Error('the pipeline never settled')
      const before = this.store.version
      const due = this.clock.nextDueAt()
      if (due !== undefined && due <= this.clock.now() + 1_000) this.clock.advance(Math.max(0, due - this.clock.now()))
      await flush()
      quiet = this.store.version === before ? quiet + 1 : 0
    }
  }

  tasks(serviceId: string): Frozen<Task>[] {
    return this.store.view((tx) => tx.tasks.find({ serviceId })).filter((t) => t.desiredState <= TaskState.RUNNING)
  }

  /** The agents' part: every assigned task of the service runs. */
  async run(serviceId: string): Promise<void> {
    await this.store.update((tx) => {
      for (const t of tx.tasks.find({ serviceId }))
        if (t.status.state === TaskState.ASSIGNED && t.desiredState === TaskState.RUNNING)
          tx.tasks.update(t.id, (d) => void (d.status = { timestamp: this.clock.now(), state: TaskState.RUNNING }))
    })
    await this.settle()
  }

  /** The agents' part: tasks asked to stop stop. */
  async shutDown(serviceId: string): Promise<void> {
    await this.store.update((tx) => {
      for (const t of tx.tasks.find({ serviceId }))
        if (t.desiredState > TaskState.RUNNING && t.status.state <= TaskState.RUNNING)
          tx.tasks.update(t.id, (d) => void (d.status = { timestamp: this.clock.now(), state: TaskState.SHUTDOWN }))
    })
    await this.settle()
  }
}

const web = (replicas: number, ports: ServiceSpec['endpoint'] = { ports: [{ targetPort: 80 }] }): ServiceSpec =>
  withServiceDefaults({
    annotations: { name: 'web' },
    mode: { replicated: { replicas } },
    task: { container: { image: 'busybox' }, networks: [{ target: 'front' }] },
    ...(ports === undefined ? {} : { endpoint: ports }),
  })

const bare = (address: string): string => address.slice(0, address.indexOf('/'))

describe('the leader pipeline: orchestrator → network allocator → scheduler → resolver', () => {
  let p: Pipeline
  beforeEach(async () => {
    p = new Pipeline()
    await p.start()
  })
  afterEach(async () => {
    await p.stop()
  })

  it('bootstraps the ingress network; a service gets a dynamic port, a VIP per network, and its tasks addresses before they are placed', async () => {
    const ingress = p.store.view((tx) => tx.networks.find()).find((n) => n.spec.ingress === true)
    expect(ingress?.spec.annotations.name).toBe('ingress')
    expect(ingress?.ipam?.configs?.[0]?.subnet).toBe('10.0.0.0/24')
    const front = await p.networks.create({ annotations: { name: 'front' } })
    expect(front.ipam?.configs?.[0]?.subnet).toBe('10.0.1.0/24')

    const svc = await p.services.create(web(3))
    await p.settle()
    const service = p.store.view((tx) => tx.services.get(svc.id))
    expect(service?.endpoint?.ports).toEqual([{ protocol: 'tcp', targetPort: 80, publishedPort: 30000, publishMode: 'ingress' }])
    expect(service?.endpoint?.virtualIps?.map((v) => [v.networkId, v.addr])).toEqual([
      [ingress?.id, '10.0.0.2/24'],
      [front.id, '10.0.1.2/24'],
    ])
    const tasks = p.tasks(svc.id)
    expect(tasks.map((t) => t.status.state)).toEqual([TaskState.ASSIGNED, TaskState.ASSIGNED, TaskState.ASSIGNED])
    expect(tasks.every((t) => t.nodeId !== '')).toBe(true)
    // Ingress first, then the service's own network; every address distinct.
    expect(tasks.map((t) => t.networks?.map((n) => n.networkId))).toEqual([
      [ingress?.id, front.id],
      [ingress?.id, front.id],
      [ingress?.id, front.id],
    ])
    const addresses = tasks.flatMap((t) => t.networks?.flatMap((n) => n.addresses ?? []) ?? []).sort()
    expect(addresses).toEqual(['10.0.0.3/24', '10.0.0.4/24', '10.0.0.5/24', '10.0.1.3/24', '10.0.1.4/24', '10.0.1.5/24'])
    expect(tasks.every((t) => t.endpoint?.ports?.[0]?.publishedPort === 30000)).toBe(true)
  })

  it('the resolver answers the VIP at once and the task addresses once they run; scaling is followed', async () => {
    await p.networks.create({ annotations: { name: 'front' } })
    const svc = await p.services.create(web(2))
    await p.settle()
    expect(p.resolver.lookup('web', 'A', ['front']).answers.map((r) => (r.type === 'A' ? r.address : ''))).toEqual(['10.0.1.2'])
    expect(p.resolver.lookup('tasks.web', 'A', ['front'])).toEqual({ found: true, answers: [], additionals: [] })
    await p.run(svc.id)
    const taskAddresses = (): string[] => p.resolver.lookup('tasks.web', 'A', ['front']).answers.map((r) => (r.type === 'A' ? r.address : '')).sort()
    expect(taskAddresses()).toEqual(['10.0.1.3', '10.0.1.4'])

    await p.services.update(svc.id, web(4))
    await p.settle()
    await p.run(svc.id)
    expect(taskAddresses()).toEqual(['10.0.1.3', '10.0.1.4', '10.0.1.5', '10.0.1.6'])
    const running = p.tasks(svc.id).filter((t) => t.status.state === TaskState.RUNNING)
    expect(running.map((t) => bare(t.networks?.[1]?.addresses?.[0] ?? '')).sort()).toEqual(taskAddresses())
  })

  it('a removed service frees its published port for the next one, and its tasks give their addresses back', async () => {
    await p.networks.create({ annotations: { name: 'front' } })
    const first = await p.services.create(web(2, { ports: [{ targetPort: 80, publishedPort: 8080 }] }))
    await p.settle()
    await p.run(first.id)
    const other = await p.services.create({ ...web(1, { ports: [{ targetPort: 80, publishedPort: 8080 }] }), annotations: { name: 'other' } })
    await p.settle()
    // The port is taken: the second service's task waits in NEW, saying why.
    expect(p.tasks(other.id).map((t) => [t.status.state, t.status.err])).toEqual([[TaskState.NEW, "port 8080/tcp is already in use by service 'web'"]])

    await p.services.remove(first.id)
    await p.settle()
    await p.shutDown(first.id)
    const after = p.tasks(other.id)
    expect(after.map((t) => t.status.state)).toEqual([TaskState.ASSIGNED])
    expect(p.store.view((tx) => tx.services.get(other.id))?.endpoint?.ports?.[0]?.publishedPort).toBe(8080)
    // Serial allocation moves on (VIP .5, task .6) and the first service's VIP and task addresses
    // (.2, .3, .4) are free again, on both networks.
    expect(after[0]?.networks?.[1]?.addresses).toEqual(['10.0.1.6/24'])
    const used = p.allocation.snapshot()?.ipam.networks.map((n) => n.pools.map((pool) => pool.used))
    expect(used).toEqual([[['10.0.0.5', '10.0.0.6']], [['10.0.1.5', '10.0.1.6']]])
  })
})
