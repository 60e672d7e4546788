/**
 * A node's link to the dispatcher: `inProcessDispatcher` from testkit (every message through the
 * wire codec, errors as gRPC statuses) with seeded faults on the cluster's clock — lost and
 * delayed calls and messages, a cut connection — and what crossed it, so that `settle` sees
 * progress that has not reached the store yet.
 *
 * @module
 */
import type { DispatcherApi, DispatcherStreamOptions } from '@swarmkit-ts/api'
import { SeededRandom, inProcessDispatcher } from '@swarmkit-ts/testkit'
import type { DispatcherBinding, ManualClock } from '@swarmkit-ts/testkit'

/** The faults a test puts on a link. */
export interface LinkFaults {
  /** Probability in [0, 1] that a call or a stream message is lost. */
  readonly dropRate: number
  /** Transit time of each call and message, drawn in [0, delayMs]. */
  readonly delayMs: number
}

/**
 * Opens `open`'s stream with a signal of its own, passing the caller's cancellation on unless
 * `held()` — a connection gone half-open: the caller is gone, the server's stream stays.
 */
function holdable<M>(open: (options: DispatcherStreamOptions) => AsyncIterable<M>, options: DispatcherStreamOptions | undefined, held: () => boolean): AsyncIterable<M> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<M> {
      const inner = new AbortController()
      const cancel = (): void => {
        if (!held()) inner.abort()
      }
      if (options?.signal?.aborted === true) cancel()
      options?.signal?.addEventListener('abort', cancel, { once: true })
      const it = open({ signal: inner.signal })[Symbol.asyncIterator]()
      return {
        next: () => it.next(),
        return: async (): Promise<IteratorResult<M>> => {
          options?.signal?.removeEventListener('abort', cancel)
          if (!held()) {
            inner.abort()
            await it.return?.()
          }
          return { done: true, value: undefined }
        },
      }
    },
  }
}

/** See the module doc. */
export class DispatcherLink {
  readonly #binding: DispatcherBinding
  readonly #api: DispatcherApi
  #heartbeats = 0
  #halfOpen = false

  /**
   * @param target - the node's dispatcher api
   * @param seed - the seed of the link's own fault draws (apart from the cluster's random, so
   *   that faults do not shift the ids the cluster draws)
   */
  constructor(target: DispatcherApi, clock: ManualClock, seed: number) {
    const held = (): boolean => this.#halfOpen
    const server: DispatcherApi = {
      session: (request, options) => holdable((o) => target.session(request, o), options, held),
      heartbeat: (request) => target.heartbeat(request),
      assignments: (request, options) => holdable((o) => target.assignments(request, o), options, held),
      updateTaskStatus: (request) => target.updateTaskStatus(request),
    }
    const binding = inProcessDispatcher(server, { clock, random: new SeededRandom(seed) })
    this.#binding = binding
    this.#api = {
      session: (request, options) => binding.session(request, options),
      heartbeat: (request) => {
        this.#heartbeats++
        return binding.heartbeat(request)
      },
      assignments: (request, options) => binding.assignments(request, options),
      updateTaskStatus: (request) => binding.updateTaskStatus(request),
    }
  }

  /** Heartbeats sent through the link. */
  get heartbeats(): number {
    return this.#heartbeats
  }

  /** Calls, stream messages and losses so far. */
  get traffic(): number {
    const s = this.#binding.faults.stats
    return s.calls + s.messages + s.dropped
  }

  /** The api the node's agent uses. */
  api(): DispatcherApi {
    return this.#api
  }

  /** Puts faults on the link (replacing the previous ones). */
  setFaults(faults: LinkFaults): void {
    this.#binding.faults.set({ drop: faults.dropRate, delayMs: [0, faults.delayMs] })
  }

  /** Cuts the connection: open streams and calls in flight fail, new ones too, until {@link heal}. */
  disconnect(): void {
    this.#binding.faults.disconnect()
  }

  /**
   * While `on`, the streams the agent ends stay open on the dispatcher's side, as over a
   * connection whose far end died without a word (a machine crash): the node then stops
   * heartbeating without its session ending, and goes DOWN. Off, an ended stream ends the
   * session (an agent process that exited: DISCONNECTED).
   */
  halfOpen(on: boolean): void {
    this.#halfOpen = on
  }

  /** No faults and the connection up. */
  heal(): void {
    this.#binding.faults.set({})
    if (!this.#binding.faults.connected) this.#binding.faults.reconnect()
  }
}
