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
import { InvalidArgumentError, OBJECT_KINDS, decodeObject, encodeObjectPooled, heapBytes } from '@swarmkit-ts/api'
import type { ByteAllocator, ObjectKind, StoreObject } from '@swarmkit-ts/api'
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

/** The snapshot's header: format (field 1) and version (field 2). */
function writeHeader(w: Writer, version: bigint): void {
  w.small((1 << 3) | 0)
  w.small(SNAPSHOT_FORMAT)
  w.small((2 << 3) | 0)
  w.varint(version)
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
    writeHeader(this.#w, version)
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
    const inner = recordBytes(kindBytes.length, body.length)
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
}

/** Objects a {@link SlicedSnapshot} measures, then writes, per step unless told otherwise. */
export const DEFAULT_SNAPSHOT_SLICE_OBJECTS = 1_000

/**
 * A store snapshot captured at one version and encoded a bounded slice at a time (see
 * `MemoryStore.beginSnapshot`), in two passes over the objects captured, each
 * {@link SlicedSnapshot.step} handling at most `sliceObjects` of them:
 *
 * 1. **measure**: each object is encoded into the shared pool (bytes dropped at once) and its
 *    length kept, until the size of the whole snapshot is known;
 * 2. **write**: the snapshot's one array is allocated at its exact size and each object encoded
 *    again, straight into place. The step that writes the last object returns the array —
 *    exactly the bytes `MemoryStore.snapshot()` returned at that version.
 *
 * Why encode twice: the one-pass way kept every object's bytes in parts until the end, then
 * joined them. On a big heap that is the expensive part, not the encoding: V8 starts a full
 * mark of the heap each time the memory held outside it (array buffers) grows by 64 MiB since
 * the last one, and parts made a few KiB at a time cross that line again and again while the
 * snapshot is encoded. In the simulator, three managers snapshotting a million tasks at once kept
 * the heap marking for minutes (10 GB heap; each mark ~30 s). One allocation of the final size
 * crosses it once; the pooled measuring encodings are freed young, by the scavenger.
 */
export class SlicedSnapshot {
  /** The store version the snapshot is of. */
  readonly version: bigint
  /** Objects measured, then written, per step. */
  readonly sliceObjects: number
  readonly #tables: readonly (readonly [ObjectKind, readonly StoreObject[]])[]
  /** Each table's kind, UTF-8 (every object record names its kind). */
  readonly #kinds: readonly Uint8Array[]
  /** Encoded length of each object, in capture order (filled by the measuring pass). */
  readonly #lengths: Uint32Array
  readonly #head: Uint8Array
  readonly #alloc: ByteAllocator
  #pass: 'measure' | 'write' | 'done' = 'measure'
  #table = 0
  #next = 0
  /** Position of the next object in capture order (the index into `#lengths`). */
  #at = 0
  #measured = 0
  #encoded = 0
  #size = 0
  #out: Uint8Array | undefined
  #pos = 0

  /** `tables`: per kind, in snapshot order, the objects captured (frozen: they never change); `alloc`: where the snapshot's array comes from. */
  constructor(version: bigint, tables: readonly (readonly [ObjectKind, readonly StoreObject[]])[], sliceObjects: number = DEFAULT_SNAPSHOT_SLICE_OBJECTS, alloc: ByteAllocator = heapBytes) {
    if (!Number.isSafeInteger(sliceObjects) || sliceObjects < 1) throw new InvalidArgumentError('sliceObjects', 'must be a positive integer')
    this.version = version
    this.sliceObjects = sliceObjects
    this.#tables = tables
    this.#alloc = alloc
    this.#kinds = tables.map(([kind]) => encoder.encode(kind))
    let n = 0
    for (const [, objs] of tables) n += objs.length
    this.#lengths = new Uint32Array(n)
    const w = new Writer()
    writeHeader(w, version)
    this.#head = w.finish()
    this.#size = this.#head.length
  }

  /** Objects whose bytes are in the snapshot so far (the writing pass). */
  get encoded(): number {
    return this.#encoded
  }

  /** Objects measured so far (the first pass). */
  get measured(): number {
    return this.#measured
  }

  /** Objects captured, in all. */
  get objects(): number {
    return this.#lengths.length
  }

  /**
   * Measures or writes the next slice (at most `sliceObjects` objects) and returns `undefined`;
   * the step that writes the last object returns the snapshot's bytes. Steps after that throw.
   */
  step(): Uint8Array | undefined {
    switch (this.#pass) {
      case 'done':
        throw new InvalidArgumentError('', 'snapshot: this sliced snapshot is already complete')
      case 'measure':
        if (this.#slice(true)) return undefined
        // Every object measured (in this step or before): allocate the array, start writing.
        this.#pass = 'write'
        this.#table = 0
        this.#next = 0
        this.#at = 0
        this.#out = this.#alloc(this.#size)
        this.#out.set(this.#head, 0)
        this.#pos = this.#head.length
        return this.#write()
      case 'write':
        return this.#write()
    }
  }

  #write(): Uint8Array | undefined {
    if (this.#slice(false) && this.#encoded < this.#lengths.length) return undefined
    if (this.#pos !== this.#size) throw new Error(`snapshot: wrote ${this.#pos} bytes of the ${this.#size} measured`)
    this.#pass = 'done'
    const out = this.#out as Uint8Array
    this.#out = undefined
    return out
  }

  /** Measures (or writes) up to `sliceObjects` objects; false once every object was done before this call. */
  #slice(measure: boolean): boolean {
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
      const kindBytes = this.#kinds[this.#table] as Uint8Array
      if (measure) this.#measure(kind, kindBytes.length, objs, end)
      else this.#writeObjects(kind, kindBytes, objs, end)
      budget -= end - this.#next
      this.#next = end
      worked = true
    }
    return worked
  }

  #measure(kind: ObjectKind, kindLength: number, objs: readonly StoreObject[], end: number): void {
    const lengths = this.#lengths
    let size = this.#size
    for (let i = this.#next; i < end; i++) {
      // Pooled: a view into a shared slab, garbage at once (young: freed by the scavenger).
      const n = encodeObjectPooled(kind, objs[i] as StoreObject).length
      lengths[this.#at++] = n
      const inner = recordBytes(kindLength, n)
      size += 1 + varintSize(inner) + inner
    }
    this.#size = size
    this.#measured += end - this.#next
  }

  #writeObjects(kind: ObjectKind, kindBytes: Uint8Array, objs: readonly StoreObject[], end: number): void {
    const out = this.#out as Uint8Array
    const lengths = this.#lengths
    let pos = this.#pos
    for (let i = this.#next; i < end; i++) {
      const body = encodeObjectPooled(kind, objs[i] as StoreObject)
      const n = lengths[this.#at++] as number
      if (body.length !== n) throw new Error(`snapshot: a ${kind} encoded to ${body.length} bytes, measured ${n} (objects captured must not change)`)
      pos = writeSmall(out, pos, (3 << 3) | 2)
      pos = writeSmall(out, pos, recordBytes(kindBytes.length, n))
      pos = writeSmall(out, pos, (1 << 3) | 2)
      pos = writeSmall(out, pos, kindBytes.length)
      out.set(kindBytes, pos)
      pos += kindBytes.length
      pos = writeSmall(out, pos, (2 << 3) | 2)
      pos = writeSmall(out, pos, n)
      out.set(body, pos)
      pos += n
    }
    this.#pos = pos
    this.#encoded += end - this.#next
  }
}

/** Bytes of a StoredObject record's body: the kind field (tag, length, UTF-8) and the object field (tag, length, bytes). */
function recordBytes(kindLength: number, bodyLength: number): number {
  return 1 + varintSize(kindLength) + kindLength + 1 + varintSize(bodyLength) + bodyLength
}

/** Writes `v` (a uint32) as a varint at `pos`; returns the position after it. */
function writeSmall(out: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  out[pos++] = v
  return pos
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
