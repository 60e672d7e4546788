/**
 * The dispatcher: the leader's side of every worker's session (SwarmKit's
 * `manager/dispatcher`). It registers nodes and keeps their sessions alive with heartbeats,
 * streams each node its assignments, and writes the task statuses agents report back — pure
 * on the store, with an injected `Clock` and `Random`, started on the leader only.
 *
 * @module
 */
import { FailedPreconditionError, InvalidArgumentError, NotLeaderError, isId, silentLogger } from '@swarmkit-ts/api'
import type {
  AssignmentsMessage,
  Clock,
  DispatcherApi,
  DispatcherStreamOptions,
  HeartbeatRequest,
  HeartbeatResponse,
  Logger,
  Random,
  SessionMessage,
  SessionRequest,
  UpdateTaskStatusRequest,
} from '@swarmkit-ts/api'
import type { MemoryStore } from '@swarmkit-ts/store'
import { resolveDispatcherConfig } from './config.ts'
import type { DispatcherConfig, ResolvedDispatcherConfig } from './config.ts'
import { DispatcherTerm } from './term.ts'

/** Construction options of {@link Dispatcher}. */
export interface DispatcherInit {
  /** The store (the Raft leader's, in a cluster). */
  readonly store: MemoryStore
  /** Time for heartbeats, batching and timestamps. */
  readonly clock: Clock
  /** Randomness for session ids and heartbeat jitter. */
  readonly random: Random
  /** Where the dispatcher reports; silent by default. */
  readonly logger?: Logger
  /** Settings (heartbeat period, manager list, own node id). */
  readonly config?: DispatcherConfig
}

/** A running dispatcher. */
export interface DispatcherHandle {
  /**
   * Stops (leadership lost): queued status updates are written, every open stream fails with
   * `NotLeaderError`, every timer is cancelled; resolves once no write is in flight. Idempotent.
   */
  stop(): Promise<void>
}

/** What the binding knows of the caller beyond its node id. */
export interface NodeApiOptions {
  /** The address the node connects from, stored as its `status.addr`. */
  readonly addr?: string
}

/**
 * The dispatcher (see the module doc). `start()` begins a leader term; `api(nodeId)` is the
 * {@link DispatcherApi} for one node, valid across terms: while the dispatcher is not running
 * every call rejects with `NotLeaderError`.
 */
export class Dispatcher {
  readonly #store: MemoryStore
  readonly #clock: Clock
  readonly #random: Random
  readonly #logger: Logger
  readonly #config: ResolvedDispatcherConfig
  #term: DispatcherTerm | undefined

  constructor(init: DispatcherInit) {
    const period = init.config?.heartbeatPeriodMs
    if (period !== undefined && (!Number.isSafeInteger(period) || period <= 0)) {
      throw new InvalidArgumentError('config.heartbeatPeriodMs', `must be a positive integer of milliseconds, got ${String(period)}`)
    }
    if (init.config?.nodeId !== undefined && init.config.nodeId === '') throw new InvalidArgumentError('config.nodeId', 'must not be empty')
    this.#store = init.store
    this.#clock = init.clock
    this.#random = init.random
    this.#logger = init.logger ?? silentLogger
    this.#config = resolveDispatcherConfig(init.config)
  }

  /** Whether a term is running. */
  get running(): boolean {
    return this.#term !== undefined
  }

  /**
   * Starts a leader term (`FailedPreconditionError` if running): every known node becomes
   * UNKNOWN until it registers (DOWN after 6 heartbeat periods without). After `stop()` it may
   * start again, as a new leader term would.
   */
  start(): DispatcherHandle {
    if (this.#term !== undefined) throw new FailedPreconditionError('the dispatcher is already running')
    const term = new DispatcherTerm({ store: this.#store, clock: this.#clock, random: this.#random, logger: this.#logger, config: this.#config })
    this.#term = term
    try {
      term.start()
    } catch (err) {
      this.#term = undefined
      void term.stop()
      throw err
    }
    return {
      stop: async () => {
        await term.stop()
        if (this.#term === term) this.#term = undefined
      },
    }
  }

  /** The {@link DispatcherApi} of node `nodeId` (the identity the binding authenticated). */
  api(nodeId: string, options: NodeApiOptions = {}): DispatcherApi {
    if (!isId(nodeId)) throw new InvalidArgumentError('nodeId', 'must be a 25-character base36 id')
    const addr = options.addr
    return {
      session: (request, opts) => this.#session(nodeId, addr, request, opts),
      heartbeat: (request) => this.#heartbeat(nodeId, request),
      assignments: (request, opts) => this.#assignments(nodeId, request, opts),
      updateTaskStatus: (request) => this.#updateTaskStatus(nodeId, request),
    }
  }

  /**
   * Tells the dispatcher that `config.managers()` now answers a different list: every live
   * session gets a message carrying it. A no-op while not running.
   */
  managersChanged(): void {
    const term = this.#term
    if (term !== undefined && !term.stopped) term.sessions.broadcast()
  }

  #current(): DispatcherTerm {
    const term = this.#term
    if (term === undefined || term.stopped) throw new NotLeaderError({ message: 'the dispatcher is not running: not the leader' })
    return term
  }

  async *#session(nodeId: string, addr: string | undefined, request: SessionRequest, options?: DispatcherStreamOptions): AsyncGenerator<SessionMessage, void, undefined> {
    const term = this.#current()
    if (typeof request !== 'object' || request === null || typeof request.description !== 'object' || request.description === null) {
      throw new InvalidArgumentError('description', 'a session request needs the node description')
    }
    if (request.sessionId !== undefined && typeof request.sessionId !== 'string') throw new InvalidArgumentError('sessionId', 'must be a string')
    const signal = options?.signal
    if (aborted(signal)) return
    const session = await term.sessions.register(nodeId, request, addr)
    const onAbort = (): void => session.channel.end()
    signal?.addEventListener('abort', onAbort, { once: true })
    // Aborted while the registration was being written.
    if (aborted(signal)) onAbort()
    try {
      yield* session.channel
    } finally {
      signal?.removeEventListener('abort', onAbort)
      term.sessions.streamEnded(session)
    }
  }

  #heartbeat(nodeId: string, request: HeartbeatRequest): Promise<HeartbeatResponse> {
    return settle(() => {
      const term = this.#current()
      checkSessionId(request)
      return term.sessions.heartbeat(nodeId, request.sessionId)
    })
  }

  async *#assignments(nodeId: string, request: { readonly sessionId: string }, options?: DispatcherStreamOptions): AsyncGenerator<AssignmentsMessage, void, undefined> {
    const term = this.#current()
    checkSessionId(request)
    term.sessions.check(nodeId, request.sessionId)
    const signal = options?.signal
    if (aborted(signal)) return
    const stream = term.hub.open(nodeId, request.sessionId)
    const onAbort = (): void => term.hub.detach(stream)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      yield* stream.channel
    } finally {
      signal?.removeEventListener('abort', onAbort)
      term.hub.detach(stream)
    }
  }

  #updateTaskStatus(nodeId: string, request: UpdateTaskStatusRequest): Promise<void> {
    return settle(() => {
      const term = this.#current()
      checkSessionId(request)
      if (!Array.isArray(request.updates)) throw new InvalidArgumentError('updates', 'must be an array')
      term.sessions.check(nodeId, request.sessionId)
      term.status.enqueue(nodeId, request.updates)
    })
  }
}

function checkSessionId(request: { readonly sessionId: string }): void {
  if (typeof request !== 'object' || request === null || typeof request.sessionId !== 'string') {
    throw new InvalidArgumentError('sessionId', 'must be a string')
  }
}

/** Runs `fn` now; its result or its throw as a promise. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn()))
}

/** Whether `signal` is aborted (a call, so that no earlier check narrows it). */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}
