/**
 * One member's attachment to a {@link MemoryNetwork}: the transport the member's driver uses.
 */
import { FailedPreconditionError } from '@swarmkit-ts/api'
import type { MemoryEndpointHandlers, NetworkMessage } from './memory-network-types.ts'

/** Where an endpoint is in its life. */
export const EndpointState = {
  /** Created, not started: it neither sends nor receives. */
  created: 'created',
  /** Started: it sends and receives. */
  running: 'running',
  /** Stopped: no handler is called again. */
  stopped: 'stopped',
  /** A newer endpoint for the same id took over (the process restarted): it is dead. */
  replaced: 'replaced',
} as const
/** Where an endpoint is in its life. */
export type EndpointState = (typeof EndpointState)[keyof typeof EndpointState]

/**
 * A member's transport on a {@link MemoryNetwork}, from {@link MemoryNetwork.endpoint}. It has the
 * shape of `@swarmkit-ts/raft`'s `RaftTransport`, so a `MemoryEndpoint<Message>` can be given to a
 * Raft node as is.
 *
 * Only a running endpoint sends: `send` before `start`, after `stop`, or on an endpoint that a
 * newer one for the same id replaced, is ignored. Handlers are only ever called from clock timers.
 */
export interface MemoryEndpoint<M extends NetworkMessage = NetworkMessage> {
  /** The member this endpoint belongs to. */
  readonly id: bigint
  /** The address the endpoint tells receivers (see {@link MessageOrigin}), if it was given one. */
  readonly address: string | undefined
  /** Where the endpoint is in its life. */
  readonly state: EndpointState
  /**
   * Starts receiving. Rejects with `FailedPreconditionError` (reason `endpoint-<state>`) when
   * called twice, after `stop`, or once a newer endpoint for the same id exists.
   */
  start(handlers: MemoryEndpointHandlers<M>): Promise<void>
  /**
   * Queues messages for delivery by clock timers; never delivers synchronously and never throws
   * for a peer that is down or unknown. A message's `from` may name another member (a relayed
   * message): it travels on this endpoint's links all the same.
   */
  send(messages: readonly M[]): void
  /** Records the address of a member (the network needs none; see `strictPeers`). */
  addPeer(id: bigint, address: string): void
  /** Forgets a member; messages to it still in flight are dropped. */
  removePeer(id: bigint): void
  /** The members added with `addPeer`, with their addresses. */
  peers(): ReadonlyMap<bigint, string>
  /** Stops sending and receiving; no handler is called after this. Messages already sent stay in flight. */
  stop(): Promise<void>
}

/** What the network sees of an endpoint. Internal to the package. */
export interface EndpointControl<M extends NetworkMessage> {
  readonly endpoint: MemoryEndpoint<M>
  /** The handlers, while the endpoint is running. */
  handlers(): MemoryEndpointHandlers<M> | undefined
  /** Bumped by `removePeer(to)`, so that messages in flight to `to` are dropped. */
  generation(to: bigint): number
  /** Whether `addPeer(to)` was called (and not undone by `removePeer`). */
  hasPeer(to: bigint): boolean
  /** Virtual time of the last `unreachable(to)` report, to report once per instant. */
  readonly lastUnreachable: Map<bigint, number>
}

/** The network side of an endpoint. Internal to the package. */
export interface EndpointHost<M extends NetworkMessage> {
  /** Makes `control` the current endpoint of its id. */
  attach(control: EndpointControl<M>): void
  /** Whether `control` is still the current endpoint of its id. */
  isCurrent(control: EndpointControl<M>): boolean
  /** Puts messages on the wire. */
  transmit(control: EndpointControl<M>, messages: readonly M[]): void
}

/** The implementation of {@link MemoryEndpoint}. Internal to the package. */
export class MemoryEndpointImpl<M extends NetworkMessage> implements MemoryEndpoint<M> {
  readonly id: bigint
  readonly address: string | undefined
  readonly #host: EndpointHost<M>
  readonly #control: EndpointControl<M>
  #handlers: MemoryEndpointHandlers<M> | undefined
  #stopped = false
  readonly #peers = new Map<bigint, string>()
  readonly #generations = new Map<bigint, number>()

  constructor(id: bigint, host: EndpointHost<M>, address?: string) {
    this.id = id
    this.address = address
    this.#host = host
    this.#control = {
      endpoint: this,
      handlers: () => (this.state === EndpointState.running ? this.#handlers : undefined),
      generation: (to) => this.#generations.get(to) ?? 0,
      hasPeer: (to) => this.#peers.has(to),
      lastUnreachable: new Map(),
    }
    host.attach(this.#control)
  }

  get state(): EndpointState {
    if (!this.#host.isCurrent(this.#control)) return EndpointState.replaced
    if (this.#stopped) return EndpointState.stopped
    return this.#handlers === undefined ? EndpointState.created : EndpointState.running
  }

  start(handlers: MemoryEndpointHandlers<M>): Promise<void> {
    const state = this.state
    if (state !== EndpointState.created) {
      return Promise.reject(new FailedPreconditionError(`endpoint ${this.id} cannot start: it is ${state}`, { reason: `endpoint-${state}` }))
    }
    this.#handlers = handlers
    return Promise.resolve()
  }

  send(messages: readonly M[]): void {
    if (this.state !== EndpointState.running) return
    this.#host.transmit(this.#control, messages)
  }

  addPeer(id: bigint, address: string): void {
    this.#peers.set(id, address)
  }

  removePeer(id: bigint): void {
    this.#peers.delete(id)
    this.#generations.set(id, (this.#generations.get(id) ?? 0) + 1)
  }

  peers(): ReadonlyMap<bigint, string> {
    return new Map(this.#peers)
  }

  stop(): Promise<void> {
    this.#stopped = true
    return Promise.resolve()
  }
}
