/**
 * {@link ContainerIndex}: which container runs which task on one runtime, learnt from a single
 * `list()` and kept up to date by the controllers, so that preparing a task does not ask the
 * runtime for every container of the node again (a `list` per task is quadratic on a busy node,
 * and an HTTP round trip per task on Docker).
 */
import type { ContainerInfo, ContainerRuntime } from '@swarmkit-ts/engine-adapter'
import { TASK_ID_LABEL } from './task-spec.ts'

/** The oldest of two containers of one task (several only when an older agent raced): the one that may be running. */
function older(a: ContainerInfo, b: ContainerInfo): ContainerInfo {
  return a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id) ? a : b
}

/**
 * Task id → container id of one runtime. The first {@link ContainerIndex.lookup} lists every
 * container once (adopting what an earlier agent left); controllers then report the containers
 * they create and remove. A container created meanwhile by someone else (another agent on the
 * same engine) is not seen here: the create of a duplicate fails on the container's name, and
 * the controller then asks the runtime directly.
 */
export class ContainerIndex {
  readonly #runtime: ContainerRuntime
  #byTask: Promise<Map<string, string>> | undefined

  constructor(runtime: ContainerRuntime) {
    this.#runtime = runtime
  }

  /** The id of the container of `taskId` as far as this index knows, or undefined. */
  async lookup(taskId: string): Promise<string | undefined> {
    return (await this.#load()).get(taskId)
  }

  /**
   * Records the container a controller created (or adopted) for `taskId`. Before the first
   * lookup there is nothing to update: the listing, when it comes, sees the container itself.
   */
  created(taskId: string, containerId: string): void {
    void this.#byTask?.then((m) => void m.set(taskId, containerId), () => undefined)
  }

  /** Forgets the container of `taskId` (removed, or gone); nothing to do before the first lookup. */
  removed(taskId: string, containerId: string): void {
    void this.#byTask?.then((m) => {
      if (m.get(taskId) === containerId) m.delete(taskId)
    }, () => undefined)
  }

  #load(): Promise<Map<string, string>> {
    this.#byTask ??= this.#runtime.list().then(
      (all) => {
        const oldest = new Map<string, ContainerInfo>()
        for (const c of all) {
          const taskId = c.labels[TASK_ID_LABEL]
          if (taskId === undefined) continue
          const seen = oldest.get(taskId)
          oldest.set(taskId, seen === undefined ? c : older(seen, c))
        }
        return new Map([...oldest].map(([taskId, c]) => [taskId, c.id]))
      },
      (err: unknown) => {
        this.#byTask = undefined // a failed listing is tried again by the next lookup
        throw err
      },
    )
    return this.#byTask
  }
}
