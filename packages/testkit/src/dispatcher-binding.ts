/**
 * {@link inProcessDispatcher}: a `DispatcherApi` bound in process to another one (the
 * dispatcher's `api(nodeId)`), as if over the network — every request, response and stream
 * message crosses the wire codec (dispatcher.proto) and every error crosses as a gRPC status —
 * with seeded faults on the test's clock: delays, lost calls and messages, and a connection that
 * can be cut and restored.
 */
import {
  decodeDispatcherMessage,
  encodeDispatcherMessagePooled,
  fromGrpcStatus,
  InvalidArgumentError,
  toGrpcStatus,
  UnavailableError,
} from '@swarmkit-ts/api'
import type {
  AssignmentsMessage,
  AssignmentsRequest,
  Clock,
  DispatcherApi,
  DispatcherMessages,
  DispatcherMessageType,
  DispatcherStreamOptions,
  HeartbeatRequest,
  HeartbeatResponse,
  Random,
  SessionMessage,
  SessionRequest,
  Timer,
  UpdateTaskStatusRequest,
} from '@swarmkit-ts/api'
import { BoundStream, type Fate } from './dispatcher-binding-stream.ts'
import { chance, drawDelay, validateRange } from './memory-network-faults.ts'
import type { DelayRange } from './memory-network-types.ts'

/**
 * Random faults of an in-process dispatcher binding. Each unary call, each stream's opening
 * request and each stream message draws its fate from the binding's `Random`; a binding without
 * faults draws nothing and delivers at once (no timer, so a test's `ManualClock` need not move).
 */
export interface DispatcherFaults {
  /**
   * Transit time of a call (before it reaches the target) and of each stream message. Messages
   * of one stream keep their order: a message never arrives before the one sent ahead of it.
   * @default [0, 0]
   */
  readonly delayMs?: DelayRange
  /**
   * Probability in [0, 1] that a call or a stream message is lost. A lost unary call rejects
   * with `UnavailableError` — its request lost (the target never saw it) or its response lost
   * (the target applied it), one or the other by a second draw. A lost stream message ends the
   * stream with `UnavailableError` after the messages sent before it (the agent would otherwise
   * miss an incremental assignment), and cancels the target's stream.
   * @default 0
   */
  readonly drop?: number
}

/** Options of {@link DispatcherFaultControl.disconnect}. */
export interface DisconnectOptions {
  /** Leave the target's streams open (a far end gone silent). @default false */
  readonly halfOpen?: boolean
}

/** What a binding has carried so far. */
export interface DispatcherBindingStats {
  /** Unary calls and streams started. */
  readonly calls: number
  /** Stream messages delivered to the caller. */
  readonly messages: number
  /** Calls, requests, responses and stream messages lost to `drop`. */
  readonly dropped: number
}

/** The fault controls of a binding. */
export interface DispatcherFaultControl {
  /** The faults in force. */
  readonly current: DispatcherFaults
  /** Replaces the faults (for calls and messages from now on). Throws `InvalidArgumentError` naming the field. */
  set(faults: DispatcherFaults): void
  /**
   * Cuts the connection: every open stream ends with `UnavailableError` at once (messages still
   * in transit are lost), calls in flight reject with it, and new calls and streams fail with it
   * until {@link reconnect}. The target keeps what it already received, and its streams are
   * cancelled (as when the agent's process exits: the dispatcher sees the session end) — unless
   * `halfOpen`, when the target is not told and its streams stay open, their messages lost (as
   * when the agent's machine dies without a word: the dispatcher only notices missing heartbeats).
   */
  disconnect(options?: DisconnectOptions): void
  /** Restores the connection (streams that ended stay ended; the agent opens new ones). */
  reconnect(): void
  /** Whether the connection is up. */
  readonly connected: boolean
  /** What the binding carried. */
  readonly stats: DispatcherBindingStats
}

/** A `DispatcherApi` bound in process, with its fault controls. */
export interface DispatcherBinding extends DispatcherApi {
  readonly faults: DispatcherFaultControl
}

/** Construction options of {@link inProcessDispatcher}. */
export interface InProcessDispatcherInit {
  /** The clock delays run on (a `ManualClock` in deterministic tests). */
  readonly clock: Clock
  /** The source of every fault draw. */
  readonly random: Random
  /** The initial faults. @default none */
  readonly faults?: DispatcherFaults
}

/**
 * Binds `target` in process: the returned `DispatcherApi` carries each call to it through the
 * wire codec, with the faults of `init.faults` (changeable through `faults`). Errors reach the
 * caller as a gRPC client would rebuild them: the same class, message and typed context.
 */
export function inProcessDispatcher(target: DispatcherApi, init: InProcessDispatcherInit): DispatcherBinding {
  return new InProcessDispatcher(target, init)
}

function validateDispatcherFaults(faults: DispatcherFaults, field: string): DispatcherFaults {
  const copy: { -readonly [K in keyof DispatcherFaults]: DispatcherFaults[K] } = {}
  if (faults.delayMs !== undefined) copy.delayMs = validateRange(faults.delayMs, `${field}.delayMs`)
  if (faults.drop !== undefined) {
    if (!(faults.drop >= 0 && faults.drop <= 1)) throw new InvalidArgumentError(`${field}.drop`, `must be a probability in [0, 1], got ${faults.drop}`)
    copy.drop = faults.drop
  }
  return Object.freeze(copy)
}

/** Carries a message through the wire codec: what the other side decodes. */
function carry<T extends DispatcherMessageType>(type: T, value: DispatcherMessages[T]): DispatcherMessages[T] {
  return decodeDispatcherMessage(type, encodeDispatcherMessagePooled(type, value))
}

/** Carries an error as a gRPC status: the same class, message and context, without the cause. */
function rewire(err: unknown): Error {
  return fromGrpcStatus(toGrpcStatus(err))
}

/** The faults and the connection of one binding; the binding reads them on every call. */
class FaultState implements DispatcherFaultControl {
  #faults: DispatcherFaults
  /** Aborted (with an `UnavailableError`) when the connection is cut; replaced on reconnect. */
  #link = new AbortController()
  /** The current link's signal, and why it was cut (read per call: cheaper than the signal's getters). */
  #linkSignal = this.#link.signal
  #cut: Error | undefined
  /**
   * The unary calls in flight on the current connection, failed when it is cut: a set, where a
   * listener each on the link's signal cost an EventTarget's add and remove per call.
   */
  #calls = new Set<(reason: Error) => void>()
  #halfOpen = false
  /** Counters, written by the binding. */
  readonly counts = { calls: 0, messages: 0, dropped: 0 }

  constructor(faults: DispatcherFaults) {
    this.#faults = validateDispatcherFaults(faults, 'faults')
  }

  get current(): DispatcherFaults {
    return this.#faults
  }

  set(faults: DispatcherFaults): void {
    this.#faults = validateDispatcherFaults(faults, 'faults')
  }

  disconnect(options: DisconnectOptions = {}): void {
    if (this.#cut !== undefined) return
    this.#halfOpen = options.halfOpen === true
    const reason = new UnavailableError('dispatcher binding: disconnected')
    this.#cut = reason
    this.#link.abort(reason)
    const calls = this.#calls
    this.#calls = new Set()
    for (const fail of calls) fail(reason)
  }

  /** Whether the current cut is half-open. */
  halfOpen(): boolean {
    return this.#halfOpen
  }

  reconnect(): void {
    if (this.#cut === undefined) return
    this.#link = new AbortController()
    this.#linkSignal = this.#link.signal
    this.#cut = undefined
  }

  get connected(): boolean {
    return this.#cut === undefined
  }

  get stats(): DispatcherBindingStats {
    return { ...this.counts }
  }

  /** The current connection: aborts when it is cut. */
  link(): AbortSignal {
    return this.#linkSignal
  }

  /** Why `link` was cut, or undefined while it is up. */
  lost(link: AbortSignal): Error | undefined {
    return link === this.#linkSignal ? this.#cut : (link.reason as Error)
  }

  /**
   * Settles like `promise`, or rejects with the link's reason as soon as `link` is cut (at once
   * when it is already).
   */
  untilLost<T>(promise: Promise<T>, link: AbortSignal): Promise<T> {
    const lost = this.lost(link)
    if (lost !== undefined) return Promise.reject(lost)
    // Not cut: `link` is the current connection (only a cut one is replaced).
    const calls = this.#calls
    return new Promise<T>((resolve, reject) => {
      calls.add(reject)
      promise.then(
        (value) => {
          calls.delete(reject)
          resolve(value)
        },
        (err: Error) => {
          calls.delete(reject)
          reject(err)
        },
      )
    })
  }
}

class InProcessDispatcher implements DispatcherBinding {
  readonly #state: FaultState
  readonly #target: DispatcherApi
  readonly #clock: Clock
  readonly #random: Random

  constructor(target: DispatcherApi, init: InProcessDispatcherInit) {
    this.#target = target
    this.#clock = init.clock
    this.#random = init.random
    this.#state = new FaultState(init.faults ?? {})
  }

  get faults(): DispatcherFaultControl {
    return this.#state
  }

  session(request: SessionRequest, options?: DispatcherStreamOptions): AsyncIterable<SessionMessage> {
    return this.#stream('SessionRequest', 'SessionMessage', request, options, (req, signal) => this.#target.session(req, { signal }))
  }

  assignments(request: AssignmentsRequest, options?: DispatcherStreamOptions): AsyncIterable<AssignmentsMessage> {
    return this.#stream('AssignmentsRequest', 'AssignmentsMessage', request, options, (req, signal) => this.#target.assignments(req, { signal }))
  }

  heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse> {
    return this.#unary('HeartbeatRequest', 'HeartbeatResponse', request, (req) => this.#target.heartbeat(req))
  }

  async updateTaskStatus(request: UpdateTaskStatusRequest): Promise<void> {
    await this.#unary('UpdateTaskStatusRequest', 'UpdateTaskStatusResponse', request, async (req) => {
      await this.#target.updateTaskStatus(req)
      return {}
    })
  }

  /** The fate of one call or message: a delay, then whether it is lost. */
  #fate(): Fate {
    const faults = this.#state.current
    const delayMs = drawDelay(this.#random, faults.delayMs ?? [0, 0])
    const lost = chance(this.#random, faults.drop ?? 0)
    if (lost) this.#state.counts.dropped++
    return { delayMs, lost }
  }

  async #unary<Q extends DispatcherMessageType, R extends DispatcherMessageType>(
    reqType: Q,
    resType: R,
    request: DispatcherMessages[Q],
    call: (request: DispatcherMessages[Q]) => Promise<DispatcherMessages[R]>,
  ): Promise<DispatcherMessages[R]> {
    const link = this.#state.link()
    const lost = this.#state.lost(link)
    if (lost !== undefined) throw lost
    this.#state.counts.calls++
    const wireRequest = carry(reqType, request)
    const fate = this.#fate()
    // A lost call loses its request or its response: the second draw says which.
    const lostResponse = fate.lost && this.#random.int(2) === 1
    await this.#transit(fate.delayMs, link)
    if (fate.lost && !lostResponse) throw new UnavailableError('dispatcher binding: the request was lost')
    let response: DispatcherMessages[R]
    try {
      response = await this.#state.untilLost(call(wireRequest), link)
    } catch (err) {
      if (err === this.#state.lost(link)) throw err
      throw rewire(err)
    }
    if (lostResponse) throw new UnavailableError('dispatcher binding: the response was lost')
    return carry(resType, response)
  }

  /** Waits `ms` on the clock (not at all for 0); rejects with the link's reason if it is cut first. */
  #transit(ms: number, link: AbortSignal): Promise<void> {
    if (ms === 0) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const onLost = (): void => {
        timer.cancel()
        reject(link.reason as Error)
      }
      const timer: Timer = this.#clock.setTimeout(() => {
        link.removeEventListener('abort', onLost)
        resolve()
      }, ms)
      link.addEventListener('abort', onLost, { once: true })
    })
  }

  #stream<Q extends DispatcherMessageType, M extends DispatcherMessageType>(
    reqType: Q,
    msgType: M,
    request: DispatcherMessages[Q],
    options: DispatcherStreamOptions | undefined,
    open: (request: DispatcherMessages[Q], signal: AbortSignal) => AsyncIterable<DispatcherMessages[M]>,
  ): AsyncIterableIterator<DispatcherMessages[M]> {
    return new BoundStream<DispatcherMessages[M]>({
      clock: this.#clock,
      link: () => this.#state.link(),
      halfOpen: () => this.#state.halfOpen(),
      signal: options?.signal,
      fate: () => this.#fate(),
      open: (signal) => open(carry(reqType, request), signal),
      carry: (message) => carry(msgType, message),
      rewire,
      count: (what) => {
        if (what === 'message') this.#state.counts.messages++
        else this.#state.counts.calls++
      },
    })
  }
}
