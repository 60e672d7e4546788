/**
 * Encoding of the envelopes the {@link RaftNode} driver wraps around application data
 * (proto/raft-node.proto, loaded on first use).
 *
 * @internal
 */
import { readFileSync } from 'node:fs'
import protobuf from 'protobufjs'
import type { RaftMemberId } from '@swarmkit-ts/api'

interface Schema {
  proposal: protobuf.Type
  memberContext: protobuf.Type
  nodeSnapshot: protobuf.Type
}

let cached: Schema | undefined
function schema(): Schema {
  if (cached !== undefined) return cached
  const root = new protobuf.Root()
  protobuf.parse(readFileSync(new URL('../proto/raft-node.proto', import.meta.url), 'utf8'), root, { keepCase: false })
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

export function encodeProposal(p: ProposalEnvelope): Uint8Array {
  const s = schema().proposal
  return s.encode(s.fromObject(p)).finish()
}

export function decodeProposal(data: Uint8Array): ProposalEnvelope {
  const o = schema().proposal.decode(data) as unknown as { requestId?: Uint8Array; payload?: Uint8Array }
  return { requestId: bytesOf(o.requestId), payload: bytesOf(o.payload) }
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

/** A driver snapshot: member addresses plus the state machine's own snapshot. */
export interface NodeSnapshotEnvelope {
  members: Map<RaftMemberId, string>
  state: Uint8Array
}

export function encodeNodeSnapshot(s: NodeSnapshotEnvelope): Uint8Array {
  const t = schema().nodeSnapshot
  const members = [...s.members].map(([id, address]) => ({ id: id.toString(), address }))
  return t.encode(t.fromObject({ members, state: s.state })).finish()
}

export function decodeNodeSnapshot(data: Uint8Array): NodeSnapshotEnvelope {
  const o = schema().nodeSnapshot.toObject(schema().nodeSnapshot.decode(data), { longs: String }) as {
    members?: { id: string; address?: string }[]
    state?: Uint8Array
  }
  return { members: new Map((o.members ?? []).map((m) => [BigInt(m.id), m.address ?? ''])), state: bytesOf(o.state) }
}
