/**
 * A thin, typed gRPC client for the containerd services the runtime uses, over @grpc/grpc-js and
 * protobufjs with our own minimal .proto files (`proto/containerd/*.proto`, embedded as text in
 * generated/proto-sources.ts and parsed on first use: no file is read at run time, no @grpc/proto-loader).
 *
 * Every call carries the `containerd-namespace` metadata; calls made inside {@link ContainerdGrpc.withLease}
 * also carry `containerd-lease`, so content and snapshots written there are not collected early.
 *
 * @grpc/grpc-js is loaded on the first call, not when the package is imported: an application that
 * never talks to containerd never loads it.
 * @internal
 */
import type * as grpc from '@grpc/grpc-js'
import protobuf from 'protobufjs'
import { InternalError, UnavailableError } from '@swarmkit-ts/api'
import { PROTO_SOURCES, type ProtoFile } from '../generated/proto-sources.ts'

let cachedRoot: protobuf.Root | undefined

/**
 * Parses (once) the containerd protos of `proto/containerd/`, from their embedded text. Imports
 * between them need no resolution (every file is parsed into the same root); the well-known
 * `google/protobuf/*.proto` types they import come from protobufjs's bundled definitions.
 */
export function containerdProtoRoot(): protobuf.Root {
  if (cachedRoot !== undefined) return cachedRoot
  const root = new protobuf.Root()
  const wellKnown = new Set<string>()
  for (const file of Object.keys(PROTO_SOURCES) as ProtoFile[]) {
    const parsed = protobuf.parse(PROTO_SOURCES[file], root, { keepCase: false })
    for (const imp of parsed.imports ?? []) {
      if (imp.startsWith('google/protobuf/')) wellKnown.add(imp)
      else if (!Object.hasOwn(PROTO_SOURCES, imp)) throw new InternalError(`${file} imports ${imp}, which is not embedded`)
    }
  }
  for (const imp of wellKnown) {
    const json = protobuf.common.get(imp)
    if (json === null) throw new InternalError(`no well-known definition for ${imp}`)
    root.addJSON(json.nested ?? {})
  }
  root.resolveAll()
  cachedRoot = root
  return root
}

/** Plain-object form of a decoded message (camelCase fields, 64-bit ints as numbers, defaults filled). */
export type Msg = Record<string, unknown>

const CONVERSION: protobuf.IConversionOptions = { longs: Number, enums: String, bytes: Buffer, defaults: true, arrays: true, objects: true }

interface Method {
  readonly path: string
  readonly serialize: (value: Msg) => Buffer
  readonly deserialize: (bytes: Buffer) => Msg
}

/** A gRPC status error from containerd, with its numeric code. */
export interface GrpcError extends Error {
  readonly code: number
  readonly details: string
}

/** True when `err` is a gRPC error with `code` (see {@link GRPC_CODE}). */
export function isGrpcCode(err: unknown, code: number): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code
}

/** gRPC status codes the runtime distinguishes. */
export const GRPC_CODE = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 9,
  UNAVAILABLE: 14,
} as const

/** Options for {@link ContainerdGrpc}. */
export interface ContainerdGrpcInit {
  /** Absolute path of containerd's gRPC socket. */
  readonly socketPath: string
  /** containerd namespace every call is made in. */
  readonly namespace: string
}

/** A server-streaming call: its messages, and a way to end it. */
export interface ServerStream {
  readonly messages: AsyncIterable<Msg>
  cancel(): void
}

/** A bidi stream for Content.Write. */
export interface DuplexStream {
  write(msg: Msg): Promise<Msg>
  end(): void
  cancel(): void
}

let grpcModule: Promise<typeof grpc> | undefined

/** Loads @grpc/grpc-js once per process. */
function loadGrpc(): Promise<typeof grpc> {
  grpcModule ??= import('@grpc/grpc-js')
  return grpcModule
}

/** A channel made once grpc-js is loaded: the client and the module it came from. */
interface Channel {
  readonly grpc: typeof grpc
  readonly client: grpc.Client
}

/** The low-level client. */
export class ContainerdGrpc {
  readonly #socketPath: string
  readonly #root: protobuf.Root
  readonly #namespace: string
  readonly #methods = new Map<string, Method>()
  #channel: Promise<Channel> | undefined
  #closed = false

  constructor(opts: ContainerdGrpcInit) {
    this.#root = containerdProtoRoot()
    this.#namespace = opts.namespace
    this.#socketPath = opts.socketPath
  }

  /** The channel, made on the first call (a channel made after `close` is closed at once, so its calls fail as grpc-js fails them). */
  #connect(): Promise<Channel> {
    this.#channel ??= loadGrpc().then((g) => {
      const client = new g.Client(`unix://${this.#socketPath}`, g.credentials.createInsecure(), {
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        'grpc.max_send_message_length': 64 * 1024 * 1024,
        // Reconnect soon after containerd restarts (grpc-js backs off up to 120 s by default).
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
      })
      if (this.#closed) client.close()
      return { grpc: g, client }
    })
    return this.#channel
  }

  /** Closes the channel; in-flight calls fail with CANCELLED. */
  close(): void {
    this.#closed = true
    void this.#channel?.then(({ client }) => client.close(), () => undefined)
  }

  #method(service: string, rpc: string): Method {
    const key = `${service}/${rpc}`
    const cached = this.#methods.get(key)
    if (cached !== undefined) return cached
    const svc = this.#root.lookupService(service)
    const m = svc.methods[rpc]
    if (m === undefined) throw new InternalError(`containerd proto has no ${key}`)
    const req = this.#root.lookupType(m.requestType)
    const res = this.#root.lookupType(m.responseType)
    const method: Method = {
      path: `/${service}/${rpc}`,
      serialize: (value) => Buffer.from(req.encode(req.fromObject(value)).finish()),
      deserialize: (bytes) => res.toObject(res.decode(bytes), CONVERSION),
    }
    this.#methods.set(key, method)
    return method
  }

  #metadata(g: typeof grpc, lease: string | undefined): grpc.Metadata {
    const md = new g.Metadata()
    md.set('containerd-namespace', this.#namespace)
    if (lease !== undefined) md.set('containerd-lease', lease)
    return md
  }

  /** One unary call. `service` is the fully qualified name, e.g. `containerd.services.tasks.v1.Tasks`. */
  async unary(service: string, rpc: string, request: Msg, opts: { lease?: string; signal?: AbortSignal } = {}): Promise<Msg> {
    const m = this.#method(service, rpc)
    const { grpc: g, client } = await this.#connect()
    return new Promise<Msg>((resolve, reject) => {
      const call = client.makeUnaryRequest(m.path, m.serialize, m.deserialize, request, this.#metadata(g, opts.lease), (err, value) => {
        opts.signal?.removeEventListener('abort', onAbort)
        if (err !== null) reject(err)
        else resolve(value ?? {})
      })
      const onAbort = (): void => call.cancel()
      if (opts.signal?.aborted === true) call.cancel()
      else opts.signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** A server-streaming call. */
  serverStream(service: string, rpc: string, request: Msg, opts: { lease?: string } = {}): ServerStream {
    const m = this.#method(service, rpc)
    let call: grpc.ClientReadableStream<Msg> | undefined
    let cancelled = false
    const opened = this.#connect().then(({ grpc: g, client }) => {
      call = client.makeServerStreamRequest(m.path, m.serialize, m.deserialize, request, this.#metadata(g, opts.lease))
      if (cancelled) call.cancel()
      return call as AsyncIterable<Msg>
    })
    opened.catch(() => undefined) // reported to the reader of `messages`
    return {
      messages: { [Symbol.asyncIterator]: async function* () { yield* await opened } },
      cancel: () => {
        cancelled = true
        call?.cancel()
      },
    }
  }

  /** A bidi stream where each request gets exactly one response (containerd's Content.Write). */
  duplex(service: string, rpc: string, opts: { lease?: string } = {}): DuplexStream {
    const m = this.#method(service, rpc)
    const waiting: { resolve: (v: Msg) => void; reject: (e: unknown) => void }[] = []
    let failure: Error | undefined
    const fail = (err: unknown): void => {
      failure = err instanceof Error ? err : new Error(String(err))
      for (const w of waiting.splice(0)) w.reject(failure)
    }
    const opened = this.#connect().then(({ grpc: g, client }) => {
      const call = client.makeBidiStreamRequest(m.path, m.serialize, m.deserialize, this.#metadata(g, opts.lease))
      call.on('data', (msg: Msg) => waiting.shift()?.resolve(msg))
      call.on('error', fail)
      call.on('end', () => {
        for (const w of waiting.splice(0)) w.reject(failure ?? new UnavailableError('containerd closed the write stream'))
      })
      return call
    })
    opened.catch(fail)
    // Writes, end and cancel wait for the call; callbacks on one promise run in the order they were added.
    return {
      write: (msg) => new Promise<Msg>((resolve, reject) => {
        if (failure !== undefined) { reject(failure); return }
        waiting.push({ resolve, reject })
        void opened.then((call) => call.write(msg), () => undefined)
      }),
      end: () => void opened.then((call) => call.end(), () => undefined),
      cancel: () => void opened.then((call) => call.cancel(), () => undefined),
    }
  }

  /**
   * Decodes a `google.protobuf.Any` payload by its type URL (e.g. `containerd.events.TaskExit`).
   * protobufjs keeps the well-known `Any` fields snake_case: `{ type_url, value }` (also when encoding).
   */
  decodeAny(any: Msg): { type: string; value: Msg } | undefined {
    const typeUrl = typeof any['type_url'] === 'string' ? any['type_url'] : ''
    const value = any['value']
    const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1)
    const type = this.#root.lookup(name)
    if (!(type instanceof protobuf.Type) || !(value instanceof Uint8Array)) return undefined
    return { type: name, value: type.toObject(type.decode(value), CONVERSION) }
  }
}

/** The server's message of a gRPC error (its `details`), else the error's message. */
export function errText(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const details = (err as { details?: unknown }).details
    if (typeof details === 'string' && details !== '') return details
  }
  return err instanceof Error ? err.message : String(err)
}

/** A `.catch` handler that swallows gRPC errors with one of `codes` and rethrows the rest. */
export function ignoreCodes(...codes: number[]): (err: unknown) => void {
  return (err) => {
    if (!codes.some((c) => isGrpcCode(err, c))) throw err
  }
}
