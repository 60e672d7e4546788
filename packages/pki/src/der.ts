/**
 * A minimal DER writer and reader: just what issuing a certificate and reading a PKCS#10 request
 * need (ITU-T X.690). Issuance builds the TBSCertificate directly for throughput.
 *
 * @internal
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

/** Universal and context tags used here. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n]
  const out: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff)
  return [0x80 | out.length, ...out]
}

/** A TLV with the given tag and contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = contents.length === 1 ? (contents[0] as Uint8Array) : Buffer.concat(contents)
  return Buffer.concat([Buffer.from([tag, ...lengthBytes(body.length)]), body])
}

/** SEQUENCE of the given encodings. */
export const seq = (...items: Uint8Array[]): Buffer => tlv(Tag.SEQUENCE, ...items)

/** An OBJECT IDENTIFIER from dotted form. */
export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number)
  const [a = 0, b = 0, ...rest] = parts
  const out: number[] = [a * 40 + b]
  for (const p of rest) {
    const chunk: number[] = [p & 0x7f]
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80)
    out.push(...chunk)
  }
  return tlv(Tag.OID, Buffer.from(out))
}

/** A non-negative INTEGER from big-endian magnitude bytes (minimal encoding). */
export function uint(bytes: Uint8Array): Buffer {
  let i = 0
  while (i < bytes.length - 1 && bytes[i] === 0) i++
  const trimmed = bytes.subarray(i)
  const pad = (trimmed[0] ?? 0) & 0x80 ? Buffer.of(0) : Buffer.alloc(0)
  return tlv(Tag.INTEGER, Buffer.concat([pad, trimmed.length === 0 ? Buffer.of(0) : trimmed]))
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5); whole seconds. */
export function time(ms: number): Buffer {
  const d = new Date(ms)
  const y = d.getUTCFullYear()
  const p2 = (n: number): string => String(n).padStart(2, '0')
  const rest = `${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}Z`
  if (y >= 1950 && y < 2050) return tlv(Tag.UTC_TIME, Buffer.from(`${p2(y % 100)}${rest}`, 'latin1'))
  return tlv(Tag.GENERALIZED_TIME, Buffer.from(`${String(y).padStart(4, '0')}${rest}`, 'latin1'))
}

/** A decoded TLV: its tag, where its contents are, and its whole encoding. */
export interface Node {
  tag: number
  /** The whole TLV. */
  raw: Buffer
  /** The contents. */
  body: Buffer
}

/** Reads the TLV at `offset` of `buf`. @throws InvalidArgumentError (`field`) when malformed. */
export function read(buf: Buffer, offset: number, field: string): Node {
  const bad = (): never => {
    throw new InvalidArgumentError(field, 'malformed DER')
  }
  if (offset + 2 > buf.length) bad()
  const tag = buf[offset] as number
  if ((tag & 0x1f) === 0x1f) bad() // multi-byte tags are not used here
  let len = buf[offset + 1] as number
  let pos = offset + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4 || pos + n > buf.length) bad()
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + (buf[pos + i] as number)
    pos += n
  }
  if (pos + len > buf.length) bad()
  return { tag, raw: buf.subarray(offset, pos + len), body: buf.subarray(pos, pos + len) }
}

/** The child TLVs of a constructed node. */
export function children(node: Node, field: string): Node[] {
  const out: Node[] = []
  for (let off = 0; off < node.body.length; ) {
    const c = read(node.body, off, field)
    out.push(c)
    off += c.raw.length
  }
  return out
}
