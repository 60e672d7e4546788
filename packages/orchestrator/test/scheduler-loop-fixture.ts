/**
 * The setting of the scheduler loop's tests: a {@link Scheduler} alone on a MemoryStore with a
 * ManualClock (no orchestrator, no TaskDriver: the tests write PENDING tasks themselves and play
 * the agent where they need one).
 */
import { NodeAvailability, NodeRole, NodeState, TaskState, silentLogger } from '@swarmkit-ts/api'
import type { Node, NodeDescription, Task, TaskSpec } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import type { Draft, Frozen } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { Scheduler } from '../src/scheduler/scheduler.ts'
import { advanceTimerByTimer, settleStore } from './helpers/harness.ts'

/** A store id (25 characters of base36) for a short test name. */
export function fid(name: string): string {
  return name.padStart(25, '0')
}

/** Options of {@link SchedulerFixture.addTask}. */
export interface TaskOptions {
  readonly serviceId?: string
  readonly specVersion?: number
  readonly nodeId?: string
  readonly desiredState?: TaskState
  readonly spec?: TaskSpec
  readonly state?: TaskState
}

/** A Scheduler on a store with a ManualClock. */
export class SchedulerFixture {
  readonly clock = new ManualClock(1_700_000_000_000)
  readonly random = new SeededRandom(3)
  readonly store = new MemoryStore({ clock: this.clock })
  readonly scheduler = new Scheduler({ store: this.store, clock: this.clock, random: this.random, logger: silentLogger })
  readonly t0 = this.clock.now()
  #tasks = 0

  /** Starts the scheduler. */
  start(): void {
    this.scheduler.start()
  }

  /** Runs everything not waiting for time until the store stops changing. */
  settle(): Promise<void> {
    return settleStore(this.store)
  }

  /** Moves virtual time forward by `ms`, timer by timer, settling after each. */
  advance(ms: number): Promise<void> {
    return advanceTimerByTimer(this.clock, ms, () => this.settle())
  }

  /** Adds a READY, ACTIVE worker with id `id`. */
  async addNode(name: string, opts: { labels?: Record<string, string>; resources?: NodeDescription['resources']; availability?: Node['spec']['availability'] } = {}): Promise<void> {
    const id = fid(name)
    await this.store.update((tx) =>
      tx.nodes.create({
        id,
        spec: {
          annotations: { name, ...(opts.labels === undefined ? {} : { labels: opts.labels }) },
          desiredRole: NodeRole.WORKER,
          membership: 'accepted',
          availability: opts.availability ?? NodeAvailability.ACTIVE,
        },
        description: { hostname: name, platform: { os: 'linux', architecture: 'x86_64' }, ...(opts.resources === undefined ? {} : { resources: opts.resources }) },
        status: { state: NodeState.READY },
        role: NodeRole.WORKER,
      }),
    )
  }

  /** Applies `recipe` to node `id`. */
  async updateNode(name: string, recipe: (d: Draft<Node>) => void): Promise<void> {
    await this.store.update((tx) => tx.nodes.update(fid(name), recipe))
  }

  /** The object of a PENDING task (not yet written). */
  newTask(name: string, opts: TaskOptions = {}): Omit<Task, 'meta'> {
    return {
      id: fid(name),
      spec: opts.spec ?? { container: { image: 'busybox:1' } },
      ...(opts.specVersion === undefined ? {} : { specVersion: { index: BigInt(opts.specVersion) } }),
      serviceId: fid(opts.serviceId ?? 'svc'),
      slot: ++this.#tasks,
      nodeId: opts.nodeId === undefined ? '' : fid(opts.nodeId),
      annotations: { name },
      serviceAnnotations: { name: opts.serviceId ?? 'svc' },
      status: { timestamp: this.clock.now(), state: opts.state ?? TaskState.PENDING, message: 'pending task scheduling' },
      desiredState: opts.desiredState ?? TaskState.RUNNING,
    }
  }

  /** Writes PENDING tasks in one commit. */
  async addTasks(tasks: readonly Omit<Task, 'meta'>[]): Promise<void> {
    await this.store.update((tx) => {
      for (const t of tasks) tx.tasks.create(t)
    })
  }

  /** Writes one PENDING task `id`. */
  async addTask(name: string, opts: TaskOptions = {}): Promise<void> {
    await this.addTasks([this.newTask(name, opts)])
  }

  /** Sets task `id`'s observed state (as an agent would). */
  async setState(name: string, state: TaskState): Promise<void> {
    await this.store.update((tx) =>
      tx.tasks.update(fid(name), (d) => {
        d.status = { timestamp: this.clock.now(), state, message: 'agent' }
      }),
    )
  }

  /** Task `id` (throws when missing). */
  task(name: string): Frozen<Task> {
    const t = this.store.view((tx) => tx.tasks.get(fid(name)))
    if (t === undefined) throw new Error(`no task ${name}`)
    return t
  }
}
