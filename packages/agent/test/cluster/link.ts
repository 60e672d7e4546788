/**
 * A node's link to the dispatcher: the `DispatcherApi` its agent is given, counting what
 * crosses it (so that `settle` sees progress that has not reached the store yet).
 *
 * @module
 */
import type { DispatcherApi } from '@swarmkit-ts/api'

/** The faults of a link (none yet beyond what {@link DispatcherLink} counts). */
export type LinkFaults = Record<string, never>

/** Counts each message of `source` with `count`. */
async function* counted<T>(source: AsyncIterable<T>, count: () => void): AsyncGenerator<T> {
  for await (const m of source) {
    count()
    yield m
  }
}

/** See the module doc. */
export class DispatcherLink {
  readonly #target: () => DispatcherApi
  #traffic = 0

  /** @param target - the node's dispatcher api (asked for on every call: a new leader term gives a new one). */
  constructor(target: () => DispatcherApi) {
    this.#target = target
  }

  /** Calls made and stream messages received through the link. */
  get traffic(): number {
    return this.#traffic
  }

  /** The api the node's agent uses. */
  api(): DispatcherApi {
    const count = (): void => void this.#traffic++
    return {
      session: (request, options) => {
        count()
        return counted(this.#target().session(request, options), count)
      },
      heartbeat: async (request) => {
        count()
        const r = await this.#target().heartbeat(request)
        count()
        return r
      },
      assignments: (request, options) => {
        count()
        return counted(this.#target().assignments(request, options), count)
      },
      updateTaskStatus: async (request) => {
        count()
        await this.#target().updateTaskStatus(request)
        count()
      },
    }
  }
}
