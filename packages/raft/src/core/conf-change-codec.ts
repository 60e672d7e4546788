/**
 * The byte encoding of membership changes inside `conf-change` log entries.
 *
 * Layout (big-endian):
 * - empty: a {@link ConfChangeV2} with no changes and transition `auto` ("leave joint");
 * - V1: `0x01`, type (1 byte), member id (8 bytes), context (rest);
 * - V2: `0x02`, transition (1 byte), count (4 bytes), count × [type (1 byte), id (8 bytes)], context (rest).
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { AnyConfChange, ConfChangeTransition, ConfChangeType, ConfChangeV2 } from './types.ts'

const TYPE_CODES: Record<ConfChangeType, number> = { 'add-voter': 0, remove: 1, 'add-learner': 2, 'update-node': 3 }
const TYPES: readonly ConfChangeType[] = ['add-voter', 'remove', 'add-learner', 'update-node']
const TRANSITION_CODES: Record<ConfChangeTransition, number> = { auto: 0, 'implicit-joint': 1, 'explicit-joint': 2 }
const TRANSITIONS: readonly ConfChangeTransition[] = ['auto', 'implicit-joint', 'explicit-joint']
const U64 = (1n << 64n) - 1n

/** The "leave the joint configuration" change (encoded as empty data). */
export function leaveJointConfChange(): ConfChangeV2 {
  return { version: 2, transition: 'auto', changes: [], context: new Uint8Array(0) }
}

function checkId(id: bigint, field: string): void {
  if (id < 0n || id > U64) throw new InvalidArgumentError(field, 'member id must fit in 64 bits')
}

/** Encodes a membership change for a `conf-change` entry. */
export function encodeConfChange(cc: AnyConfChange): Uint8Array {
  if (cc.version === 1) {
    checkId(cc.nodeId, 'confChange.nodeId')
    const out = new Uint8Array(10 + cc.context.byteLength)
    const dv = new DataView(out.buffer)
    out[0] = 1
    out[1] = TYPE_CODES[cc.type]
    dv.setBigUint64(2, cc.nodeId)
    out.set(cc.context, 10)
    return out
  }
  if (cc.changes.length === 0 && cc.transition === 'auto' && cc.context.byteLength === 0) return new Uint8Array(0)
  const out = new Uint8Array(6 + 9 * cc.changes.length + cc.context.byteLength)
  const dv = new DataView(out.buffer)
  out[0] = 2
  out[1] = TRANSITION_CODES[cc.transition]
  dv.setUint32(2, cc.changes.length)
  cc.changes.forEach((c, i) => {
    checkId(c.nodeId, `confChange.changes[${i}].nodeId`)
    out[6 + 9 * i] = TYPE_CODES[c.type]
    dv.setBigUint64(7 + 9 * i, c.nodeId)
  })
  out.set(cc.context, 6 + 9 * cc.changes.length)
  return out
}

function bad(message: string): never {
  throw new InvalidArgumentError('data', `malformed conf change: ${message}`)
}

/** Decodes the data of a `conf-change` entry. Throws `InvalidArgumentError('data')` when malformed. */
export function decodeConfChange(data: Uint8Array): AnyConfChange {
  if (data.byteLength === 0) return leaveJointConfChange()
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const version = data[0]
  if (version === 1) {
    if (data.byteLength < 10) bad('truncated')
    const type = TYPES[data[1] as number] ?? bad(`unknown type ${data[1]}`)
    return { version: 1, type, nodeId: dv.getBigUint64(2), context: data.slice(10) }
  }
  if (version === 2) {
    if (data.byteLength < 6) bad('truncated')
    const transition = TRANSITIONS[data[1] as number] ?? bad(`unknown transition ${data[1]}`)
    const n = dv.getUint32(2)
    if (data.byteLength < 6 + 9 * n) bad('truncated')
    const changes = []
    for (let i = 0; i < n; i++) {
      const type = TYPES[data[6 + 9 * i] as number] ?? bad(`unknown type ${data[6 + 9 * i]}`)
      changes.push({ type, nodeId: dv.getBigUint64(7 + 9 * i) })
    }
    return { version: 2, transition, changes, context: data.slice(6 + 9 * n) }
  }
  return bad(`unknown version ${String(version)}`)
}
