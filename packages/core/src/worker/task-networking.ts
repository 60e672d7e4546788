/**
 * {@link DriverTaskNetworking}: the agent's `TaskNetworking` seam over a network package
 * `NetworkDriver` — a task's networks are created on the node when its first task needs them,
 * its container spec gets its attachments and published ports, its running container's node
 * ports become its `status.portStatus`, and a network no task of this node uses any more is
 * removed from the node.
 *
 * @module
 */
import { FailedPreconditionError, silentLogger } from '@swarmkit-ts/api'
import type { Logger, PortStatus, Task } from '@swarmkit-ts/api'
import type { TaskNetworking } from '@swarmkit-ts/agent'
import type { ContainerInfo, RuntimeContainerSpec } from '@swarmkit-ts/engine-adapter'
import { taskNetworkRequestOf, toPortStatus, withTaskNetwork } from '@swarmkit-ts/network'
import type { NetworkDriver, TaskNetworkConfig } from '@swarmkit-ts/network'
import type { TaskNetworkSource } from './network-source.ts'

/** Construction options of {@link DriverTaskNetworking}. */
export interface DriverTaskNetworkingInit {
  /** The node's data plane (`ProcessNetworkDriver`, `DockerNetworkDriver`, or an embedder's). */
  readonly driver: NetworkDriver
  /** Where the networks of the tasks' attachments are described. */
  readonly networks: TaskNetworkSource
  /** @default silentLogger */
  readonly logger?: Logger
}

/**
 * A `TaskNetworking` over a `NetworkDriver`, keeping the driver's obligations in order: a
 * network is created (idempotently) before a task is prepared on it, and removed only once every
 * task this instance prepared on it was released. Network operations on one network id run one
 * at a time, so a removal never races a task being prepared on the same network.
 *
 * Tasks adopted after a restart were prepared by an earlier instance: the first `portStatus` of
 * such a task (its controller asks once the container runs) takes it on — its networks count as
 * used until it is released. A removal the driver refuses anyway (`network-in-use`, or a Docker
 * network with containers) is logged and left for later.
 */
export class DriverTaskNetworking implements TaskNetworking {
  readonly #driver: NetworkDriver
  readonly #source: TaskNetworkSource
  readonly #logger: Logger
  /** Network ids of each task prepared and not yet released. */
  readonly #tasks = new Map<string, readonly string[]>()
  /** The tail of each network's operation chain. */
  readonly #chains = new Map<string, Promise<unknown>>()

  constructor(init: DriverTaskNetworkingInit) {
    this.#driver = init.driver
    this.#source = init.networks
    this.#logger = init.logger ?? silentLogger
  }

  /** The ids of the tasks prepared and not released, each with its networks (for tests and diagnostics). */
  preparedTasks(): ReadonlyMap<string, readonly string[]> {
    return new Map(this.#tasks)
  }

  async prepareTask(task: Task, spec: RuntimeContainerSpec, signal: AbortSignal): Promise<RuntimeContainerSpec> {
    const request = taskNetworkRequestOf(task)
    const networks = request.attachments.map((a) => this.#source.network(a, task))
    const previous = this.#tasks.get(task.id) ?? []
    // Counted as a user first, so that a release of another task cannot remove these networks meanwhile.
    this.#tasks.set(task.id, networks.map((n) => n.id))
    let config: TaskNetworkConfig
    try {
      for (const network of networks) {
        signal.throwIfAborted()
        await this.#serial(network.id, () => this.#driver.createNetwork(network))
      }
      signal.throwIfAborted()
      config = await this.#driver.prepareTask(request)
    } catch (err) {
      await this.releaseTask(task.id)
      throw err
    }
    // A task prepared again replaces its earlier preparation: networks only that one used go.
    await this.#prune(previous)
    return withTaskNetwork(spec, config)
  }

  async portStatus(task: Task, container: ContainerInfo): Promise<PortStatus | undefined> {
    if (!this.#tasks.has(task.id)) await this.#adopt(task)
    const request = taskNetworkRequestOf(task)
    if (request.ports.length === 0) return undefined
    const ports = toPortStatus(await this.#driver.taskEndpoints(request, container))
    return ports.length === 0 ? undefined : { ports }
  }

  async releaseTask(taskId: string): Promise<void> {
    await this.#driver.releaseTask(taskId)
    const networks = this.#tasks.get(taskId)
    this.#tasks.delete(taskId)
    await this.#prune(networks ?? [])
  }

  /** Removes each of `networkIds` that no prepared task uses. */
  async #prune(networkIds: readonly string[]): Promise<void> {
    for (const id of networkIds) await this.#serial(id, () => this.#removeIfUnused(id))
  }

  /**
   * Takes on a task whose container an earlier instance prepared (a restarted node adopting it):
   * its networks count as used, and are made known to the driver (idempotent create), so that they
   * are removed only after this task is released. A network that cannot be described is logged.
   */
  async #adopt(task: Task): Promise<void> {
    const attachments = task.networks ?? []
    // Counted as a user first, as in prepareTask.
    this.#tasks.set(task.id, attachments.map((a) => a.networkId))
    for (const attachment of attachments) {
      try {
        const network = this.#source.network(attachment, task)
        await this.#serial(network.id, () => this.#driver.createNetwork(network))
      } catch (err) {
        this.#logger.warn('worker networking: an adopted task\'s network could not be made known to the driver', { taskId: task.id, networkId: attachment.networkId, err: String(err) })
      }
    }
  }

  async #removeIfUnused(networkId: string): Promise<void> {
    for (const used of this.#tasks.values()) if (used.includes(networkId)) return
    try {
      await this.#driver.removeNetwork(networkId)
    } catch (err) {
      if (err instanceof FailedPreconditionError && err.reason === 'network-in-use') return
      this.#logger.warn('worker networking: could not remove an unused network', { networkId, err: String(err) })
    }
  }

  /** Runs `op` after every earlier operation on `networkId` settled. */
  #serial<T>(networkId: string, op: () => Promise<T>): Promise<T> {
    const before = this.#chains.get(networkId) ?? Promise.resolve()
    const result = before.then(op, op)
    const tail = result.then(
      () => undefined,
      () => undefined,
    )
    this.#chains.set(networkId, tail)
    void tail.then(() => {
      if (this.#chains.get(networkId) === tail) this.#chains.delete(networkId)
    })
    return result
  }
}
