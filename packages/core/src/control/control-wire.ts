/**
 * The wire messages of the `swarmkit.core.v1.Control` gRPC service. Objects and specs travel as
 * the bytes of api's codec (`encodeObject`/`encodeSpec`, `encodeStoreEvent`) inside a few
 * envelope messages defined here (protobufjs reflection over the schema below); every method
 * uses one request envelope and one response envelope, filling the fields it needs.
 *
 * Deserializers never throw (grpc-js would answer INTERNAL): a request that does not decode
 * reaches the handler as an `InvalidArgumentError`.
 *
 * @module
 */
import protobuf from 'protobufjs'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { JoinTokens, NodeRole } from '@swarmkit-ts/api'
import type { CommonFilters, ControlWatchSelector, NodeFilters, ServiceFilters, TaskFilters } from './control-api.ts'

const SCHEMA = `
syntax = "proto3";
package swarmkit.core.v1;
message ControlFilters {
  repeated string names = 1;
  repeated string name_prefixes = 2;
  repeated string id_prefixes = 3;
  map<string, string> labels = 4;
  repeated string modes = 5;
  repeated string service_ids = 6;
  repeated string node_ids = 7;
  repeated int32 desired_states = 8;
  repeated string roles = 9;
  repeated string memberships = 10;
  repeated string availabilities = 11;
}
message ControlRequest {
  string id = 1;
  bytes spec = 2;
  optional uint64 version = 3;
  optional uint64 replicas = 4;
  bool force = 5;
  string role = 6;
  ControlFilters filters = 7;
}
message ControlJoinTokens {
  string worker = 1;
  string manager = 2;
}
message ControlResponse {
  bytes object = 1;
  repeated bytes objects = 2;
  ControlJoinTokens tokens = 3;
  optional string key = 4;
  optional string node_id = 5;
}
message ControlWatchRequest {
  repeated string kinds = 1;
  repeated string actions = 2;
  optional string id = 3;
  optional string id_prefix = 4;
  optional string name = 5;
  optional string name_prefix = 6;
  optional uint64 since = 7;
}
message ControlWatchMessage {
  bytes event = 1;
}
`

let types: { request: protobuf.Type; response: protobuf.Type; watchRequest: protobuf.Type; watchMessage: protobuf.Type } | undefined

function schema(): NonNullable<typeof types> {
  if (types === undefined) {
    const root = protobuf.parse(SCHEMA, { keepCase: false }).root
    types = {
      request: root.lookupType('swarmkit.core.v1.ControlRequest'),
      response: root.lookupType('swarmkit.core.v1.ControlResponse'),
      watchRequest: root.lookupType('swarmkit.core.v1.ControlWatchRequest'),
      watchMessage: root.lookupType('swarmkit.core.v1.ControlWatchMessage'),
    }
  }
  return types
}

/** Every filter any list takes, as one wire value. */
export type WireFilters = CommonFilters & ServiceFilters & TaskFilters & NodeFilters

/** The request envelope: each method reads the fields it needs. */
export interface WireRequest {
  readonly id?: string
  /** A spec in api's codec. */
  readonly spec?: Uint8Array
  readonly version?: bigint
  readonly replicas?: number
  readonly force?: boolean
  readonly role?: NodeRole
  readonly filters?: WireFilters
}

/** The response envelope. */
export interface WireResponse {
  /** One object in api's codec. */
  readonly object?: Uint8Array
  /** A list of objects in api's codec. */
  readonly objects?: readonly Uint8Array[]
  readonly tokens?: JoinTokens
  readonly key?: string
  /** The node id of the manager answering (`Info`). */
  readonly nodeId?: string
}

/** A watch request: the selector and the resume point. */
export interface WireWatchRequest {
  readonly selector: ControlWatchSelector
  readonly since?: bigint
}

interface LongLike {
  low: number
  high: number
}

const U64_LIMIT = 1n << 64n

function toLong(v: bigint): LongLike {
  return { low: Number(v & 0xffffffffn) | 0, high: Number(v >> 32n) | 0 }
}

function fromLong(v: unknown, field: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  const l = v as Partial<LongLike> | null
  if (typeof l !== 'object' || l === null || typeof l.low !== 'number' || typeof l.high !== 'number') throw new InvalidArgumentError(field, 'not a uint64')
  return (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0)
}

function u64(v: unknown, field: string): LongLike {
  if (typeof v !== 'bigint' || v < 0n || v >= U64_LIMIT) throw new InvalidArgumentError(field, 'must be a bigint in [0, 2^64)')
  return toLong(v)
}

const toBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength)

type Plain = Record<string, unknown>

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

function set(out: Plain, key: string, v: unknown): void {
  if (v !== undefined) out[key] = v
}

/** Encodes a request envelope (`InvalidArgumentError` naming the field when a value does not fit). */
export function encodeRequest(req: WireRequest): Buffer {
  const msg: Plain = {}
  set(msg, 'id', req.id)
  set(msg, 'spec', req.spec)
  if (req.version !== undefined) msg['version'] = u64(req.version, 'version')
  if (req.replicas !== undefined) {
    if (!Number.isSafeInteger(req.replicas) || req.replicas < 0) throw new InvalidArgumentError('replicas', 'must be a non-negative integer')
    msg['replicas'] = toLong(BigInt(req.replicas))
  }
  set(msg, 'force', req.force)
  set(msg, 'role', req.role)
  if (req.filters !== undefined) msg['filters'] = req.filters
  const t = schema().request
  const err = t.verify(msg)
  if (err !== null) throw new InvalidArgumentError('', `request does not fit the wire: ${err}`)
  return toBuffer(t.encode(t.fromObject(msg)).finish())
}

/** Decodes a request envelope. */
export function decodeRequest(bytes: Uint8Array): WireRequest {
  const m = schema().request.decode(bytes) as unknown as Plain
  const out: Plain = {}
  if (typeof m['id'] === 'string' && m['id'] !== '') out['id'] = m['id']
  if (m['spec'] instanceof Uint8Array && m['spec'].byteLength > 0) out['spec'] = m['spec']
  if (Object.hasOwn(m, 'version') && m['version'] !== null) out['version'] = fromLong(m['version'], 'version')
  if (Object.hasOwn(m, 'replicas') && m['replicas'] !== null) {
    const r = fromLong(m['replicas'], 'replicas')
    if (r > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidArgumentError('replicas', 'must be a safe integer')
    out['replicas'] = Number(r)
  }
  if (m['force'] === true) out['force'] = true
  if (typeof m['role'] === 'string' && m['role'] !== '') out['role'] = m['role']
  const f = m['filters'] as Plain | undefined
  if (f !== undefined && f !== null) out['filters'] = decodeFilters(f)
  return out
}

function decodeFilters(f: Plain): WireFilters {
  const out: Plain = {}
  for (const key of ['names', 'namePrefixes', 'idPrefixes', 'modes', 'serviceIds', 'nodeIds', 'roles', 'memberships', 'availabilities']) {
    const v = strings(f[key])
    if (v.length > 0) out[key] = v
  }
  const states = Array.isArray(f['desiredStates']) ? f['desiredStates'].filter((x): x is number => typeof x === 'number') : []
  if (states.length > 0) out['desiredStates'] = states
  const labels = f['labels'] as Record<string, unknown> | undefined
  if (labels !== undefined && labels !== null && Object.keys(labels).length > 0) {
    out['labels'] = Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'))
  }
  return out
}

/** Encodes a response envelope. */
export function encodeResponse(res: WireResponse): Buffer {
  const t = schema().response
  const msg: Plain = {}
  set(msg, 'object', res.object)
  if (res.objects !== undefined) msg['objects'] = [...res.objects]
  if (res.tokens !== undefined) msg['tokens'] = { worker: res.tokens.worker, manager: res.tokens.manager }
  set(msg, 'key', res.key)
  set(msg, 'nodeId', res.nodeId)
  return toBuffer(t.encode(t.fromObject(msg)).finish())
}

/** Decodes a response envelope. */
export function decodeResponse(bytes: Uint8Array): WireResponse {
  const m = schema().response.decode(bytes) as unknown as Plain
  const out: Plain = {}
  if (m['object'] instanceof Uint8Array && m['object'].byteLength > 0) out['object'] = m['object']
  out['objects'] = Array.isArray(m['objects']) ? m['objects'].filter((x): x is Uint8Array => x instanceof Uint8Array) : []
  const tokens = m['tokens'] as Plain | undefined | null
  if (tokens !== undefined && tokens !== null) {
    out['tokens'] = { worker: typeof tokens['worker'] === 'string' ? tokens['worker'] : '', manager: typeof tokens['manager'] === 'string' ? tokens['manager'] : '' }
  }
  if (Object.hasOwn(m, 'key') && typeof m['key'] === 'string') out['key'] = m['key']
  if (Object.hasOwn(m, 'nodeId') && typeof m['nodeId'] === 'string') out['nodeId'] = m['nodeId']
  return out
}

/** Encodes a watch request. */
export function encodeWatchRequest(req: WireWatchRequest): Buffer {
  const t = schema().watchRequest
  const s = req.selector
  const msg: Plain = {}
  set(msg, 'kinds', s.kinds === undefined ? undefined : [...s.kinds])
  set(msg, 'actions', s.actions === undefined ? undefined : [...s.actions])
  set(msg, 'id', s.id)
  set(msg, 'idPrefix', s.idPrefix)
  set(msg, 'name', s.name)
  set(msg, 'namePrefix', s.namePrefix)
  if (req.since !== undefined) msg['since'] = u64(req.since, 'since')
  const err = t.verify(msg)
  if (err !== null) throw new InvalidArgumentError('selector', `does not fit the wire: ${err}`)
  return toBuffer(t.encode(t.fromObject(msg)).finish())
}

/** Decodes a watch request. */
export function decodeWatchRequest(bytes: Uint8Array): WireWatchRequest {
  const m = schema().watchRequest.decode(bytes) as unknown as Plain
  const selector: Plain = {}
  const kinds = strings(m['kinds'])
  if (kinds.length > 0) selector['kinds'] = kinds
  const actions = strings(m['actions'])
  if (actions.length > 0) selector['actions'] = actions
  for (const key of ['id', 'idPrefix', 'name', 'namePrefix']) {
    if (Object.hasOwn(m, key) && typeof m[key] === 'string') selector[key] = m[key]
  }
  const since = Object.hasOwn(m, 'since') && m['since'] !== null ? fromLong(m['since'], 'since') : undefined
  return since === undefined ? { selector: selector } : { selector: selector, since }
}

/** Encodes one watch message (an event in api's codec). */
export function encodeWatchMessage(event: Uint8Array): Buffer {
  const t = schema().watchMessage
  return toBuffer(t.encode({ event }).finish())
}

/** Decodes one watch message to the event's bytes. */
export function decodeWatchMessage(bytes: Uint8Array): Uint8Array {
  const m = schema().watchMessage.decode(bytes) as unknown as Plain
  return m['event'] instanceof Uint8Array ? m['event'] : new Uint8Array()
}
