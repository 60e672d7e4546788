/**
 * `DispatcherApi` over a `MessagePort`: the agents of a cluster on one thread (a
 * `worker_threads` Worker), the dispatcher on another, in one process. Every request, response
 * and stream message crosses the wire codec (dispatcher.proto) as bytes, and every error as a
 * gRPC status — as over the network, without the faults of `inProcessDispatcher`. One port
 * carries the calls of every node (each frame names its node), and each side posts what it has
 * to send once per turn of its event loop as one batch of frames, or sooner once 64 are queued.
 *
 * Frames that are not the binding's (`{ k: 'x', v }`, sent with `send`) travel in order with
 * it, so that a thread can tell the other one it is idle after everything it sent before.
 *
 * @module
 */
import type { MessagePort } from 'node:worker_threads'
import { decodeDispatcherMessage, encodeDispatcherMessage, fromGrpcStatus, toGrpcStatus, UnavailableError } from '@swarmkit-ts/api'
import type { DispatcherApi, DispatcherMessages, DispatcherMessageType, DispatcherStreamOptions, GrpcStatusObject } from '@swarmkit-ts/api'

/** The unary calls and streams of `DispatcherApi`, with their wire messages. */
const UNARY = {
  heartbeat: ['HeartbeatRequest', 'HeartbeatResponse'],
  updateTaskStatus: ['UpdateTaskStatusRequest', 'UpdateTaskStatusResponse'],
} as const
const STREAMS = {
  session: ['SessionRequest', 'SessionMessage'],
  assignments: ['AssignmentsRequest', 'AssignmentsMessage'],
} as const
type Unary = keyof typeof UNARY
type Streaming = keyof typeof STREAMS

/** A frame from the agents' side. */
type ClientFrame =
  | { readonly k: 'call'; readonly id: number; readonly node: string; readonly m: Unary; readonly b: Uint8Array }
  | { readonly k: 'open'; readonly id: number; readonly node: string; readonly m: Streaming; readonly b: Uint8Array }
  | { readonly k: 'cancel'; readonly id: number }
/** A frame from the dispatcher's side. */
type ServerFrame =
  | { readonly k: 'ok' | 'msg'; readonly id: number; readonly b: Uint8Array }
  | { readonly k: 'end'; readonly id: number }
  | { readonly k: 'err'; readonly id: number; readonly s: GrpcStatusObject }
/** A frame of the threads' own, carried in order with the binding's. */
interface OtherFrame {
  readonly k: 'x'
  readonly v: unknown
}

/** Options of both ends. */
export interface PortEndOptions {
  /** Receives the value of every frame sent with the other end's `send`. */
  readonly onOther?: (value: unknown) => void
}

/** Frames in one batch at most: a fuller queue is posted at once. */
const MAX_BATCH = 64

/** Posts frames in batches (one per turn, or every {@link MAX_BATCH} frames) and counts batches both ways. */
class FramePipe<Out> {
  readonly #port: MessagePort
  #queue: (Out | OtherFrame)[] = []
  #scheduled = false
  posted = 0
  received = 0

  constructor(port: MessagePort, onFrame: (frame: unknown) => void, onClose: () => void) {
    this.#port = port
    port.on('message', (batch: readonly unknown[]) => {
      this.received++
      for (const frame of batch) onFrame(frame)
    })
    port.once('close', onClose)
  }

  send(frame: Out | OtherFrame): void {
    this.#queue.push(frame)
    // A long run of promise callbacks (a wave of tasks) holds the turn: post what it has queued
    // so far rather than all of it at its end, so that the other thread can start on it.
    if (this.#queue.length >= MAX_BATCH) return this.#flush()
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.#flush()
    })
  }

  /** Frames queued and not posted yet. */
  get pending(): number {
    return this.#queue.length
  }

  #flush(): void {
    if (this.#queue.length === 0) return
    const batch = this.#queue
    this.#queue = []
    this.posted++
    this.#port.postMessage(batch)
  }

  close(): void {
    this.#queue = []
    this.#port.close()
  }
}

function decode<T extends DispatcherMessageType>(type: T, bytes: Uint8Array): DispatcherMessages[T] {
  return decodeDispatcherMessage(type, bytes)
}

const gone = (): UnavailableError => new UnavailableError('dispatcher port: the connection is closed')

/** The caller's side of one stream; opens on the first `next()`, like an async generator. */
class PortStream<M> implements AsyncIterableIterator<M> {
  readonly #ready: M[] = []
  readonly #waiters: { resolve: (r: IteratorResult<M>) => void; reject: (e: unknown) => void }[] = []
  /** How it ended: undefined while open. */
  #end: { readonly error?: Error } | undefined
  #opened = false
  readonly #open: () => void
  readonly #cancel: () => void
  readonly #signal: AbortSignal | undefined
  readonly #onAbort = (): void => void this.return()

  constructor(open: () => void, cancel: () => void, signal: AbortSignal | undefined) {
    this.#open = open
    this.#cancel = cancel
    this.#signal = signal
    if (signal?.aborted === true) this.#end = {}
    else signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<M> {
    return this
  }

  next(): Promise<IteratorResult<M>> {
    if (!this.#opened && this.#end === undefined) {
      this.#opened = true
      this.#open()
    }
    const value = this.#ready.shift()
    if (value !== undefined) return Promise.resolve({ done: false, value })
    const end = this.#end
    if (end !== undefined) {
      this.#end = {}
      return end.error === undefined ? Promise.resolve({ done: true, value: undefined }) : Promise.reject(end.error)
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  return(): Promise<IteratorResult<M>> {
    if (this.#end === undefined && this.#opened) this.#cancel()
    this.#finish({})
    this.#ready.length = 0
    return Promise.resolve({ done: true, value: undefined })
  }

  /** A message arrived. */
  push(value: M): void {
    const waiter = this.#waiters.shift()
    if (waiter !== undefined) waiter.resolve({ done: false, value })
    else this.#ready.push(value)
  }

  /** The stream ended (with `error`, or without). */
  #finish(end: { readonly error?: Error }): void {
    if (this.#end !== undefined) return
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#end = end
    const waiters = this.#waiters.splice(0)
    if (waiters.length === 0) return
    this.#end = {}
    for (const w of waiters) {
      if (end.error === undefined) w.resolve({ done: true, value: undefined })
      else w.reject(end.error)
    }
  }

  ended(error?: Error): void {
    this.#finish(error === undefined ? {} : { error })
  }
}

/** The agents' end: a `DispatcherApi` per node over the port. */
export class PortDispatcherClient {
  readonly #pipe: FramePipe<ClientFrame>
  readonly #calls = new Map<number, { readonly res: DispatcherMessageType; readonly resolve: (v: unknown) => void; readonly reject: (e: unknown) => void }>()
  readonly #streams = new Map<number, { readonly type: DispatcherMessageType; readonly stream: PortStream<unknown> }>()
  #next = 1
  #closed = false

  constructor(port: MessagePort, options: PortEndOptions = {}) {
    this.#pipe = new FramePipe(port, (f) => this.#onFrame(f as ServerFrame | OtherFrame, options), () => this.#lost())
  }

  /** The dispatcher as node `nodeId`'s agent sees it. */
  api(nodeId: string): DispatcherApi {
    return {
      session: (request, options) => this.#stream(nodeId, 'session', request, options),
      assignments: (request, options) => this.#stream(nodeId, 'assignments', request, options),
      heartbeat: (request) => this.#unary(nodeId, 'heartbeat', request),
      updateTaskStatus: async (request) => {
        await this.#unary(nodeId, 'updateTaskStatus', request)
      },
    }
  }

  /** Sends a frame of the threads' own, in order with the binding's. */
  send(value: unknown): void {
    if (!this.#closed) this.#pipe.send({ k: 'x', v: value })
  }

  /** Batches posted and received, and frames not posted yet. */
  get counts(): { readonly posted: number; readonly received: number; readonly pending: number } {
    return { posted: this.#pipe.posted, received: this.#pipe.received, pending: this.#pipe.pending }
  }

  #unary<U extends Unary>(node: string, m: U, request: DispatcherMessages[(typeof UNARY)[U][0]]): Promise<DispatcherMessages[(typeof UNARY)[U][1]]> {
    if (this.#closed) return Promise.reject(gone())
    const [reqType, resType] = UNARY[m]
    const b = encodeDispatcherMessage(reqType, request)
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { res: resType, resolve: resolve as (v: unknown) => void, reject })
      this.#pipe.send({ k: 'call', id, node, m, b })
    })
  }

  #stream<S extends Streaming>(
    node: string,
    m: S,
    request: DispatcherMessages[(typeof STREAMS)[S][0]],
    options: DispatcherStreamOptions | undefined,
  ): AsyncIterable<DispatcherMessages[(typeof STREAMS)[S][1]]> {
    const [reqType, msgType] = STREAMS[m]
    const id = this.#next++
    const stream = new PortStream<DispatcherMessages[(typeof STREAMS)[S][1]]>(
      () => {
        if (this.#closed) return stream.ended(gone())
        this.#streams.set(id, { type: msgType, stream: stream as PortStream<unknown> })
        this.#pipe.send({ k: 'open', id, node, m, b: encodeDispatcherMessage(reqType, request) })
      },
      () => {
        this.#streams.delete(id)
        if (!this.#closed) this.#pipe.send({ k: 'cancel', id })
      },
      options?.signal,
    )
    return stream
  }

  #onFrame(frame: ServerFrame | OtherFrame, options: PortEndOptions): void {
    if (frame.k === 'x') return options.onOther?.(frame.v)
    if (frame.k === 'ok' || (frame.k === 'err' && this.#calls.has(frame.id))) {
      const call = this.#calls.get(frame.id)
      if (call === undefined) return
      this.#calls.delete(frame.id)
      if (frame.k === 'err') return call.reject(fromGrpcStatus(frame.s))
      try {
        call.resolve(decode(call.res, frame.b))
      } catch (err) {
        call.reject(err)
      }
      return
    }
    const s = this.#streams.get(frame.id)
    if (s === undefined) return
    if (frame.k === 'msg') {
      try {
        s.stream.push(decode(s.type, frame.b))
        return
      } catch (err) {
        this.#pipe.send({ k: 'cancel', id: frame.id })
        this.#streams.delete(frame.id)
        return s.stream.ended(err as Error)
      }
    }
    this.#streams.delete(frame.id)
    s.stream.ended(frame.k === 'err' ? fromGrpcStatus(frame.s) : undefined)
  }

  /** The port closed: calls in flight fail, streams end, with `UnavailableError`. */
  #lost(): void {
    this.#closed = true
    for (const call of this.#calls.values()) call.reject(gone())
    this.#calls.clear()
    for (const s of this.#streams.values()) s.stream.ended(gone())
    this.#streams.clear()
  }

  /** Closes the port (the dispatcher's end cancels this end's streams). */
  close(): void {
    if (this.#closed) return
    this.#pipe.close()
    this.#lost()
  }
}

/** The dispatcher's end: serves each node's frames with `api(nodeId)`. */
export class PortDispatcherServer {
  readonly #pipe: FramePipe<ServerFrame>
  readonly #api: (nodeId: string) => DispatcherApi
  /** Open streams by id: aborting one cancels the target's stream. */
  readonly #streams = new Map<number, AbortController>()
  #closed = false

  constructor(port: MessagePort, api: (nodeId: string) => DispatcherApi, options: PortEndOptions = {}) {
    this.#api = api
    this.#pipe = new FramePipe(port, (f) => this.#onFrame(f as ClientFrame | OtherFrame, options), () => this.#lost())
  }

  /** Sends a frame of the threads' own, in order with the binding's. */
  send(value: unknown): void {
    if (!this.#closed) this.#pipe.send({ k: 'x', v: value })
  }

  /** Batches posted and received, and frames not posted yet. */
  get counts(): { readonly posted: number; readonly received: number; readonly pending: number } {
    return { posted: this.#pipe.posted, received: this.#pipe.received, pending: this.#pipe.pending }
  }

  #reply(frame: ServerFrame): void {
    if (!this.#closed) this.#pipe.send(frame)
  }

  #onFrame(frame: ClientFrame | OtherFrame, options: PortEndOptions): void {
    switch (frame.k) {
      case 'x':
        return options.onOther?.(frame.v)
      case 'cancel':
        return this.#streams.get(frame.id)?.abort()
      case 'call':
        return void this.#call(frame.id, frame.node, frame.m, frame.b)
      case 'open':
        return void this.#pump(frame.id, frame.node, frame.m, frame.b)
    }
  }

  async #call(id: number, node: string, m: Unary, bytes: Uint8Array): Promise<void> {
    try {
      const api = this.#api(node)
      let b: Uint8Array
      if (m === 'heartbeat') b = encodeDispatcherMessage('HeartbeatResponse', await api.heartbeat(decode('HeartbeatRequest', bytes)))
      else {
        await api.updateTaskStatus(decode('UpdateTaskStatusRequest', bytes))
        b = encodeDispatcherMessage('UpdateTaskStatusResponse', {})
      }
      this.#reply({ k: 'ok', id, b })
    } catch (err) {
      this.#reply({ k: 'err', id, s: toGrpcStatus(err) })
    }
  }

  async #pump(id: number, node: string, m: Streaming, bytes: Uint8Array): Promise<void> {
    const ac = new AbortController()
    this.#streams.set(id, ac)
    try {
      const api = this.#api(node)
      const signal = ac.signal
      if (m === 'session') {
        for await (const msg of api.session(decode('SessionRequest', bytes), { signal })) {
          if (signal.aborted) break
          this.#reply({ k: 'msg', id, b: encodeDispatcherMessage('SessionMessage', msg) })
        }
      } else {
        for await (const msg of api.assignments(decode('AssignmentsRequest', bytes), { signal })) {
          if (signal.aborted) break
          this.#reply({ k: 'msg', id, b: encodeDispatcherMessage('AssignmentsMessage', msg) })
        }
      }
      if (!signal.aborted) this.#reply({ k: 'end', id })
    } catch (err) {
      if (!ac.signal.aborted) this.#reply({ k: 'err', id, s: toGrpcStatus(err) })
    } finally {
      this.#streams.delete(id)
    }
  }

  /** The port closed: every open stream is cancelled (the nodes' sessions end). */
  #lost(): void {
    this.#closed = true
    for (const ac of this.#streams.values()) ac.abort()
    this.#streams.clear()
  }

  /** Closes the port and cancels every open stream. */
  close(): void {
    if (this.#closed) return
    this.#pipe.close()
    this.#lost()
  }
}
