/**
 * Protobuf encoding of Raft {@link Message}s (proto/raft-transport.proto, which imports the
 * entry, snapshot and configuration definitions of proto/raft-storage.proto).
 *
 * Encoding is exact: member ids are uint64 over their full range, terms and indexes are uint64
 * on the wire and safe integers in memory. Both directions validate and throw
 * `InvalidArgumentError` naming the offending field (e.g. `entries[2].index`): on encode for a
 * value the wire cannot carry, on decode for malformed bytes or a term/index above 2^53 − 1.
 */
import protobuf from 'protobufjs'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { PROTO_SOURCES } from '../generated/proto-sources.ts'
import type { ConfState, Entry, EntryType, Message, Snapshot } from '../core/types.ts'
import { MAX_INDEX } from '../core/types.ts'
import { ProtoReader, ProtoWriter, checkedBytes, checkedNum, entriesFieldSize, entrySizes, giveUp, readOrGiveUp, u64Halves, varint64Size, varintSize, writeEntries } from '../wire/proto-wire.ts'

/** The protobufjs types of proto/raft-transport.proto. @internal */
export interface TransportSchema {
  message: protobuf.Type
  envelope: protobuf.Type
  ack: protobuf.Type
  snapshotChunk: protobuf.Type
  snapshotAck: protobuf.Type
}

let cached: TransportSchema | undefined

/**
 * Parses both .proto files once, from their embedded text (the transport one imports the storage
 * one). @internal
 */
export function transportSchema(): TransportSchema {
  if (cached !== undefined) return cached
  const root = new protobuf.Root()
  for (const file of ['raft-storage.proto', 'raft-transport.proto'] as const) protobuf.parse(PROTO_SOURCES[file], root, { keepCase: false })
  root.resolveAll()
  const t = (name: string): protobuf.Type => root.lookupType(`swarmkit.raft.v1.${name}`)
  cached = { message: t('RaftMessage'), envelope: t('RaftEnvelope'), ack: t('Ack'), snapshotChunk: t('SnapshotChunk'), snapshotAck: t('SnapshotAck') }
  return cached
}

/** A plain object as protobufjs encodes it or returns it from `decode`. @internal */
export type WireObject = Record<string, unknown>

interface LongLike {
  low: number
  high: number
}

const U64_LIMIT = 1n << 64n

/** A member id as a protobufjs uint64. */
function u64(id: unknown, field: string): LongLike {
  if (typeof id !== 'bigint' || id < 0n || id >= U64_LIMIT) throw new InvalidArgumentError(field, `must be a bigint in [0, 2^64), got ${String(id)}`)
  return { low: Number(id & 0xffffffffn) | 0, high: Number(id >> 32n) | 0 }
}

/** A term or index, checked before it goes on the wire. */
function num(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(field, `must be a non-negative safe integer, got ${String(v)}`)
  return v
}

function bin(v: unknown, field: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new InvalidArgumentError(field, 'must be a Uint8Array')
  return v
}

function flag(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new InvalidArgumentError(field, 'must be a boolean')
  return v
}

function toBigInt(v: unknown, field: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  const l = v as LongLike | null | undefined
  if (typeof l !== 'object' || l === null || typeof l.low !== 'number' || typeof l.high !== 'number') throw new InvalidArgumentError(field, 'not a uint64')
  return (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0)
}

function toIndex(v: unknown, field: string): number {
  const b = toBigInt(v, field)
  if (b > BigInt(MAX_INDEX)) throw new InvalidArgumentError(field, `${b} exceeds 2^53 - 1`)
  return Number(b)
}

/** Decoded bytes, copied so that a message never pins a whole receive buffer. */
function toBytes(v: unknown, field: string): Uint8Array {
  if (v instanceof Uint8Array) return new Uint8Array(v)
  // protobufjs leaves an absent bytes field as its shared empty array.
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return new Uint8Array(0)
  throw new InvalidArgumentError(field, 'not bytes')
}

function toBool(v: unknown): boolean {
  return v === true
}

function sub(v: unknown, field: string): WireObject {
  if (typeof v !== 'object' || v === null) throw new InvalidArgumentError(field, 'missing')
  return v as WireObject
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new InvalidArgumentError(field, 'not a list')
  return v as unknown[]
}

const ENTRY_TYPES: readonly EntryType[] = ['normal', 'conf-change']

function entriesOut(ents: unknown, field: string): WireObject[] {
  if (!Array.isArray(ents)) throw new InvalidArgumentError(field, 'must be an array')
  return (ents as Entry[]).map((e, i) => {
    const type = ENTRY_TYPES.indexOf(e.type)
    if (type < 0) throw new InvalidArgumentError(`${field}[${i}].type`, `unknown entry type ${String(e.type)}`)
    return { term: num(e.term, `${field}[${i}].term`), index: num(e.index, `${field}[${i}].index`), type, data: bin(e.data, `${field}[${i}].data`) }
  })
}

function entriesIn(v: unknown, field: string): Entry[] {
  return list(v, field).map((x, i) => {
    const e = sub(x, `${field}[${i}]`)
    const type = ENTRY_TYPES[Number(e.type ?? 0)]
    if (type === undefined) throw new InvalidArgumentError(`${field}[${i}].type`, `unknown entry type ${String(e.type)}`)
    return { term: toIndex(e.term, `${field}[${i}].term`), index: toIndex(e.index, `${field}[${i}].index`), type, data: toBytes(e.data, `${field}[${i}].data`) }
  })
}

const CONF_LISTS = ['voters', 'learners', 'votersOutgoing', 'learnersNext'] as const

function confStateOut(cs: ConfState, field: string): WireObject {
  const out: WireObject = { autoLeave: flag(cs.autoLeave, `${field}.autoLeave`) }
  for (const k of CONF_LISTS) {
    const ids = cs[k] as unknown
    if (!Array.isArray(ids)) throw new InvalidArgumentError(`${field}.${k}`, 'must be an array')
    out[k] = (ids as unknown[]).map((id, i) => u64(id, `${field}.${k}[${i}]`))
  }
  return out
}

function confStateIn(v: unknown, field: string): ConfState {
  const c = v === undefined || v === null ? {} : sub(v, field)
  const ids = (k: (typeof CONF_LISTS)[number]): bigint[] => list(c[k], `${field}.${k}`).map((x, i) => toBigInt(x, `${field}.${k}[${i}]`))
  return { voters: ids('voters'), learners: ids('learners'), votersOutgoing: ids('votersOutgoing'), learnersNext: ids('learnersNext'), autoLeave: toBool(c.autoLeave) }
}

/** A snapshot as the storage `Snapshot` message. @internal */
export function snapshotOut(s: Snapshot, field: string): WireObject {
  const md = sub(s.metadata, `${field}.metadata`) as unknown as Snapshot['metadata']
  return {
    index: num(md.index, `${field}.metadata.index`),
    term: num(md.term, `${field}.metadata.term`),
    confState: confStateOut(sub(md.confState, `${field}.metadata.confState`) as unknown as ConfState, `${field}.metadata.confState`),
    data: bin(s.data, `${field}.data`),
  }
}

function snapshotIn(v: unknown, field: string): Snapshot {
  const s = sub(v, field)
  return {
    metadata: { index: toIndex(s.index, `${field}.metadata.index`), term: toIndex(s.term, `${field}.metadata.term`), confState: confStateIn(s.confState, `${field}.metadata.confState`) },
    data: toBytes(s.data, `${field}.data`),
  }
}

/** Converts a message to the object protobufjs encodes as a `RaftMessage`. @internal */
export function messageToWire(m: Message): WireObject {
  const head: WireObject = { from: u64(m.from, 'from'), to: u64(m.to, 'to'), term: num(m.term, 'term') }
  if (m.fromIncarnation !== undefined) head.fromIncarnation = u64(m.fromIncarnation, 'fromIncarnation')
  if (m.toIncarnation !== undefined) head.toIncarnation = u64(m.toIncarnation, 'toIncarnation')
  switch (m.type) {
    case 'app':
      return { ...head, app: { logTerm: num(m.logTerm, 'logTerm'), index: num(m.index, 'index'), entries: entriesOut(m.entries, 'entries'), commit: num(m.commit, 'commit') } }
    case 'app-resp':
      return { ...head, appResp: { index: num(m.index, 'index'), reject: flag(m.reject, 'reject'), rejectHint: num(m.rejectHint, 'rejectHint'), logTerm: num(m.logTerm, 'logTerm') } }
    case 'vote':
    case 'pre-vote': {
      const body = { logTerm: num(m.logTerm, 'logTerm'), index: num(m.index, 'index'), transfer: flag(m.transfer, 'transfer') }
      return m.type === 'vote' ? { ...head, vote: body } : { ...head, preVote: body }
    }
    case 'vote-resp':
      return { ...head, voteResp: { reject: flag(m.reject, 'reject') } }
    case 'pre-vote-resp':
      return { ...head, preVoteResp: { reject: flag(m.reject, 'reject') } }
    case 'heartbeat':
      return { ...head, heartbeat: { commit: num(m.commit, 'commit'), context: bin(m.context, 'context') } }
    case 'heartbeat-resp':
      return { ...head, heartbeatResp: { context: bin(m.context, 'context') } }
    case 'snapshot':
      return { ...head, snapshot: snapshotOut(sub(m.snapshot, 'snapshot') as unknown as Snapshot, 'snapshot') }
    case 'timeout-now':
      return { ...head, timeoutNow: {} }
    case 'read-index':
      return { ...head, readIndex: { context: bin(m.context, 'context') } }
    case 'read-index-resp':
      return { ...head, readIndexResp: { index: num(m.index, 'index'), context: bin(m.context, 'context') } }
    case 'transfer-leader':
      return { ...head, transferLeader: {} }
    case 'prop':
      return { ...head, prop: { entries: entriesOut(m.entries, 'entries') } }
    case 'unreachable':
      return { ...head, unreachable: {} }
    case 'snap-status':
      return { ...head, snapStatus: { reject: flag(m.reject, 'reject') } }
    default: {
      const never: never = m
      throw new InvalidArgumentError('type', `unknown message type ${String((never as { type: unknown }).type)}`)
    }
  }
}

/** Converts a decoded `RaftMessage` object back to a message. @internal */
export function messageFromWire(w: WireObject): Message {
  const base: { from: bigint; to: bigint; term: number; fromIncarnation?: bigint; toIncarnation?: bigint } = { from: toBigInt(w.from ?? 0, 'from'), to: toBigInt(w.to ?? 0, 'to'), term: toIndex(w.term ?? 0, 'term') }
  const fromIncarnation = toBigInt(w.fromIncarnation ?? 0, 'fromIncarnation')
  if (fromIncarnation !== 0n) base.fromIncarnation = fromIncarnation
  const toIncarnation = toBigInt(w.toIncarnation ?? 0, 'toIncarnation')
  if (toIncarnation !== 0n) base.toIncarnation = toIncarnation
  const body = w.body
  const b = (): WireObject => sub(typeof body === 'string' ? w[body] : undefined, 'body')
  switch (body) {
    case 'app': {
      const x = b()
      return { ...base, type: 'app', logTerm: toIndex(x.logTerm, 'logTerm'), index: toIndex(x.index, 'index'), entries: entriesIn(x.entries, 'entries'), commit: toIndex(x.commit, 'commit') }
    }
    case 'appResp': {
      const x = b()
      return { ...base, type: 'app-resp', index: toIndex(x.index, 'index'), reject: toBool(x.reject), rejectHint: toIndex(x.rejectHint, 'rejectHint'), logTerm: toIndex(x.logTerm, 'logTerm') }
    }
    case 'vote':
    case 'preVote': {
      const x = b()
      return { ...base, type: body === 'vote' ? 'vote' : 'pre-vote', logTerm: toIndex(x.logTerm, 'logTerm'), index: toIndex(x.index, 'index'), transfer: toBool(x.transfer) }
    }
    case 'voteResp':
      return { ...base, type: 'vote-resp', reject: toBool(b().reject) }
    case 'preVoteResp':
      return { ...base, type: 'pre-vote-resp', reject: toBool(b().reject) }
    case 'heartbeat': {
      const x = b()
      return { ...base, type: 'heartbeat', commit: toIndex(x.commit, 'commit'), context: toBytes(x.context, 'context') }
    }
    case 'heartbeatResp':
      return { ...base, type: 'heartbeat-resp', context: toBytes(b().context, 'context') }
    case 'snapshot':
      return { ...base, type: 'snapshot', snapshot: snapshotIn(b(), 'snapshot') }
    case 'timeoutNow':
      return { ...base, type: 'timeout-now' }
    case 'readIndex':
      return { ...base, type: 'read-index', context: toBytes(b().context, 'context') }
    case 'readIndexResp': {
      const x = b()
      return { ...base, type: 'read-index-resp', index: toIndex(x.index, 'index'), context: toBytes(x.context, 'context') }
    }
    case 'transferLeader':
      return { ...base, type: 'transfer-leader' }
    case 'prop':
      return { ...base, type: 'prop', entries: entriesIn(b().entries, 'entries') }
    case 'unreachable':
      return { ...base, type: 'unreachable' }
    case 'snapStatus':
      return { ...base, type: 'snap-status', reject: toBool(b().reject) }
    default:
      throw new InvalidArgumentError('type', `no or unknown message body ${String(body)}`)
  }
}

/**
 * Runs a protobufjs decode, turning its errors (truncated input, bad wire type) into
 * `InvalidArgumentError`. @internal
 */
export function decodeWire(type: protobuf.Type, bytes: Uint8Array, what: string): WireObject {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('', `${what}: must be a Uint8Array`)
  try {
    return type.decode(bytes) as unknown as WireObject
  } catch (err) {
    throw new InvalidArgumentError('', `malformed ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

/**
 * Encodes a message as a protobuf `swarmkit.raft.v1.RaftMessage`.
 *
 * @throws InvalidArgumentError naming the field when an id is not a uint64, a term or index is not
 *   a non-negative safe integer, an entry type is unknown or a payload is not a `Uint8Array`.
 */
export function encodeMessage(m: Message): Uint8Array {
  return encodeSteadyState(m) ?? transportSchema().message.encode(messageToWire(m)).finish()
}

/**
 * Decodes a protobuf `swarmkit.raft.v1.RaftMessage`. Byte fields of the result are fresh copies.
 *
 * @throws InvalidArgumentError when the bytes are malformed, the body is missing, an entry type
 *   is unknown, or a term or index exceeds 2^53 − 1 (the field is named).
 */
export function decodeMessage(bytes: Uint8Array): Message {
  return (bytes instanceof Uint8Array ? decodeSteadyState(bytes, 0, bytes.length) : undefined) ?? messageFromWire(decodeWire(transportSchema().message, bytes, 'raft message'))
}

// The steady-state messages — app, app-resp, heartbeat, heartbeat-resp — by hand (see
// wire/proto-wire.ts for why); every other type, and any bytes the reader does not expect, go
// through protobufjs and the converters above. Both write the same bytes.

/** RaftMessage body tags (field number << 3 | 2) of the steady-state types. */
const TAG_APP = (10 << 3) | 2
const TAG_APP_RESP = (11 << 3) | 2
const TAG_HEARTBEAT = (16 << 3) | 2
const TAG_HEARTBEAT_RESP = (17 << 3) | 2

/** Encodes a steady-state message by hand; `undefined` for every other type. */
function encodeSteadyState(m: Message): Uint8Array | undefined {
  if (m.type !== 'app' && m.type !== 'app-resp' && m.type !== 'heartbeat' && m.type !== 'heartbeat-resp') return undefined
  // Checked in messageToWire's order, with its field names.
  const from = u64Halves(m.from, 'from')
  const to = u64Halves(m.to, 'to')
  const term = checkedNum(m.term, 'term')
  const fromInc = m.fromIncarnation === undefined ? undefined : u64Halves(m.fromIncarnation, 'fromIncarnation')
  const toInc = m.toIncarnation === undefined ? undefined : u64Halves(m.toIncarnation, 'toIncarnation')
  let body: number
  let tag: number
  let sizes: number[] | undefined
  let context: Uint8Array | undefined
  switch (m.type) {
    case 'app': {
      tag = TAG_APP
      const logTerm = checkedNum(m.logTerm, 'logTerm')
      const index = checkedNum(m.index, 'index')
      sizes = entrySizes(m.entries, 'entries')
      body = 1 + varintSize(logTerm) + 1 + varintSize(index) + entriesFieldSize(sizes) + 1 + varintSize(checkedNum(m.commit, 'commit'))
      break
    }
    case 'app-resp':
      tag = TAG_APP_RESP
      body = 1 + varintSize(checkedNum(m.index, 'index')) + 2
      if (typeof m.reject !== 'boolean') throw new InvalidArgumentError('reject', 'must be a boolean')
      body += 1 + varintSize(checkedNum(m.rejectHint, 'rejectHint')) + 1 + varintSize(checkedNum(m.logTerm, 'logTerm'))
      break
    case 'heartbeat':
      tag = TAG_HEARTBEAT
      body = 1 + varintSize(checkedNum(m.commit, 'commit'))
      context = checkedBytes(m.context, 'context')
      body += 1 + varintSize(context.length) + context.length
      break
    case 'heartbeat-resp':
      tag = TAG_HEARTBEAT_RESP
      context = checkedBytes(m.context, 'context')
      body = 1 + varintSize(context.length) + context.length
      break
  }
  const size = 1 + varint64Size(from) + 1 + varint64Size(to) + 1 + varintSize(term) + (fromInc === undefined ? 0 : 9) + (toInc === undefined ? 0 : 9) + varintSize(tag) + varintSize(body) + body
  const w = new ProtoWriter(new Uint8Array(size))
  w.buf[w.pos++] = 8
  w.varint64(from)
  w.buf[w.pos++] = 16
  w.varint64(to)
  w.buf[w.pos++] = 24
  w.varint(term)
  if (fromInc !== undefined) {
    w.buf[w.pos++] = (4 << 3) | 1
    w.fixed64(fromInc)
  }
  if (toInc !== undefined) {
    w.buf[w.pos++] = (5 << 3) | 1
    w.fixed64(toInc)
  }
  w.varint(tag)
  w.varint(body)
  switch (m.type) {
    case 'app':
      w.buf[w.pos++] = 8
      w.varint(m.logTerm)
      w.buf[w.pos++] = 16
      w.varint(m.index)
      writeEntries(w, (3 << 3) | 2, m.entries, sizes as number[])
      w.buf[w.pos++] = 32
      w.varint(m.commit)
      break
    case 'app-resp':
      w.buf[w.pos++] = 8
      w.varint(m.index)
      w.buf[w.pos++] = 16
      w.buf[w.pos++] = m.reject ? 1 : 0
      w.buf[w.pos++] = 24
      w.varint(m.rejectHint)
      w.buf[w.pos++] = 32
      w.varint(m.logTerm)
      break
    case 'heartbeat':
      w.buf[w.pos++] = 8
      w.varint(m.commit)
      w.buf[w.pos++] = 18
      w.bytes(context as Uint8Array)
      break
    case 'heartbeat-resp':
      w.buf[w.pos++] = 10
      w.bytes(context as Uint8Array)
      break
  }
  return w.buf
}

/**
 * Decodes the RaftMessage in `bytes[start, end)` by hand when it is a steady-state one, exactly
 * as protobufjs and {@link messageFromWire} would; `undefined` for any other type and for anything
 * unexpected (the caller decodes with protobufjs, which names what is wrong).
 */
export function decodeSteadyState(bytes: Uint8Array, start: number, end: number): Message | undefined {
  return readOrGiveUp(() => {
    const r = new ProtoReader(bytes, start, end)
    let from = 0n
    let to = 0n
    let term = 0
    let fromIncarnation = 0n
    let toIncarnation = 0n
    let tag = 0
    let bodyStart = 0
    let bodyEnd = 0
    while (!r.done()) {
      const t = r.num()
      switch (t) {
        case 8:
          from = r.u64()
          break
        case 16:
          to = r.u64()
          break
        case 24:
          term = r.num()
          break
        case (4 << 3) | 1:
          fromIncarnation = r.fixed64()
          break
        case (5 << 3) | 1:
          toIncarnation = r.fixed64()
          break
        case TAG_APP:
        case TAG_APP_RESP:
        case TAG_HEARTBEAT:
        case TAG_HEARTBEAT_RESP:
          if (tag !== 0) giveUp()
          tag = t
          bodyEnd = r.delimited()
          bodyStart = r.pos
          r.pos = bodyEnd
          break
        default:
          giveUp()
      }
    }
    if (tag === 0) giveUp()
    const m = steadyStateBody(tag, new ProtoReader(bytes, bodyStart, bodyEnd), from, to, term)
    // Set after the literal: on Node 20 a literal that spreads an object and then adds
    // properties of its own costs ~1 µs (a runtime call per added property).
    if (fromIncarnation !== 0n) m.fromIncarnation = fromIncarnation
    if (toIncarnation !== 0n) m.toIncarnation = toIncarnation
    return m
  })
}

/** The body of a steady-state message (`tag` says which) and the header fields read before it. */
function steadyStateBody(tag: number, b: ProtoReader, from: bigint, to: bigint, term: number): Message {
  switch (tag) {
    case TAG_APP: {
      let logTerm = 0
      let index = 0
      let commit = 0
      const entries: Entry[] = []
      while (!b.done()) {
        switch (b.num()) {
          case 8:
            logTerm = b.num()
            break
          case 16:
            index = b.num()
            break
          case 26:
            entries.push(b.entry())
            break
          case 32:
            commit = b.num()
            break
          default:
            giveUp()
        }
      }
      return { type: 'app', from, to, term, logTerm, index, entries, commit }
    }
    case TAG_APP_RESP: {
      let index = 0
      let reject = false
      let rejectHint = 0
      let logTerm = 0
      while (!b.done()) {
        switch (b.num()) {
          case 8:
            index = b.num()
            break
          case 16:
            reject = b.num() !== 0
            break
          case 24:
            rejectHint = b.num()
            break
          case 32:
            logTerm = b.num()
            break
          default:
            giveUp()
        }
      }
      return { type: 'app-resp', from, to, term, index, reject, rejectHint, logTerm }
    }
    case TAG_HEARTBEAT: {
      let commit = 0
      let context: Uint8Array | undefined
      while (!b.done()) {
        switch (b.num()) {
          case 8:
            commit = b.num()
            break
          case 18:
            context = b.bytes()
            break
          default:
            giveUp()
        }
      }
      return { type: 'heartbeat', from, to, term, commit, context: context ?? new Uint8Array(0) }
    }
    default: {
      let context: Uint8Array | undefined
      while (!b.done()) {
        if (b.num() !== 10) giveUp()
        context = b.bytes()
      }
      return { type: 'heartbeat-resp', from, to, term, context: context ?? new Uint8Array(0) }
    }
  }
}
