/**
 * One simulated worker: an `Agent` on its own `FakeRuntime`, with a `MemoryTaskDb` that outlives
 * a crash (its disk), connected to the managers through in-process dispatcher bindings
 * (testkit's `inProcessDispatcher`: every message through the wire codec) — one per manager it
 * has talked to, cut by partitions and crashes, so that the agent fails over to the current
 * leader as a real worker does (the session's manager list, `NotLeaderError`'s leader address).
 * Its task logs go to the leader's log broker through a `LogPublisher` (in process: the log
 * streams do not feel partitions; a broker the worker cannot reach is refused at connection).
 *
 * @module
 */
import { UnavailableError, silentLogger } from '@swarmkit-ts/api'
import type { DispatcherApi, DispatcherStreamOptions, Logger, Random, WeightedManager } from '@swarmkit-ts/api'
import { Agent, MemoryTaskDb, RuntimeExecutor } from '@swarmkit-ts/agent'
import { FakeRuntime } from '@swarmkit-ts/engine-adapter'
import type { FakeProgram } from '@swarmkit-ts/engine-adapter'
import { inProcessDispatcher } from '@swarmkit-ts/testkit'
import type { DispatcherBinding, ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { LogPublisher } from '../logs/log-publisher.ts'
import type { LogBrokerWorkerApi } from '../logs/types.ts'
import type { ResolvedSimulateOptions } from './options.ts'
import type { SimManager } from './sim-manager.ts'

/** The image of simulated services: its entrypoint `serve` runs until stopped. */
export const SIMULATED_IMAGE = 'busybox:fake'

/** What every worker of one simulated cluster shares. */
export interface SimWorkerContext {
  /** The cluster's one clock. */
  readonly clock: ManualClock
  /** The cluster's options. */
  readonly options: ResolvedSimulateOptions
  /** Where the agent logs. */
  readonly logger: Logger
  /** The managers, by address. */
  readonly managers: ReadonlyMap<string, SimManager>
  /** The current leader's address, when there is one. */
  readonly leaderAddr: () => string | undefined
  /** The leader's log broker for this worker, when it has one and can reach it (else `UnavailableError`). */
  readonly logBroker: (worker: SimWorker) => LogBrokerWorkerApi
  /** Whether this worker and that manager can talk (no partition between them, the manager up). */
  readonly reachable: (worker: SimWorker, manager: SimManager) => boolean
  /** Draws of the background task failures. */
  readonly failures: Random
}

/** Streams `open()`'s items; `open` runs (and may throw) at the first `next`. */
async function* lazy<M>(open: () => AsyncIterable<M>): AsyncGenerator<M, void, undefined> {
  yield* open()
}

/** The tasks of `agent` that have a container, for the log publisher. */
function* running(agent: Agent): Iterable<{ task: { id: string; serviceId: string; nodeId: string }; containerId: string }> {
  for (const task of agent.tasks()) {
    const containerId = task.status.containerStatus?.containerId
    if (containerId !== undefined && containerId !== '') yield { task, containerId }
  }
}

/** See the module doc. */
export class SimWorker {
  /** Its position among the workers (`worker-<index>`). */
  readonly index: number
  /** The id of its Node object (registered by its first session). */
  readonly nodeId: string
  /** `worker-<index>`. */
  readonly hostname: string
  /** The worker's disk: the agent's task database, which a crash keeps. */
  readonly taskDb = new MemoryTaskDb()
  /** The worker's engine (a new, empty one after a crash). */
  runtime: FakeRuntime
  readonly #ctx: SimWorkerContext
  readonly #random: SeededRandom
  readonly #bindings = new Map<string, DispatcherBinding>()
  #agent: Agent | undefined
  #publisher: LogPublisher | undefined

  constructor(ctx: SimWorkerContext, index: number, nodeId: string, random: SeededRandom) {
    this.#ctx = ctx
    this.index = index
    this.nodeId = nodeId
    this.hostname = `worker-${index}`
    this.#random = random
    this.runtime = this.#newRuntime()
  }

  /** Whether the agent runs. */
  get up(): boolean {
    return this.#agent !== undefined
  }

  #newRuntime(): FakeRuntime {
    const { clock, options, failures } = this.#ctx
    const rate = options.faults.taskFailureRate
    // Runs until signalled; with the background task failures, may exit 1 after 1–10 s instead.
    // It installs no trap, so TERM keeps its default disposition and kills the process, whose
    // exit the container records at the kill: waiting for the kill is enough (no sleep, no
    // clock timer per running task).
    const serve: FakeProgram = (_argv, ctx) => {
      const proc = ctx.process
      const failAfter = rate > 0 && failures.float() < rate ? 1_000 + failures.int(9_000) : undefined
      return failAfter === undefined ? proc.whenKilled() : proc.sleep(failAfter).then(() => (proc.pendingSignal !== undefined ? 0 : 1))
    }
    return new FakeRuntime({ clock, images: { [SIMULATED_IMAGE]: { entrypoint: ['serve'], cmd: [] } }, programs: { serve } })
  }

  /** The dispatcher api the agent gets for a session attempt with `manager` (the first manager when none). */
  #connect(manager: WeightedManager | undefined): DispatcherApi {
    const managers = this.#ctx.managers
    const target = (manager === undefined ? undefined : managers.get(manager.addr)) ?? managers.values().next().value
    if (target === undefined) throw new UnavailableError('no manager')
    let binding = this.#bindings.get(target.addr)
    if (binding === undefined) {
      const nodeId = this.nodeId
      const leaderAddr = this.#ctx.leaderAddr
      const server: DispatcherApi = {
        session: (request, options?: DispatcherStreamOptions) => lazy(() => target.dispatcherFor(nodeId, leaderAddr).session(request, options)),
        assignments: (request, options?: DispatcherStreamOptions) => lazy(() => target.dispatcherFor(nodeId, leaderAddr).assignments(request, options)),
        heartbeat: (request) => Promise.resolve().then(() => target.dispatcherFor(nodeId, leaderAddr).heartbeat(request)),
        updateTaskStatus: (request) => Promise.resolve().then(() => target.dispatcherFor(nodeId, leaderAddr).updateTaskStatus(request)),
      }
      binding = inProcessDispatcher(server, { clock: this.#ctx.clock, random: this.#random.fork() })
      this.#bindings.set(target.addr, binding)
    }
    const reachable = this.#ctx.reachable(this, target)
    if (reachable && !binding.faults.connected) binding.faults.reconnect()
    if (!reachable && binding.faults.connected) binding.faults.disconnect({ halfOpen: true })
    return binding
  }

  /**
   * Cuts this worker's connections that can no longer carry messages (a partition, a crashed
   * manager): their streams end, as a dead TCP connection's would; the manager's side is not
   * told (`halfOpen`: it notices the missing heartbeats).
   */
  cutUnreachable(): void {
    for (const [addr, binding] of this.#bindings) {
      const m = this.#ctx.managers.get(addr)
      if (m === undefined || !binding.faults.connected) continue
      if (!this.#ctx.reachable(this, m)) binding.faults.disconnect({ halfOpen: m.up })
    }
  }

  /** Starts the agent on the task database (and the runtime, new after a crash). */
  async start(): Promise<void> {
    if (this.#agent !== undefined) return
    const { clock, options, logger } = this.#ctx
    const log = logger === silentLogger ? logger : logger.child({ node: this.hostname })
    const leader = this.#ctx.leaderAddr()
    const executor = new RuntimeExecutor({
      runtime: this.runtime,
      clock,
      logger: log,
      hostname: this.hostname,
      platform: { os: 'linux', architecture: 'x86_64' },
      resources: { nanoCpus: options.nodeResources.nanoCpus, memoryBytes: options.nodeResources.memoryBytes },
    })
    const agent = new Agent({
      dispatcher: (manager) => this.#connect(manager),
      // Every manager, as a worker knows them from its state (the sessions keep the list current);
      // the leader weighs most, as in the dispatcher's lists, so most first sessions reach it.
      managers: [...this.#ctx.managers.values()].map((m) => ({ nodeId: m.nodeId, addr: m.addr, weight: m.addr === leader ? 10 : 1 })),
      executor,
      taskDb: this.taskDb,
      clock,
      random: this.#random.fork(),
      logger: log,
    })
    this.#agent = agent
    await agent.start()
    // The task logs, published to the leader's broker as a worker node does.
    const publisher = new LogPublisher({
      nodeId: this.nodeId,
      runtime: this.runtime,
      tasks: () => running(agent),
      broker: () => this.#ctx.logBroker(this),
      clock,
      logger: log,
    })
    this.#publisher = publisher
    publisher.start()
  }

  /**
   * Crashes the machine: its connections go silent (the dispatcher only notices the missing
   * heartbeats), the agent stops, every container is gone (a new, empty engine); the task
   * database stays.
   */
  async crash(): Promise<void> {
    const agent = this.#agent
    if (agent === undefined) return
    this.#agent = undefined
    for (const binding of this.#bindings.values()) if (binding.faults.connected) binding.faults.disconnect({ halfOpen: true })
    const publisher = this.#publisher
    this.#publisher = undefined
    await publisher?.stop()
    await agent.stop()
    const old = this.runtime
    for (const c of await old.list()) if (c.state === 'running') await old.stop(c.id, { graceMs: 0 })
    this.runtime = this.#newRuntime()
  }

  /** Stops the agent and every container (the cluster closes). */
  async close(): Promise<void> {
    await this.crash()
  }

  /** Makes container `containerId` exit with `exitCode` now; false when this worker's engine runs no such container. */
  failContainer(containerId: string, exitCode: number): boolean {
    const c = this.runtime
    try {
      c.kill(containerId, exitCode)
      return true
    } catch {
      return false
    }
  }
}
