/**
 * {@link WorkerNode}: the worker half of a node — the agent (session with the managers, task
 * database, one controller per task) over the node's runtime, with task networking and, where
 * the node has an endpoint source, the routing mesh.
 *
 * State directory layout (a manager node running tasks shares its state directory; these names
 * do not collide with the manager's):
 *
 * | path | owner | what |
 * |---|---|---|
 * | `<stateDir>/worker/` | agent's `FileTaskDb` | one file per task the node runs (assignment, last status) |
 * | `<stateDir>/runtime/process/` | `ProcessRuntime` | containers (records, logs, delivered secret and config files) |
 * | `<stateDir>/runtime/images/busybox/` | this node | the default process image: busybox applet links |
 * | `<stateDir>/runtime/docker/`, `runtime/containerd/` | `DockerRuntime`, `ContainerdRuntime` | secret and config files (and logs) bind-mounted into tasks |
 * | `<stateDir>/certificates/` | core's `NodeCertificateStore` | the node's key, certificate and root CA (read by the dispatcher connection, not here) |
 *
 * @module
 */
import { mkdir } from 'node:fs/promises'
import { isIP } from 'node:net'
import { InvalidArgumentError, cryptoRandom, silentLogger, systemClock } from '@swarmkit-ts/api'
import type { Clock, Logger, Platform, Random, Resources, Task, WeightedManager } from '@swarmkit-ts/api'
import { Agent, RuntimeExecutor } from '@swarmkit-ts/agent'
import type { AgentStatus, DispatcherConnector } from '@swarmkit-ts/agent'
import type { ContainerRuntime } from '@swarmkit-ts/engine-adapter'
import { RoutingMesh, StoreEndpointSource } from '@swarmkit-ts/network'
import type { EndpointSource, NetworkDriver, RoutingMeshInit } from '@swarmkit-ts/network'
import type { MemoryStore } from '@swarmkit-ts/store'
import { AttachmentNetworkSource, StoreNetworkSource } from './network-source.ts'
import type { TaskNetworkSource } from './network-source.ts'
import { DEFAULT_NETWORK_PLUGINS, NodeExecutor } from './node-executor.ts'
import { checkRuntimeChoice, networkDriverFor, openRuntime } from './runtime-choice.ts'
import type { OpenedRuntime, WorkerRuntimeKind, WorkerRuntimeOptions } from './runtime-choice.ts'
import { DriverTaskNetworking } from './task-networking.ts'

/** Task networking of a {@link WorkerNode}. */
export interface WorkerNetworkingOptions {
  /** The node's data plane. @default `networkDriverFor(runtime, nodeAddress)` */
  readonly driver?: NetworkDriver
  /** Where the tasks' networks are described. @default a `StoreNetworkSource` on the node's `store`, else a new `AttachmentNetworkSource` */
  readonly networks?: TaskNetworkSource
  /**
   * The network drivers this node serves, reported as `Network` plugins in its description (the
   * scheduler's plugin filter places a task on a network only on a node reporting its driver).
   * @default DEFAULT_NETWORK_PLUGINS (`overlay`, the cluster networks' and ingress's driver)
   */
  readonly networkPlugins?: readonly string[]
}

/** Construction options of {@link WorkerNode}. */
export interface WorkerNodeInit {
  /** The node's state directory (created, mode 0700; see the module doc for its layout). */
  readonly stateDir: string
  /** Connects to a manager's dispatcher (core's gRPC connector; in process in tests); called per session. */
  readonly dispatcher: DispatcherConnector
  /** Managers to start from (each session replaces the list). @default [] */
  readonly managers?: readonly WeightedManager[]
  /** The runtime: a kind the node opens in its state directory, or an embedder's instance (not closed by `stop`). @default 'process' */
  readonly runtime?: WorkerRuntimeKind | ContainerRuntime
  /** Options of the runtime opened by kind. */
  readonly runtimeOptions?: WorkerRuntimeOptions
  /** The address other nodes reach this node's published ports at (its `node.status.addr`). @default '127.0.0.1' */
  readonly nodeAddress?: string
  /** Task networks and published ports, or `false` for none (tasks on the runtime's default network). @default {} */
  readonly networking?: WorkerNetworkingOptions | false
  /**
   * The replicated store, when this node holds one (a manager running tasks): task networks are
   * then read from it (`StoreNetworkSource`) and it can feed the routing mesh. @default none
   */
  readonly store?: MemoryStore
  /**
   * Runs a routing mesh on this node while the node runs, over `mesh.source` or, without one,
   * over a `StoreEndpointSource` on `store` that the node starts and stops. A worker sees only
   * its own tasks, so only a node that holds the store can feed it. @default none
   */
  readonly mesh?: WorkerMeshOptions
  /** The node's hostname in its description. @default os.hostname() */
  readonly hostname?: string
  /** The engine labels in its description (`engine.labels.*` constraints). @default none */
  readonly engineLabels?: Readonly<Record<string, string>>
  /** Its resources. @default this host's CPUs and memory */
  readonly resources?: Resources
  /** Its platform. @default this host's */
  readonly platform?: Platform
  /** @default systemClock */
  readonly clock?: Clock
  /** @default cryptoRandom */
  readonly random?: Random
  /** @default silentLogger */
  readonly logger?: Logger
  /** The agent's RPC timeout (see `AgentInit.rpcTimeoutMs`). @default 5000 */
  readonly rpcTimeoutMs?: number
  /** How often the node description is checked for changes (see `AgentInit.descriptionCheckMs`). @default 20000 */
  readonly descriptionCheckMs?: number
}

/** The routing mesh of a {@link WorkerNode}: `RoutingMesh` options, its source optional when the node has the store. */
export type WorkerMeshOptions = Omit<RoutingMeshInit, 'source'> & {
  /** The live routing table. @default a `StoreEndpointSource` on the node's `store` */
  readonly source?: EndpointSource
}

/** A task this node runs and its container (the log publisher reads the container's logs). */
export interface WorkerTaskContainer {
  /** The task with its latest local status. */
  readonly task: Task
  /** Its container on the node's runtime. */
  readonly containerId: string
}

function checkNonNegative(value: number | undefined, field: string): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) throw new InvalidArgumentError(field, `must be a non-negative integer of milliseconds, got ${String(value)}`)
}

/** Checks a {@link WorkerNodeInit}, throwing `InvalidArgumentError` naming the first bad field. */
export function validateWorkerNodeInit(init: WorkerNodeInit): void {
  if (typeof init !== 'object' || init === null) throw new InvalidArgumentError('', 'worker node options must be an object')
  if (typeof init.stateDir !== 'string' || init.stateDir === '') throw new InvalidArgumentError('stateDir', 'must be a non-empty path')
  if (typeof init.dispatcher !== 'function') throw new InvalidArgumentError('dispatcher', 'must be a function returning a DispatcherApi')
  if (init.runtime !== undefined) checkRuntimeChoice(init.runtime)
  if (init.nodeAddress !== undefined && (typeof init.nodeAddress !== 'string' || isIP(init.nodeAddress) === 0)) {
    throw new InvalidArgumentError('nodeAddress', `must be an IP address, got ${JSON.stringify(init.nodeAddress)}`)
  }
  if (init.hostname !== undefined && (typeof init.hostname !== 'string' || init.hostname === '')) throw new InvalidArgumentError('hostname', 'must be a non-empty string')
  if (init.store !== undefined && typeof (init.store as Partial<MemoryStore>).view !== 'function') throw new InvalidArgumentError('store', 'must be a MemoryStore')
  if (init.mesh !== undefined) {
    if (init.mesh.source === undefined && init.store === undefined) throw new InvalidArgumentError('mesh.source', 'give an EndpointSource, or the node\'s store to feed the mesh')
    if (init.mesh.source !== undefined && typeof init.mesh.source.current !== 'function') throw new InvalidArgumentError('mesh.source', 'must be an EndpointSource')
  }
  checkNonNegative(init.rpcTimeoutMs, 'rpcTimeoutMs')
  checkNonNegative(init.descriptionCheckMs, 'descriptionCheckMs')
  if (init.networking !== undefined && init.networking !== false) {
    ;(init.networking.networkPlugins ?? []).forEach((name, i) => {
      if (typeof name !== 'string' || name === '') throw new InvalidArgumentError(`networking.networkPlugins[${String(i)}]`, 'must be a non-empty driver name')
    })
  }
  ;(init.managers ?? []).forEach((m, i) => {
    if (typeof m.addr !== 'string' || m.addr === '') throw new InvalidArgumentError(`managers[${String(i)}].addr`, 'must be a host:port address')
  })
}

/** A routing mesh (and the store-fed source it owns, if any), its option errors naming `mesh.<field>`. */
function newMesh(options: WorkerMeshOptions, store: MemoryStore | undefined, logger: Logger): { mesh: RoutingMesh; source: StoreEndpointSource | undefined } {
  const owned = options.source === undefined && store !== undefined ? new StoreEndpointSource({ store, logger }) : undefined
  const source = options.source ?? owned
  if (source === undefined) throw new InvalidArgumentError('mesh.source', 'give an EndpointSource, or the node\'s store to feed the mesh')
  try {
    return { mesh: new RoutingMesh({ logger, ...options, source }), source: owned }
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(`mesh.${err.field}`, err.message.slice(err.field.length + 2), { cause: err })
    throw err
  }
}

/** What runs while the node is started. */
interface Running {
  readonly runtime: OpenedRuntime
  readonly agent: Agent
  readonly executor: NodeExecutor
  readonly networking: DriverTaskNetworking | undefined
  readonly mesh: RoutingMesh | undefined
  /** The store-fed source the node made for its mesh. */
  readonly meshSource: StoreEndpointSource | undefined
}

/**
 * A worker node: `start()` opens the runtime (adopting the containers an earlier run left),
 * starts the agent over it (its task database resumes the tasks) and the mesh if any; `stop()`
 * stops them and closes the runtime it opened, leaving every container running for the next
 * start — of this object or of a new one on the same state directory — to adopt. (Except on
 * `'containerd'`: `ContainerdRuntime` cannot adopt an earlier instance's containers, so `stop()`
 * removes them and the next start runs the tasks again.) Usable inside
 * a manager process: give it the manager's state directory, a connector to the dispatcher, the
 * manager's `store` (task networks read from it) and, for a routing mesh, `mesh`.
 */
export class WorkerNode {
  readonly #init: WorkerNodeInit
  readonly #logger: Logger
  #running: Running | undefined
  /** The start or stop in progress (they never overlap). */
  #transition: Promise<void> = Promise.resolve()
  readonly #taskListeners = new Set<() => void>()

  constructor(init: WorkerNodeInit) {
    validateWorkerNodeInit(init)
    this.#init = init
    this.#logger = init.logger ?? silentLogger
  }

  /** The node's state directory. */
  get stateDir(): string {
    return this.#init.stateDir
  }

  /** The runtime (while started). */
  get runtime(): ContainerRuntime | undefined {
    return this.#running?.runtime.runtime
  }

  /** The agent (while started). */
  get agent(): Agent | undefined {
    return this.#running?.agent
  }

  /** The task networking (while started, unless turned off). */
  get networking(): DriverTaskNetworking | undefined {
    return this.#running?.networking
  }

  /** The routing mesh (while started, with `mesh`). */
  get mesh(): RoutingMesh | undefined {
    return this.#running?.mesh
  }

  /** The agent's connection (undefined while stopped). */
  get status(): AgentStatus | undefined {
    return this.#running?.agent.status
  }

  /** The node's id as the managers know it (once a session registered). */
  get nodeId(): string | undefined {
    return this.#running?.agent.status.node?.id
  }

  /** Starts the node (a no-op while it runs). Rejects, with nothing left running, when a part fails to start. */
  start(): Promise<void> {
    return this.#serially(async () => {
      if (this.#running === undefined) this.#running = await this.#start()
    })
  }

  /** Stops the node (a no-op while stopped): its containers keep running (on `'containerd'`: are removed, see the class doc). */
  stop(): Promise<void> {
    return this.#serially(async () => {
      const running = this.#running
      this.#running = undefined
      if (running !== undefined) {
        this.#tasksChanged()
        await this.#stopParts(running)
      }
    })
  }

  /** Same as {@link WorkerNode.stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop()
  }

  /**
   * The tasks this node runs that have a container, each with its container id (empty while
   * stopped): the log publisher's view of the node. A task is listed as soon as its container is
   * created or found, before its status says so.
   */
  *tasks(): Iterable<WorkerTaskContainer> {
    const running = this.#running
    if (running === undefined) return
    for (const task of running.agent.tasks()) {
      const containerId = running.executor.containerOf(task.id) ?? task.status.containerStatus?.containerId
      if (containerId !== undefined && containerId !== '') yield { task, containerId }
    }
  }

  /**
   * Calls `listener` whenever {@link WorkerNode.tasks} may have changed (a task's container was
   * created or found, a task was removed, the node stopped); returns its removal. Listeners stay
   * across stop and start. A listener that throws is ignored.
   */
  onTasksChanged(listener: () => void): () => void {
    const wrapped = (): void => listener()
    this.#taskListeners.add(wrapped)
    return () => void this.#taskListeners.delete(wrapped)
  }

  #tasksChanged(): void {
    for (const listener of [...this.#taskListeners]) {
      try {
        listener()
      } catch (err) {
        this.#logger.warn('worker node: a tasks listener threw', { err: String(err) })
      }
    }
  }

  #serially(op: () => Promise<void>): Promise<void> {
    const next = this.#transition.then(op)
    this.#transition = next.catch(() => undefined)
    return next
  }

  async #start(): Promise<Running> {
    const init = this.#init
    const clock = init.clock ?? systemClock
    const { mesh, source: meshSource } = init.mesh === undefined ? { mesh: undefined, source: undefined } : newMesh(init.mesh, init.store, this.#logger)
    await mkdir(init.stateDir, { recursive: true, mode: 0o700 })
    const runtime = await openRuntime(checkRuntimeChoice(init.runtime ?? 'process'), init.stateDir, init.runtimeOptions ?? {}, clock)
    let agent: Agent | undefined
    try {
      const networking = init.networking === false ? undefined : this.#networking(init.networking ?? {}, runtime.runtime)
      const executor = this.#executor(runtime.runtime, networking, clock)
      agent = this.#agent(executor, clock)
      await agent.start()
      meshSource?.start()
      await mesh?.start()
      this.#logger.info('worker node: started', { stateDir: init.stateDir, runtime: runtime.kind })
      return { runtime, agent, executor, networking, mesh, meshSource }
    } catch (err) {
      await this.#stopParts({ runtime, agent, mesh, meshSource }).catch(() => undefined)
      throw err
    }
  }

  #networking(options: WorkerNetworkingOptions, runtime: ContainerRuntime): DriverTaskNetworking {
    return new DriverTaskNetworking({
      driver: options.driver ?? networkDriverFor(runtime, this.#init.nodeAddress ?? '127.0.0.1'),
      networks: options.networks ?? (this.#init.store === undefined ? new AttachmentNetworkSource() : new StoreNetworkSource(this.#init.store)),
      logger: this.#logger,
    })
  }

  #executor(runtime: ContainerRuntime, networking: DriverTaskNetworking | undefined, clock: Clock): NodeExecutor {
    const init = this.#init
    const inner = new RuntimeExecutor({
      runtime,
      clock,
      logger: this.#logger,
      ...(init.hostname === undefined ? {} : { hostname: init.hostname }),
      ...(init.platform === undefined ? {} : { platform: init.platform }),
      ...(init.resources === undefined ? {} : { resources: init.resources }),
      ...(init.engineLabels === undefined ? {} : { engineLabels: init.engineLabels }),
      ...(networking === undefined ? {} : { networking }),
    })
    const networkPlugins = networking === undefined || init.networking === false ? [] : (init.networking?.networkPlugins ?? DEFAULT_NETWORK_PLUGINS)
    return new NodeExecutor({ inner, networkPlugins, onChange: () => this.#tasksChanged() })
  }

  #agent(executor: NodeExecutor, clock: Clock): Agent {
    const init = this.#init
    return new Agent({
      dispatcher: init.dispatcher,
      executor,
      stateDir: init.stateDir,
      clock,
      random: init.random ?? cryptoRandom,
      logger: this.#logger,
      ...(init.managers === undefined ? {} : { managers: init.managers }),
      ...(init.rpcTimeoutMs === undefined ? {} : { rpcTimeoutMs: init.rpcTimeoutMs }),
      ...(init.descriptionCheckMs === undefined ? {} : { descriptionCheckMs: init.descriptionCheckMs }),
    })
  }

  /** Stops the mesh, the agent and the runtime it opened; every part is tried, the first error rethrown. */
  async #stopParts(running: Pick<Running, 'runtime' | 'mesh' | 'meshSource'> & { readonly agent: Agent | undefined }): Promise<void> {
    const errors: unknown[] = []
    const attempt = async (op: () => Promise<void>): Promise<void> => {
      try {
        await op()
      } catch (err) {
        errors.push(err)
      }
    }
    if (running.mesh !== undefined) await attempt(() => running.mesh?.stop() ?? Promise.resolve())
    if (running.meshSource !== undefined) await attempt(() => running.meshSource?.stop() ?? Promise.resolve())
    if (running.agent !== undefined) await attempt(() => running.agent?.stop() ?? Promise.resolve())
    await attempt(() => running.runtime.close())
    if (errors.length > 0) throw errors[0]
  }
}
