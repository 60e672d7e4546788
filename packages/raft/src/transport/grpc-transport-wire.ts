/**
 * The `swarmkit.raft.v1.Raft` gRPC service of {@link GrpcRaftTransport}: method paths and the
 * serializers that grpc-js calls, over the protobufjs types of proto/raft-transport.proto.
 *
 * No code generation and no @grpc/proto-loader: the service is two client-streaming methods
 * whose payloads the message codec already encodes, so a hand-written definition with our own
 * serializers keeps one encoding (and one validation) path. Request deserializers never throw
 * (grpc-js would answer INTERNAL): they return a {@link Decoded} that the handler turns into a
 * typed status.
 *
 * @internal
 */
import { Metadata, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js'
import { InvalidArgumentError, toGrpcStatus, fromGrpcStatus } from '@swarmkit-ts/api'
import type { RaftMemberId } from '@swarmkit-ts/api'
import { decodeMessage, decodeWire, messageFromWire, transportSchema, type WireObject } from './message-codec.ts'
import { ProtoReader, ProtoWriter, readOrGiveUp, varintSize } from '../wire/proto-wire.ts'
import type { MessageOrigin } from './transport.ts'
import type { Message } from '../core/types.ts'

/** The fully qualified service name. */
export const RAFT_SERVICE_NAME = 'swarmkit.raft.v1.Raft'
/** Path of the message stream method. */
export const STREAM_PATH = `/${RAFT_SERVICE_NAME}/Stream`
/** Path of the snapshot method. */
export const SEND_SNAPSHOT_PATH = `/${RAFT_SERVICE_NAME}/SendSnapshot`

/** Bytes an envelope adds around each encoded message (field tag and length), at most. */
export const ENVELOPE_OVERHEAD_BYTES = 16

/** Bytes a snapshot chunk adds around its header and data (tags, lengths, total size), at most. */
export const CHUNK_OVERHEAD_BYTES = 64

/** The outcome of decoding a request: grpc-js deserializers must not throw. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: InvalidArgumentError }

/** A snapshot chunk as the sender builds it. */
export interface OutboundChunk {
  /** First chunk only: the `RaftMessage` wire object whose snapshot data is empty. */
  header?: WireObject
  /** First chunk only: the size of the whole snapshot data. */
  totalBytes?: number
  /** The next piece of the data. */
  data: Uint8Array
}

/** A snapshot chunk as the receiver decodes it. */
export interface InboundChunk {
  /** Present in the first chunk only. */
  message: Message | undefined
  totalBytes: number
  data: Uint8Array
}

/** The answer to a Stream call. */
export interface StreamAck {
  delivered: number
}

/** The answer to a SendSnapshot call. */
export interface SnapshotAck {
  receivedBytes: number
}

const toBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength)

function decoded<T>(f: () => T): Decoded<T> {
  try {
    return { ok: true, value: f() }
  } catch (err) {
    if (err instanceof InvalidArgumentError) return { ok: false, error: err }
    return { ok: false, error: new InvalidArgumentError('', `undecodable request: ${err instanceof Error ? err.message : String(err)}`, { cause: err }) }
  }
}

/**
 * Builds a `RaftEnvelope` from already encoded `RaftMessage`s: field 1 repeated, written as
 * length-delimited bytes (the wire form of an embedded message), so nothing is encoded twice.
 */
export function serializeEnvelope(encoded: readonly Uint8Array[]): Buffer {
  let size = 0
  for (const m of encoded) size += 1 + varintSize(m.length) + m.length
  const w = new ProtoWriter(Buffer.allocUnsafe(size))
  for (const m of encoded) {
    w.buf[w.pos++] = (1 << 3) | 2
    w.bytes(m)
  }
  return w.buf as Buffer
}

/**
 * Decodes a `RaftEnvelope` into its messages: the steady-state ones by hand, any other one with
 * protobufjs; when something is malformed, the whole envelope again with protobufjs, so that the
 * error names the message and field as it always did.
 */
export function deserializeEnvelope(buf: Buffer): Decoded<Message[]> {
  let fast: Message[] | undefined
  try {
    fast = readEnvelope(buf)
  } catch {
    fast = undefined
  }
  if (fast !== undefined) return { ok: true, value: fast }
  return decoded(() => {
    const env = decodeWire(transportSchema().envelope, buf, 'raft envelope')
    return (env.messages as WireObject[]).map((m, i) => {
      try {
        return messageFromWire(m)
      } catch (err) {
        if (!(err instanceof InvalidArgumentError)) throw err
        throw new InvalidArgumentError(err.field === '' ? `messages[${i}]` : `messages[${i}].${err.field}`, err.message, { cause: err })
      }
    })
  })
}

/**
 * The fast path of {@link deserializeEnvelope}: each message through `decodeMessage` (by hand,
 * or protobufjs for the other types); `undefined` (or a throw) sends the envelope to the slow one.
 */
function readEnvelope(buf: Buffer): Message[] | undefined {
  return readOrGiveUp(() => {
    const r = new ProtoReader(buf, 0, buf.length)
    const out: Message[] = []
    while (!r.done()) {
      if (r.num() !== ((1 << 3) | 2)) return undefined
      const end = r.delimited()
      out.push(decodeMessage(buf.subarray(r.pos, end)))
      r.pos = end
    }
    return out
  })
}

/** Encodes a `SnapshotChunk`. */
export function serializeChunk(c: OutboundChunk): Buffer {
  const obj: WireObject = { data: c.data }
  if (c.header !== undefined) obj.message = c.header
  if (c.totalBytes !== undefined) obj.totalBytes = c.totalBytes
  return toBuffer(transportSchema().snapshotChunk.encode(obj).finish())
}

/** Decodes a `SnapshotChunk` (the data is not copied: the receiver concatenates it). */
export function deserializeChunk(buf: Buffer): Decoded<InboundChunk> {
  return decoded(() => {
    const c = decodeWire(transportSchema().snapshotChunk, buf, 'snapshot chunk')
    const raw = c.message
    const message = raw === null || raw === undefined ? undefined : messageFromWire(raw as WireObject)
    const totalBytes = countOf(c.totalBytes)
    if (!Number.isSafeInteger(totalBytes)) throw new InvalidArgumentError('totalBytes', 'exceeds 2^53 - 1')
    const data = c.data instanceof Uint8Array ? c.data : new Uint8Array(0)
    return { message, totalBytes, data }
  })
}

function countOf(v: unknown): number {
  if (typeof v === 'number') return v
  const l = v as { toNumber?: () => number } | null | undefined
  return l?.toNumber?.() ?? 0
}

/** Encodes an `Ack`. */
export function serializeStreamAck(a: StreamAck): Buffer {
  return toBuffer(transportSchema().ack.encode({ delivered: a.delivered }).finish())
}

/** Decodes an `Ack`. */
export function deserializeStreamAck(buf: Buffer): StreamAck {
  return { delivered: countOf(decodeWire(transportSchema().ack, buf, 'ack').delivered) }
}

/** Encodes a `SnapshotAck`. */
export function serializeSnapshotAck(a: SnapshotAck): Buffer {
  return toBuffer(transportSchema().snapshotAck.encode({ receivedBytes: a.receivedBytes }).finish())
}

/** Decodes a `SnapshotAck`. */
export function deserializeSnapshotAck(buf: Buffer): SnapshotAck {
  return { receivedBytes: countOf(decodeWire(transportSchema().snapshotAck, buf, 'snapshot ack').receivedBytes) }
}

/** The service as grpc-js `Server.addService` takes it. */
export const raftServiceDefinition: ServiceDefinition = {
  Stream: {
    path: STREAM_PATH,
    requestStream: true,
    responseStream: false,
    requestSerialize: serializeEnvelope,
    requestDeserialize: deserializeEnvelope,
    responseSerialize: serializeStreamAck,
    responseDeserialize: deserializeStreamAck,
    originalName: 'stream',
  },
  SendSnapshot: {
    path: SEND_SNAPSHOT_PATH,
    requestStream: true,
    responseStream: false,
    requestSerialize: serializeChunk,
    requestDeserialize: deserializeChunk,
    responseSerialize: serializeSnapshotAck,
    responseDeserialize: deserializeSnapshotAck,
    originalName: 'sendSnapshot',
  },
}

/** A typed swarmkit-ts error as the status a grpc-js handler answers with. */
export function errorStatus(err: unknown): Partial<ServiceError> {
  const s = toGrpcStatus(err)
  const metadata = new Metadata()
  for (const [k, v] of Object.entries(s.metadata)) metadata.set(k, v)
  return { code: s.code, details: s.details, metadata }
}

/** The typed error a failed call carries (see `fromGrpcStatus`). */
export function statusError(err: ServiceError): Error {
  const metadata: Record<string, string> = {}
  for (const [k, v] of Object.entries(err.metadata.getMap())) if (typeof v === 'string') metadata[k] = v
  return fromGrpcStatus({ code: err.code, details: err.details, metadata })
}

/** Request metadata keys naming the sending member and the address it advertises. */
export const ORIGIN_ID_KEY = 'x-raft-origin-id'
export const ORIGIN_ADDRESS_KEY = 'x-raft-origin-address'

/** The request metadata of a call from member `id`, which advertises `address` (if known). */
export function originMetadata(id: RaftMemberId, address: string | undefined): Metadata {
  const md = new Metadata()
  md.set(ORIGIN_ID_KEY, id.toString(16))
  if (address !== undefined && address !== '') md.set(ORIGIN_ADDRESS_KEY, address)
  return md
}

/** The member a call's request metadata names as its sender, or undefined when it names none (or garbage). */
export function readOriginId(md: Metadata): RaftMemberId | undefined {
  const [id] = md.get(ORIGIN_ID_KEY)
  if (typeof id !== 'string' || !/^[0-9a-f]{1,16}$/.test(id)) return undefined
  const member = BigInt(`0x${id}`)
  return member === 0n ? undefined : member
}

/** The origin named by a call's request metadata, or undefined when it names none (or garbage). */
export function readOrigin(md: Metadata): MessageOrigin | undefined {
  const [id] = md.get(ORIGIN_ID_KEY)
  const [address] = md.get(ORIGIN_ADDRESS_KEY)
  if (typeof id !== 'string' || typeof address !== 'string' || address === '' || !/^[0-9a-f]{1,16}$/.test(id)) return undefined
  const member = BigInt(`0x${id}`)
  return member === 0n ? undefined : { id: member, address }
}
