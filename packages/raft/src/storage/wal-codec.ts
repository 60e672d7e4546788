/**
 * Protobuf encoding of WAL record payloads and snapshot files (proto/raft-storage.proto, parsed
 * on first use from its text embedded in generated/proto-sources.ts), and sealing of payloads
 * with an {@link Encrypter}.
 *
 * Decoders throw a plain `Error` on malformed input; the reader turns it into a
 * `WalCorruptionError` that names the file and offset.
 *
 * @internal
 */
import protobuf from 'protobufjs'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { PROTO_SOURCES } from '../generated/proto-sources.ts'
import type { ConfState, Entry, EntryType, HardState, Snapshot } from '../core/types.ts'
import { MAX_INDEX } from '../core/types.ts'
import { ProtoWriter, checkedNum, entriesFieldSize, entrySizes, u64Halves, varint64Size, varintSize, writeEntries } from '../wire/proto-wire.ts'

const utf8 = new TextEncoder()

/** A position in the log: an index and the term of the entry there. */
export interface LogPosition {
  index: number
  term: number
}

/** The payload of a SEGMENT_START record: the state written before the segment. */
export interface SegmentStart {
  /** Sequence number of the segment (must match its file name). */
  seq: number
  /** The compaction point. */
  compacted: LogPosition
  /** The last index written before the segment. */
  lastIndex: number
  /** The current snapshot; `undefined` when none was taken or received. */
  snapshot: LogPosition | undefined
  hardState: HardState
}

/** An encrypted payload as stored. */
export interface SealedPayload {
  keyId: string
  sealed: Uint8Array
}

interface Schema {
  entries: protobuf.Type
  hardState: protobuf.Type
  position: protobuf.Type
  segmentStart: protobuf.Type
  snapshot: protobuf.Type
  sealed: protobuf.Type
}

const PACKAGE = 'swarmkit_ts.raft.storage.v1'
let cached: Schema | undefined

/** Parses the .proto once; later calls return the cached types. */
function schema(): Schema {
  if (cached !== undefined) return cached
  const root = new protobuf.Root()
  protobuf.parse(PROTO_SOURCES['raft-storage.proto'], root, { keepCase: false })
  root.resolveAll()
  const t = (name: string): protobuf.Type => root.lookupType(`${PACKAGE}.${name}`)
  cached = { entries: t('Entries'), hardState: t('HardState'), position: t('LogPosition'), segmentStart: t('SegmentStart'), snapshot: t('Snapshot'), sealed: t('Sealed') }
  return cached
}

/** Parses the schema now, so that an invalid schema fails `open` rather than a write. */
export function loadWalSchema(): void {
  schema()
}

type Decoded = Record<string, unknown>

interface LongLike {
  low: number
  high: number
}

function isLongLike(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && typeof (v as LongLike).low === 'number' && typeof (v as LongLike).high === 'number'
}

/** A uint64 as protobufjs writes it, from a member id. */
function u64(b: bigint, field: string): LongLike {
  if (b < 0n || b >= 1n << 64n) throw new InvalidArgumentError(field, `must be a uint64, got ${b}`)
  return { low: Number(b & 0xffffffffn) | 0, high: Number(b >> 32n) | 0 }
}

function toBigInt(v: unknown, field: string): bigint {
  if (typeof v === 'number') return BigInt(v)
  if (!isLongLike(v)) throw new Error(`${field}: not a uint64`)
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0)
}

function toIndex(v: unknown, field: string): number {
  const b = toBigInt(v, field)
  if (b > BigInt(MAX_INDEX)) throw new Error(`${field}: ${b} exceeds 2^53-1`)
  return Number(b)
}

function message(v: unknown, field: string): Decoded {
  if (typeof v !== 'object' || v === null) throw new Error(`${field}: missing`)
  return v as Decoded
}

/** Copies decoded bytes so that no entry keeps a whole file buffer alive. */
function bytes(v: unknown, field: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new Error(`${field}: not bytes`)
  return new Uint8Array(v)
}

function array(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${field}: not a list`)
  return v as unknown[]
}

const ENTRY_TYPES: readonly EntryType[] = ['normal', 'conf-change']

function decodeEntry(v: unknown): Entry {
  const m = message(v, 'entry')
  const type = ENTRY_TYPES[Number(m.type)]
  if (type === undefined) throw new Error(`entry.type: unknown ${String(m.type)}`)
  return { term: toIndex(m.term, 'entry.term'), index: toIndex(m.index, 'entry.index'), type, data: bytes(m.data, 'entry.data') }
}

/** Encodes an ENTRIES payload (by hand: the bytes protobufjs writes, see wire/proto-wire.ts). */
export function encodeEntries(ents: readonly Entry[]): Uint8Array {
  const sizes = entrySizes(ents, 'entries')
  const w = new ProtoWriter(new Uint8Array(entriesFieldSize(sizes)))
  writeEntries(w, (1 << 3) | 2, ents, sizes)
  return w.buf
}

/** Decodes an ENTRIES payload (at least one entry, contiguous indexes). */
export function decodeEntries(b: Uint8Array): Entry[] {
  const m = schema().entries.decode(b) as unknown as Decoded
  const ents = array(m.entries, 'entries').map(decodeEntry)
  if (ents.length === 0) throw new Error('entries: empty')
  for (let i = 1; i < ents.length; i++) {
    if ((ents[i] as Entry).index !== (ents[i - 1] as Entry).index + 1) throw new Error('entries: indexes not contiguous')
  }
  return ents
}

function hardStateObject(hs: HardState): Decoded {
  return { term: hs.term, vote: u64(hs.vote, 'hardState.vote'), commit: hs.commit }
}

function hardStateFrom(v: unknown): HardState {
  const m = message(v, 'hardState')
  return { term: toIndex(m.term, 'hardState.term'), vote: toBigInt(m.vote, 'hardState.vote'), commit: toIndex(m.commit, 'hardState.commit') }
}

/** Encodes a HARD_STATE payload (by hand, as encodeEntries: one is written with every commit). */
export function encodeHardState(hs: HardState): Uint8Array {
  const term = checkedNum(hs.term, 'hardState.term')
  const vote = u64Halves(hs.vote, 'hardState.vote')
  const commit = checkedNum(hs.commit, 'hardState.commit')
  const w = new ProtoWriter(new Uint8Array(3 + varintSize(term) + varint64Size(vote) + varintSize(commit)))
  w.buf[w.pos++] = 8
  w.varint(term)
  w.buf[w.pos++] = 16
  w.varint64(vote)
  w.buf[w.pos++] = 24
  w.varint(commit)
  return w.buf
}

/** Decodes a HARD_STATE payload. */
export function decodeHardState(b: Uint8Array): HardState {
  return hardStateFrom(schema().hardState.decode(b))
}

function positionFrom(v: unknown, field: string): LogPosition {
  const m = message(v, field)
  return { index: toIndex(m.index, `${field}.index`), term: toIndex(m.term, `${field}.term`) }
}

/** Encodes a SNAPSHOT_CREATED, SNAPSHOT_APPLIED or COMPACT payload. */
export function encodePosition(p: LogPosition): Uint8Array {
  return schema().position.encode({ index: p.index, term: p.term }).finish()
}

/** Decodes a SNAPSHOT_CREATED, SNAPSHOT_APPLIED or COMPACT payload. */
export function decodePosition(b: Uint8Array): LogPosition {
  return positionFrom(schema().position.decode(b), 'position')
}

/** Encodes a SEGMENT_START payload. */
export function encodeSegmentStart(st: SegmentStart): Uint8Array {
  const obj: Decoded = { seq: st.seq, compacted: { ...st.compacted }, lastIndex: st.lastIndex, hardState: hardStateObject(st.hardState) }
  if (st.snapshot !== undefined) obj.snapshot = { ...st.snapshot }
  return schema().segmentStart.encode(obj).finish()
}

/** Decodes a SEGMENT_START payload. */
export function decodeSegmentStart(b: Uint8Array): SegmentStart {
  const m = schema().segmentStart.decode(b) as unknown as Decoded
  return {
    seq: toIndex(m.seq, 'segmentStart.seq'),
    compacted: positionFrom(m.compacted, 'segmentStart.compacted'),
    lastIndex: toIndex(m.lastIndex, 'segmentStart.lastIndex'),
    snapshot: m.snapshot === null || m.snapshot === undefined ? undefined : positionFrom(m.snapshot, 'segmentStart.snapshot'),
    hardState: hardStateFrom(m.hardState),
  }
}

const ids = (list: readonly bigint[], field: string): LongLike[] => list.map((id, i) => u64(id, `${field}[${i}]`))
const idsFrom = (v: unknown, field: string): bigint[] => array(v, field).map((x) => toBigInt(x, field))

/** Encodes a snapshot file payload (metadata and data). */
export function encodeSnapshot(snap: Snapshot): Uint8Array {
  const { index, term, confState: cs } = snap.metadata
  const confState = {
    voters: ids(cs.voters, 'confState.voters'),
    learners: ids(cs.learners, 'confState.learners'),
    votersOutgoing: ids(cs.votersOutgoing, 'confState.votersOutgoing'),
    learnersNext: ids(cs.learnersNext, 'confState.learnersNext'),
    autoLeave: cs.autoLeave,
  }
  return schema().snapshot.encode({ index, term, confState, data: snap.data }).finish()
}

/** Decodes a snapshot file payload. */
export function decodeSnapshot(b: Uint8Array): Snapshot {
  const m = schema().snapshot.decode(b) as unknown as Decoded
  const c = message(m.confState, 'confState')
  const confState: ConfState = {
    voters: idsFrom(c.voters, 'confState.voters'),
    learners: idsFrom(c.learners, 'confState.learners'),
    votersOutgoing: idsFrom(c.votersOutgoing, 'confState.votersOutgoing'),
    learnersNext: idsFrom(c.learnersNext, 'confState.learnersNext'),
    autoLeave: c.autoLeave === true,
  }
  return { metadata: { index: toIndex(m.index, 'snapshot.index'), term: toIndex(m.term, 'snapshot.term'), confState }, data: bytes(m.data, 'snapshot.data') }
}

/** The UTF-8 bytes of the last key id sealed with (one key seals every record until a rotation). */
let lastKeyId: { id: string; bytes: Uint8Array } | undefined

/** Encodes an encrypted payload (by hand: one per record written with encryption). */
export function encodeSealed(p: SealedPayload): Uint8Array {
  if (lastKeyId?.id !== p.keyId) lastKeyId = { id: p.keyId, bytes: utf8.encode(p.keyId) }
  const id = lastKeyId.bytes
  const w = new ProtoWriter(new Uint8Array(2 + varintSize(id.length) + id.length + varintSize(p.sealed.length) + p.sealed.length))
  w.buf[w.pos++] = 10
  w.bytes(id)
  w.buf[w.pos++] = 18
  w.bytes(p.sealed)
  return w.buf
}

/** Decodes an encrypted payload (the ciphertext is not copied). */
export function decodeSealed(b: Uint8Array): SealedPayload {
  const m = schema().sealed.decode(b) as unknown as Decoded
  if (typeof m.keyId !== 'string' || !(m.sealed instanceof Uint8Array)) throw new Error('sealed: malformed')
  return { keyId: m.keyId, sealed: m.sealed }
}

/** Throws `InvalidArgumentError(field)` unless `id` fits a uint64. */
export function assertMemberIdEncodable(id: bigint, field: string): void {
  u64(id, field)
}

/** Throws `InvalidArgumentError` unless every member id of `cs` fits a uint64. */
export function assertConfStateEncodable(cs: ConfState, field: string): void {
  ids(cs.voters, `${field}.voters`)
  ids(cs.learners, `${field}.learners`)
  ids(cs.votersOutgoing, `${field}.votersOutgoing`)
  ids(cs.learnersNext, `${field}.learnersNext`)
}

/** Throws `InvalidArgumentError` unless every entry has a known type. */
export function assertEntriesEncodable(ents: readonly Entry[]): void {
  ents.forEach((e, i) => {
    if (!ENTRY_TYPES.includes(e.type)) throw new InvalidArgumentError(`entries[${i}].type`, `unknown entry type ${String(e.type)}`)
  })
}
