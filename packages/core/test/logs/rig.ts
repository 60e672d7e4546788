/**
 * A log broker on a store, workers with LogPublishers, and FakeRuntime containers whose output the
 * test writes line by line (program `talk`), on a ManualClock for the runtime (exact timestamps).
 */
import { NodeAvailability, NodeRole, NodeState, TaskState } from '@swarmkit-ts/api'
import { FakeRuntime, type FakeProgram } from '@swarmkit-ts/engine-adapter'
import { MemoryStore } from '@swarmkit-ts/store'
import { ManualClock } from '@swarmkit-ts/testkit'
import { LogBroker, LogPublisher, type LogBrokerWorkerApi, type LogMessage, type RunningTaskContainer } from '../../src/logs/index.ts'

/** The runtime clock's start: 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1)

/** The store's id (25 base36 characters) for a short test name: `id('web')`. */
export function id(name: string): string {
  return name.padEnd(25, '0')
}

/** Reads an iterable to its end (or its first error, rethrown with the lines read so far attached). */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  try {
    for await (const v of it) out.push(v)
  } catch (err) {
    throw Object.assign(err as Error, { collected: out })
  }
  return out
}

/** Reads `n` values from an iterator (which stays open). */
export async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = []
  while (out.length < n) {
    const r = await it.next()
    if (r.done === true) throw new Error(`iteration ended after ${out.length} of ${n} values`)
    out.push(r.value)
  }
  return out
}

/** Waits until `cond()` holds, checking after every macrotask; the test timeout guards it. */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise<void>((resolve) => setTimeout(resolve, 2))
}

/** A line as the broker delivers it (short names). */
export function msg(taskId: string, serviceId: string, nodeId: string, line: string, time: number, stream: LogMessage['stream'] = 'stdout'): LogMessage {
  return { serviceId: id(serviceId), nodeId: id(nodeId), taskId: id(taskId), stream, time, line }
}

/** The rig. Call `close()` in afterEach. */
export class LogsRig {
  readonly clock = new ManualClock(T0)
  readonly store = new MemoryStore()
  readonly broker: LogBroker
  readonly runtime: FakeRuntime
  /** Output handles of running `talk` programs, by task id. */
  readonly #talkers = new Map<string, (stream: 'stdout' | 'stderr', line: string) => void>()
  readonly #containers = new Map<string, RunningTaskContainer[]>()
  readonly #changed = new Set<() => void>()
  readonly #publishers: LogPublisher[] = []

  /** @param queueLimit - the broker's lines per subscriber before publishers wait. */
  constructor(queueLimit?: number) {
    this.broker = new LogBroker({ store: this.store, ...(queueLimit === undefined ? {} : { queueLimit }) })
    const talk: FakeProgram = async (_argv, { process, io, env }) => {
      const task = env.TASK ?? ''
      this.#talkers.set(task, (stream, line) => (stream === 'stdout' ? io.out(`${line}\n`) : io.err(`${line}\n`)))
      await process.sleep(3_600_000)
      return 0
    }
    this.runtime = new FakeRuntime({ clock: this.clock, programs: { talk } })
    this.broker.start()
  }

  /** Adds a READY worker node. */
  async addNode(name: string): Promise<void> {
    await this.store.update((tx) =>
      tx.nodes.create({
        id: id(name),
        spec: { annotations: { name }, desiredRole: NodeRole.WORKER, membership: 'accepted', availability: NodeAvailability.ACTIVE },
        description: { hostname: name, platform: { os: 'linux', architecture: 'x86_64' } },
        status: { state: NodeState.READY },
        role: NodeRole.WORKER,
      }),
    )
  }

  /** Adds a replicated service. */
  async addService(name: string): Promise<void> {
    await this.store.update((tx) =>
      tx.services.create({
        id: id(name),
        spec: { annotations: { name }, task: { container: { image: 'busybox:fake' } }, mode: { replicated: { replicas: 1 } } },
      }),
    )
  }

  /**
   * Starts task `task` of `service` on `node` (short names): a `talk` container, which writes the
   * `early` lines before anyone can know of it, and the task RUNNING in the store.
   */
  async runTask(task: string, service: string, node: string, slot = 1, early: readonly { line: string; at: number }[] = []): Promise<string> {
    const [taskId, serviceId, nodeId] = [id(task), id(service), id(node)]
    const containerId = await this.runtime.create({ image: 'busybox:fake', command: ['talk'], env: { TASK: taskId } })
    await this.runtime.start(containerId)
    await until(() => this.#talkers.has(taskId))
    for (const e of early) this.say(task, e.line, e.at)
    const list = this.#containers.get(nodeId) ?? []
    list.push({ task: { id: taskId, serviceId, nodeId }, containerId })
    this.#containers.set(nodeId, list)
    await this.store.update((tx) =>
      tx.tasks.create({
        id: taskId,
        spec: { container: { image: 'busybox:fake' } },
        serviceId,
        slot,
        nodeId,
        annotations: { name: '' },
        serviceAnnotations: { name: service },
        status: { timestamp: this.clock.now(), state: TaskState.RUNNING },
        desiredState: TaskState.RUNNING,
      }),
    )
    for (const f of this.#changed) f()
    return containerId
  }

  /** Task `taskId`'s container writes `line` at the runtime clock's time `at` (moved forward to it). */
  say(task: string, line: string, at: number, stream: 'stdout' | 'stderr' = 'stdout'): void {
    if (at > this.clock.now()) this.clock.advance(at - this.clock.now())
    const talk = this.#talkers.get(id(task))
    if (talk === undefined) throw new Error(`no container for task ${task}`)
    talk(stream, line)
  }

  /** Stops task `taskId`'s container (its process exits: a follow read of it ends). */
  async exit(task: string): Promise<void> {
    for (const list of this.#containers.values()) {
      const c = list.find((x) => x.task.id === id(task))
      if (c !== undefined) await this.runtime.stop(c.containerId, { graceMs: 0 })
    }
  }

  /** The tasks node `nodeId` runs (the LogPublisher hook). */
  tasksOf(node: string): RunningTaskContainer[] {
    return [...(this.#containers.get(id(node)) ?? [])]
  }

  /** Starts a worker's LogPublisher talking to `api` (the in-process broker by default). */
  worker(node: string, api?: () => LogBrokerWorkerApi): LogPublisher {
    const p = new LogPublisher({
      nodeId: id(node),
      runtime: this.runtime,
      tasks: () => this.tasksOf(node),
      broker: api ?? (() => this.broker.workerApi(id(node))),
      onTasksChanged: (listener) => {
        this.#changed.add(listener)
        return () => this.#changed.delete(listener)
      },
      pollIntervalMs: 3_600_000,
      retryDelayMs: 10,
    })
    p.start()
    this.#publishers.push(p)
    return p
  }

  /** Stops the publishers, the broker and the runtime. */
  async close(): Promise<void> {
    await Promise.all(this.#publishers.map((p) => p.stop()))
    await this.broker.stop()
    await this.runtime.close()
  }
}
