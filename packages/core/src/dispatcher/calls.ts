/**
 * The client side of the dispatcher's four calls over a grpc-js `Client`, shared by
 * {@link GrpcDispatcherClient} (one channel) and {@link GrpcDispatcherConnector} (a channel per
 * manager): requests encoded before the call (a bad request is the encoder's
 * `InvalidArgumentError`, never sent), failures rebuilt through `fromGrpcError`, server streams as
 * async iterables that end without an error when their signal aborts.
 *
 * @internal
 */
import { Metadata } from '@grpc/grpc-js'
import type { CallOptions, Client, ClientReadableStream } from '@grpc/grpc-js'
import { InternalError } from '@swarmkit-ts/api'
import type {
  AssignmentsMessage,
  AssignmentsRequest,
  DispatcherApi,
  DispatcherMessages,
  DispatcherMessageType,
  DispatcherStreamOptions,
  HeartbeatRequest,
  HeartbeatResponse,
  SessionMessage,
  SessionRequest,
  UpdateTaskStatusRequest,
} from '@swarmkit-ts/api'
import { fromGrpcError } from '../rpc/errors.ts'
import { dispatcherServiceDefinition, type DispatcherMethod } from './definition.ts'

/** Where calls go: a grpc-js client taken for one call and given back when it ends. */
export interface ClientLease {
  /** The client for a call that starts now (may throw `UnavailableError` when closed). */
  acquire(): Client
  /** The call that acquired it has ended. */
  release(): void
  /** Aborts when the lease's channel closes: streams in progress are cancelled (`UnavailableError`). */
  readonly closing: AbortSignal
  /** Told of every failure of a call (after it was rebuilt as a typed error). */
  readonly failed?: ((err: Error) => void) | undefined
}

/** The typed error of a failed call, told to the lease. */
function failure(lease: ClientLease, err: unknown): Error {
  const typed = fromGrpcError(err)
  lease.failed?.(typed)
  return typed
}

const identity = (bytes: Buffer): Buffer => bytes

/** Whether `signal` has aborted (a call, so that TypeScript does not keep an earlier narrowing). */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

/** One unary call: resolves with the decoded response, rejects with the typed error. */
async function unary<Q extends DispatcherMessageType, R extends DispatcherMessageType>(
  lease: ClientLease,
  def: DispatcherMethod<Q, R>,
  request: DispatcherMessages[Q],
  timeoutMs: number,
): Promise<DispatcherMessages[R]> {
  const bytes = def.requestSerialize(request)
  const client = lease.acquire()
  try {
    return await new Promise((resolve, reject) => {
      // A deadline is real time on the wire: grpc-js takes a Date.
      const options: CallOptions = timeoutMs > 0 ? { deadline: new Date(Date.now() + timeoutMs) } : {}
      client.makeUnaryRequest(def.path, identity, def.responseDeserialize, bytes, new Metadata(), options, (err, value) => {
        if (err !== null) reject(failure(lease, err))
        else if (value === undefined) reject(new InternalError(`${def.path}: the call ended without a response`))
        else resolve(value)
      })
    })
  } finally {
    lease.release()
  }
}

/**
 * One server stream. Nothing is sent before the first `next()`, nor at all when the signal has
 * already aborted; an abort (or `return()`) cancels the call and ends the iteration without an
 * error; a failure of the call is thrown as its typed error after the messages received before it.
 */
async function* serverStream<Q extends DispatcherMessageType, M extends DispatcherMessageType>(
  lease: ClientLease,
  def: DispatcherMethod<Q, M>,
  request: DispatcherMessages[Q],
  signal: AbortSignal | undefined,
): AsyncGenerator<DispatcherMessages[M], void, undefined> {
  if (aborted(signal)) return
  const bytes = def.requestSerialize(request)
  const client = lease.acquire()
  let call: ClientReadableStream<DispatcherMessages[M]> | undefined
  const onAbort = (): void => call?.cancel()
  try {
    call = client.makeServerStreamRequest(def.path, identity, def.responseDeserialize, bytes, new Metadata(), {})
    // The iteration below reads errors through its own listener; this one keeps a status arriving
    // after the iteration was left (the call cancelled in `finally`) from being an uncaught 'error'.
    call.on('error', () => undefined)
    signal?.addEventListener('abort', onAbort, { once: true })
    lease.closing.addEventListener('abort', onAbort, { once: true })
    for await (const message of call as AsyncIterable<DispatcherMessages[M]>) {
      if (aborted(signal)) return
      yield message
    }
  } catch (err) {
    if (aborted(signal)) return
    throw failure(lease, err)
  } finally {
    signal?.removeEventListener('abort', onAbort)
    lease.closing.removeEventListener('abort', onAbort)
    call?.cancel()
    lease.release()
  }
}

/** A `DispatcherApi` whose calls go through `lease`; unary calls get a deadline of `timeoutMs` (0: none). */
export function leasedDispatcherApi(lease: ClientLease, timeoutMs: number): DispatcherApi {
  const def = dispatcherServiceDefinition
  return {
    session: (request: SessionRequest, options?: DispatcherStreamOptions): AsyncIterable<SessionMessage> =>
      serverStream(lease, def.Session, request, options?.signal),
    heartbeat: (request: HeartbeatRequest): Promise<HeartbeatResponse> => unary(lease, def.Heartbeat, request, timeoutMs),
    assignments: (request: AssignmentsRequest, options?: DispatcherStreamOptions): AsyncIterable<AssignmentsMessage> =>
      serverStream(lease, def.Assignments, request, options?.signal),
    updateTaskStatus: async (request: UpdateTaskStatusRequest): Promise<void> => {
      await unary(lease, def.UpdateTaskStatus, request, timeoutMs)
    },
  }
}
