/**
 * A whole cluster in one process, on one ManualClock and one SeededRandom: a MemoryStore; the
 * leader's loops (the `Orchestrator` with its scheduler, the `NetworkAllocator` with the ingress
 * network, the `Dispatcher`); and N workers, each an `Agent` on its own `FakeRuntime` with a
 * state directory of its own, connected to the dispatcher through a link (see `link.ts`).
 *
 * `settle()` runs everything not waiting for virtual time (promise callbacks and the agents'
 * file I/O) until nothing changes; `advance(ms)` moves virtual time timer by timer, settling after
 * each. Nodes crash (the agent process, or the whole machine with its containers) and restart
 * on the same state directory, as a restarted worker would.
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateId, silentLogger } from '@swarmkit-ts/api'
import type { Logger, Service, ServiceSpec, Task } from '@swarmkit-ts/api'
import { FakeRuntime } from '@swarmkit-ts/engine-adapter'
import type { FakeProgram } from '@swarmkit-ts/engine-adapter'
import { NetworkAllocator } from '@swarmkit-ts/network'
import type { NetworkAllocatorHandle } from '@swarmkit-ts/network'
import { Dispatcher, Orchestrator, ServiceControl } from '@swarmkit-ts/orchestrator'
import type { OrchestratorHandle } from '@swarmkit-ts/orchestrator'
import { MemoryStore } from '@swarmkit-ts/store'
import type { Frozen } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { RuntimeExecutor } from '../../src/exec/index.ts'
import { Agent, MemoryTaskDb } from '../../src/worker/index.ts'
import type { TaskDb } from '../../src/worker/index.ts'
import { AckLog } from './ack-log.ts'
import { checkCluster, isRunningTask } from './invariants.ts'
import type { ClusterSnapshot, NodeContainer } from './invariants.ts'
import { DispatcherLink } from './link.ts'
import { advanceTimerByTimer, settle } from './settle.ts'
import { SlowTaskDb } from './slow-task-db.ts'

/** The image every service of the cluster runs: its entrypoint `serve` runs until stopped. */
export const CLUSTER_IMAGE = 'busybox:fake'

/**
 * A program that runs until it is signalled (no timer fires in the meantime). A promise chain
 * rather than an async function: 100,000 of them wait at once in the benchmark, and a suspended
 * async function holds more than a pending reaction.
 */
export const serve: FakeProgram = (_argv, ctx) => {
  const loop = (): Promise<number> => ctx.process.sleep(1e12).then(() => (ctx.process.pendingSignal !== undefined ? 0 : loop()))
  return loop()
}

/** Options of {@link InProcessCluster.start}. */
export interface InProcessClusterInit {
  /** Number of worker nodes. */
  readonly nodes: number
  /** Seed of the cluster's SeededRandom. @default 1 */
  readonly seed?: number
  /** Where the nodes' state directories go (a fresh temporary folder under it). @default os.tmpdir() */
  readonly stateRoot?: string
  readonly logger?: Logger
  /**
   * Where agents keep their tasks: `file` (a `FileTaskDb` in the node's state directory, fsynced)
   * or `memory` (a `MemoryTaskDb` per node that outlives the agent, as a disk would), or in
   * memory with writes that take `slowMs` of virtual time (`SlowTaskDb`). @default 'file'
   */
  readonly taskDb?: 'file' | 'memory' | { readonly slowMs: number }
  /** Watch every task update for a status that moves backwards (see {@link InProcessCluster.backwards}). @default true */
  readonly watchStates?: boolean
}

/** One worker of the cluster. */
export interface ClusterNode {
  readonly index: number
  readonly id: string
  readonly hostname: string
  readonly stateDir: string
  /** The node's engine; it outlives the agent (a crashed agent leaves its containers running). */
  runtime: FakeRuntime
  /** The running agent; undefined while the node is crashed. */
  agent: Agent | undefined
  /** The node's link to the dispatcher, with its faults. */
  readonly link: DispatcherLink
  /** The node's task database when the cluster keeps them in memory. */
  readonly taskDb: TaskDb | undefined
}

/** A replicated service spec of {@link CLUSTER_IMAGE}, named `name`, with `env` (changing it rolls the service). */
export function clusterServiceSpec(name: string, replicas: number, env: readonly string[] = []): ServiceSpec {
  return { annotations: { name }, mode: { replicated: { replicas } }, task: { container: { image: CLUSTER_IMAGE, env: [...env] } } }
}

/** `spec` with its container's environment replaced by `env` (a task spec change: the service rolls). */
export function withEnv(spec: ServiceSpec, env: readonly string[]): ServiceSpec {
  const container = spec.task.container ?? { image: CLUSTER_IMAGE }
  return { ...spec, task: { ...spec.task, container: { ...container, env: [...env] } } }
}

/** The cluster (see the module doc). */
export class InProcessCluster {
  readonly clock = new ManualClock(1_700_000_000_000)
  readonly random: SeededRandom
  readonly store: MemoryStore
  readonly services: ServiceControl
  readonly dispatcher: Dispatcher
  readonly acks = new AckLog()
  readonly nodes: ClusterNode[] = []
  readonly logger: Logger
  readonly #root: string
  #orchestrator: OrchestratorHandle | undefined
  #allocator: NetworkAllocatorHandle | undefined
  #dispatcher: { stop(): Promise<void> } | undefined
  #names = 0
  readonly #backwards: string[] = []
  readonly #watching = new AbortController()

  private constructor(init: InProcessClusterInit, root: string) {
    this.random = new SeededRandom(init.seed ?? 1)
    this.logger = init.logger ?? silentLogger
    this.#root = root
    this.store = new MemoryStore({ clock: this.clock })
    const effects = { store: this.store, clock: this.clock, random: this.random, logger: this.logger }
    this.services = new ServiceControl(effects)
    this.dispatcher = new Dispatcher(effects)
    for (let index = 0; index < init.nodes; index++) {
      const id = generateId(this.random)
      const node: ClusterNode = {
        index,
        id,
        hostname: `node-${index}`,
        stateDir: join(root, `node-${index}`),
        runtime: this.#newRuntime(),
        agent: undefined,
        link: new DispatcherLink(this.dispatcher.api(id), this.clock, (init.seed ?? 1) * 1_000 + index),
        taskDb: this.#newTaskDb(init.taskDb ?? 'file'),
      }
      this.nodes.push(node)
    }
  }

  /** Builds the cluster, starts the leader's loops and every agent, and settles. */
  static async start(init: InProcessClusterInit): Promise<InProcessCluster> {
    const root = await mkdtemp(join(init.stateRoot ?? tmpdir(), 'swarmkit-cluster-'))
    const c = new InProcessCluster(init, root)
    await c.store.update((tx) =>
      tx.clusters.create({
        id: generateId(c.random),
        spec: { annotations: { name: 'default' } },
        rootCa: { caCert: new TextEncoder().encode('in-process root CA'), caCertHash: 'in-process', joinTokens: { worker: 'w', manager: 'm' } },
      }),
    )
    if (init.watchStates !== false) void c.#watchStates()
    c.startManager()
    for (const n of c.nodes) await c.#startAgent(n)
    await c.settle()
    return c
  }

  /** Records every task update whose observed state is lower than the one before it. */
  async #watchStates(): Promise<void> {
    try {
      for await (const ev of this.store.watch({ kinds: 'task', actions: ['update'] }, { signal: this.#watching.signal })) {
        if (ev.action !== 'update' || ev.oldObject === undefined) continue
        const from = ev.oldObject.status.state
        const to = ev.object.status.state
        if (to < from) this.#backwards.push(`task ${ev.object.id}: status moved back from ${from} to ${to}`)
      }
    } catch (err) {
      if (!this.#watching.signal.aborted) this.#backwards.push(`the task watch failed: ${String(err)}`)
    }
  }

  /** Every backward move of a task's observed state seen so far (none, in a correct cluster). */
  get backwards(): readonly string[] {
    return this.#backwards
  }

  /** Stops `node`'s agent (its slow disk finishing at once, so that stopping needs no virtual time). */
  async #stopAgent(node: ClusterNode): Promise<void> {
    const agent = node.agent
    node.agent = undefined
    if (node.taskDb instanceof SlowTaskDb) node.taskDb.fast(true)
    await agent?.stop()
    if (node.taskDb instanceof SlowTaskDb) node.taskDb.fast(false)
  }

  #newTaskDb(kind: NonNullable<InProcessClusterInit['taskDb']>): TaskDb | undefined {
    if (kind === 'file') return undefined
    if (kind === 'memory') return new MemoryTaskDb()
    return new SlowTaskDb(this.clock, kind.slowMs)
  }

  #newRuntime(): FakeRuntime {
    return new FakeRuntime({ clock: this.clock, images: { [CLUSTER_IMAGE]: { entrypoint: ['serve'], cmd: [] } }, programs: { serve } })
  }

  async #startAgent(node: ClusterNode): Promise<void> {
    const executor = new RuntimeExecutor({ runtime: node.runtime, clock: this.clock, logger: this.logger, hostname: node.hostname })
    const api = this.acks.wrap(node.id, node.link.api())
    const agent = new Agent({
      dispatcher: () => api,
      executor,
      ...(node.taskDb === undefined ? { stateDir: node.stateDir } : { taskDb: node.taskDb }),
      clock: this.clock,
      random: this.random,
      logger: this.logger,
    })
    node.agent = agent
    await agent.start()
  }

  /** Starts the leader's loops (a new leader term when they ran before). */
  startManager(): void {
    this.#allocator = new NetworkAllocator({ store: this.store, clock: this.clock, random: this.random, logger: this.logger, bootstrapIngress: true }).start()
    this.#orchestrator = new Orchestrator({ store: this.store, clock: this.clock, random: this.random, logger: this.logger, scheduler: true }).start()
    this.#dispatcher = this.dispatcher.start()
  }

  /** Stops the leader's loops (as a manager that lost leadership). */
  async stopManager(): Promise<void> {
    await this.#dispatcher?.stop()
    await this.#orchestrator?.stop()
    await this.#allocator?.stop()
    this.#dispatcher = this.#orchestrator = this.#allocator = undefined
  }

  /** What changes whenever the cluster makes progress (besides the clock). */
  #fingerprint(): string {
    let containers = 0
    for (const n of this.nodes) containers += n.runtime.size
    return `${this.store.version}|${this.acks.calls}|${containers}|${this.nodes.map((n) => n.link.traffic).join(',')}`
  }

  /** Heartbeats the nodes sent so far (answered or not). */
  heartbeats(): number {
    let n = 0
    for (const node of this.nodes) n += node.link.heartbeats
    return n
  }

  /** Runs everything not waiting for virtual time until nothing changes. */
  settle(): Promise<void> {
    return settle(this.clock, () => this.#fingerprint())
  }

  /** Moves virtual time forward by `ms`, timer by timer, settling after each. */
  advance(ms: number): Promise<void> {
    return advanceTimerByTimer(this.clock, ms, () => this.settle())
  }

  /**
   * Crashes node `i`'s agent process: it stops, and its streams end as a dead process's
   * connection would (the node is DISCONNECTED; SwarmKit leaves its tasks where they are). With
   * `machine`, the whole machine dies instead: its containers are gone for good and its
   * connection goes half-open (the dispatcher's streams stay, heartbeats stop: the node goes
   * DOWN after 3 heartbeat periods and its tasks are replaced elsewhere).
   */
  async crashNode(i: number, options: { readonly machine?: boolean } = {}): Promise<void> {
    const node = this.#node(i)
    if (options.machine === true) node.link.halfOpen(true)
    await this.#stopAgent(node)
    if (options.machine === true) {
      for (const c of await node.runtime.list()) if (c.state === 'running') await node.runtime.stop(c.id, { graceMs: 0 })
      node.runtime = this.#newRuntime()
    }
    await this.settle()
  }

  /** Restarts node `i`'s agent on its state directory and runtime (a no-op when it runs). */
  async restartNode(i: number): Promise<void> {
    const node = this.#node(i)
    if (node.agent !== undefined) return
    node.link.halfOpen(false)
    await this.#startAgent(node)
    await this.settle()
  }

  /** A service name not used before in this cluster. */
  serviceName(): string {
    return `svc-${this.#names++}`
  }

  /** Heals the cluster: every link whole again, every crashed node restarted. */
  async heal(): Promise<void> {
    for (const n of this.nodes) n.link.heal()
    for (const n of this.nodes) if (n.agent === undefined) await this.restartNode(n.index)
    await this.settle()
  }

  /** Creates a service. */
  async createService(spec: ServiceSpec): Promise<Frozen<Service>> {
    const s = await this.services.create(spec)
    await this.settle()
    return s
  }

  /** Sets service `id`'s replica count. */
  async scale(id: string, replicas: number): Promise<void> {
    const spec = structuredClone(this.#service(id).spec as ServiceSpec)
    await this.services.update(id, { ...spec, mode: { replicated: { replicas } } })
    await this.settle()
  }

  /** Changes service `id`'s task spec with `change` (a rolling update). */
  async updateService(id: string, change: (spec: ServiceSpec) => ServiceSpec): Promise<void> {
    await this.services.update(id, change(structuredClone(this.#service(id).spec as ServiceSpec)))
    await this.settle()
  }

  /** Removes service `id`. */
  async removeService(id: string): Promise<void> {
    await this.services.remove(id)
    await this.settle()
  }

  /** The tasks of `serviceId` observed RUNNING with desired state RUNNING. */
  running(serviceId: string): Frozen<Task>[] {
    return this.store.view((tx) => tx.tasks.find({ serviceId })).filter((t) => isRunningTask(t))
  }

  /** The store, the runtimes of the live nodes and the acknowledged statuses, for the invariants. */
  async snapshot(): Promise<ClusterSnapshot> {
    const containers: NodeContainer[] = []
    for (const n of this.nodes) for (const c of await n.runtime.list()) containers.push({ nodeId: n.id, container: c })
    const { services, tasks } = this.store.view((tx) => ({ services: tx.services.find(), tasks: tx.tasks.find() }))
    return { services, tasks, containers, acked: this.acks.entries() }
  }

  /**
   * Advances virtual time in steps of `stepMs` until the invariants hold and no task's state
   * ever moved backwards (returns []), or
   * `budgetMs` of virtual time passed (returns the violations of the last check).
   */
  async converge(budgetMs = 300_000, stepMs = 1_000): Promise<string[]> {
    const until = this.clock.now() + budgetMs
    for (;;) {
      const violations = [...checkCluster(await this.snapshot()), ...this.#backwards]
      if (violations.length === 0 || this.clock.now() >= until) return violations
      await this.advance(stepMs)
    }
  }

  /** Stops every agent and the leader's loops, and deletes the state directories. */
  async close(): Promise<void> {
    for (const n of this.nodes) await this.#stopAgent(n)
    await this.stopManager()
    this.#watching.abort()
    await rm(this.#root, { recursive: true, force: true })
  }

  #node(i: number): ClusterNode {
    const node = this.nodes[i]
    if (node === undefined) throw new Error(`no node ${i} (the cluster has ${this.nodes.length})`)
    return node
  }

  #service(id: string): Frozen<Service> {
    const s = this.store.view((tx) => tx.services.get(id))
    if (s === undefined) throw new Error(`no service ${id}`)
    return s
  }
}
