/**
 * {@link RuntimeExecutor}: SwarmKit's `exec.Executor` over any `ContainerRuntime`.
 */
import { arch, availableParallelism, hostname as osHostname, platform as osPlatform, totalmem } from 'node:os'
import { silentLogger, type Logger, type NodeDescription, type Platform, type Resources, type Task, type Clock } from '@swarmkit-ts/api'
import type { ContainerRuntime, RuntimeCapabilities } from '@swarmkit-ts/engine-adapter'
import type { TaskController, TaskDependencies } from './controller.ts'
import type { TaskNetworking } from './networking.ts'
import { ContainerIndex } from './container-index.ts'
import { RuntimeTaskController, type RuntimeTaskControllerInit } from './runtime-controller.ts'

/** Construction options of {@link RuntimeExecutor}. */
export interface RuntimeExecutorInit {
  /** The engine tasks run on. */
  runtime: ContainerRuntime
  /** Time (for the executor's own timers; `doStep` takes its clock in its context). */
  clock: Clock
  /** @default silentLogger */
  logger?: Logger
  /** The node's hostname in its description. @default os.hostname() */
  hostname?: string
  /** The node's platform. @default this host's, named as Docker does (`linux`, `x86_64`/`aarch64`) */
  platform?: Platform
  /**
   * The node's resources. @default this host's CPUs (×1e9 nano-CPUs) and memory; `generic` are
   * the node's generic resources (Docker's `node-generic-resources`), none by default.
   */
  resources?: Resources
  /** The engine's labels in the node description (`engine.labels.*` in constraints). @default none */
  engineLabels?: Readonly<Record<string, string>>
  /** The tasks' networks and published ports. @default none: tasks use the runtime's default network */
  networking?: TaskNetworking
}

/** Node's architecture names as `uname -m` (and so Docker) reports them. */
const ARCH_NAMES: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ia32: 'i386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }

/**
 * Runs tasks on a `ContainerRuntime` (SwarmKit's `exec.Executor`): describes the node and makes a
 * {@link TaskController} per task. Its only per-task state is a {@link ContainerIndex} (task →
 * container) learnt from one `list()` of the runtime: a controller finds its task's container
 * there, so a new executor (after a restart) adopts the containers of the old one.
 */
export class RuntimeExecutor {
  readonly #init: RuntimeExecutorInit
  readonly #logger: Logger
  #capabilities: Promise<RuntimeCapabilities> | undefined
  readonly #index: ContainerIndex
  readonly #capabilitiesOf = (): Promise<RuntimeCapabilities> => this.#runtimeCapabilities()
  /**
   * The controllers' init when it is the same for every task (the same dependencies, and a
   * logger whose child is itself, like the silent one): one object for all, not one per task.
   */
  #shared: RuntimeTaskControllerInit | undefined

  constructor(init: RuntimeExecutorInit) {
    this.#init = init
    this.#logger = init.logger ?? silentLogger
    this.#index = new ContainerIndex(init.runtime)
  }

  /** The runtime this executor drives. */
  get runtime(): ContainerRuntime {
    return this.#init.runtime
  }

  /** NodeDescription from the runtime's `describe()` (engine version, `runtime` plugin) and the host (hostname, platform, resources). */
  async describe(): Promise<NodeDescription> {
    const d = await this.#init.runtime.describe()
    const platform: Platform = this.#init.platform ?? { os: osPlatform(), architecture: ARCH_NAMES[arch()] ?? arch() }
    const resources: Resources = this.#init.resources ?? { nanoCpus: availableParallelism() * 1e9, memoryBytes: totalmem() }
    return {
      hostname: this.#init.hostname ?? osHostname(),
      platform,
      resources,
      engine: { engineVersion: d.version, labels: { ...(this.#init.engineLabels ?? {}) }, plugins: [{ type: 'Runtime', name: d.name }] },
    }
  }

  /** The controller of `task`; it finds an existing container of the task (label) and adopts it. */
  controller(task: Task, deps: TaskDependencies): TaskController {
    const logger = this.#logger.child({ taskId: task.id })
    const shared = this.#shared
    if (shared?.deps === deps && shared.logger === logger) return new RuntimeTaskController(task, shared)
    const init: RuntimeTaskControllerInit = { runtime: this.#init.runtime, capabilities: this.#capabilitiesOf, deps, logger, networking: this.#init.networking, index: this.#index }
    if (logger === this.#logger) this.#shared = init
    return new RuntimeTaskController(task, init)
  }

  #runtimeCapabilities(): Promise<RuntimeCapabilities> {
    this.#capabilities ??= this.#init.runtime.describe().then(
      (d) => d.capabilities,
      (err: unknown) => {
        this.#capabilities = undefined
        throw err
      },
    )
    return this.#capabilities
  }
}
