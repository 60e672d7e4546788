/**
 * The protobuf encoding of every stored object, spec and store event (package `swarmkit.v1`,
 * schemas in the package's proto/ folder, loaded on first use).
 *
 * The codec is exact: decoding what was encoded gives back an equal value. Optional fields keep
 * their presence (absent stays absent; 0, '' and false stay present), `bigint` fields (uint64 on
 * the wire) keep all 64 bits, and every other integer must be a safe integer. Decoded values are
 * plain objects with plain `Uint8Array`s; absent optional fields and empty arrays and records are
 * left out (an empty collection is encoded like an absent one). Bad input — a value that does not
 * fit its field on encode, malformed bytes on decode — throws an `InvalidArgumentError` naming the
 * field path ('' when the bytes cannot be parsed at all).
 *
 * Each message is compiled to straight-line code on first use (codec-compile.ts); input that code
 * is unsure about — anything invalid included — goes through the interpreting codec, which is
 * the reference for every result and every error.
 */
import { codecSchema, PROTO_PACKAGE, type MessagePlan } from './codec-schema.ts'
import { decodeMessage } from './codec-decode.ts'
import { encodeMessage } from './codec-encode.ts'
import type { EncodedShape } from './codec-compile.ts'
import { InvalidArgumentError } from './errors.ts'

export type { EncodedShape } from './codec-compile.ts'
import type { ObjectKind, ObjectKinds, StoreEvent, StoreObject, Version } from './objects.ts'
import type { ClusterSpec, ConfigSpec, NetworkSpec, NodeSpec, SecretSpec, ServiceSpec } from './specs.ts'

/** Every spec kind the codec encodes, by name. */
export interface SpecKinds {
  service: ServiceSpec
  node: NodeSpec
  network: NetworkSpec
  cluster: ClusterSpec
  secret: SecretSpec
  config: ConfigSpec
}
/** The name of a spec kind. */
export type SpecKind = keyof SpecKinds

const OBJECT_MESSAGES: Readonly<Record<ObjectKind, string>> = {
  node: 'Node',
  service: 'Service',
  task: 'Task',
  network: 'Network',
  cluster: 'Cluster',
  secret: 'Secret',
  config: 'Config',
  extension: 'Extension',
  resource: 'Resource',
}

const SPEC_MESSAGES: Readonly<Record<SpecKind, string>> = {
  service: 'ServiceSpec',
  node: 'NodeSpec',
  network: 'NetworkSpec',
  cluster: 'ClusterSpec',
  secret: 'SecretSpec',
  config: 'ConfigSpec',
}

/** Plans by kind, looked up once (encode and decode of single objects are hot paths). */
const objectPlans = new Map<unknown, MessagePlan>()
function objectPlan(kind: unknown): MessagePlan {
  let plan = objectPlans.get(kind)
  if (plan === undefined) {
    plan = codecSchema().message(messageFor(OBJECT_MESSAGES, kind, 'object'))
    objectPlans.set(kind, plan)
  }
  return plan
}

function messageFor(table: Readonly<Record<string, string>>, kind: unknown, what: string): string {
  if (typeof kind !== 'string' || !Object.hasOwn(table, kind)) {
    throw new InvalidArgumentError('kind', `unknown ${what} kind ${JSON.stringify(kind) ?? String(kind)}`)
  }
  return `${PROTO_PACKAGE}.${table[kind] ?? ''}`
}

/**
 * Encodes a stored object of the given kind. Pass `shape` to learn whether decoding the bytes
 * gives back an equal object (a replica that decodes sees exactly what the writer has).
 */
export function encodeObject<K extends ObjectKind>(kind: K, obj: ObjectKinds[K], shape?: EncodedShape): Uint8Array {
  return encodeMessage(objectPlan(kind), obj, undefined, shape)
}

/**
 * {@link encodeObject}, with bytes that may be a view into a shared 16 KiB slab (as Node's
 * `Buffer.allocUnsafe` pool): for bytes copied or consumed soon after. A fresh ArrayBuffer per
 * object costs far more than the copy on a big heap. The bytes are never overwritten, but their
 * `.buffer` is the slab: read them through `byteOffset`/`byteLength`, and never transfer it.
 */
export function encodeObjectPooled<K extends ObjectKind>(kind: K, obj: ObjectKinds[K], shape?: EncodedShape): Uint8Array {
  return encodeMessage(objectPlan(kind), obj, undefined, shape, true)
}

/** Decodes a stored object of the given kind, as written by {@link encodeObject}. */
export function decodeObject<K extends ObjectKind>(kind: K, bytes: Uint8Array): ObjectKinds[K] {
  return decodeMessage(objectPlan(kind), bytes) as unknown as ObjectKinds[K]
}

/** Encodes a spec of the given kind. */
export function encodeSpec<K extends SpecKind>(kind: K, spec: SpecKinds[K]): Uint8Array {
  return encodeMessage(codecSchema().message(messageFor(SPEC_MESSAGES, kind, 'spec')), spec)
}

/** Decodes a spec of the given kind, as written by {@link encodeSpec}. */
export function decodeSpec<K extends SpecKind>(kind: K, bytes: Uint8Array): SpecKinds[K] {
  return decodeMessage(codecSchema().message(messageFor(SPEC_MESSAGES, kind, 'spec')), bytes) as unknown as SpecKinds[K]
}

// ---------------------------------------------------------------- store events

const EVENT_KEYS: Readonly<Record<StoreEvent['action'], readonly string[]>> = {
  create: ['action', 'kind', 'object'],
  update: ['action', 'kind', 'object', 'oldObject'],
  delete: ['action', 'kind', 'object'],
  commit: ['action', 'version'],
}

/**
 * Encodes a store event. The object (and old object) travel as a `StoreObject` whose member is
 * the event's kind; a commit carries only its version.
 */
export function encodeStoreEvent(ev: StoreEvent): Uint8Array {
  if (typeof ev !== 'object' || (ev as unknown) === null) throw new InvalidArgumentError('', 'expected a store event')
  const action: unknown = ev.action
  if (typeof action !== 'string' || !Object.hasOwn(EVENT_KEYS, action)) {
    throw new InvalidArgumentError('action', `unknown store action ${JSON.stringify(action) ?? String(action)}`)
  }
  const allowed = EVENT_KEYS[action as StoreEvent['action']]
  for (const [key, value] of Object.entries(ev)) {
    if (value !== undefined && !allowed.includes(key)) throw new InvalidArgumentError(key, `is not a field of a ${action} event`)
  }
  const wire: Record<string, unknown> = { action }
  if (ev.action === 'commit') {
    if (ev.version === undefined) throw new InvalidArgumentError('version', 'is required')
    wire['version'] = ev.version
  } else {
    messageFor(OBJECT_MESSAGES, ev.kind, 'object')
    if (ev.object === undefined) throw new InvalidArgumentError('object', 'is required')
    wire['object'] = { [ev.kind]: ev.object }
    if (ev.action === 'update' && ev.oldObject !== undefined) wire['oldObject'] = { [ev.kind]: ev.oldObject }
  }
  return encodeMessage(codecSchema().message(`${PROTO_PACKAGE}.StoreEvent`), wire)
}

/** Decodes a store event, as written by {@link encodeStoreEvent}. */
export function decodeStoreEvent(bytes: Uint8Array): StoreEvent {
  const wire = decodeMessage(codecSchema().message(`${PROTO_PACKAGE}.StoreEvent`), bytes)
  const action = wire['action'] as StoreEvent['action']
  const object = wire['object'] as Record<string, StoreObject> | undefined
  const oldObject = wire['oldObject'] as Record<string, StoreObject> | undefined
  const version = wire['version'] as Version | undefined
  if (action === 'commit') {
    if (object !== undefined) throw new InvalidArgumentError('object', 'a commit event carries no object')
    if (oldObject !== undefined) throw new InvalidArgumentError('oldObject', 'a commit event carries no object')
    if (version === undefined) throw new InvalidArgumentError('version', 'is required')
    return { action, version }
  }
  if (version !== undefined) throw new InvalidArgumentError('version', `a ${action} event carries no version`)
  if (object === undefined) throw new InvalidArgumentError('object', 'is required')
  const [kind, obj] = only(object)
  if (action !== 'update') {
    if (oldObject !== undefined) throw new InvalidArgumentError('oldObject', `a ${action} event carries no old object`)
    return { action, kind, object: obj } as StoreEvent
  }
  if (oldObject === undefined) return { action, kind, object: obj } as StoreEvent
  const [oldKind, old] = only(oldObject)
  if (oldKind !== kind) throw new InvalidArgumentError('oldObject', `is a ${oldKind}, but the object is a ${kind}`)
  return { action, kind, object: obj, oldObject: old } as StoreEvent
}

/** The single member of a decoded StoreObject (the schema guarantees exactly one). */
function only(wrapper: Record<string, StoreObject>): [ObjectKind, StoreObject] {
  const entry = Object.entries(wrapper)[0]
  if (entry === undefined) throw new InvalidArgumentError('object', 'is required')
  return [entry[0] as ObjectKind, entry[1]]
}
