/**
 * The wire encoding of a {@link ChangeSet}: what a Raft entry of the replicated store carries.
 *
 * The bytes are protobuf, hand-encoded (no schema is loaded at run time) as:
 *
 * ```proto
 * message ChangeSet   { repeated Transaction transactions = 1; }
 * message Transaction { repeated Action actions = 1; }
 * message Action {
 *   uint32 action = 1;                   // 1 create, 2 update, 3 delete
 *   uint32 kind = 2;                     // the swarmkit.v1.StoreObject member number: 1 node … 9 resource
 *   optional bytes object = 3;           // create, update: swarmkit.v1.<Kind> (api's encodeObject)
 *   optional string id = 4;              // delete
 *   optional uint64 expected_version = 5; // update, delete (always written, 0 included)
 * }
 * ```
 *
 * The round trip is exact: `decodeChangeSet(encodeChangeSet(cs))` equals `cs` (objects as api's
 * codec gives them back, `expectedVersion` over all of 0..2^64−1). Decoding is strict — an unknown
 * or repeated field, a field that does not belong to the action, or a missing one is refused —
 * because a replica that silently skipped part of an entry would diverge from the others. Every
 * failure is an `InvalidArgumentError` naming the field (`transactions[i][j].kind`, …; '' when the
 * bytes cannot be framed at all).
 *
 * @module
 */
import { InvalidArgumentError, decodeObject, encodeObjectPooled } from '@swarmkit-ts/api'
import type { EncodedShape, ObjectKind, StoreObject } from '@swarmkit-ts/api'
import type { ChangeSet, StoreAction } from '../proposer.ts'
import { varintSize } from './varint.ts'

const ACTION_CODES = { create: 1, update: 2, delete: 3 } as const
const ACTIONS_BY_CODE: readonly (StoreAction['action'] | undefined)[] = [undefined, 'create', 'update', 'delete']

/** The member numbers of `swarmkit.v1.StoreObject` (api's proto/swarmkit/v1/events.proto). */
const KIND_CODES: Readonly<Record<ObjectKind, number>> = {
  node: 1,
  service: 2,
  task: 3,
  network: 4,
  cluster: 5,
  secret: 6,
  config: 7,
  extension: 8,
  resource: 9,
}
const KINDS_BY_CODE: readonly (ObjectKind | undefined)[] = [undefined, 'node', 'service', 'task', 'network', 'cluster', 'secret', 'config', 'extension', 'resource']

/** The keys each action may carry. */
const ACTION_KEYS: Readonly<Record<StoreAction['action'], readonly string[]>> = {
  create: ['action', 'kind', 'object'],
  update: ['action', 'kind', 'object', 'expectedVersion'],
  delete: ['action', 'kind', 'id', 'expectedVersion'],
}

const MAX_UINT64 = (1n << 64n) - 1n
const WIRE_VARINT = 0
const WIRE_LEN = 2

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

/** One action, checked and with its variable-length parts already encoded. */
interface PreparedAction {
  readonly action: number
  readonly kind: number
  readonly object: Uint8Array | undefined
  readonly id: Uint8Array | undefined
  readonly version: bigint | undefined
  readonly size: number
  /** Its object (if any) decodes back deep-equal (api's `encodeObject` shape). */
  readonly canonical: boolean
}

// ------------------------------------------------------------------------------------ encode

/**
 * Encodes a change set for replication. With `shape`, also says whether the change set is
 * canonical: `decodeChangeSet` gives back objects deep-equal to these (api's `encodeObject`).
 *
 * @throws InvalidArgumentError naming the offending field (`transactions[i][j].expectedVersion`, …;
 * object fields as `transactions[i][j].object.<path>`).
 */
export function encodeChangeSet(changes: ChangeSet, shape?: EncodedShape): Uint8Array {
  return encodeChangeSetOf(changes, false, shape)
}

/**
 * {@link encodeChangeSet}, where `trusted` says the store built the change set itself (its
 * actions carry no foreign keys, so that check is skipped; types are still checked by encoding).
 */
export function encodeChangeSetOf(changes: ChangeSet, trusted: boolean, shape?: EncodedShape): Uint8Array {
  if (typeof changes !== 'object' || (changes as unknown) === null) throw new InvalidArgumentError('', 'expected a change set')
  const txs: unknown = changes.transactions
  if (!Array.isArray(txs)) throw new InvalidArgumentError('transactions', 'must be an array')
  const prepared: PreparedAction[][] = []
  const txSizes: number[] = []
  let total = 0
  let canonical = true
  for (let i = 0; i < txs.length; i++) {
    const tx: unknown = txs[i]
    if (!Array.isArray(tx)) throw new InvalidArgumentError(`transactions[${i}]`, 'must be an array of actions')
    const actions: PreparedAction[] = []
    let txSize = 0
    for (let j = 0; j < tx.length; j++) {
      const a = prepareAction(tx[j], i, j, trusted)
      actions.push(a)
      canonical &&= a.canonical
      txSize += 1 + varintSize(a.size) + a.size
    }
    prepared.push(actions)
    txSizes.push(txSize)
    total += 1 + varintSize(txSize) + txSize
  }
  if (shape !== undefined) shape.canonical = canonical
  const out = new Uint8Array(total)
  let pos = 0
  for (let i = 0; i < prepared.length; i++) {
    out[pos++] = (1 << 3) | WIRE_LEN
    pos = writeVarint(out, pos, txSizes[i] ?? 0)
    for (const a of prepared[i] ?? []) {
      out[pos++] = (1 << 3) | WIRE_LEN
      pos = writeVarint(out, pos, a.size)
      pos = writeAction(out, pos, a)
    }
  }
  return out
}

/** Checks and encodes action `j` of transaction `i` (paths are built only for errors; a trusted change set skips the key check). */
function prepareAction(value: unknown, i: number, j: number, trusted: boolean): PreparedAction {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError(actionPath(i, j), 'must be a store action')
  const a = value as Record<string, unknown>
  const name = a['action']
  if (typeof name !== 'string' || !Object.hasOwn(ACTION_CODES, name)) {
    throw new InvalidArgumentError(`${actionPath(i, j)}.action`, `must be 'create', 'update' or 'delete', got ${describe(name)}`)
  }
  const action = name as StoreAction['action']
  const allowed = ACTION_KEYS[action]
  if (!trusted) {
    for (const key of Object.keys(a)) if (a[key] !== undefined && !allowed.includes(key)) throw new InvalidArgumentError(`${actionPath(i, j)}.${key}`, `is not a field of a ${action} action`)
  }
  const kindName = a['kind']
  if (typeof kindName !== 'string' || !Object.hasOwn(KIND_CODES, kindName)) {
    throw new InvalidArgumentError(`${actionPath(i, j)}.kind`, `unknown object kind ${describe(kindName)}`)
  }
  const kind = kindName as ObjectKind
  let object: Uint8Array | undefined
  let id: Uint8Array | undefined
  let version: bigint | undefined
  let canonical = true
  if (action === 'delete') {
    const raw = a['id']
    if (typeof raw !== 'string') throw new InvalidArgumentError(`${actionPath(i, j)}.id`, 'must be a string')
    id = utf8Encoder.encode(raw)
  } else {
    const obj = a['object']
    if (typeof obj !== 'object' || obj === null) throw new InvalidArgumentError(`${actionPath(i, j)}.object`, 'is required')
    object = encodeStoreObject(kind, obj as StoreObject, i, j)
    canonical = objectShape.canonical
  }
  if (action !== 'create') {
    const v = a['expectedVersion']
    if (typeof v !== 'bigint') throw new InvalidArgumentError(`${actionPath(i, j)}.expectedVersion`, 'must be a bigint')
    if (v < 0n || v > MAX_UINT64) throw new InvalidArgumentError(`${actionPath(i, j)}.expectedVersion`, `must be in 0..2^64-1, got ${v}`)
    version = v
  }
  let size = 4 // action and kind: tag + one-byte value each
  if (object !== undefined) size += 1 + varintSize(object.length) + object.length
  if (id !== undefined) size += 1 + varintSize(id.length) + id.length
  if (version !== undefined) size += 1 + bigVarintSize(version)
  return { action: ACTION_CODES[action], kind: KIND_CODES[kind], object, id, version, size, canonical }
}

/** Filled in by each object's encode (one object reused: no allocation per action). */
const objectShape: EncodedShape = { canonical: true }

const actionPath = (i: number, j: number): string => `transactions[${i}][${j}]`

function encodeStoreObject(kind: ObjectKind, obj: StoreObject, i: number, j: number): Uint8Array {
  try {
    // Copied into the change set's bytes at once: a pooled encoding saves an ArrayBuffer per object.
    return encodeObjectPooled(kind, obj as never, objectShape)
  } catch (err) {
    throw nested(err, `${actionPath(i, j)}.object`)
  }
}

function writeAction(out: Uint8Array, start: number, a: PreparedAction): number {
  let pos = start
  out[pos++] = (1 << 3) | WIRE_VARINT
  out[pos++] = a.action
  out[pos++] = (2 << 3) | WIRE_VARINT
  out[pos++] = a.kind
  if (a.object !== undefined) pos = writeBytes(out, pos, 3, a.object)
  if (a.id !== undefined) pos = writeBytes(out, pos, 4, a.id)
  if (a.version !== undefined) {
    out[pos++] = (5 << 3) | WIRE_VARINT
    pos = writeBigVarint(out, pos, a.version)
  }
  return pos
}

function writeBytes(out: Uint8Array, start: number, field: number, bytes: Uint8Array): number {
  out[start] = (field << 3) | WIRE_LEN
  const pos = writeVarint(out, start + 1, bytes.length)
  out.set(bytes, pos)
  return pos + bytes.length
}

function bigVarintSize(n: bigint): number {
  if (n < 0x80n) return 1
  let size = 1
  while (n >= 0x80n) {
    n >>= 7n
    size++
  }
  return size
}

function writeVarint(out: Uint8Array, start: number, n: number): number {
  let pos = start
  while (n >= 0x80) {
    out[pos++] = (n % 128) | 0x80
    n = Math.floor(n / 128)
  }
  out[pos++] = n
  return pos
}

function writeBigVarint(out: Uint8Array, start: number, n: bigint): number {
  if (n <= BigInt(Number.MAX_SAFE_INTEGER)) return writeVarint(out, start, Number(n))
  let pos = start
  while (n >= 0x80n) {
    out[pos++] = Number(n & 0x7fn) | 0x80
    n >>= 7n
  }
  out[pos++] = Number(n)
  return pos
}

// ------------------------------------------------------------------------------------ decode

/** A cursor over the bytes being decoded. */
interface Cursor {
  readonly bytes: Uint8Array
  pos: number
}

// Where decoding is, as module state: a field path is formatted only when an error needs it.
const loc = { t: 0, j: 0, field: '' }
const TOP = 0
const TX = 1
const ACTION = 2
const FIELD = 3
type Level = typeof TOP | typeof TX | typeof ACTION | typeof FIELD

/** The path of the current position at `level`: '', `transactions[t]`, `transactions[t][j]` or `transactions[t][j].field`. */
function pathAt(level: Level): string {
  switch (level) {
    case TOP:
      return ''
    case TX:
      return `transactions[${loc.t}]`
    case ACTION:
      return `transactions[${loc.t}][${loc.j}]`
    case FIELD:
      return `transactions[${loc.t}][${loc.j}].${loc.field}`
  }
}

/**
 * Decodes a change set written by {@link encodeChangeSet}.
 *
 * @throws InvalidArgumentError naming the field where the bytes are malformed ('' for the
 * outermost framing; object fields as `transactions[i][j].object.<path>`).
 */
export function decodeChangeSet(bytes: Uint8Array): ChangeSet {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('', 'expected the encoded change set as a Uint8Array')
  const c: Cursor = { bytes, pos: 0 }
  const transactions: StoreAction[][] = []
  while (c.pos < bytes.length) {
    loc.t = transactions.length
    const end = readField(c, bytes.length, 1, WIRE_LEN, TOP, TX)
    const actions: StoreAction[] = []
    while (c.pos < end) {
      loc.j = actions.length
      const actionEnd = readField(c, end, 1, WIRE_LEN, TX, ACTION)
      actions.push(readAction(c, actionEnd))
    }
    transactions.push(actions)
  }
  return { transactions }
}

/**
 * Reads a field header that must be `field` with wire type `wire` (the only field of its message)
 * and, for a length-delimited field, its length; returns where the field's value ends.
 */
function readField(c: Cursor, end: number, field: number, wire: number, path: Level, valuePath: Level): number {
  const tag = readTag(c, end, path)
  if (tag >>> 3 !== field) throw new InvalidArgumentError(pathAt(path), `malformed change set: unexpected field ${tag >>> 3}`)
  if ((tag & 7) !== wire) throw new InvalidArgumentError(pathAt(valuePath), `malformed change set: wrong wire type ${tag & 7}`)
  const len = readVarint(c, end, valuePath)
  if (len > end - c.pos) throw new InvalidArgumentError(pathAt(valuePath), 'malformed change set: length overruns the data')
  return c.pos + len
}

function readAction(c: Cursor, end: number): StoreAction {
  let action: StoreAction['action'] | undefined
  let kind: ObjectKind | undefined
  let object: Uint8Array | undefined
  let id: string | undefined
  let version: bigint | undefined
  let seen = 0 // bit per field number
  while (c.pos < end) {
    const tag = readTag(c, end, ACTION)
    const field = tag >>> 3
    const wire = tag & 7
    const name = FIELD_NAMES[field]
    if (name === undefined) throw new InvalidArgumentError(pathAt(ACTION), `malformed change set: unknown field ${field}`)
    loc.field = name
    if ((seen & (1 << field)) !== 0) throw new InvalidArgumentError(pathAt(FIELD), 'malformed change set: field repeated')
    seen |= 1 << field
    const expectedWire = field === 3 || field === 4 ? WIRE_LEN : WIRE_VARINT
    if (wire !== expectedWire) throw new InvalidArgumentError(pathAt(FIELD), `malformed change set: wrong wire type ${wire}`)
    switch (field) {
      case 1:
        action = ACTIONS_BY_CODE[readVarint(c, end, FIELD)]
        if (action === undefined) throw new InvalidArgumentError(pathAt(FIELD), 'unknown action code')
        break
      case 2:
        kind = KINDS_BY_CODE[readVarint(c, end, FIELD)]
        if (kind === undefined) throw new InvalidArgumentError(pathAt(FIELD), 'unknown object kind code')
        break
      case 3:
        object = readBytes(c, end, FIELD)
        break
      case 4:
        try {
          id = utf8Decoder.decode(readBytes(c, end, FIELD))
        } catch (err) {
          throw new InvalidArgumentError(pathAt(FIELD), 'malformed change set: invalid UTF-8', { cause: err })
        }
        break
      default:
        version = readBigVarint(c, end, FIELD)
    }
  }
  if (action === undefined) throw new InvalidArgumentError(`${pathAt(ACTION)}.action`, 'is required')
  if (kind === undefined) throw new InvalidArgumentError(`${pathAt(ACTION)}.kind`, 'is required')
  const allowed = ACTION_KEYS[action]
  if (object !== undefined && !allowed.includes('object')) throw new InvalidArgumentError(`${pathAt(ACTION)}.object`, `is not a field of a ${action} action`)
  if (id !== undefined && !allowed.includes('id')) throw new InvalidArgumentError(`${pathAt(ACTION)}.id`, `is not a field of a ${action} action`)
  if (version !== undefined && !allowed.includes('expectedVersion')) {
    throw new InvalidArgumentError(`${pathAt(ACTION)}.expectedVersion`, `is not a field of a ${action} action`)
  }
  if (action === 'delete') {
    if (id === undefined) throw new InvalidArgumentError(`${pathAt(ACTION)}.id`, 'is required')
    if (version === undefined) throw new InvalidArgumentError(`${pathAt(ACTION)}.expectedVersion`, 'is required')
    return { action, kind, id, expectedVersion: version }
  }
  if (object === undefined) throw new InvalidArgumentError(`${pathAt(ACTION)}.object`, 'is required')
  const decoded = decodeStoreObject(kind, object)
  if (action === 'create') return { action, kind, object: decoded }
  if (version === undefined) throw new InvalidArgumentError(`${pathAt(ACTION)}.expectedVersion`, 'is required')
  return { action, kind, object: decoded, expectedVersion: version }
}

const FIELD_NAMES: readonly (string | undefined)[] = [undefined, 'action', 'kind', 'object', 'id', 'expectedVersion']

function decodeStoreObject(kind: ObjectKind, bytes: Uint8Array): StoreObject {
  try {
    return decodeObject(kind, bytes)
  } catch (err) {
    throw nested(err, `${pathAt(ACTION)}.object`)
  }
}

function readBytes(c: Cursor, end: number, path: Level): Uint8Array {
  const len = readVarint(c, end, path)
  if (len > end - c.pos) throw new InvalidArgumentError(pathAt(path), 'malformed change set: length overruns the data')
  const start = c.pos
  c.pos += len
  return c.bytes.subarray(start, c.pos)
}

/** Reads a field tag (a uint32 varint). */
function readTag(c: Cursor, end: number, path: Level): number {
  const tag = readVarint(c, end, path)
  if (tag > 0xffffffff) throw new InvalidArgumentError(pathAt(path), 'malformed change set: field tag out of range')
  return tag
}

/** Reads a varint that must fit a safe integer (tags, lengths, codes). */
function readVarint(c: Cursor, end: number, path: Level): number {
  const b = c.bytes
  let result = 0
  let scale = 1
  for (let i = 0; i < 8; i++) {
    if (c.pos >= end) throw new InvalidArgumentError(pathAt(path), 'malformed change set: truncated varint')
    const byte = b[c.pos++] ?? 0
    result += (byte & 0x7f) * scale
    if (byte < 0x80) return result
    scale *= 128
  }
  throw new InvalidArgumentError(pathAt(path), 'malformed change set: varint too long')
}

/** Reads a uint64 varint (at most 10 bytes, at most 2^64−1) as a bigint. */
function readBigVarint(c: Cursor, end: number, path: Level): bigint {
  const b = c.bytes
  const start = c.pos
  for (let i = 0; i < 10; i++) {
    if (c.pos >= end) throw new InvalidArgumentError(pathAt(path), 'malformed change set: truncated varint')
    const byte = b[c.pos++] ?? 0
    if (byte < 0x80) break
    if (i === 9) throw new InvalidArgumentError(pathAt(path), 'malformed change set: varint longer than 10 bytes')
  }
  const len = c.pos - start
  if (len <= 7) {
    // At most 49 bits: exact in a double.
    let n = 0
    let scale = 1
    for (let k = start; k < c.pos; k++) {
      n += ((b[k] ?? 0) & 0x7f) * scale
      scale *= 128
    }
    return BigInt(n)
  }
  let n = 0n
  for (let k = c.pos - 1; k >= start; k--) n = (n << 7n) | BigInt((b[k] ?? 0) & 0x7f)
  if (n > MAX_UINT64) throw new InvalidArgumentError(pathAt(path), 'malformed change set: value exceeds 2^64-1')
  return n
}

/** Re-raises an object codec error with its field path under `path`. */
function nested(err: unknown, path: string): Error {
  if (err instanceof InvalidArgumentError) {
    const field = err.field === '' ? path : `${path}.${err.field}`
    const prefix = err.field === '' ? '' : `${err.field}: `
    const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message
    return new InvalidArgumentError(field, message, { cause: err })
  }
  return err instanceof Error ? err : new Error(String(err))
}

function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`
  return JSON.stringify(v) ?? String(v)
}
