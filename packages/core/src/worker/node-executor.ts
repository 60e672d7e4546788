/**
 * The worker's executor: the agent's `RuntimeExecutor` with the node's network plugins added to
 * its description. The scheduler places a task on a network only on a node whose engine reports
 * that network's driver as a `Network` plugin (SwarmKit's plugin filter; Docker reports
 * `overlay`, `bridge`, …); the runtime executor reports only its `Runtime` plugin, so a worker
 * with task networking says here which cluster network drivers it serves.
 *
 * @module
 */
import type { NodeDescription, Task } from '@swarmkit-ts/api'
import type { TaskController, TaskDependencies, TaskExecutor } from '@swarmkit-ts/agent'

/** The network drivers a worker with task networking serves: the cluster's default (and ingress) driver. */
export const DEFAULT_NETWORK_PLUGINS: readonly string[] = ['overlay']

/** A `TaskExecutor` whose node description also lists `networkPlugins` as `Network` plugins. */
export class NodeExecutor implements TaskExecutor {
  readonly #inner: TaskExecutor
  readonly #networkPlugins: readonly string[]

  /** @param inner - the executor that runs the tasks. @param networkPlugins - network driver names to report. */
  constructor(inner: TaskExecutor, networkPlugins: readonly string[]) {
    this.#inner = inner
    this.#networkPlugins = [...networkPlugins]
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
    return this.#inner.controller(task, deps)
  }
}
