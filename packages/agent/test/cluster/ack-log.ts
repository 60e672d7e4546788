/**
 * The statuses the dispatcher acknowledged to each agent: a `DispatcherApi` wrapper, placed
 * between an agent and its link, that records every update of an `updateTaskStatus` call that
 * resolved. The cluster's invariant is that each of them is in the store (or a later one),
 * once the cluster has settled.
 *
 * @module
 */
import type { DispatcherApi, TaskStatus } from '@swarmkit-ts/api'

/** The highest status acknowledged for one task. */
export interface AckedStatus {
  readonly nodeId: string
  readonly taskId: string
  readonly status: TaskStatus
}

/** Records acknowledged status updates (see the module doc). */
export class AckLog {
  readonly #acked = new Map<string, AckedStatus>()
  #calls = 0

  /** Number of `updateTaskStatus` calls that resolved. */
  get calls(): number {
    return this.#calls
  }

  /** `api` for node `nodeId`, recording what it acknowledges. */
  wrap(nodeId: string, api: DispatcherApi): DispatcherApi {
    return {
      session: (request, options) => api.session(request, options),
      heartbeat: (request) => api.heartbeat(request),
      assignments: (request, options) => api.assignments(request, options),
      updateTaskStatus: async (request) => {
        await api.updateTaskStatus(request)
        this.#calls++
        for (const u of request.updates) {
          const prev = this.#acked.get(u.taskId)
          if (prev === undefined || prev.status.state <= u.status.state) this.#acked.set(u.taskId, { nodeId, taskId: u.taskId, status: u.status })
        }
      },
    }
  }

  /** Every task's highest acknowledged status. */
  entries(): AckedStatus[] {
    return [...this.#acked.values()]
  }
}
