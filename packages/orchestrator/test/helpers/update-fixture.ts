/**
 * The update supervisor alone on a {@link Harness} (its orchestrator not started): a real
 * RestartSupervisor for delayed starts, tasks created by hand, and `kick()` playing the part of
 * the orchestrator that hands the service's runnable slots to the supervisor.
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Service, ServiceSpec, Task } from '@swarmkit-ts/api'
import type { Frozen, WatchEvent } from '@swarmkit-ts/store'
import { RestartSupervisor, UpdateSupervisor, newTask } from '../../src/index.ts'
import type { OrchestratorContext, Slot } from '../../src/index.ts'
import { Harness } from './harness.ts'

/** One line of the task history a test records: `<time offset> <task id> <what>`. */
export interface TaskChange {
  readonly at: number
  readonly taskId: string
  readonly image: string
  readonly change: 'created' | `desired ${string}` | `observed ${string}`
}

const stateName = new Map<number, string>(Object.entries(TaskState).map(([k, v]) => [v, k]))

/** The update supervisor on a harness (see the module doc). */
export class UpdateFixture {
  readonly h: Harness
  readonly ctx: OrchestratorContext
  readonly restarts: RestartSupervisor
  readonly updates: UpdateSupervisor
  readonly t0: number
  /** Every task creation and desired/observed state change, in commit order. */
  readonly history: TaskChange[] = []
  readonly #abort = new AbortController()

  constructor() {
    this.h = new Harness({ start: false })
    this.t0 = this.h.clock.now()
    this.ctx = { store: this.h.store, clock: this.h.clock, random: this.h.random, logger: this.h.logger }
    this.restarts = new RestartSupervisor(this.ctx)
    this.updates = new UpdateSupervisor(this.ctx, this.restarts)
    this.restarts.start()
    this.updates.start()
    void this.#record()
  }

  /** Creates a service of `replicas` tasks (slots 1..N) and runs them (on a node `n1`, added if there is no node). */
  async service(spec: ServiceSpec, replicas: number): Promise<Frozen<Service>> {
    if (this.h.store.view((tx) => tx.nodes.find()).length === 0) await this.h.addNode('n1')
    const svc = await this.h.createService(spec)
    await this.h.store.update((tx) => {
      for (let slot = 1; slot <= replicas; slot++) tx.tasks.create(newTask(undefined, svc, slot, '', this.h))
    })
    await this.h.settle()
    return svc
  }

  /** The service's slots as the replicated orchestrator hands them over: tasks with desired ≤ RUNNING, by slot. */
  slots(serviceId: string): Slot[] {
    const bySlot = new Map<number, Frozen<Task>[]>()
    for (const t of this.h.tasks(serviceId)) {
      if (t.desiredState > TaskState.RUNNING) continue
      const s = bySlot.get(t.slot) ?? []
      s.push(t)
      bySlot.set(t.slot, s)
    }
    return [...bySlot.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s)
  }

  /** Hands the service's current slots to the update supervisor, then settles. */
  async kick(serviceId: string): Promise<void> {
    this.updates.update(undefined, this.h.service(serviceId), this.slots(serviceId))
    await this.h.settle()
  }

  /** Updates the service's spec with `change` and kicks the supervisor. */
  async update(serviceId: string, change: (spec: ServiceSpec) => ServiceSpec): Promise<void> {
    await this.h.updateService(serviceId, change)
    await this.kick(serviceId)
  }

  /** Images of the tasks observed RUNNING with desired RUNNING, sorted. */
  runningImages(serviceId: string): string[] {
    return this.h
      .running(serviceId)
      .map((t) => t.spec.container?.image ?? '')
      .sort()
  }

  /** Milliseconds since the fixture was made. */
  elapsed(): number {
    return this.h.clock.now() - this.t0
  }

  /** Stops both supervisors and the history recorder. */
  async stop(): Promise<void> {
    await this.updates.stop()
    await this.restarts.stop()
    this.#abort.abort()
  }

  async #record(): Promise<void> {
    const watch = this.h.store.watch({ kinds: ['task'] }, { signal: this.#abort.signal })
    for await (const ev of watch as AsyncIterable<WatchEvent<'task'>>) {
      if (ev.action === 'commit' || ev.action === 'delete') continue
      const t = ev.object
      const at = this.h.clock.now() - this.t0
      const image = t.spec.container?.image ?? ''
      if (ev.action === 'create') {
        this.history.push({ at, taskId: t.id, image, change: 'created' })
        continue
      }
      const old = ev.oldObject
      if (old === undefined) continue
      if (old.desiredState !== t.desiredState) this.history.push({ at, taskId: t.id, image, change: `desired ${stateName.get(t.desiredState) ?? '?'}` })
      if (old.status.state !== t.status.state) this.history.push({ at, taskId: t.id, image, change: `observed ${stateName.get(t.status.state) ?? '?'}` })
    }
  }
}
