/**
 * The byte-level primitives of the compiled codec (codec-compile.ts): a growable writer that
 * writes the same bytes as protobufjs's `Writer` without allocating per field, and readers that
 * take `(reader, end)` and never read past `end`.
 *
 * Both sides only ever *bail*: anything unusual (a value of the wrong type, a lone surrogate,
 * malformed bytes, a field the fast path does not handle) throws {@link BAIL}, and the caller
 * redoes the whole message with the interpreting codec, which either succeeds or throws the
 * precise `InvalidArgumentError`. The fast path therefore never decides what an error is.
 *
 * @internal
 */
import { TextDecoder, TextEncoder } from 'node:util'
import { InternalError } from './errors.ts'

/** Thrown by the fast path to hand a message over to the interpreting codec (created once: no stack per throw). */
export const BAIL: Error = new InternalError('codec fast path: fall back to the interpreting codec')

const TWO_32 = 4294967296
/** String.prototype.isWellFormed (ES2024, in every Node ≥ 20; not yet in our ES2023 lib typings). */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed()
const utf8Encoder = new TextEncoder()

/** A growable byte buffer with protobuf writes; `fork`/`ldelim` frame a length-delimited value. */
export class FastWriter {
  buf: Uint8Array
  pos = 0
  /** Cleared by generated code when the value would not decode back deep-equal (see codec-compile.ts). */
  canonical = true
  private view: DataView

  constructor(size = 1024) {
    this.buf = new Uint8Array(size)
    this.view = new DataView(this.buf.buffer)
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  /** An unsigned 32-bit varint (tags, lengths, uint32, enum values ≥ 0). */
  varint32(v: number): void {
    this.ensure(5)
    const buf = this.buf
    let pos = this.pos
    while (v > 127) {
      buf[pos++] = (v & 127) | 128
      v >>>= 7
    }
    buf[pos++] = v
    this.pos = pos
  }

  /** A 64-bit varint from its unsigned halves. */
  varint64(lo: number, hi: number): void {
    if (hi === 0) {
      this.varint32(lo)
      return
    }
    this.ensure(10)
    const buf = this.buf
    let pos = this.pos
    while (hi !== 0) {
      buf[pos++] = (lo & 127) | 128
      lo = ((lo >>> 7) | (hi << 25)) >>> 0
      hi >>>= 7
    }
    while (lo > 127) {
      buf[pos++] = (lo & 127) | 128
      lo >>>= 7
    }
    buf[pos++] = lo
    this.pos = pos
  }

  /** int32 / enum: negative values are sign-extended to 10 bytes (as protobuf requires). */
  int32(v: number): void {
    if (v >= 0) this.varint32(v)
    else this.varint64(v >>> 0, 0xffffffff)
  }

  /** int64 from a safe integer (two's complement for negatives). */
  int64(v: number): void {
    let lo: number
    let hi: number
    if (v >= 0) {
      lo = v % TWO_32 >>> 0
      hi = Math.floor(v / TWO_32) >>> 0
    } else {
      const m = -v
      lo = m % TWO_32 >>> 0
      hi = Math.floor(m / TWO_32) >>> 0
      lo = (~lo + 1) >>> 0
      hi = lo === 0 ? (~hi + 1) >>> 0 : ~hi >>> 0
    }
    this.varint64(lo, hi)
  }

  /** sint64 (zigzag) from a safe integer. */
  sint64(v: number): void {
    let lo: number
    let hi: number
    const m = v < 0 ? -v : v
    lo = m % TWO_32 >>> 0
    hi = Math.floor(m / TWO_32) >>> 0
    if (v < 0) {
      lo = (~lo + 1) >>> 0
      hi = lo === 0 ? (~hi + 1) >>> 0 : ~hi >>> 0
    }
    const mask = hi >> 31
    this.varint64(((lo << 1) ^ mask) >>> 0, (((hi << 1) | (lo >>> 31)) ^ mask) >>> 0)
  }

  /** uint64 from a bigint already checked to be in 0..2^64-1. */
  uint64(v: bigint): void {
    this.varint64(Number(v & 0xffffffffn), Number(v >> 32n))
  }

  double(v: number): void {
    this.ensure(8)
    this.view.setFloat64(this.pos, v, true)
    this.pos += 8
  }

  /** A length-prefixed UTF-8 string; bails on a lone surrogate. */
  string(s: string): void {
    const n = s.length
    // Long strings: reserve their exact size rather than the worst case of 3 bytes per unit.
    if (n > 1024) {
      this.utf8(s)
      return
    }
    this.ensure(n * 3 + 5)
    const start = this.pos
    // Optimistically ASCII: the byte length is the string length.
    this.varint32(n)
    const buf = this.buf
    let pos = this.pos
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) {
        this.pos = start
        this.utf8(s)
        return
      }
      buf[pos++] = c
    }
    this.pos = pos
  }

  private utf8(s: string): void {
    if (!isWellFormed(s)) throw BAIL
    const len = Buffer.byteLength(s, 'utf8')
    this.varint32(len)
    this.ensure(len)
    const { written } = utf8Encoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + len))
    if (written !== len) throw new InternalError('codec: UTF-8 length mismatch')
    this.pos += len
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): void {
    this.varint32(b.length)
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }

  /** Reserves one byte for a length and returns where the value starts (see {@link ldelim}). */
  fork(): number {
    this.ensure(1)
    return this.pos++
  }

  /** Writes the length of the value begun at `at` (by {@link fork}), moving it if the length needs more than one byte. */
  ldelim(at: number): void {
    const len = this.pos - at - 1
    if (len < 128) {
      this.buf[at] = len
      return
    }
    const size = len < 1 << 14 ? 2 : len < 1 << 21 ? 3 : len < 1 << 28 ? 4 : 5
    this.ensure(size - 1)
    this.buf.copyWithin(at + size, at + 1, this.pos)
    const end = this.pos + size - 1
    this.pos = at
    this.varint32(len)
    this.pos = end
  }

  /**
   * A copy of the bytes written: a plain Uint8Array with a buffer of its own — or, with `pooled`
   * and up to {@link POOL_MAX_BYTES} bytes, a view into a shared slab, as Node's
   * `Buffer.allocUnsafe` pool does. A fresh ArrayBuffer per message costs far more than the copy,
   * and more on a big heap (an off-heap backing store that V8 tracks and sweeps): ~27 µs each in
   * a simulation holding a million tasks, against ~2.6 µs on a small heap.
   */
  finish(pooled = false): Uint8Array {
    const n = this.pos
    const buf = this.buf
    if (!pooled || n > POOL_MAX_BYTES) {
      const out = new Uint8Array(n)
      if (n > 256) out.set(buf.subarray(0, n))
      else for (let i = 0; i < n; i++) out[i] = buf[i] as number
      return out
    }
    if (slabPos + n > SLAB_BYTES) {
      slab = new Uint8Array(SLAB_BYTES)
      slabPos = 0
    }
    const start = slabPos
    // Views start 8-byte aligned, like Node's pool's.
    slabPos = (start + n + 7) & ~7
    if (n > 64) slab.set(buf.subarray(0, n), start)
    else for (let i = 0; i < n; i++) slab[start + i] = buf[i] as number
    return slab.subarray(start, start + n)
  }
}

/** The size of a slab that pooled encodings are copied into (see {@link FastWriter.finish}). */
const SLAB_BYTES = 16 * 1024
/** Pooled encodings longer than this get an ArrayBuffer of their own. */
export const POOL_MAX_BYTES = 2 * 1024
let slab = new Uint8Array(SLAB_BYTES)
let slabPos = 0

// ---------------------------------------------------------------------------------- reading

/** Where a fast decode is: the input and the next byte to read. */
export interface FastReader {
  readonly buf: Uint8Array
  pos: number
}

/** The halves of the last 64-bit varint read by {@link scanVarint64} (module state, read as live bindings: no allocation per read). */
export let lo = 0
export let hi = 0

/**
 * Reads a varint of up to 10 bytes at `pos`, never past `end`, into {@link lo}/{@link hi}.
 * Returns the position after it, -1 when it is truncated, -2 when it is longer than 10 bytes.
 * Shared by the compiled and the interpreting decoder.
 */
export function scanVarint64(buf: Uint8Array, pos: number, end: number): number {
  let b = 0
  lo = 0
  hi = 0
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return -1
    b = buf[pos++] as number
    if (i < 4) lo |= (b & 0x7f) << (i * 7)
    else if (i === 4) {
      lo |= (b & 0x7f) << 28
      hi = (b & 0x7f) >> 4
    } else hi |= (b & 0x7f) << (i * 7 - 32)
    if (b < 0x80) {
      lo >>>= 0
      hi >>>= 0
      return pos
    }
  }
  return -2
}

function varint64(r: FastReader, end: number): void {
  const pos = scanVarint64(r.buf, r.pos, end)
  if (pos < 0) throw BAIL
  r.pos = pos
}

/** A tag or length: a varint below 2^32. */
export function readU32Strict(r: FastReader, end: number): number {
  const pos = r.pos
  if (pos < end) {
    const b = r.buf[pos] as number
    if (b < 0x80) {
      r.pos = pos + 1
      return b
    }
  }
  varint64(r, end)
  if (hi !== 0) throw BAIL
  return lo
}

/** Reads a length and returns where the value ends (never past `end`). */
export function readLen(r: FastReader, end: number): number {
  const n = readU32Strict(r, end)
  const stop = r.pos + n
  if (stop > end) throw BAIL
  return stop
}

export function readBool(r: FastReader, end: number): boolean {
  varint64(r, end)
  return (lo | hi) !== 0
}

export function readInt32(r: FastReader, end: number): number {
  varint64(r, end)
  return lo | 0
}

export function readUint32(r: FastReader, end: number): number {
  varint64(r, end)
  return lo
}

export function readUint64(r: FastReader, end: number): bigint {
  varint64(r, end)
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo)
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

function safe(v: bigint): number {
  if (v > MAX_SAFE || v < -MAX_SAFE) throw BAIL
  return Number(v)
}

export function readInt64(r: FastReader, end: number): number {
  varint64(r, end)
  if (hi <= 0x1fffff) return hi * TWO_32 + lo
  return safe(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)))
}

export function readSint64(r: FastReader, end: number): number {
  varint64(r, end)
  if (hi <= 0x1fffff) {
    const u = hi * TWO_32 + lo
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2
  }
  const u = (BigInt(hi) << 32n) | BigInt(lo)
  return safe((u >> 1n) ^ -(u & 1n))
}

/** An enum value through its wire → TypeScript table. */
export function readEnum(r: FastReader, end: number, table: ReadonlyMap<number, unknown>): unknown {
  varint64(r, end)
  const v = table.get(lo | 0)
  if (v === undefined) throw BAIL
  return v
}

const f64Bytes = new Uint8Array(8)
const f64View = new DataView(f64Bytes.buffer)

export function readDouble(r: FastReader, end: number): number {
  const pos = r.pos
  if (pos + 8 > end) throw BAIL
  f64Bytes.set(r.buf.subarray(pos, pos + 8))
  r.pos = pos + 8
  return f64View.getFloat64(0, true)
}

let utf8Decoder: TextDecoder | undefined

export function readString(r: FastReader, end: number): string {
  const stop = readLen(r, end)
  const buf = r.buf
  const start = r.pos
  if (stop - start <= 64) {
    // ASCII by character codes joined once: `+=` per character would leave a rope of string nodes
    // (V8 keeps concatenations of 13+ characters as ropes), kept as long as the decoded object.
    const codes = new Array<number>(stop - start)
    let i = start
    for (; i < stop; i++) {
      const c = buf[i] as number
      if (c >= 0x80) break
      codes[i - start] = c
    }
    if (i === stop) {
      r.pos = stop
      return String.fromCharCode.apply(null, codes)
    }
  }
  utf8Decoder ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  let s: string
  try {
    s = utf8Decoder.decode(buf.subarray(start, stop))
  } catch {
    throw BAIL
  }
  r.pos = stop
  return s
}

/** Bytes, copied into a plain Uint8Array (never a Buffer, never a view of the input). */
export function readBytes(r: FastReader, end: number): Uint8Array {
  const stop = readLen(r, end)
  const out = new Uint8Array(r.buf.subarray(r.pos, stop))
  r.pos = stop
  return out
}

/** Skips an unknown field of wire type `wt` (groups and invalid wire types bail). */
export function skipField(r: FastReader, wt: number, end: number): void {
  switch (wt) {
    case 0:
      varint64(r, end)
      return
    case 1:
      if (r.pos + 8 > end) throw BAIL
      r.pos += 8
      return
    case 2:
      r.pos = readLen(r, end)
      return
    case 5:
      if (r.pos + 4 > end) throw BAIL
      r.pos += 4
      return
    default:
      throw BAIL
  }
}
