/**
 * The wire of the manager membership service (`swarmkit.core.v1.Membership`): small protobuf
 * messages written and read by hand with protobufjs' `Writer`/`Reader`, in the standard wire
 * format of this schema (Raft member ids as `fixed64`, exact for all 64 bits):
 *
 * ```proto
 * message JoinRequest  { string addr = 1; bool rejoin = 2; }        // advertise address; rejoin: a restarted member's new address
 * message Member       { fixed64 raft_id = 1; string addr = 2; string node_id = 3; }
 * message JoinResponse { fixed64 raft_id = 1; repeated Member members = 2; }
 * message LeaveRequest {}                                          // the caller (its certificate) leaves
 * message LeaveResponse {}
 * ```
 *
 * @internal
 */
import protobuf from 'protobufjs'
import { InvalidArgumentError, type RaftMemberId } from '@swarmkit-ts/api'

/** A Raft member as the membership service reports it. */
export interface MemberInfo {
  /** Raft member id. */
  readonly raftId: RaftMemberId
  /** Address of its node server. */
  readonly addr: string
  /** Its node id, when the store knows it (empty otherwise). */
  readonly nodeId: string
}

/** `Join`'s answer: the id the joiner must use and the members (itself included). */
export interface JoinResponse {
  readonly raftId: RaftMemberId
  readonly members: readonly MemberInfo[]
}

const WIRE_VARINT = 0
const WIRE_FIXED64 = 1
const WIRE_LEN = 2
const MASK32 = 0xffffffffn

function writeFixed64(w: protobuf.Writer, field: number, v: bigint): void {
  w.uint32((field << 3) | WIRE_FIXED64)
    .fixed32(Number(v & MASK32))
    .fixed32(Number((v >> 32n) & MASK32))
}

function readFixed64(r: protobuf.Reader): bigint {
  const lo = BigInt(r.fixed32())
  const hi = BigInt(r.fixed32())
  return (hi << 32n) | lo
}

function decodeFields(buf: Uint8Array, what: string, on: (field: number, wire: number, r: protobuf.Reader) => boolean): void {
  const r = protobuf.Reader.create(buf)
  try {
    while (r.pos < r.len) {
      const tag = r.uint32()
      const field = tag >>> 3
      const wire = tag & 7
      if (!on(field, wire, r)) r.skipType(wire)
    }
  } catch (err) {
    throw new InvalidArgumentError(what, 'is not a valid protobuf message', { cause: err })
  }
}

/** A Join request: the caller's advertise address; `rejoin` for a member already in the group (a restart on a new address). */
export interface JoinRequest {
  readonly addr: string
  readonly rejoin: boolean
}

/** Encodes a JoinRequest. */
export function encodeJoinRequest(req: JoinRequest): Buffer {
  const w = protobuf.Writer.create()
  if (req.addr !== '') w.uint32((1 << 3) | WIRE_LEN).string(req.addr)
  if (req.rejoin) w.uint32((2 << 3) | WIRE_VARINT).bool(true)
  return Buffer.from(w.finish())
}

/** Decodes a JoinRequest. */
export function decodeJoinRequest(buf: Uint8Array): JoinRequest {
  let addr = ''
  let rejoin = false
  decodeFields(buf, 'JoinRequest', (f, wire, r) => {
    if (f === 1 && wire === WIRE_LEN) addr = r.string()
    else if (f === 2 && wire === WIRE_VARINT) rejoin = r.bool()
    else return false
    return true
  })
  return { addr, rejoin }
}

function encodeMember(m: MemberInfo): Uint8Array {
  const w = protobuf.Writer.create()
  writeFixed64(w, 1, m.raftId)
  if (m.addr !== '') w.uint32((2 << 3) | WIRE_LEN).string(m.addr)
  if (m.nodeId !== '') w.uint32((3 << 3) | WIRE_LEN).string(m.nodeId)
  return w.finish()
}

function decodeMember(buf: Uint8Array): MemberInfo {
  let raftId = 0n
  let addr = ''
  let nodeId = ''
  decodeFields(buf, 'Member', (f, wire, r) => {
    if (f === 1 && wire === WIRE_FIXED64) raftId = readFixed64(r)
    else if (f === 2 && wire === WIRE_LEN) addr = r.string()
    else if (f === 3 && wire === WIRE_LEN) nodeId = r.string()
    else return false
    return true
  })
  return { raftId, addr, nodeId }
}

/** Encodes a JoinResponse. */
export function encodeJoinResponse(res: JoinResponse): Buffer {
  const w = protobuf.Writer.create()
  writeFixed64(w, 1, res.raftId)
  for (const m of res.members) w.uint32((2 << 3) | WIRE_LEN).bytes(encodeMember(m))
  return Buffer.from(w.finish())
}

/** Decodes a JoinResponse. */
export function decodeJoinResponse(buf: Uint8Array): JoinResponse {
  let raftId = 0n
  const members: MemberInfo[] = []
  decodeFields(buf, 'JoinResponse', (f, wire, r) => {
    if (f === 1 && wire === WIRE_FIXED64) raftId = readFixed64(r)
    else if (f === 2 && wire === WIRE_LEN) members.push(decodeMember(r.bytes()))
    else return false
    return true
  })
  return { raftId, members }
}

/** An empty message. */
export const EMPTY = Buffer.alloc(0)
