/**
 * The logs gRPC services' wire: `swarmkit.core.v1.Logs` (subscribers) and
 * `swarmkit.core.v1.LogBroker` (workers), as in SwarmKit's api/logbroker.proto.
 *
 * | service | method | kind | request | response |
 * |---|---|---|---|---|
 * | `Logs` | `SubscribeLogs` | server stream | `SubscribeLogsRequest` | `SubscribeLogsMessage` |
 * | `LogBroker` | `ListenSubscriptions` | server stream | `ListenSubscriptionsRequest` | `SubscriptionMessage` |
 * | `LogBroker` | `PublishLogs` | client stream | `PublishLogsMessage` | `PublishLogsResponse` |
 *
 * Messages are small protobuf messages (schema below, parsed once with protobufjs). The server
 * side receives raw bytes and decodes them in its handlers, so a malformed request becomes a
 * typed `InvalidArgumentError` instead of grpc-js's INTERNAL. No request names the calling node:
 * the server reads it from the caller's certificate.
 *
 * @module
 */
import type { MethodDefinition } from '@grpc/grpc-js'
import protobuf from 'protobufjs'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { LogMessage, LogSelector, LogStream, LogSubscriptionOptions, PublishLogsMessage, SubscribeLogsRequest, SubscriptionMessage } from './types.ts'

/** The subscribers' service. */
export const LOGS_SERVICE_NAME = 'swarmkit.core.v1.Logs'
/** The workers' service. */
export const LOG_BROKER_SERVICE_NAME = 'swarmkit.core.v1.LogBroker'

const SCHEMA = `
syntax = "proto3";
package swarmkit.core.v1;
enum LogStream { LOG_STREAM_UNKNOWN = 0; LOG_STREAM_STDOUT = 1; LOG_STREAM_STDERR = 2; }
message LogSelector { repeated string service_ids = 1; repeated string task_ids = 2; repeated string node_ids = 3; }
message LogSubscriptionOptions {
  bool follow = 1;
  bool has_tail = 2;
  uint64 tail = 3;
  bool has_since = 4;
  double since = 5;
  repeated LogStream streams = 6;
}
message SubscribeLogsRequest { LogSelector selector = 1; LogSubscriptionOptions options = 2; }
message LogMessage { string service_id = 1; string node_id = 2; string task_id = 3; LogStream stream = 4; double time = 5; string line = 6; }
message SubscribeLogsMessage { repeated LogMessage messages = 1; }
message ListenSubscriptionsRequest {}
message SubscriptionMessage { string id = 1; LogSelector selector = 2; LogSubscriptionOptions options = 3; bool close = 4; }
message PublishLogsMessage { string subscription_id = 1; repeated LogMessage messages = 2; bool close = 3; }
message PublishLogsResponse {}
`
const root = protobuf.parse(SCHEMA, { keepCase: false }).root
const type = (name: string): protobuf.Type => root.lookupType(`swarmkit.core.v1.${name}`)
const T = {
  subscribe: type('SubscribeLogsRequest'),
  batch: type('SubscribeLogsMessage'),
  listen: type('ListenSubscriptionsRequest'),
  subscription: type('SubscriptionMessage'),
  publish: type('PublishLogsMessage'),
  published: type('PublishLogsResponse'),
}

const STREAM_NUMBER: Record<LogStream, number> = { stdout: 1, stderr: 2 }

/** A decoded protobuf message as plain fields (defaults filled in, 64-bit numbers as numbers). */
type Fields = Record<string, unknown>

function encode(t: protobuf.Type, value: Fields): Buffer {
  return Buffer.from(t.encode(t.fromObject(value)).finish())
}

function decode(t: protobuf.Type, buf: Uint8Array): Fields {
  try {
    return t.toObject(t.decode(buf), { defaults: true, longs: Number, arrays: true })
  } catch (err) {
    throw new InvalidArgumentError('', `undecodable ${t.name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [])
const fields = (v: unknown): Fields => (typeof v === 'object' && v !== null ? (v as Fields) : {})

function streamOf(n: unknown, field: string): LogStream {
  if (n === 1) return 'stdout'
  if (n === 2) return 'stderr'
  throw new InvalidArgumentError(field, `unknown log stream ${String(n)}`)
}

const selectorToWire = (s: LogSelector): Fields => ({ serviceIds: s.serviceIds ?? [], taskIds: s.taskIds ?? [], nodeIds: s.nodeIds ?? [] })
const selectorFromWire = (v: unknown): Required<LogSelector> => {
  const o = fields(v)
  return { serviceIds: strings(o['serviceIds']), taskIds: strings(o['taskIds']), nodeIds: strings(o['nodeIds']) }
}

function optionsToWire(o: LogSubscriptionOptions): Fields {
  return {
    follow: o.follow ?? false,
    hasTail: o.tail !== undefined,
    tail: o.tail ?? 0,
    hasSince: o.since !== undefined,
    since: o.since ?? 0,
    streams: (o.streams ?? []).map((s) => STREAM_NUMBER[s]),
  }
}

function optionsFromWire(v: unknown): LogSubscriptionOptions {
  const o = fields(v)
  const streams = Array.isArray(o['streams']) ? o['streams'].map((s, i) => streamOf(s, `options.streams[${i}]`)) : []
  return {
    follow: o['follow'] === true,
    ...(o['hasTail'] === true ? { tail: Number(o['tail']) } : {}),
    ...(o['hasSince'] === true ? { since: Number(o['since']) } : {}),
    ...(streams.length > 0 ? { streams } : {}),
  }
}

const messageToWire = (m: LogMessage): Fields => ({
  serviceId: m.serviceId,
  nodeId: m.nodeId,
  taskId: m.taskId,
  stream: STREAM_NUMBER[m.stream],
  time: m.time,
  line: m.line,
})

function messagesFromWire(v: unknown, field: string): LogMessage[] {
  if (!Array.isArray(v)) return []
  return v.map((x, i) => {
    const o = fields(x)
    return {
      serviceId: String(o['serviceId']),
      nodeId: String(o['nodeId']),
      taskId: String(o['taskId']),
      stream: streamOf(o['stream'], `${field}[${i}].stream`),
      time: Number(o['time']),
      line: String(o['line']),
    }
  })
}

/** Encoders and decoders of the logs messages. Decoders throw `InvalidArgumentError` on malformed bytes. @internal */
export const logsCodec = {
  encodeSubscribeRequest: (r: SubscribeLogsRequest): Buffer =>
    encode(T.subscribe, { selector: selectorToWire(r.selector), options: optionsToWire(r.options ?? {}) }),
  decodeSubscribeRequest: (b: Uint8Array): SubscribeLogsRequest => {
    const o = decode(T.subscribe, b)
    return { selector: selectorFromWire(o['selector']), options: optionsFromWire(o['options']) }
  },
  encodeBatch: (messages: readonly LogMessage[]): Buffer => encode(T.batch, { messages: messages.map(messageToWire) }),
  decodeBatch: (b: Uint8Array): LogMessage[] => messagesFromWire(decode(T.batch, b)['messages'], 'messages'),
  encodeListenRequest: (): Buffer => encode(T.listen, {}),
  encodeSubscription: (m: SubscriptionMessage): Buffer =>
    encode(T.subscription, { id: m.id, selector: selectorToWire(m.selector), options: optionsToWire(m.options), close: m.close }),
  decodeSubscription: (b: Uint8Array): SubscriptionMessage => {
    const o = decode(T.subscription, b)
    return { id: String(o['id']), selector: selectorFromWire(o['selector']), options: optionsFromWire(o['options']), close: o['close'] === true }
  },
  encodePublish: (m: PublishLogsMessage): Buffer =>
    encode(T.publish, { subscriptionId: m.subscriptionId, messages: m.messages.map(messageToWire), close: m.close }),
  decodePublish: (b: Uint8Array): PublishLogsMessage => {
    const o = decode(T.publish, b)
    return { subscriptionId: String(o['subscriptionId']), messages: messagesFromWire(o['messages'], 'messages'), close: o['close'] === true }
  },
  encodePublished: (): Buffer => encode(T.published, {}),
} as const

const raw = (b: Buffer): Buffer => b
const clientOnly = (): never => {
  throw new Error('client-side definition')
}

function method<Q, R>(
  service: string,
  name: string,
  kind: { requestStream: boolean; responseStream: boolean },
  serialize: (q: Q) => Buffer,
  deserialize: (b: Buffer) => R,
): MethodDefinition<Q, R> {
  return {
    path: `/${service}/${name}`,
    ...kind,
    requestSerialize: serialize,
    // The server decodes in its handlers (see the module comment); clients never deserialize requests.
    requestDeserialize: clientOnly,
    responseSerialize: clientOnly,
    responseDeserialize: deserialize,
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
  }
}

const SERVER_STREAM = { requestStream: false, responseStream: true }
const CLIENT_STREAM = { requestStream: true, responseStream: false }

/** The client side of the logs services' methods. @internal */
export const logsClientMethods = {
  SubscribeLogs: method<SubscribeLogsRequest, LogMessage[]>(LOGS_SERVICE_NAME, 'SubscribeLogs', SERVER_STREAM, logsCodec.encodeSubscribeRequest, logsCodec.decodeBatch),
  ListenSubscriptions: method<Record<string, never>, SubscriptionMessage>(
    LOG_BROKER_SERVICE_NAME,
    'ListenSubscriptions',
    SERVER_STREAM,
    () => logsCodec.encodeListenRequest(),
    logsCodec.decodeSubscription,
  ),
  PublishLogs: method<PublishLogsMessage, Record<string, never>>(LOG_BROKER_SERVICE_NAME, 'PublishLogs', CLIENT_STREAM, logsCodec.encodePublish, () => ({})),
} as const

function serverMethod(service: string, name: string, kind: { requestStream: boolean; responseStream: boolean }): MethodDefinition<Buffer, Buffer> {
  return {
    path: `/${service}/${name}`,
    ...kind,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
  }
}

/** The server side of `Logs`: raw bytes in and out, (de)coded by the handlers. @internal */
export const logsServerDefinition = {
  SubscribeLogs: serverMethod(LOGS_SERVICE_NAME, 'SubscribeLogs', SERVER_STREAM),
} as const

/** The server side of `LogBroker`: raw bytes in and out, (de)coded by the handlers. @internal */
export const logBrokerServerDefinition = {
  ListenSubscriptions: serverMethod(LOG_BROKER_SERVICE_NAME, 'ListenSubscriptions', SERVER_STREAM),
  PublishLogs: serverMethod(LOG_BROKER_SERVICE_NAME, 'PublishLogs', CLIENT_STREAM),
} as const
