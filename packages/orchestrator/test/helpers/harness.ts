/**
 * One orchestrator on a store with a ManualClock, a SeededRandom and the {@link TaskDriver}:
 * the setting of every behaviour test in this package. `settle()` runs everything that is not
 * waiting for time until nothing changes; `advance(ms)` moves virtual time timer by timer,
 * settling after each.
 */
import { NodeAvailability, NodeRole, NodeState, TaskState, generateId, isTerminal, silentLogger } from '@swarmkit-ts/api'
import type { Logger, Node, NodeDescription, Service, ServiceSpec, Task } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import type { Draft, Frozen } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { Orchestrator, ServiceControl } from '../../src/index.ts'
import type { OrchestratorHandle } from '../../src/index.ts'
import { TaskDriver } from './task-driver.ts'

/** Options of {@link Harness}. */
export interface HarnessInit {
  readonly seed?: number
  /** Start the orchestrator at once (default true). */
  readonly start?: boolean
  /** The cluster's task history retention limit; without it no cluster object is created. */
  readonly retention?: number
  readonly logger?: Logger
  /** Run the real `Scheduler` with the orchestrator instead of the driver's placement. */
  readonly scheduler?: boolean
}

/** Options of {@link Harness.addNode}. */
export interface NodeOptions {
  readonly availability?: Node['spec']['availability']
  readonly state?: Node['status']['state']
  readonly role?: Node['role']
  readonly labels?: Record<string, string>
  readonly resources?: NodeDescription['resources']
  readonly id?: string
}

/** Waits for every pending microtask and I/O callback. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Runs what is not waiting for time until the store's version stays put for three rounds: each
 * round fires the timers due now (when `clock` is given), lets callbacks run, and takes one
 * `step` (a test driver's). Throws after `limit` rounds.
 */
export async function settleStore(
  store: MemoryStore,
  options: { readonly limit?: number; readonly step?: () => Promise<unknown>; readonly clock?: ManualClock } = {},
): Promise<void> {
  const limit = options.limit ?? 10_000
  let quiet = 0
  for (let i = 0; quiet < 3; i++) {
    if (i >= limit) throw new Error(`settle: still changing after ${limit} rounds`)
    const before = store.version
    options.clock?.advance(0)
    await flush()
    if (options.step !== undefined) {
      await options.step()
      await flush()
    }
    quiet = store.version === before ? quiet + 1 : 0
  }
}

/** Moves `clock` forward by `ms`, timer by timer, running `settle` after each. */
export async function advanceTimerByTimer(clock: ManualClock, ms: number, settle: () => Promise<void>): Promise<void> {
  const target = clock.now() + ms
  await settle()
  for (;;) {
    const due = clock.nextDueAt()
    if (due === undefined || due > target) break
    clock.advance(Math.max(0, due - clock.now()))
    await settle()
  }
  clock.advance(target - clock.now())
  await settle()
}

/** The behaviour-test setting (see the module doc). */
export class Harness {
  readonly clock = new ManualClock(1_700_000_000_000)
  readonly random: SeededRandom
  readonly store: MemoryStore
  readonly driver: TaskDriver
  readonly control: ServiceControl
  readonly logger: Logger
  #orchestrator: Orchestrator
  #handle: OrchestratorHandle | undefined
  readonly #scheduler: boolean

  constructor(init: HarnessInit = {}) {
    this.random = new SeededRandom(init.seed ?? 1)
    this.#scheduler = init.scheduler === true
    this.logger = init.logger ?? silentLogger
    this.store = new MemoryStore({ clock: this.clock })
    this.driver = new TaskDriver({ store: this.store, clock: this.clock })
    this.driver.schedules = !this.#scheduler
    this.control = new ServiceControl({ store: this.store, clock: this.clock, random: this.random })
    this.#orchestrator = this.#newOrchestrator()
    if (init.retention !== undefined) {
      const retention = init.retention
      void this.store.update((tx) =>
        tx.clusters.create({
          id: generateId(this.random),
          spec: { annotations: { name: 'default' }, orchestration: { taskHistoryRetentionLimit: retention } },
          rootCa: { caCert: new Uint8Array([1]), caCertHash: 'x', joinTokens: { worker: 'w', manager: 'm' } },
        }),
      )
    }
    if (init.start !== false) this.start()
  }

  #newOrchestrator(): Orchestrator {
    return new Orchestrator({ store: this.store, clock: this.clock, random: this.random, logger: this.logger, scheduler: this.#scheduler })
  }

  /** Starts the orchestrator. */
  start(): void {
    this.#handle = this.#orchestrator.start()
  }

  /** Whether the orchestrator is running. */
  get started(): boolean {
    return this.#handle !== undefined
  }

  /** Stops the orchestrator (as a leader that lost leadership). */
  async stop(): Promise<void> {
    await this.#handle?.stop()
    this.#handle = undefined
  }

  /** A leader change: stops this orchestrator and starts a new one on the same store. */
  async leaderChange(): Promise<void> {
    await this.stop()
    this.#orchestrator = this.#newOrchestrator()
    this.start()
  }

  /** Runs everything not waiting for time (orchestrator loops and driver steps) until nothing changes. */
  settle(limit = 10_000): Promise<void> {
    // Timers due now (a 0 ms delay or monitor) fire, as they would at once in real time.
    return settleStore(this.store, { limit, step: () => this.driver.step(), clock: this.clock })
  }

  /** Moves virtual time forward by `ms`, timer by timer, settling after each. */
  advance(ms: number): Promise<void> {
    return advanceTimerByTimer(this.clock, ms, () => this.settle())
  }

  /** Adds a node (READY, ACTIVE worker by default) named `hostname`; resolves with its id. */
  async addNode(hostname: string, opts: NodeOptions = {}): Promise<string> {
    const id = opts.id ?? generateId(this.random)
    await this.store.update((tx) =>
      tx.nodes.create({
        id,
        spec: {
          annotations: { name: hostname, ...(opts.labels === undefined ? {} : { labels: opts.labels }) },
          desiredRole: opts.role ?? NodeRole.WORKER,
          membership: 'accepted',
          availability: opts.availability ?? NodeAvailability.ACTIVE,
        },
        description: {
          hostname,
          platform: { os: 'linux', architecture: 'x86_64' },
          ...(opts.resources === undefined ? {} : { resources: opts.resources }),
        },
        status: { state: opts.state ?? NodeState.READY },
        role: opts.role ?? NodeRole.WORKER,
      }),
    )
    return id
  }

  /** Applies `recipe` to node `id`. */
  async updateNode(id: string, recipe: (draft: Draft<Node>) => void): Promise<void> {
    await this.store.update((tx) => tx.nodes.update(id, recipe))
  }

  /** Sets node `id`'s availability. */
  async setAvailability(id: string, availability: Node['spec']['availability']): Promise<void> {
    await this.updateNode(id, (n) => {
      n.spec.availability = availability
    })
  }

  /** Sets node `id`'s observed state. */
  async setNodeState(id: string, state: Node['status']['state']): Promise<void> {
    await this.updateNode(id, (n) => {
      n.status.state = state
    })
  }

  /** Deletes node `id`. */
  async removeNode(id: string): Promise<void> {
    await this.store.update((tx) => tx.nodes.delete(id))
  }

  /** Creates a service through {@link ServiceControl}. */
  createService(spec: ServiceSpec): Promise<Frozen<Service>> {
    return this.control.create(spec)
  }

  /** Updates service `id`'s spec with `change` (applied to a copy of the current spec). */
  updateService(id: string, change: (spec: ServiceSpec) => ServiceSpec): Promise<Frozen<Service>> {
    const cur = this.service(id)
    return this.control.update(id, change(structuredClone(cur.spec as ServiceSpec)))
  }

  /** Service `id` (throws when missing). */
  service(id: string): Frozen<Service> {
    const s = this.store.view((tx) => tx.services.get(id))
    if (s === undefined) throw new Error(`no service ${id}`)
    return s
  }

  /** Every task of service `serviceId`. */
  tasks(serviceId: string): Frozen<Task>[] {
    return this.store.view((tx) => tx.tasks.find({ serviceId }))
  }

  /** The tasks of `serviceId` observed RUNNING with desired state RUNNING (or COMPLETE). */
  running(serviceId: string): Frozen<Task>[] {
    return this.tasks(serviceId).filter((t) => t.status.state === TaskState.RUNNING && t.desiredState <= TaskState.COMPLETE)
  }

  /** The tasks of `serviceId` that are not terminal and whose desired state is RUNNING, READY or COMPLETE. */
  live(serviceId: string): Frozen<Task>[] {
    return this.tasks(serviceId).filter((t) => !isTerminal(t.status.state) && t.desiredState <= TaskState.COMPLETE)
  }
}

/** A replicated service spec: `replicas` of busybox named `name`, with `extra` merged in. */
export function replicatedSpec(name: string, replicas: number, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { annotations: { name }, mode: { replicated: { replicas } }, task: { container: { image: 'busybox:1' } }, ...extra }
}

/** A global service spec named `name`, with `extra` merged in. */
export function globalSpec(name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { annotations: { name }, mode: { global: {} }, task: { container: { image: 'busybox:1' } }, ...extra }
}
