/**
 * `addControlService`: the control API served on a caller-owned grpc-js server (the node's mTLS
 * server for manager certificates, or the local control socket).
 *
 * @module
 */
import type { Metadata, Server, ServerDuplexStream, ServerUnaryCall, ServerWritableStream, ServiceDefinition, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js'
import { FailedPreconditionError, InvalidArgumentError, encodeStoreEvent } from '@swarmkit-ts/api'
import type { CallWithAuthContext } from '@swarmkit-ts/pki'
import { rawMethod } from '../rpc/raw-method.ts'
import { toGrpcError } from '../rpc/errors.ts'
import type { ControlApi } from './control-api.ts'
import { CONTROL_METHODS, FORWARDED_METADATA_KEY, INFO_METHOD, WATCH_METHOD, controlPath } from './control-methods.ts'
import { SESSION_METHOD, serveControlSession } from './control-session.ts'
import { LeaderForwardingControl } from './leader-forwarding.ts'
import { decodeRequest, decodeWatchRequest, encodeResponse, encodeWatchMessage, type WireRequest, type WireWatchRequest } from './control-wire.ts'

/** What a server knows about a call when it picks the API to answer it. */
export interface ControlCallContext {
  /**
   * The call was forwarded by another manager (`ControlClient` with `forwarded: true`): answer it
   * here or refuse with `NotLeaderError`, never forward it again (no forwarding loops).
   */
  readonly forwarded: boolean
}

/** What {@link addControlService} needs. */
export interface ControlServiceDeps {
  /**
   * The control API that answers a call, asked once per call (so a manager can hand out its
   * leader-forwarding API — or, for a forwarded call, `LeaderForwardingControl.direct()` — or
   * throw `ClusterLockedError` / `UnavailableError` while it has none).
   */
  readonly control: (context: ControlCallContext) => ControlApi
  /**
   * Checks the caller before anything else; throws (`PermissionDeniedError`) to refuse. On the
   * cluster listener: `(call) => authorize(call, ['manager'], { clusterId, denyList })` from pki.
   * The local control socket passes a function that lets every caller through.
   */
  readonly authorize: (call: CallWithAuthContext) => void
  /**
   * The node id of the manager serving this API, answered by `Info` here, never forwarded (so
   * `swarmkit node ls` can mark the node it talks to). Without it `Info` fails with
   * `FailedPreconditionError`.
   */
  readonly nodeId?: string
}

function contextOf(call: { metadata: Metadata }): ControlCallContext {
  return { forwarded: call.metadata.get(FORWARDED_METADATA_KEY).length > 0 }
}

/** The grpc-js service definition: every method takes and answers encoded envelopes (Buffers). */
export function controlServiceDefinition(): ServiceDefinition {
  const def: Record<string, ServiceDefinition[string]> = {}
  for (const name of Object.keys(CONTROL_METHODS)) def[name] = rawMethod(controlPath(name), name)
  def[WATCH_METHOD] = rawMethod(controlPath(WATCH_METHOD), WATCH_METHOD, true)
  def[INFO_METHOD] = rawMethod(controlPath(INFO_METHOD), INFO_METHOD)
  def[SESSION_METHOD] = { ...rawMethod(controlPath(SESSION_METHOD), SESSION_METHOD, true), requestStream: true }
  return def
}

function decoded<T>(decode: (b: Buffer) => T, bytes: Buffer): T {
  try {
    return decode(bytes)
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err
    throw new InvalidArgumentError('', `undecodable request: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

/**
 * Answers one unary call (by method name, with its encoded request envelope) as the service does:
 * authorize the caller, then `Info` here, or the call passed on as is by a follower's
 * leader-forwarding API, or decoded and run on `deps.control()`; resolves with the encoded
 * response, rejects with the typed error.
 */
function answerer(deps: ControlServiceDeps): (name: string, request: Buffer, call: CallWithAuthContext & { metadata: Metadata }) => Promise<Buffer> {
  return (name, request, call) => {
    try {
      deps.authorize(call)
      if (name === INFO_METHOD) {
        if (deps.nodeId === undefined) throw new FailedPreconditionError('this control service does not know its node id', { reason: 'no-node-id' })
        return Promise.resolve(encodeResponse({ nodeId: deps.nodeId }))
      }
      const run = Object.hasOwn(CONTROL_METHODS, name) ? CONTROL_METHODS[name] : undefined
      if (run === undefined) throw new InvalidArgumentError('method', `is not a control method: ${JSON.stringify(name)}`)
      const control = deps.control(contextOf(call))
      // A follower passes the encoded call on to the leader as is.
      const pass = control instanceof LeaderForwardingControl ? control.passThrough() : undefined
      if (pass !== undefined) return pass(name, request)
      const req: WireRequest = decoded(decodeRequest, request)
      return run(control, req).then(encodeResponse)
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)))
    }
  }
}

/**
 * Registers the `swarmkit.core.v1.Control` service on `server`. Every call is authorized first,
 * then answered by `deps.control()`; every error reaches the client as its typed gRPC status
 * (`fromGrpcError` rebuilds it).
 */
export function addControlService(server: Server, deps: ControlServiceDeps): void {
  const impl: UntypedServiceImplementation = {}
  const answer = answerer(deps)
  for (const name of [...Object.keys(CONTROL_METHODS), INFO_METHOD]) {
    impl[name] = (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      answer(name, call.request, call).then(
        (res) => callback(null, res),
        (err: unknown) => callback(toGrpcError(err)),
      )
    }
  }
  impl[WATCH_METHOD] = (call: ServerWritableStream<Buffer, Buffer>) => {
    void serveWatch(call, deps)
  }
  // The same calls multiplexed on one stream (ControlClient's way): each frame is authorized and
  // answered as its unary method.
  impl[SESSION_METHOD] = (call: ServerDuplexStream<Buffer, Buffer>) => {
    serveControlSession(call, (method, request) => answer(method, request, call))
  }
  server.addService(controlServiceDefinition(), impl)
}

async function serveWatch(call: ServerWritableStream<Buffer, Buffer>, deps: ControlServiceDeps): Promise<void> {
  const ac = new AbortController()
  call.on('cancelled', () => ac.abort())
  call.on('close', () => ac.abort())
  try {
    deps.authorize(call)
    const req: WireWatchRequest = decoded(decodeWatchRequest, call.request)
    const events = deps.control(contextOf(call)).watch(req.selector, { signal: ac.signal, ...(req.since === undefined ? {} : { since: req.since }) })
    for await (const ev of events) {
      if (ac.signal.aborted) break
      // The codec takes the mutable type; it only reads the event.
      const ok = call.write(encodeWatchMessage(encodeStoreEvent(ev)))
      if (!ok) await new Promise<void>((resolve) => {
        const done = (): void => {
          call.off('drain', done)
          ac.signal.removeEventListener('abort', done)
          resolve()
        }
        call.on('drain', done)
        ac.signal.addEventListener('abort', done)
      })
    }
    if (!ac.signal.aborted) call.end()
  } catch (err) {
    if (!ac.signal.aborted) call.emit('error', toGrpcError(err))
  }
}
