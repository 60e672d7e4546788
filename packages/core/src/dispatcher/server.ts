/**
 * The dispatcher over gRPC, server side: {@link addDispatcherService} serves `DispatcherApi` on a
 * caller-owned grpc-js `Server` (the node's one server, beside raft, CA, control and logs).
 *
 * Every call is authorized first; the calling node is the node id of its certificate (the
 * authorizer's answer), never anything in the request, and the dispatcher records the peer's IP
 * as the node's `status.addr`. A manager that is not the leader (no running dispatcher) refuses
 * every call with `NotLeaderError` carrying the leader's address when known: the agent fails over
 * to it. (SwarmKit's followers proxy dispatcher calls to the leader instead — see the README.)
 *
 * @module
 */
import type { MethodDefinition, sendUnaryData, Server, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js'
import { decodeDispatcherMessage, NotLeaderError, silentLogger, UnavailableError } from '@swarmkit-ts/api'
import type { DispatcherApi, DispatcherMessages, DispatcherMessageType, Logger } from '@swarmkit-ts/api'
import type { Dispatcher } from '@swarmkit-ts/orchestrator'
import { authorize } from '@swarmkit-ts/pki'
import type { AuthorizeOptions, CallWithAuthContext, NodeIdentity } from '@swarmkit-ts/pki'
import { toGrpcError } from '../rpc/errors.ts'
import { drained } from '../rpc/stream.ts'
import { dispatcherServiceDefinition } from './definition.ts'

/**
 * Decides who a call comes from: the identity of the caller's certificate when it may use the
 * dispatcher, or a throw (`PermissionDeniedError`) when not. Workers and managers both may, e.g.
 * `(call) => authorize(call, ['worker', 'manager'], { clusterId, denyList })` with pki's
 * `authorize` (see {@link authorizeDispatcherCaller}).
 */
export type DispatcherAuthorizer = (call: CallWithAuthContext) => NodeIdentity

/**
 * The usual {@link DispatcherAuthorizer}: a worker or manager certificate (of `options.clusterId`
 * when given, not on `options.denyList`), its node id the caller.
 */
export function authorizeDispatcherCaller(options?: AuthorizeOptions): DispatcherAuthorizer {
  return (call) => authorize(call, ['worker', 'manager'], options)
}

/** What {@link addDispatcherService} needs. */
export interface DispatcherServiceInit {
  /** The running dispatcher while this manager leads; `undefined` otherwise (read at every call). */
  readonly dispatcher: () => Dispatcher | undefined
  /** Authorizes each call and names its node. */
  readonly authorize: DispatcherAuthorizer
  /** The leader's cluster address when known, for the `NotLeaderError` of a follower. @default unknown */
  readonly leaderAddress?: () => string | undefined
  /** Where refused calls are reported (debug level). @default silentLogger */
  readonly logger?: Logger
}

/** The dispatcher service registered on a server. */
export interface DispatcherService {
  /** Streams in progress (sessions and assignments). */
  readonly openStreams: number
  /**
   * Ends every stream in progress with `UnavailableError` (this node is closing), so that the
   * server can shut down without waiting for agents; their agents reconnect elsewhere.
   */
  closeAll(): void
}

/** The handler's view of a server call: its peer, for the node's address. */
interface PeerCall extends CallWithAuthContext {
  getPeer(): string
}

/** The IP of a grpc-js peer string (`1.2.3.4:5`, `[::1]:5`, `ipv4:…`); undefined when it has none. */
export function peerHost(peer: string): string | undefined {
  const bare = peer.replace(/^ipv[46]:/, '')
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(bare)
  if (bracketed !== null) return bracketed[1]
  const plain = /^([^:]+):\d+$/.exec(bare)
  return plain === null ? undefined : plain[1]
}

/** A server-side method: the request left as bytes, decoded by the handler (so a bad request is an InvalidArgumentError, not INTERNAL). */
type RawRequestMethod<R> = MethodDefinition<Buffer, R>

function rawRequest<Q, R>(def: MethodDefinition<Q, R>): RawRequestMethod<R> {
  return { ...def, requestSerialize: (bytes: Buffer) => bytes, requestDeserialize: (bytes: Buffer) => bytes }
}

/** One stream in progress: `fail` ends it with an error. */
interface OpenStream {
  fail(err: Error): void
}

class DispatcherHandlers implements DispatcherService {
  readonly #init: DispatcherServiceInit
  readonly #logger: Logger
  readonly #open = new Set<OpenStream>()

  constructor(init: DispatcherServiceInit) {
    this.#init = init
    this.#logger = init.logger ?? silentLogger
  }

  get openStreams(): number {
    return this.#open.size
  }

  closeAll(): void {
    for (const s of [...this.#open]) s.fail(new UnavailableError('the manager is closing its dispatcher streams'))
  }

  /**
   * The error to answer with: a `NotLeaderError` of a dispatcher stopping (leadership just lost)
   * gets the leader's address when it is known by now.
   */
  #answer(err: unknown): unknown {
    if (err instanceof NotLeaderError && err.leaderAddr === undefined) {
      const leaderAddr = this.#init.leaderAddress?.()
      if (leaderAddr !== undefined) return new NotLeaderError({ leaderAddr, leaderId: err.leaderId, cause: err })
    }
    return err
  }

  /** The caller's `DispatcherApi`: its node from the certificate, on the running dispatcher. */
  #api(call: PeerCall): DispatcherApi {
    const identity = this.#init.authorize(call)
    const dispatcher = this.#init.dispatcher()
    if (dispatcher === undefined) {
      const leaderAddr = this.#init.leaderAddress?.()
      throw new NotLeaderError(leaderAddr === undefined ? {} : { leaderAddr })
    }
    const addr = peerHost(call.getPeer())
    return dispatcher.api(identity.nodeId, addr === undefined ? {} : { addr })
  }

  unary<Q extends DispatcherMessageType, R extends DispatcherMessageType>(
    requestType: Q,
    run: (api: DispatcherApi, request: DispatcherMessages[Q]) => Promise<DispatcherMessages[R]>,
  ): (call: ServerUnaryCall<Buffer, DispatcherMessages[R]>, callback: sendUnaryData<DispatcherMessages[R]>) => void {
    return (call, callback) => {
      const answer = async (): Promise<DispatcherMessages[R]> => {
        const api = this.#api(call)
        return run(api, decodeDispatcherMessage(requestType, call.request))
      }
      answer().then(
        (response) => callback(null, response),
        (err: unknown) => {
          this.#logger.debug('dispatcher service: call refused', { path: call.getPath(), err: String(err) })
          callback(toGrpcError(this.#answer(err)))
        },
      )
    }
  }

  stream<Q extends DispatcherMessageType, M extends DispatcherMessageType>(
    requestType: Q,
    open: (api: DispatcherApi, request: DispatcherMessages[Q], signal: AbortSignal) => AsyncIterable<DispatcherMessages[M]>,
  ): (call: ServerWritableStream<Buffer, DispatcherMessages[M]>) => void {
    return (call) => void this.#serve(call, requestType, open)
  }

  async #serve<Q extends DispatcherMessageType, M extends DispatcherMessageType>(
    call: ServerWritableStream<Buffer, DispatcherMessages[M]>,
    requestType: Q,
    open: (api: DispatcherApi, request: DispatcherMessages[Q], signal: AbortSignal) => AsyncIterable<DispatcherMessages[M]>,
  ): Promise<void> {
    // Aborting ends the dispatcher's stream (without an error): the client cancelled, or `fail`.
    const inner = new AbortController()
    let failure: Error | undefined
    let cancelled = false
    const entry: OpenStream = {
      fail: (err) => {
        failure ??= err
        inner.abort()
      },
    }
    const onCancelled = (): void => {
      cancelled = true
      inner.abort()
    }
    call.on('cancelled', onCancelled)
    this.#open.add(entry)
    try {
      const api = this.#api(call)
      const request = decodeDispatcherMessage(requestType, call.request)
      for await (const message of open(api, request, inner.signal)) {
        if (inner.signal.aborted) break
        if (!call.write(message)) await drained(call, inner.signal)
      }
      if (failure !== undefined) throw failure
      if (!cancelled) call.end()
    } catch (err) {
      if (!cancelled) {
        this.#logger.debug('dispatcher service: stream ended with an error', { path: call.getPath(), err: String(err) })
        call.emit('error', toGrpcError(this.#answer(failure ?? err)))
      }
    } finally {
      this.#open.delete(entry)
      call.off('cancelled', onCancelled)
      inner.abort()
    }
  }
}

/**
 * Registers the dispatcher service (`swarmkit.core.v1.Dispatcher`) on `server`. Call it once per
 * server, before or after the server binds; the service follows leadership through
 * `init.dispatcher()`.
 */
export function addDispatcherService(server: Server, init: DispatcherServiceInit): DispatcherService {
  const h = new DispatcherHandlers(init)
  const def = dispatcherServiceDefinition
  server.addService(
    {
      Session: rawRequest(def.Session),
      Heartbeat: rawRequest(def.Heartbeat),
      Assignments: rawRequest(def.Assignments),
      UpdateTaskStatus: rawRequest(def.UpdateTaskStatus),
    },
    {
      Session: h.stream<'SessionRequest', 'SessionMessage'>('SessionRequest', (api, request, signal) => api.session(request, { signal })),
      Heartbeat: h.unary<'HeartbeatRequest', 'HeartbeatResponse'>('HeartbeatRequest', (api, request) => api.heartbeat(request)),
      Assignments: h.stream<'AssignmentsRequest', 'AssignmentsMessage'>('AssignmentsRequest', (api, request, signal) => api.assignments(request, { signal })),
      UpdateTaskStatus: h.unary<'UpdateTaskStatusRequest', 'UpdateTaskStatusResponse'>('UpdateTaskStatusRequest', async (api, request) => {
        await api.updateTaskStatus(request)
        return {}
      }),
    },
  )
  return h
}
