/**
 * The measurements of `pnpm --filter @swarmkit-ts/orchestrator bench`: the whole Orchestrator on
 * an unreplicated MemoryStore (default watch-queue and history limits) with a ManualClock, timed
 * in real time from the service write to the state the row names. Where tasks must progress (the
 * rolling update), the test suite's TaskDriver plays allocator, scheduler and agents, and due
 * timers fire as soon as nothing else moves.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { NodeAvailability, NodeRole, NodeState, TaskState, UpdateState, silentLogger } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import type { ReadTx } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { Orchestrator, ServiceControl, newTask } from '../src/index.ts'
import type { OrchestratorHandle } from '../src/index.ts'
import { TaskDriver } from '../test/helpers/task-driver.ts'

setFlagsFromString('--expose-gc')
const gcFn = runInNewContext('gc') as () => void

/** Runs a full garbage collection a few times. */
export function gc(): void {
  for (let i = 0; i < 3; i++) gcFn()
}

/** Heap in use after a full collection, in bytes. */
export function heapUsed(): number {
  gc()
  return process.memoryUsage().heapUsed
}

/** A stopwatch of real time and of this process's CPU time (user + system), in milliseconds. */
export class Stopwatch {
  readonly #t0 = performance.now()
  readonly #cpu0 = process.cpuUsage()

  /** Real and CPU milliseconds since construction. */
  read(): { ms: number; cpuMs: number } {
    const cpu = process.cpuUsage(this.#cpu0)
    return { ms: performance.now() - this.#t0, cpuMs: (cpu.user + cpu.system) / 1000 }
  }
}

/** A timing: real and CPU milliseconds. */
export interface Timing {
  readonly ms: number
  readonly cpuMs: number
}

/** Lets every pending promise callback and I/O callback run (one macrotask turn). */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** One orchestrator on a fresh store with `nodes` READY, ACTIVE workers. */
export class Bench {
  readonly clock = new ManualClock(1_700_000_000_000)
  readonly random = new SeededRandom(7)
  readonly store = new MemoryStore({ clock: this.clock })
  readonly control = new ServiceControl({ store: this.store, clock: this.clock, random: this.random })
  readonly driver = new TaskDriver({ store: this.store, clock: this.clock })
  #handle: OrchestratorHandle | undefined

  /** Adds `nodes` workers and starts the orchestrator (not with `orchestrator: false`). */
  async start(nodes: number, orchestrator = true): Promise<void> {
    await this.store.batch((b) => {
      for (let i = 0; i < nodes; i++) {
        const id = `node${String(i).padStart(21, '0')}`
        b.update((tx) =>
          tx.nodes.create({
            id,
            spec: { annotations: { name: `n${i}` }, desiredRole: NodeRole.WORKER, membership: 'accepted', availability: NodeAvailability.ACTIVE },
            description: { hostname: `n${i}`, platform: { os: 'linux', architecture: 'x86_64' } },
            status: { state: NodeState.READY },
            role: NodeRole.WORKER,
          }),
        )
      }
    })
    if (orchestrator) this.#handle = new Orchestrator({ store: this.store, clock: this.clock, random: this.random, logger: silentLogger }).start()
    await turn()
  }

  /** Stops the orchestrator. */
  async stop(): Promise<void> {
    await this.#handle?.stop()
  }

  /**
   * Waits, one macrotask turn at a time, until `done` holds on a view of the store (checked
   * after each turn in which the store moved); with `drive`, the TaskDriver makes a step in each
   * turn and due timers fire whenever nothing moved.
   */
  async until(done: (tx: ReadTx) => boolean, drive = false, limitTurns = 1_000_000): Promise<void> {
    let seen = -1n
    let idle = 0
    for (let i = 0; i < limitTurns; i++) {
      await turn()
      const moved = drive ? (await this.driver.step()) > 0 : false
      const version = this.store.version
      if (version !== seen) {
        seen = version
        idle = 0
        if (this.store.view(done)) return
        continue
      }
      if (moved) continue
      const due = this.clock.nextDueAt()
      if (due !== undefined) {
        this.clock.advance(Math.max(0, due - this.clock.now()))
        continue
      }
      if (++idle > 1_000) throw new Error('the orchestrator stopped moving before the condition held')
    }
    throw new Error(`condition not reached after ${limitTurns} turns`)
  }
}

/** A replicated service of busybox tasks. */
export function spec(name: string, replicas: number, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { annotations: { name }, mode: { replicated: { replicas } }, task: { container: { image: 'busybox:1' } }, ...extra }
}

/** Tasks of `serviceId` whose desired state is at most RUNNING (the ones the orchestrator keeps). */
function keptTasks(tx: ReadTx, serviceId: string): number {
  let n = 0
  for (const t of tx.tasks.find({ serviceId })) if (t.desiredState <= TaskState.RUNNING) n++
  return n
}

/** Result of {@link measureLargeService}. */
export interface LargeServiceResult {
  readonly create: Timing
  readonly heapBytes: number
  readonly heapPerTaskBytes: number
  readonly scaleDown: Timing
  readonly scaleUp: Timing
}

/**
 * A replicated service of `replicas` on `nodes` nodes: time until every task exists (created,
 * desired RUNNING), the heap then; scaled to 0, time until every task has desired REMOVE (or is
 * gone); scaled back, time until `replicas` tasks are kept again.
 */
export async function measureLargeService(replicas: number, nodes: number): Promise<LargeServiceResult> {
  const b = new Bench()
  b.driver.enabled = false
  await b.start(nodes)
  const heap0 = heapUsed()
  let sw = new Stopwatch()
  const svc = await b.control.create(spec('big', replicas))
  await b.until((tx) => keptTasks(tx, svc.id) === replicas)
  const create = sw.read()
  const heap1 = heapUsed()

  sw = new Stopwatch()
  await b.control.update(svc.id, spec('big', 0))
  await b.until((tx) => keptTasks(tx, svc.id) === 0)
  const scaleDown = sw.read()
  gc()

  sw = new Stopwatch()
  await b.control.update(svc.id, spec('big', replicas))
  await b.until((tx) => keptTasks(tx, svc.id) === replicas)
  const scaleUp = sw.read()
  await b.stop()
  return { create, heapBytes: heap1, heapPerTaskBytes: (heap1 - heap0) / replicas, scaleDown, scaleUp }
}

/**
 * The floor under the create rows, measured in the same run: the same tasks (built by `newTask`
 * for slots 1..`replicas`) written straight to the store, 200 creates per transaction in one
 * `store.batch` — what the orchestrator's own writes cost without any reconciling or other loop.
 */
export async function measureStoreBaseline(replicas: number, nodes: number): Promise<Timing> {
  const b = new Bench()
  await b.start(nodes, false)
  const svc = await b.control.create(spec('big', replicas))
  gc()
  const sw = new Stopwatch()
  await b.store.batch((batch) => {
    for (let from = 1; from <= replicas; from += 200) {
      batch.update((tx) => {
        for (let slot = from; slot < from + 200 && slot <= replicas; slot++) tx.tasks.create(newTask(undefined, svc, slot, '', b))
      })
    }
  })
  const t = sw.read()
  if (b.store.view((tx) => keptTasks(tx, svc.id)) !== replicas) throw new Error('baseline: tasks missing')
  return t
}

/** `services` replicated services of `replicas` each, created at once: time until all their tasks exist. */
export async function measureManyServices(services: number, replicas: number, nodes: number): Promise<Timing> {
  const b = new Bench()
  b.driver.enabled = false
  await b.start(nodes)
  gc()
  const total = services * replicas
  const sw = new Stopwatch()
  await Promise.all(Array.from({ length: services }, (_, i) => b.control.create(spec(`svc${i}`, replicas))))
  await b.until((tx) => tx.tasks.find().length === total)
  const t = sw.read()
  await b.stop()
  return t
}

/** Result of {@link measureRollingUpdate}. */
export interface RollingUpdateResult {
  /** From the update's write until its status is COMPLETED. */
  readonly update: Timing
  /** Steps the TaskDriver made during the update. */
  readonly driverSteps: number
  /** Of `updateMs`, the time spent inside the TaskDriver's steps. */
  readonly driverMs: number
}

/**
 * A service of `replicas` running tasks (brought up by the TaskDriver) updated to a new image
 * with parallelism 0, delay 0 and monitor 0: time until the update status is COMPLETED.
 */
export async function measureRollingUpdate(replicas: number, nodes: number): Promise<RollingUpdateResult> {
  const b = new Bench()
  await b.start(nodes)
  const update = { parallelism: 0, delayMs: 0, monitorMs: 0 }
  const svc = await b.control.create(spec('roll', replicas, { update }))
  const runningCount = (tx: ReadTx): number => tx.tasks.find({ serviceId: svc.id }).filter((t) => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING).length
  await b.until((tx) => runningCount(tx) === replicas, true)
  gc()
  let driverMs = 0
  const step = b.driver.step.bind(b.driver)
  b.driver.step = async (): Promise<number> => {
    const s = performance.now()
    const n = await step()
    driverMs += performance.now() - s
    return n
  }
  const steps0 = b.driver.steps
  const sw = new Stopwatch()
  await b.control.update(svc.id, { ...spec('roll', replicas, { update }), task: { container: { image: 'busybox:2' } } })
  await b.until((tx) => tx.services.get(svc.id)?.updateStatus?.state === UpdateState.COMPLETED, true)
  const updated = sw.read()
  const ok = b.store.view((tx) => tx.tasks.find({ serviceId: svc.id }).filter((t) => t.desiredState === TaskState.RUNNING && t.spec.container?.image === 'busybox:2').length)
  if (ok !== replicas) throw new Error(`update completed with ${ok} of ${replicas} tasks at the new image`)
  await b.stop()
  return { update: updated, driverSteps: b.driver.steps - steps0, driverMs }
}
