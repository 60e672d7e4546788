/**
 * The snapshot encoding: protobuf, written by hand (it is three fields deep):
 *
 * ```proto
 * message StoreSnapshot {
 *   uint32 format = 1;                // 1
 *   uint64 version = 2;               // the store version the snapshot was taken at
 *   repeated StoredObject objects = 3;
 * }
 * message StoredObject {
 *   string kind = 1;                  // 'node', 'service', … (api ObjectKind)
 *   bytes object = 2;                 // api encodeObject(kind, object)
 * }
 * ```
 *
 * @module
 */
import { InvalidArgumentError, OBJECT_KINDS, decodeObject, encodeObjectPooled } from '@swarmkit-ts/api'
import type { ObjectKind, StoreObject } from '@swarmkit-ts/api'
import { isObjectKind } from './kinds.ts'
import { varintSize } from './replication/varint.ts'

/** The snapshot format this version writes and reads. */
export const SNAPSHOT_FORMAT = 1

/** A decoded snapshot. */
export interface SnapshotContent {
  readonly version: bigint
  readonly objects: readonly { readonly kind: ObjectKind; readonly object: StoreObject }[]
}

class Writer {
  private parts: Uint8Array[] = []
  private buf = new Uint8Array(64 * 1024)
  private pos = 0
  private flush(): void {
    if (this.pos > 0) this.parts.push(this.buf.subarray(0, this.pos))
    this.buf = new Uint8Array(Math.max(64 * 1024, this.buf.length))
    this.pos = 0
  }
  private room(n: number): void {
    if (this.pos + n > this.buf.length) this.flush()
  }
  varint(v: bigint | number): void {
    this.room(10)
    let x = BigInt(v)
    while (x >= 0x80n) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80
      x >>= 7n
    }
    this.buf[this.pos++] = Number(x)
  }
  small(v: number): void {
    this.room(5)
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    this.buf[this.pos++] = v
  }
  bytes(b: Uint8Array): void {
    this.small(b.length)
    if (b.length > 4096) {
      this.flush()
      this.parts.push(b)
      return
    }
    this.room(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }
  /** The bytes written, as the parts they sit in (call once; no write after it). */
  seal(): Uint8Array[] {
    this.flush()
    return this.parts
  }
  finish(): Uint8Array {
    this.flush()
    const total = this.parts.reduce((n, p) => n + p.length, 0)
    const out = new Uint8Array(total)
    let at = 0
    for (const p of this.parts) {
      out.set(p, at)
      at += p.length
    }
    return out
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Encodes the objects of every table at `version`. */
export function encodeSnapshot(version: bigint, tables: Iterable<readonly [ObjectKind, Iterable<StoreObject>]>): Uint8Array {
  const e = new SnapshotEncoder(version)
  for (const [kind, objects] of tables) for (const obj of objects) e.object(kind, obj)
  return e.finish()
}

/**
 * An {@link encodeSnapshot} written one object at a time, so that the caller can spread it over
 * several turns: the same calls give the same bytes.
 */
export class SnapshotEncoder {
  readonly #w = new Writer()
  #kind: ObjectKind | undefined
  #kindBytes = new Uint8Array(0)

  constructor(version: bigint) {
    const w = this.#w
    w.small((1 << 3) | 0)
    w.small(SNAPSHOT_FORMAT)
    w.small((2 << 3) | 0)
    w.varint(version)
  }

  /** Appends one object. */
  object(kind: ObjectKind, obj: StoreObject): void {
    if (kind !== this.#kind) {
      this.#kind = kind
      this.#kindBytes = encoder.encode(kind)
    }
    const w = this.#w
    const kindBytes = this.#kindBytes
    // Copied into the snapshot at once: a pooled encoding saves an ArrayBuffer per object.
    const body = encodeObjectPooled(kind, obj)
    const inner = 1 + 1 + kindBytes.length + 1 + varintSize(body.length) + body.length
    w.small((3 << 3) | 2)
    w.small(inner)
    w.small((1 << 3) | 2)
    w.bytes(kindBytes)
    w.small((2 << 3) | 2)
    w.bytes(body)
  }

  /** The snapshot's bytes (call once, after the last object). */
  finish(): Uint8Array {
    return this.#w.finish()
  }

  /** The snapshot's bytes as consecutive parts, to join later (call once, after the last object). */
  parts(): Uint8Array[] {
    return this.#w.seal()
  }
}

/** Objects a {@link SlicedSnapshot} encodes per step unless told otherwise. */
export const DEFAULT_SNAPSHOT_SLICE_OBJECTS = 1_000
/** Bytes a {@link SlicedSnapshot} copies into the joined snapshot per step unless told otherwise. */
export const DEFAULT_SNAPSHOT_JOIN_BYTES = 4 * 1024 * 1024

/**
 * A store snapshot captured at one version and encoded a bounded slice at a time (see
 * `MemoryStore.beginSnapshot`): each {@link SlicedSnapshot.step} encodes at most `sliceObjects`
 * objects; then the encoded parts are copied into one array, `joinBytes` (about) per step, and
 * the step that copies the last part returns it — exactly the bytes `MemoryStore.snapshot()`
 * returned at that version.
 */
export class SlicedSnapshot {
  /** The store version the snapshot is of. */
  readonly version: bigint
  /** Objects encoded per step. */
  readonly sliceObjects: number
  readonly #tables: readonly (readonly [ObjectKind, readonly StoreObject[]])[]
  readonly #joinBytes: number
  readonly #encoder: SnapshotEncoder
  #table = 0
  #next = 0
  #encoded = 0
  /** Once every object is encoded: the parts, the joined array and how far the copy is. */
  #join: { readonly parts: Uint8Array[]; readonly out: Uint8Array; next: number; at: number } | undefined
  #done = false

  /** `tables`: per kind, in snapshot order, the objects captured (frozen: they never change). */
  constructor(version: bigint, tables: readonly (readonly [ObjectKind, readonly StoreObject[]])[], sliceObjects: number = DEFAULT_SNAPSHOT_SLICE_OBJECTS, joinBytes: number = DEFAULT_SNAPSHOT_JOIN_BYTES) {
    if (!Number.isSafeInteger(sliceObjects) || sliceObjects < 1) throw new InvalidArgumentError('sliceObjects', 'must be a positive integer')
    if (!Number.isSafeInteger(joinBytes) || joinBytes < 1) throw new InvalidArgumentError('joinBytes', 'must be a positive integer')
    this.version = version
    this.sliceObjects = sliceObjects
    this.#joinBytes = joinBytes
    this.#tables = tables
    this.#encoder = new SnapshotEncoder(version)
  }

  /** Objects encoded so far. */
  get encoded(): number {
    return this.#encoded
  }

  /** Objects captured, in all. */
  get objects(): number {
    let n = 0
    for (const [, objs] of this.#tables) n += objs.length
    return n
  }

  /**
   * Encodes the next slice (at most `sliceObjects` objects) and returns `undefined`; once every
   * object is encoded, copies the next `joinBytes` of the parts into the snapshot's array (at
   * least one part) and returns it after the last part. Steps after that throw.
   */
  step(): Uint8Array | undefined {
    if (this.#done) throw new InvalidArgumentError('', 'snapshot: this sliced snapshot is already complete')
    if (this.#join === undefined && this.#encode()) return undefined
    const j = (this.#join ??= this.#startJoin())
    let budget = this.#joinBytes
    while (j.next < j.parts.length && budget > 0) {
      const part = j.parts[j.next++] as Uint8Array
      j.out.set(part, j.at)
      j.at += part.length
      budget -= part.length
    }
    if (j.next < j.parts.length) return undefined
    this.#done = true
    return j.out
  }

  /**
   * Encodes the next slice and returns `undefined`; the step that encodes the last object
   * returns the encoded parts instead of joining them (consecutive arrays whose concatenation is
   * what {@link SlicedSnapshot.step} would return). Steps after that throw; so does mixing
   * `step` and `stepParts` once the encoding is complete.
   */
  stepParts(): readonly Uint8Array[] | undefined {
    if (this.#done || this.#join !== undefined) throw new InvalidArgumentError('', 'snapshot: this sliced snapshot is already complete')
    if (this.#encode()) return undefined
    this.#done = true
    return this.#encoder.parts()
  }

  #startJoin(): { readonly parts: Uint8Array[]; readonly out: Uint8Array; next: number; at: number } {
    const parts = this.#encoder.parts()
    let total = 0
    for (const p of parts) total += p.length
    return { parts, out: new Uint8Array(total), next: 0, at: 0 }
  }

  /** Encodes up to `sliceObjects` objects; false once every object was encoded before this call. */
  #encode(): boolean {
    const tables = this.#tables
    let budget = this.sliceObjects
    let worked = false
    while (this.#table < tables.length) {
      const [kind, objs] = tables[this.#table] as readonly [ObjectKind, readonly StoreObject[]]
      if (this.#next >= objs.length) {
        this.#table++
        this.#next = 0
        continue
      }
      if (budget === 0) return true
      const end = Math.min(objs.length, this.#next + budget)
      for (let i = this.#next; i < end; i++) this.#encoder.object(kind, objs[i] as StoreObject)
      budget -= end - this.#next
      this.#encoded += end - this.#next
      this.#next = end
      worked = true
    }
    return worked
  }
}

class Reader {
  pos: number
  readonly buf: Uint8Array
  readonly end: number
  constructor(buf: Uint8Array, start: number, end: number) {
    this.buf = buf
    this.end = end
    this.pos = start
  }
  varint(): bigint {
    let x = 0n
    let shift = 0n
    for (;;) {
      if (this.pos >= this.end || shift > 63n) throw new InvalidArgumentError('', 'snapshot: malformed varint')
      const b = this.buf[this.pos++] as number
      x |= BigInt(b & 0x7f) << shift
      if (b < 0x80) return x
      shift += 7n
    }
  }
  length(): number {
    const n = Number(this.varint())
    if (n > this.end - this.pos) throw new InvalidArgumentError('', 'snapshot: truncated field')
    return n
  }
  skip(wire: number): void {
    if (wire === 0) this.varint()
    else if (wire === 2) this.pos += this.length()
    else if (wire === 1) this.pos += 8
    else if (wire === 5) this.pos += 4
    else throw new InvalidArgumentError('', `snapshot: unsupported wire type ${wire}`)
    if (this.pos > this.end) throw new InvalidArgumentError('', 'snapshot: truncated field')
  }
}

function decodeEntry(r: Reader, end: number, index: number): { kind: ObjectKind; object: StoreObject } {
  const inner = new Reader(r.buf, r.pos, end)
  let kind: string | undefined
  let body: Uint8Array | undefined
  while (inner.pos < end) {
    const tag = Number(inner.varint())
    if (tag === ((1 << 3) | 2)) {
      const n = inner.length()
      kind = decoder.decode(inner.buf.subarray(inner.pos, inner.pos + n))
      inner.pos += n
    } else if (tag === ((2 << 3) | 2)) {
      const n = inner.length()
      body = inner.buf.subarray(inner.pos, inner.pos + n)
      inner.pos += n
    } else inner.skip(tag & 7)
  }
  if (!isObjectKind(kind)) throw new InvalidArgumentError(`objects.${index}.kind`, `unknown kind ${JSON.stringify(kind)}`)
  if (body === undefined) throw new InvalidArgumentError(`objects.${index}.object`, 'is required')
  try {
    return { kind, object: decodeObject(kind, body) }
  } catch (err) {
    const field = err instanceof InvalidArgumentError ? err.field : ''
    throw new InvalidArgumentError(`objects.${index}.object${field === '' ? '' : `.${field}`}`, `cannot decode ${kind}`, { cause: err })
  }
}

/** Decodes a snapshot written by {@link encodeSnapshot}; malformed bytes throw `InvalidArgumentError`. */
export function decodeSnapshot(bytes: Uint8Array): SnapshotContent {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('', 'snapshot must be a Uint8Array')
  const r = new Reader(bytes, 0, bytes.length)
  let format: number | undefined
  let version: bigint | undefined
  const objects: { kind: ObjectKind; object: StoreObject }[] = []
  try {
    while (r.pos < r.end) {
      const tag = Number(r.varint())
      if (tag === ((1 << 3) | 0)) format = Number(r.varint())
      else if (tag === ((2 << 3) | 0)) version = r.varint()
      else if (tag === ((3 << 3) | 2)) {
        const n = r.length()
        objects.push(decodeEntry(r, r.pos + n, objects.length))
        r.pos += n
      } else r.skip(tag & 7)
    }
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err
    throw new InvalidArgumentError('', 'snapshot: malformed bytes', { cause: err })
  }
  if (format !== SNAPSHOT_FORMAT) throw new InvalidArgumentError('format', `unsupported snapshot format ${String(format)}`)
  if (version === undefined) throw new InvalidArgumentError('version', 'is required')
  return { version, objects }
}

/** The kinds in snapshot order. */
export const SNAPSHOT_KINDS: readonly ObjectKind[] = OBJECT_KINDS
