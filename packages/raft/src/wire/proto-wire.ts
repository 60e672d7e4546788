/**
 * The protobuf wire primitives the hot paths write and read by hand: varints (of safe integers
 * and of 64-bit ids), fixed64, length-delimited bytes, and the `Entry` message
 * (proto/raft-storage.proto) that appends and WAL records carry.
 *
 * Why by hand: protobufjs builds an object per message, a writer with a fork per nested message
 * and a `Long` per 64-bit field. On the steady-state path (an append, its acknowledgement, a
 * heartbeat, a WAL record of entries) that was most of the cost of a message: 5–7 µs each on a
 * warm core, several times that in a manager woken for one message. The writers here size a
 * message first and fill one array; the reader walks the bytes once. Both produce and accept
 * exactly the bytes protobufjs does (every field written, in field order, zeros included), so
 * mixed versions interoperate and the codec tests compare the two byte for byte.
 *
 * The reader reports no errors: anything it does not expect (an unknown field, a wire type other
 * than the schema's, a value above 2^53 − 1, truncation) makes it give up ({@link readOrGiveUp}
 * returns `undefined`), and the caller decodes the same bytes with protobufjs, whose errors name
 * the field as before.
 *
 * @internal
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { Entry } from '../core/types.ts'

const MASK32 = 0xffffffffn

/** Bytes of the varint of `v`, a non-negative safe integer. */
export function varintSize(v: number): number {
  let n = 1
  while (v >= 128) {
    v = Math.floor(v / 128)
    n++
  }
  return n
}

/** Writes the varint of `v` (a non-negative safe integer) at `o`; returns the offset after it. */
export function writeVarint(out: Uint8Array, o: number, v: number): number {
  while (v >= 128) {
    out[o++] = (v % 128) | 128
    v = Math.floor(v / 128)
  }
  out[o++] = v
  return o
}

/** A uint64 as its unsigned low and high 32-bit halves. */
export interface U64Halves {
  lo: number
  hi: number
}

/** Splits a member id (checked: a bigint in [0, 2^64)) into halves. */
export function u64Halves(id: unknown, field: string): U64Halves {
  if (typeof id !== 'bigint' || id < 0n || id > 0xffffffffffffffffn) throw new InvalidArgumentError(field, `must be a bigint in [0, 2^64), got ${String(id)}`)
  return { lo: Number(id & MASK32), hi: Number(id >> 32n) }
}

/** Bytes of the varint of a uint64 given as halves. */
export function varint64Size(h: U64Halves): number {
  return h.hi === 0 ? varintSize(h.lo) : Math.ceil((64 - Math.clz32(h.hi)) / 7)
}

/** A term or index, checked: a non-negative safe integer. */
export function checkedNum(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(field, `must be a non-negative safe integer, got ${String(v)}`)
  return v
}

/** A byte field, checked. */
export function checkedBytes(v: unknown, field: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new InvalidArgumentError(field, 'must be a Uint8Array')
  return v
}

/** Fills a buffer sized beforehand. */
export class ProtoWriter {
  readonly buf: Uint8Array
  pos = 0
  constructor(buf: Uint8Array) {
    this.buf = buf
  }

  /** A varint of a non-negative safe integer (also tags). */
  varint(v: number): void {
    this.pos = writeVarint(this.buf, this.pos, v)
  }

  /** A varint of a uint64 given as halves. */
  varint64(h: U64Halves): void {
    let { lo, hi } = h
    if (hi === 0) return this.varint(lo)
    const b = this.buf
    let p = this.pos
    while (hi !== 0) {
      b[p++] = (lo & 127) | 128
      lo = ((lo >>> 7) | (hi << 25)) >>> 0
      hi >>>= 7
    }
    while (lo >= 128) {
      b[p++] = (lo & 127) | 128
      lo >>>= 7
    }
    b[p++] = lo
    this.pos = p
  }

  /** A fixed64 (little-endian) given as halves. */
  fixed64(h: U64Halves): void {
    const b = this.buf
    let p = this.pos
    for (let i = 0, x = h.lo; i < 4; i++, x >>>= 8) b[p++] = x & 255
    for (let i = 0, x = h.hi; i < 4; i++, x >>>= 8) b[p++] = x & 255
    this.pos = p
  }

  /** A length-delimited byte string (its length first). */
  bytes(v: Uint8Array): void {
    this.varint(v.length)
    this.buf.set(v, this.pos)
    this.pos += v.length
  }
}

const ENTRY_TYPE_CODES: Readonly<Record<string, number>> = { normal: 0, 'conf-change': 1 }

/** The encoded size of each entry (without its tag and length), checked as messageToWire checks them. */
export function entrySizes(ents: unknown, field: string): number[] {
  if (!Array.isArray(ents)) throw new InvalidArgumentError(field, 'must be an array')
  const sizes = new Array<number>(ents.length)
  for (let i = 0; i < ents.length; i++) {
    const e = ents[i] as Entry
    if (!Object.hasOwn(ENTRY_TYPE_CODES, e.type)) throw new InvalidArgumentError(`${field}[${i}].type`, `unknown entry type ${String(e.type)}`)
    const term = checkedNum(e.term, `${field}[${i}].term`)
    const index = checkedNum(e.index, `${field}[${i}].index`)
    const data = checkedBytes(e.data, `${field}[${i}].data`)
    sizes[i] = 1 + varintSize(term) + 1 + varintSize(index) + 2 + 1 + varintSize(data.length) + data.length
  }
  return sizes
}

/** Bytes of `ents` as repeated field `tag` (length-delimited), given their {@link entrySizes}. */
export function entriesFieldSize(sizes: readonly number[]): number {
  let n = 0
  for (const s of sizes) n += 1 + varintSize(s) + s
  return n
}

/** Writes `ents` as repeated field `tag` (a one-byte tag of wire type 2). */
export function writeEntries(w: ProtoWriter, tag: number, ents: readonly Entry[], sizes: readonly number[]): void {
  for (let i = 0; i < ents.length; i++) {
    const e = ents[i] as Entry
    w.buf[w.pos++] = tag
    w.varint(sizes[i] as number)
    w.buf[w.pos++] = 8
    w.varint(e.term)
    w.buf[w.pos++] = 16
    w.varint(e.index)
    w.buf[w.pos++] = 24
    w.buf[w.pos++] = ENTRY_TYPE_CODES[e.type] as number
    w.buf[w.pos++] = 34
    w.bytes(e.data)
  }
}

/** Thrown inside the reader to give up (made once: no stack is captured per throw); never escapes {@link readOrGiveUp}. */
const GIVE_UP = new Error('proto-wire: unexpected bytes')

/** Walks encoded bytes; every read gives up (see {@link readOrGiveUp}) on what it does not expect. */
export class ProtoReader {
  readonly buf: Uint8Array
  pos: number
  end: number
  constructor(buf: Uint8Array, pos: number, end: number) {
    this.buf = buf
    this.pos = pos
    this.end = end
  }

  done(): boolean {
    return this.pos >= this.end
  }

  /** A varint as a safe integer; gives up above 2^53 − 1. */
  num(): number {
    const b = this.buf
    let p = this.pos
    let v = 0
    let mul = 1
    for (;;) {
      if (p >= this.end || mul > 2 ** 49) throw GIVE_UP
      const x = b[p++] as number
      v += (x & 127) * mul
      if (x < 128) break
      mul *= 128
    }
    if (v > Number.MAX_SAFE_INTEGER) throw GIVE_UP
    this.pos = p
    return v
  }

  /** A varint as a uint64 (bigint). */
  u64(): bigint {
    const b = this.buf
    let p = this.pos
    let lo = 0
    let hi = 0
    for (let i = 0; ; i++) {
      if (p >= this.end || i === 10) throw GIVE_UP
      const x = (b[p++] as number) & 127
      if (i < 4) lo |= x << (7 * i)
      else if (i === 4) {
        lo |= x << 28
        hi |= x >>> 4
      } else hi |= x << (7 * i - 32)
      if (((b[p - 1] as number) & 128) === 0) break
    }
    this.pos = p
    lo >>>= 0
    hi >>>= 0
    return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo)
  }

  /** A fixed64 as a uint64 (bigint). */
  fixed64(): bigint {
    const p = this.pos
    if (p + 8 > this.end) throw GIVE_UP
    const b = this.buf
    const lo = ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)) >>> 0
    const hi = ((b[p + 4] as number) | ((b[p + 5] as number) << 8) | ((b[p + 6] as number) << 16) | ((b[p + 7] as number) << 24)) >>> 0
    this.pos = p + 8
    return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo)
  }

  /** A length prefix; returns where the delimited part ends. */
  delimited(): number {
    const len = this.num()
    const end = this.pos + len
    if (end > this.end) throw GIVE_UP
    return end
  }

  /** A byte string, copied into a plain Uint8Array of its own. */
  bytes(): Uint8Array {
    const end = this.delimited()
    const out = new Uint8Array(end - this.pos)
    out.set(this.buf.subarray(this.pos, end))
    this.pos = end
    return out
  }

  /** One length-prefixed `Entry` message from here. */
  entry(): Entry {
    const end = this.delimited()
    const outer = this.end
    this.end = end
    let term = 0
    let index = 0
    let type = 0
    let data: Uint8Array | undefined
    while (this.pos < end) {
      switch (this.num()) {
        case 8:
          term = this.num()
          break
        case 16:
          index = this.num()
          break
        case 24:
          type = this.num()
          break
        case 34:
          data = this.bytes()
          break
        default:
          throw GIVE_UP
      }
    }
    if (type > 1) throw GIVE_UP
    this.end = outer
    return { term, index, type: type === 0 ? 'normal' : 'conf-change', data: data ?? new Uint8Array(0) }
  }
}

/** Runs `read`; `undefined` when the reader gave up. */
export function readOrGiveUp<T>(read: () => T): T | undefined {
  try {
    return read()
  } catch (err) {
    if (err === GIVE_UP) return undefined
    throw err
  }
}

/** Throws the reader's give-up (for a caller that meets something unexpected). */
export function giveUp(): never {
  throw GIVE_UP
}
