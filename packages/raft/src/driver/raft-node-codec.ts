/**
 * Encoding of the envelopes the {@link RaftNode} driver wraps around application data
 * (proto/raft-node.proto, parsed on first use from its text embedded in generated/proto-sources.ts).
 *
 * @internal
 */
import protobuf from 'protobufjs'
import { heapBytes } from '@swarmkit-ts/api'
import type { ByteAllocator, RaftMemberId } from '@swarmkit-ts/api'
import { contextKey } from '../core/read-only.ts'
import { PROTO_SOURCES } from '../generated/proto-sources.ts'
import { varintSize, writeVarint } from '../wire/proto-wire.ts'

interface Schema {
  proposal: protobuf.Type
  memberContext: protobuf.Type
  nodeSnapshot: protobuf.Type
}

let cached: Schema | undefined
function schema(): Schema {
  if (cached !== undefined) return cached
  const root = new protobuf.Root()
  protobuf.parse(PROTO_SOURCES['raft-node.proto'], root, { keepCase: false })
  root.resolveAll()
  const t = (name: string): protobuf.Type => root.lookupType(`swarmkit_ts.raft.node.v1.${name}`)
  cached = { proposal: t('Proposal'), memberContext: t('MemberContext'), nodeSnapshot: t('NodeSnapshot') }
  return cached
}

const bytesOf = (v: unknown): Uint8Array => (v instanceof Uint8Array ? new Uint8Array(v) : new Uint8Array(0))

/** A proposal as stored in a normal entry. */
export interface ProposalEnvelope {
  requestId: Uint8Array
  payload: Uint8Array
}

/**
 * Encodes a proposal. This is the hot path of every write, so the two `bytes` fields are written
 * by hand in standard protobuf wire format (tag, varint length, bytes); the result decodes with
 * the `Proposal` message of proto/raft-node.proto like any other.
 */
export function encodeProposal(p: ProposalEnvelope): Uint8Array {
  const idLen = p.requestId.byteLength
  const n = p.payload.byteLength
  const out = new Uint8Array(1 + varintSize(idLen) + idLen + 1 + varintSize(n) + n)
  let o = 0
  out[o++] = 0x0a // field 1, length-delimited
  o = writeVarint(out, o, idLen)
  out.set(p.requestId, o)
  o += idLen
  out[o++] = 0x12 // field 2, length-delimited
  o = writeVarint(out, o, n)
  out.set(p.payload, o)
  return out
}

/**
 * Encodes several proposals as one entry: a `Proposal` whose repeated `batch` field (3) holds
 * them in order, each written as {@link encodeProposal} would.
 */
export function encodeProposalBatch(ps: readonly ProposalEnvelope[]): Uint8Array {
  if (ps.length === 1) return encodeProposal(ps[0] as ProposalEnvelope)
  const parts = ps.map(encodeProposal)
  let size = 0
  for (const part of parts) size += 1 + varintSize(part.byteLength) + part.byteLength
  const out = new Uint8Array(size)
  let o = 0
  for (const part of parts) {
    out[o++] = 0x1a // field 3, length-delimited
    o = writeVarint(out, o, part.byteLength)
    out.set(part, o)
    o += part.byteLength
  }
  return out
}

/** A proposal waiting in the driver: its sequence number (the request id's low half) and payload. */
export interface PendingProposal {
  seq: number
  payload: Uint8Array
}

/**
 * The driver's hot path: encodes `items` as one entry exactly as {@link encodeProposalBatch} would
 * with request ids `nonce ‖ seq` (8 + 8 bytes, big-endian), writing everything into one buffer.
 */
export function encodeDriverBatch(nonce: Uint8Array, items: readonly PendingProposal[], alloc: ByteAllocator = heapBytes): Uint8Array {
  const single = items.length === 1
  let size = 0
  for (const it of items) {
    const inner = 19 + varintSize(it.payload.byteLength) + it.payload.byteLength
    size += single ? inner : 1 + varintSize(inner) + inner
  }
  const out = alloc(size)
  let o = 0
  for (const it of items) {
    const n = it.payload.byteLength
    if (!single) {
      out[o++] = 0x1a // field 3, length-delimited
      o = writeVarint(out, o, 19 + varintSize(n) + n)
    }
    out[o++] = 0x0a // field 1: the request id
    out[o++] = 16
    // Eight bytes: a loop beats TypedArray#set at this size.
    for (let i = 0; i < 8; i++) out[o + i] = nonce[i] ?? 0
    writeUint64(out, o + 8, it.seq)
    o += 16
    out[o++] = 0x12 // field 2: the payload
    o = writeVarint(out, o, n)
    out.set(it.payload, o)
    o += n
  }
  return out
}

function writeUint64(out: Uint8Array, o: number, v: number): void {
  const hi = Math.floor(v / 2 ** 32)
  const lo = v >>> 0
  out[o] = hi >>> 24
  out[o + 1] = (hi >>> 16) & 0xff
  out[o + 2] = (hi >>> 8) & 0xff
  out[o + 3] = hi & 0xff
  out[o + 4] = lo >>> 24
  out[o + 5] = (lo >>> 16) & 0xff
  out[o + 6] = (lo >>> 8) & 0xff
  out[o + 7] = lo & 0xff
}

/**
 * Decodes the proposals of a normal entry, in order: one for an entry written by
 * {@link encodeProposal}, several for {@link encodeProposalBatch}. The fields are views into
 * `data` (entries are immutable).
 */
export function decodeProposals(data: Uint8Array): ProposalEnvelope[] {
  if (data[0] !== 0x1a) return [decodeProposal(data)]
  const out: ProposalEnvelope[] = []
  const len = data.byteLength
  let o = 0
  while (o < len && data[o] === 0x1a) {
    const n = readVarint(data, o + 1, len)
    const start = varintEnd
    if (n < 0 || start + n > len) break
    // Each item is decoded in place (no view of it is made unless it needs protobufjs).
    out.push(decodeProposalAt(data, start, start + n))
    o = start + n
  }
  if (o === len) return out
  // Not what encodeProposalBatch writes: let protobufjs read it.
  const m = schema().proposal.decode(data) as unknown as { batch?: { requestId?: Uint8Array; payload?: Uint8Array }[] }
  return (m.batch ?? []).map((b) => ({ requestId: bytesOf(b.requestId), payload: bytesOf(b.payload) }))
}

/** Decodes a proposal; the fields are views into `data` (entries are immutable). */
export function decodeProposal(data: Uint8Array): ProposalEnvelope {
  return decodeProposalAt(data, 0, data.byteLength)
}

/** Decodes the proposal written in `data[start, end)`; the fields are views into `data`. */
function decodeProposalAt(data: Uint8Array, start: number, end: number): ProposalEnvelope {
  // Fast path for what encodeProposal writes; anything else goes through protobufjs.
  if (data[start] === 0x0a) {
    const idLen = readVarint(data, start + 1, end)
    const o1 = varintEnd
    const o2 = o1 + idLen
    if (idLen >= 0 && o2 < end && data[o2] === 0x12) {
      const n = readVarint(data, o2 + 1, end)
      const o3 = varintEnd
      if (o3 + n === end) return { requestId: data.subarray(o1, o2), payload: data.subarray(o3, end) }
    }
  }
  const o = schema().proposal.decode(start === 0 && end === data.byteLength ? data : data.subarray(start, end)) as unknown as { requestId?: Uint8Array; payload?: Uint8Array }
  return { requestId: bytesOf(o.requestId), payload: bytesOf(o.payload) }
}

/**
 * Where the last {@link readVarint} stopped. A module-level cursor instead of a returned pair:
 * the decoder reads three varints per proposal on every member, and a pair each is garbage.
 */
let varintEnd = 0

/**
 * Reads the varint at `data[o]` (at most 8 bytes, none at or past `end`); returns its value and
 * leaves the offset after it in `varintEnd`, or returns -1 (and `end + 1`) when it does not end
 * in time.
 */
function readVarint(data: Uint8Array, o: number, end: number): number {
  let v = 0
  let mul = 1
  for (let i = 0; i < 8 && o < end; i++) {
    const b = data[o++] ?? 0
    v += (b & 0x7f) * mul
    if (b < 0x80) {
      varintEnd = o
      return v
    }
    mul *= 128
  }
  varintEnd = end + 1
  return -1
}

/** The context of a membership change. */
export interface MemberContextEnvelope {
  requestId: Uint8Array
  address: string
}

export function encodeMemberContext(c: MemberContextEnvelope): Uint8Array {
  const s = schema().memberContext
  return s.encode(s.fromObject(c)).finish()
}

export function decodeMemberContext(data: Uint8Array): MemberContextEnvelope {
  const o = schema().memberContext.decode(data) as unknown as { requestId?: Uint8Array; address?: string }
  return { requestId: bytesOf(o.requestId), address: o.address ?? '' }
}

/**
 * Encodes the entry a leader's driver proposes to bind members to their storage incarnations:
 * a `Proposal` with only its `incarnations` field, so its first byte is 0x22 (field 4,
 * length-delimited), which no application proposal starts with (see {@link isIncarnationEntry}).
 */
export function encodeIncarnationEntry(bindings: ReadonlyMap<RaftMemberId, bigint>): Uint8Array {
  const t = schema().proposal
  const incarnations = [...bindings].map(([id, incarnation]) => ({ id: id.toString(), incarnation: incarnation.toString() }))
  return t.encode(t.fromObject({ incarnations })).finish()
}

/** Whether a normal entry's data is an incarnation binding (see {@link encodeIncarnationEntry}). */
export function isIncarnationEntry(data: Uint8Array): boolean {
  return data[0] === 0x22
}

/** Decodes an incarnation binding entry, in order. */
export function decodeIncarnationEntry(data: Uint8Array): Map<RaftMemberId, bigint> {
  const t = schema().proposal
  const o = t.toObject(t.decode(data), { longs: String }) as { incarnations?: { id?: string; incarnation?: string }[] }
  return incarnationsIn(o.incarnations)
}

function incarnationsIn(list: { id?: string; incarnation?: string }[] | undefined): Map<RaftMemberId, bigint> {
  const out = new Map<RaftMemberId, bigint>()
  for (const x of list ?? []) {
    const id = BigInt(x.id ?? '0')
    const incarnation = BigInt(x.incarnation ?? '0')
    if (id !== 0n && incarnation !== 0n && !out.has(id)) out.set(id, incarnation)
  }
  return out
}

/**
 * A driver snapshot: member addresses, the state machine's own snapshot, per proposing driver
 * (hex nonce) the highest proposal sequence number applied, and the members' bound incarnations.
 */
export interface NodeSnapshotEnvelope {
  members: Map<RaftMemberId, string>
  state: Uint8Array
  sessions: Map<string, number>
  /** Absent (when encoding) means none. */
  incarnations?: Map<RaftMemberId, bigint>
}

/** Hex of a nonce (the key of {@link NodeSnapshotEnvelope.sessions}): the same hex key as a read's context. */
export const nonceKey: (nonce: Uint8Array) => string = contextKey

function nonceBytes(key: string): Uint8Array {
  const b = new Uint8Array(key.length / 2)
  for (let i = 0; i < b.length; i++) b[i] = parseInt(key.slice(2 * i, 2 * i + 2), 16)
  return b
}

/**
 * The bytes protobufjs writes for the whole envelope (fields in number order: members 1, state 2,
 * sessions 3, incarnations 4), with the state — nearly all of a large snapshot — copied once,
 * straight into place: the small fields around it are encoded apart.
 */
export function encodeNodeSnapshot(s: NodeSnapshotEnvelope, alloc: ByteAllocator = heapBytes): Uint8Array {
  return new NodeSnapshotWriter(s, alloc).step(Number.POSITIVE_INFINITY) as Uint8Array
}

/**
 * {@link encodeNodeSnapshot} a bounded copy at a time: the construction places the small fields
 * (the array is allocated whole), each `step(bytes)` copies up to `bytes` of the state. The
 * state may come as consecutive parts (a state machine's sliced snapshot, see
 * `StateMachine.beginSnapshot`), copied straight into place: they are never joined first.
 */
export class NodeSnapshotWriter {
  readonly #out: Uint8Array
  readonly #parts: readonly Uint8Array[]
  readonly #at: number
  /** Bytes of the state copied so far, and the part the next copy reads (and how far into it). */
  #copied = 0
  #part = 0
  #inPart = 0

  /** `alloc`: where the envelope's array comes from (see `RaftNodeInit.allocBytes`). */
  constructor(s: Omit<NodeSnapshotEnvelope, 'state'> & { readonly state: Uint8Array | readonly Uint8Array[] }, alloc: ByteAllocator = heapBytes) {
    const t = schema().nodeSnapshot
    const members = [...s.members].map(([id, address]) => ({ id: id.toString(), address }))
    const sessions = [...s.sessions].map(([nonce, lastSeq]) => ({ nonce: nonceBytes(nonce), lastSeq }))
    const incarnations = [...(s.incarnations ?? [])].map(([id, incarnation]) => ({ id: id.toString(), incarnation: incarnation.toString() }))
    const head = t.encode(t.fromObject({ members })).finish()
    const tail = t.encode(t.fromObject({ sessions, incarnations })).finish()
    const parts = s.state instanceof Uint8Array ? [s.state] : s.state
    let n = 0
    for (const part of parts) n += part.length
    // Written even when empty, as protobufjs writes a field set explicitly.
    const out = alloc(head.length + 1 + varintSize(n) + n + tail.length)
    out.set(head, 0)
    let o = head.length
    out[o++] = (2 << 3) | 2
    o = writeVarint(out, o, n)
    out.set(tail, o + n)
    this.#out = out
    this.#parts = parts
    this.#at = o
  }

  /** Copies up to `bytes` more of the state (at least one byte while any is left); returns the envelope once the state is all in. */
  step(bytes: number): Uint8Array | undefined {
    const parts = this.#parts
    let budget = Math.max(1, bytes)
    while (this.#part < parts.length) {
      const part = parts[this.#part] as Uint8Array
      const left = part.length - this.#inPart
      if (left === 0) {
        this.#part++
        this.#inPart = 0
        continue
      }
      if (budget <= 0) break
      const take = Math.min(left, budget)
      this.#out.set(take === part.length ? part : part.subarray(this.#inPart, this.#inPart + take), this.#at + this.#copied)
      this.#copied += take
      this.#inPart += take
      budget -= take
    }
    return this.#part === parts.length ? this.#out : undefined
  }
}

export function decodeNodeSnapshot(data: Uint8Array): NodeSnapshotEnvelope {
  const o = schema().nodeSnapshot.toObject(schema().nodeSnapshot.decode(data), { longs: String }) as {
    members?: { id: string; address?: string }[]
    state?: Uint8Array
    sessions?: { nonce?: Uint8Array; lastSeq?: string }[]
    incarnations?: { id?: string; incarnation?: string }[]
  }
  return {
    members: new Map((o.members ?? []).map((m) => [BigInt(m.id), m.address ?? ''])),
    state: bytesOf(o.state),
    sessions: new Map((o.sessions ?? []).map((x) => [nonceKey(bytesOf(x.nonce)), Number(x.lastSeq ?? 0)])),
    incarnations: incarnationsIn(o.incarnations),
  }
}
