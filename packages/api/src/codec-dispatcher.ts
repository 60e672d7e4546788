/**
 * The protobuf encoding of the dispatcher's wire messages (proto/swarmkit/v1/dispatcher.proto):
 * every request, response and stream message of {@link DispatcherApi}, on the same exact codec
 * as objects and store events (see codec.ts: presence kept, bigints exact, bad input rejected
 * with an `InvalidArgumentError` naming the field path). The repeated fields the TypeScript
 * types require (`managers`, `networkBootstrapKeys`, `updates`, `changes`) decode as `[]` when
 * empty, and an `Assignment` must carry exactly one of `task`, `secret`, `config`.
 *
 * @module
 */
import { decodeMessage } from './codec-decode.ts'
import { encodeMessage } from './codec-encode.ts'
import { codecSchema, PROTO_PACKAGE, type MessagePlan } from './codec-schema.ts'
import type {
  AssignmentsMessage,
  DispatcherApi,
  HeartbeatRequest,
  HeartbeatResponse,
  SessionMessage,
  SessionRequest,
  UpdateTaskStatusRequest,
} from './dispatcher-api.ts'
import { InvalidArgumentError } from './errors.ts'

/** The request that opens an assignments stream (the argument of `DispatcherApi.assignments`). */
export type AssignmentsRequest = Parameters<DispatcherApi['assignments']>[0]

/** The answer to `UpdateTaskStatus` on the wire: an empty message (the updates are queued). */
export type UpdateTaskStatusResponse = Readonly<Record<never, never>>

/** Every dispatcher wire message, by its proto message name. */
export interface DispatcherMessages {
  SessionRequest: SessionRequest
  SessionMessage: SessionMessage
  HeartbeatRequest: HeartbeatRequest
  HeartbeatResponse: HeartbeatResponse
  UpdateTaskStatusRequest: UpdateTaskStatusRequest
  UpdateTaskStatusResponse: UpdateTaskStatusResponse
  AssignmentsRequest: AssignmentsRequest
  AssignmentsMessage: AssignmentsMessage
}

/** The name of a dispatcher wire message. */
export type DispatcherMessageType = keyof DispatcherMessages

/** Every dispatcher wire message name, in the order of dispatcher.proto. */
export const DISPATCHER_MESSAGE_TYPES: readonly DispatcherMessageType[] = Object.freeze([
  'SessionRequest',
  'SessionMessage',
  'HeartbeatRequest',
  'HeartbeatResponse',
  'UpdateTaskStatusRequest',
  'UpdateTaskStatusResponse',
  'AssignmentsRequest',
  'AssignmentsMessage',
])

const plans = new Map<unknown, MessagePlan>()
function plan(type: unknown): MessagePlan {
  let p = plans.get(type)
  if (p === undefined) {
    if (typeof type !== 'string' || !(DISPATCHER_MESSAGE_TYPES as readonly string[]).includes(type)) {
      throw new InvalidArgumentError('type', `unknown dispatcher message ${JSON.stringify(type) ?? String(type)}`)
    }
    p = codecSchema().message(`${PROTO_PACKAGE}.${type}`)
    plans.set(type, p)
  }
  return p
}

/** Encodes a dispatcher wire message of the given type. */
export function encodeDispatcherMessage<T extends DispatcherMessageType>(type: T, value: DispatcherMessages[T]): Uint8Array {
  return encodeMessage(plan(type), value)
}

/**
 * {@link encodeDispatcherMessage}, with bytes that may be a view into a shared slab (see
 * `encodeObjectPooled`): for a message handed to a transport or decoded at once.
 */
export function encodeDispatcherMessagePooled<T extends DispatcherMessageType>(type: T, value: DispatcherMessages[T]): Uint8Array {
  return encodeMessage(plan(type), value, undefined, undefined, true)
}

/** Decodes a dispatcher wire message of the given type, as written by {@link encodeDispatcherMessage}. */
export function decodeDispatcherMessage<T extends DispatcherMessageType>(type: T, bytes: Uint8Array): DispatcherMessages[T] {
  return decodeMessage(plan(type), bytes) as unknown as DispatcherMessages[T]
}
