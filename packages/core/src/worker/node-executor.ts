/**
 * The worker's executor: the agent's `RuntimeExecutor` with the node's network plugins added to
 * its description, and the controllers it makes tracked so that the node knows each task's
 * container as soon as it exists (for the log publisher) and can say when that changes.
 *
 * The scheduler places a task on a network only on a node whose engine reports that network's
 * driver as a `Network` plugin (SwarmKit's plugin filter; Docker reports `overlay`, `bridge`, …);
 * the runtime executor reports only its `Runtime` plugin, so a worker with task networking says
 * here which cluster network drivers it serves.
 *
 * @module
 */
import type { ContainerStatus, NodeDescription, PortStatus, Task } from '@swarmkit-ts/api'
import type { TaskController, TaskDependencies, TaskExecutor } from '@swarmkit-ts/agent'

/** The network drivers a worker with task networking serves: the cluster's default (and ingress) driver. */
export const DEFAULT_NETWORK_PLUGINS: readonly string[] = ['overlay']

/** Construction options of {@link NodeExecutor}. */
export interface NodeExecutorInit {
  /** The executor that runs the tasks. */
  readonly inner: TaskExecutor
  /** Network driver names to report as `Network` plugins. @default [] */
  readonly networkPlugins?: readonly string[]
  /** Called after a task's container was created or found, and after a task's controller was removed or closed. */
  readonly onChange?: () => void
}

/**
 * A `TaskExecutor` whose node description also lists the network plugins, and which knows the
 * container of every task it has a controller for.
 */
export class NodeExecutor implements TaskExecutor {
  readonly #inner: TaskExecutor
  readonly #networkPlugins: readonly string[]
  readonly #onChange: () => void
  /** The latest controller of each task. */
  readonly #controllers = new Map<string, TaskController>()

  constructor(init: NodeExecutorInit) {
    this.#inner = init.inner
    this.#networkPlugins = [...(init.networkPlugins ?? [])]
    this.#onChange = init.onChange ?? ((): void => undefined)
  }

  async describe(): Promise<NodeDescription> {
    const d = await this.#inner.describe()
    if (this.#networkPlugins.length === 0 || d.engine === undefined) return d
    const plugins = [...(d.engine.plugins ?? [])]
    for (const name of this.#networkPlugins) {
      if (!plugins.some((p) => p.type === 'Network' && p.name === name)) plugins.push({ type: 'Network', name })
    }
    return { ...d, engine: { ...d.engine, plugins } }
  }

  controller(task: Task, deps: TaskDependencies): TaskController {
    const tracked = new TrackedController(this.#inner.controller(task, deps), task.id, {
      changed: () => this.#changed(),
      released: (id, ctlr) => {
        if (this.#controllers.get(id) === ctlr) this.#controllers.delete(id)
        this.#changed()
      },
    })
    this.#controllers.set(task.id, tracked)
    return tracked
  }

  /** The id of task `taskId`'s container, once its controller created or found it. */
  containerOf(taskId: string): string | undefined {
    return this.#controllers.get(taskId)?.containerStatus()?.containerId
  }

  #changed(): void {
    try {
      this.#onChange()
    } catch {
      // A listener's failure is its own; the task goes on.
    }
  }
}

/** What a {@link TrackedController} tells its executor. */
interface TrackedHooks {
  changed(): void
  released(taskId: string, ctlr: TaskController): void
}

/** A controller that tells its executor when its container appears and when it is released. */
class TrackedController implements TaskController {
  readonly #inner: TaskController
  readonly #taskId: string
  readonly #hooks: TrackedHooks

  constructor(inner: TaskController, taskId: string, hooks: TrackedHooks) {
    this.#inner = inner
    this.#taskId = taskId
    this.#hooks = hooks
  }

  update(task: Task): void {
    this.#inner.update(task)
  }

  async prepare(signal: AbortSignal): Promise<void> {
    await this.#inner.prepare(signal)
    this.#hooks.changed()
  }

  start(signal: AbortSignal): Promise<void> {
    return this.#inner.start(signal)
  }

  wait(signal: AbortSignal): Promise<void> {
    return this.#inner.wait(signal)
  }

  shutdown(signal: AbortSignal): Promise<void> {
    return this.#inner.shutdown(signal)
  }

  terminate(): Promise<void> {
    return this.#inner.terminate()
  }

  async remove(): Promise<void> {
    await this.#inner.remove()
    this.#hooks.released(this.#taskId, this)
  }

  close(): void {
    this.#inner.close()
    this.#hooks.released(this.#taskId, this)
  }

  containerStatus(): ContainerStatus | undefined {
    return this.#inner.containerStatus()
  }

  portStatus(): PortStatus | undefined {
    return this.#inner.portStatus?.()
  }
}
