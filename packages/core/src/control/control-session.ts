/**
 * Control calls multiplexed on one long-lived bidirectional stream, `Control/Session`: each
 * request frame carries a call id, the unary method's name and its encoded request envelope;
 * each response frame the same id and either the encoded response envelope or the typed error
 * (as its gRPC status, details and metadata, so `fromGrpcError` rebuilds the same class).
 *
 * Frames travel in batches: each gRPC message carries every frame issued in one turn of the
 * event loop (the calls and answers made before the microtasks ran dry), so a closed loop of 256
 * callers — whose answers all come with one Raft commit — pays one message each way per commit
 * rather than one per call.
 *
 * Why: over grpc-js a unary call opens an HTTP/2 stream with headers both ways, and the server
 * sends the status trailers only once the response's write has completed — a second flush one
 * turn of the event loop later. One frame each way on an open stream cost a fifth of the CPU of
 * a unary call over mutual TLS here (client and server) and a sixth of its latency; and each
 * gRPC message costs its own framing, flow control and event on both ends, hence the batches.
 *
 * @module
 */
import protobuf from 'protobufjs'
import { Metadata, type Client, type ClientDuplexStream, type ServerDuplexStream } from '@grpc/grpc-js'
import { InvalidArgumentError, UnavailableError } from '@swarmkit-ts/api'
import { fromGrpcError, toGrpcError } from '../rpc/errors.ts'
import { controlPath } from './control-methods.ts'

/** The bidirectional method that carries multiplexed unary calls. */
export const SESSION_METHOD = 'Session'

/** A client ends its session after this long without a call in flight (so servers can shut down at once). */
export const SESSION_IDLE_MS = 1000

const SCHEMA = `
syntax = "proto3";
package swarmkit.core.v1;
message ControlSessionRequest {
  uint32 id = 1;
  string method = 2;
  bytes request = 3;
}
message ControlSessionError {
  uint32 code = 1;
  string details = 2;
  map<string, string> metadata = 3;
}
message ControlSessionResponse {
  uint32 id = 1;
  bytes response = 2;
  ControlSessionError error = 3;
}
message ControlSessionRequests {
  repeated ControlSessionRequest calls = 1;
}
message ControlSessionResponses {
  repeated ControlSessionResponse answers = 1;
}
`

let types: { requests: protobuf.Type; responses: protobuf.Type } | undefined

function schema(): NonNullable<typeof types> {
  if (types === undefined) {
    const root = protobuf.parse(SCHEMA, { keepCase: false }).root
    types = { requests: root.lookupType('swarmkit.core.v1.ControlSessionRequests'), responses: root.lookupType('swarmkit.core.v1.ControlSessionResponses') }
  }
  return types
}

/** One call on a session, as the client sends it. */
export interface SessionRequest {
  readonly id: number
  readonly method: string
  readonly request: Uint8Array
}

/** The answer to call `id`: the encoded response, or the error as a gRPC status. */
export type SessionResponse =
  | { readonly id: number; readonly response: Uint8Array }
  | { readonly id: number; readonly error: { readonly code: number; readonly details: string; readonly metadata: Readonly<Record<string, string>> } }

const identity = (b: Buffer): Buffer => b

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}

/** Encodes a batch of request frames (one gRPC message). */
export function encodeSessionRequests(calls: readonly SessionRequest[]): Buffer {
  return toBuffer(schema().requests.encode({ calls }).finish())
}

/** Decodes a batch of request frames. @throws InvalidArgumentError when it does not decode or a frame names no call. */
export function decodeSessionRequests(bytes: Uint8Array): SessionRequest[] {
  // Unset fields read as the message prototype's defaults (0, '', empty bytes).
  let m: { calls: { id: number; method: string; request: Uint8Array }[] }
  try {
    m = schema().requests.decode(bytes) as unknown as typeof m
  } catch (err) {
    throw new InvalidArgumentError('', `undecodable control session frame: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  return m.calls.map((c, i) => {
    if (c.id === 0) throw new InvalidArgumentError(`calls.${i}.id`, 'must be a positive call id')
    return { id: c.id, method: c.method, request: c.request }
  })
}

/** Encodes a batch of response frames (one gRPC message). */
export function encodeSessionResponses(answers: readonly SessionResponse[]): Buffer {
  const msgs = answers.map((r) => ('error' in r ? { id: r.id, error: { code: r.error.code, details: r.error.details, metadata: { ...r.error.metadata } } } : { id: r.id, response: r.response }))
  return toBuffer(schema().responses.encode({ answers: msgs }).finish())
}

/** Decodes a batch of response frames. @throws InvalidArgumentError when it does not decode. */
export function decodeSessionResponses(bytes: Uint8Array): SessionResponse[] {
  // Unset fields read as the prototype's defaults (0, empty bytes, null for the error).
  let m: { answers: { id: number; response: Uint8Array; error: { code: number; details: string; metadata: Record<string, string> } | null }[] }
  try {
    m = schema().responses.decode(bytes) as unknown as typeof m
  } catch (err) {
    throw new InvalidArgumentError('', `undecodable control session frame: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  return m.answers.map((a) =>
    a.error !== null && a.error !== undefined ? { id: a.id, error: { code: a.error.code, details: a.error.details, metadata: { ...a.error.metadata } } } : { id: a.id, response: a.response },
  )
}

/**
 * Frames queued during one turn of the event loop and written as one batch once its microtasks
 * have run (`process.nextTick` from a microtask runs after the microtask queue is empty).
 */
class FrameBatcher<T> {
  #queue: T[] = []
  readonly #write: (frames: T[]) => void

  constructor(write: (frames: T[]) => void) {
    this.#write = write
  }

  push(frame: T): void {
    if (this.#queue.push(frame) === 1) process.nextTick(() => this.flush())
  }

  /** Writes what is queued now (nothing when empty). */
  flush(): void {
    if (this.#queue.length === 0) return
    const frames = this.#queue
    this.#queue = []
    this.#write(frames)
  }
}

/**
 * Serves one session: every request frame is answered by `answer(method, request)` (which
 * authorizes and runs the call as the unary method would), in whatever order the answers come;
 * the answers of one turn of the event loop go out as one batch. Once the client has half-closed
 * and every answer is written, the session ends with OK; a batch that does not decode ends it
 * with INVALID_ARGUMENT.
 */
export function serveControlSession(call: ServerDuplexStream<Buffer, Buffer>, answer: (method: string, request: Buffer) => Promise<Buffer>): void {
  let open = true
  let halfClosed = false
  /** Calls received and not yet written back. */
  let inFlight = 0
  const finish = (): void => {
    if (open && halfClosed && inFlight === 0) {
      open = false
      call.end()
    }
  }
  const out = new FrameBatcher<SessionResponse>((answers) => {
    inFlight -= answers.length
    if (open) call.write(encodeSessionResponses(answers))
    finish()
  })
  call.on('data', (batch: Buffer) => {
    if (!open) return
    let reqs: SessionRequest[]
    try {
      reqs = decodeSessionRequests(batch)
    } catch (err) {
      open = false
      call.emit('error', toGrpcError(err))
      return
    }
    inFlight += reqs.length
    for (const req of reqs) {
      answer(req.method, toBuffer(req.request)).then(
        (response) => out.push({ id: req.id, response }),
        (err: unknown) => {
          const e = toGrpcError(err)
          const metadata: Record<string, string> = {}
          for (const [k, v] of Object.entries(e.metadata.getMap())) if (typeof v === 'string') metadata[k] = v
          out.push({ id: req.id, error: { code: e.code, details: e.details, metadata } })
        },
      )
    }
  })
  call.on('end', () => {
    halfClosed = true
    finish()
  })
  call.on('cancelled', () => (open = false))
  call.on('error', () => (open = false))
}

interface Pending {
  readonly resolve: (b: Buffer) => void
  readonly reject: (e: Error) => void
  readonly timer: ReturnType<typeof setTimeout> | undefined
}

/**
 * The client side: unary calls of one `ControlClient` as frames on one session (the calls of one
 * turn of the event loop in one batch), opened on the first call, reopened after it broke, ended after {@link SESSION_IDLE_MS} without calls. A
 * broken session fails its calls in flight with the stream's typed error (`UnavailableError` for
 * transport trouble), as a unary call would.
 */
export class ControlSessionClient {
  readonly #client: Client
  readonly #metadata: () => Metadata
  readonly #timeoutMs: number | undefined
  readonly #pending = new Map<number, Pending>()
  #call: ClientDuplexStream<Buffer, Buffer> | undefined
  /** The frames of `#call` not yet written. */
  #out: FrameBatcher<SessionRequest> | undefined
  #idle: ReturnType<typeof setTimeout> | undefined
  #nextId = 0
  #closed = false

  /** `metadata`: the request metadata of each session; `timeoutMs`: fail each call after this long. */
  constructor(client: Client, metadata: () => Metadata, timeoutMs: number | undefined) {
    this.#client = client
    this.#metadata = metadata
    this.#timeoutMs = timeoutMs
  }

  /** Calls unary `method` with an encoded request envelope; resolves with the encoded response. */
  call(method: string, request: Buffer): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new UnavailableError('the control client is closed'))
    const out = this.#open()
    this.#nextId = this.#nextId >= 0xffff_ffff ? 1 : this.#nextId + 1
    const id = this.#nextId
    return new Promise<Buffer>((resolve, reject) => {
      const ms = this.#timeoutMs
      const timer =
        ms === undefined
          ? undefined
          : setTimeout(() => {
              if (!this.#pending.delete(id)) return
              reject(new UnavailableError(`the control call ${method} got no answer within ${ms} ms`))
              this.#maybeIdle()
            }, ms)
      this.#pending.set(id, { resolve, reject, timer })
      out.push({ id, method, request })
    })
  }

  /** Ends the session; calls in flight fail with `UnavailableError`. */
  close(): void {
    this.#closed = true
    const call = this.#call
    if (call !== undefined) {
      this.#broken(call, new UnavailableError('the control client was closed'))
      call.cancel()
    }
  }

  /** The batcher of the open session, opened now if there is none. */
  #open(): FrameBatcher<SessionRequest> {
    if (this.#idle !== undefined) {
      clearTimeout(this.#idle)
      this.#idle = undefined
    }
    if (this.#out !== undefined) return this.#out
    const call = this.#client.makeBidiStreamRequest<Buffer, Buffer>(controlPath(SESSION_METHOD), identity, identity, this.#metadata())
    call.on('data', (batch: Buffer) => this.#answered(batch))
    call.on('error', (err) => this.#broken(call, fromGrpcError(err)))
    call.on('end', () => this.#broken(call, new UnavailableError('the manager ended the control session')))
    // Frames still queued when the session breaks are dropped with it: their calls have failed.
    const out = new FrameBatcher<SessionRequest>((calls) => {
      if (this.#call === call) call.write(encodeSessionRequests(calls))
    })
    this.#call = call
    this.#out = out
    return out
  }

  #answered(batch: Buffer): void {
    let answers: SessionResponse[]
    try {
      answers = decodeSessionResponses(batch)
    } catch {
      return
    }
    for (const r of answers) {
      const p = this.#pending.get(r.id)
      if (p === undefined) continue
      this.#pending.delete(r.id)
      if (p.timer !== undefined) clearTimeout(p.timer)
      if ('error' in r) {
        const metadata = new Metadata()
        for (const [k, v] of Object.entries(r.error.metadata)) metadata.set(k, v)
        p.reject(fromGrpcError({ code: r.error.code, details: r.error.details, metadata }))
      } else p.resolve(toBuffer(r.response))
    }
    this.#maybeIdle()
  }

  /** The session `call` failed or ended: its calls in flight fail with `err`. */
  #broken(call: ClientDuplexStream<Buffer, Buffer>, err: Error): void {
    if (this.#call !== call) return
    this.#call = undefined
    this.#out = undefined
    if (this.#idle !== undefined) {
      clearTimeout(this.#idle)
      this.#idle = undefined
    }
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of pending) {
      if (p.timer !== undefined) clearTimeout(p.timer)
      p.reject(err)
    }
  }

  /** With no call in flight, ends the session after {@link SESSION_IDLE_MS} unless a call comes first. */
  #maybeIdle(): void {
    if (this.#pending.size > 0 || this.#call === undefined || this.#idle !== undefined) return
    const call = this.#call
    this.#idle = setTimeout(() => {
      this.#idle = undefined
      if (this.#call !== call || this.#pending.size > 0) return
      this.#call = undefined
      this.#out = undefined
      call.end()
    }, SESSION_IDLE_MS)
    this.#idle.unref()
  }
}
