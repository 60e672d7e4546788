/**
 * The dispatcher's gRPC service, `swarmkit.core.v1.Dispatcher`: the four calls of
 * `DispatcherApi` with their messages encoded by api's dispatcher codec (dispatcher.proto, the
 * same bytes the in-process binding carries). Shared by the server ({@link addDispatcherService})
 * and the client ({@link GrpcDispatcherClient}).
 *
 * | method | kind | request | response |
 * |---|---|---|---|
 * | `Session` | server stream | `SessionRequest` | `SessionMessage` |
 * | `Heartbeat` | unary | `HeartbeatRequest` | `HeartbeatResponse` |
 * | `Assignments` | server stream | `AssignmentsRequest` | `AssignmentsMessage` |
 * | `UpdateTaskStatus` | unary | `UpdateTaskStatusRequest` | `UpdateTaskStatusResponse` |
 *
 * No request names the calling node: the server reads it from the caller's certificate.
 *
 * @module
 */
import type { MethodDefinition } from '@grpc/grpc-js'
import { decodeDispatcherMessage, encodeDispatcherMessagePooled } from '@swarmkit-ts/api'
import type { DispatcherMessages, DispatcherMessageType } from '@swarmkit-ts/api'

/** The fully qualified name of the dispatcher's gRPC service. */
export const DISPATCHER_SERVICE_NAME = 'swarmkit.core.v1.Dispatcher'

/** A method of the dispatcher service, typed by its wire messages. */
export type DispatcherMethod<Q extends DispatcherMessageType, R extends DispatcherMessageType> = MethodDefinition<DispatcherMessages[Q], DispatcherMessages[R]>

/**
 * The bytes handed to grpc-js, which copies them into its frame at once: a view of the pooled
 * encoding (no copy, no ArrayBuffer of its own).
 */
function wire(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}

function method<Q extends DispatcherMessageType, R extends DispatcherMessageType>(
  name: string,
  request: Q,
  response: R,
  responseStream: boolean,
): DispatcherMethod<Q, R> {
  return {
    path: `/${DISPATCHER_SERVICE_NAME}/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: (value) => wire(encodeDispatcherMessagePooled(request, value)),
    requestDeserialize: (bytes) => decodeDispatcherMessage(request, bytes),
    responseSerialize: (value) => wire(encodeDispatcherMessagePooled(response, value)),
    responseDeserialize: (bytes) => decodeDispatcherMessage(response, bytes),
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
  }
}

/** The dispatcher service's methods (a grpc-js `ServiceDefinition`). */
export const dispatcherServiceDefinition = Object.freeze({
  Session: method('Session', 'SessionRequest', 'SessionMessage', true),
  Heartbeat: method('Heartbeat', 'HeartbeatRequest', 'HeartbeatResponse', false),
  Assignments: method('Assignments', 'AssignmentsRequest', 'AssignmentsMessage', true),
  UpdateTaskStatus: method('UpdateTaskStatus', 'UpdateTaskStatusRequest', 'UpdateTaskStatusResponse', false),
})
