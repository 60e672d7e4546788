/**
 * One DNS query in, one response out: the decisions of the DNS server, apart from its sockets.
 * The wire format is dns-packet's; this module only locates the question (to echo it byte for
 * byte, class and case included) and sets the header bits.
 *
 * @module
 */
import dnsPacket from 'dns-packet'
import type { Answer, OptAnswer } from 'dns-packet'
import type { DnsRecord, DnsScope, NameLookup } from './resolver-types.ts'

/** Response codes the server gives. */
export const DnsRcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const
/** A response code. */
export type DnsRcode = (typeof DnsRcode)[keyof typeof DnsRcode]

/** The most a response over UDP may hold without EDNS (RFC 1035). */
export const DNS_UDP_DEFAULT_SIZE = 512
/** The largest UDP payload the server sends, whatever a client's EDNS record offers. */
export const DNS_UDP_MAX_SIZE = 4096
/** The largest message over TCP (its 2-byte length prefix). */
export const DNS_TCP_MAX_SIZE = 65535

const HEADER = 12
const QR = 0x8000
const AA = 0x0400
const TC = 0x0200
const RD = 0x0100
const CLASS_IN = 1
/** EDNS BADVERS (16): its upper 8 bits go in the OPT record, its lower 4 (0) in the header. */
const BADVERS_EXTENDED = 1

/**
 * The response to `query` (one DNS message, without the TCP length prefix), or undefined when
 * it gets none (it is itself a response, or too short to carry an id). Never throws.
 *
 * - opcode other than QUERY → NOTIMP; not exactly one question, or a malformed message → FORMERR;
 *   a class other than IN → REFUSED; EDNS version above 0 → BADVERS.
 * - A, AAAA and SRV are answered from `lookup`; any other type gets NODATA for a known name.
 * - Unknown names → NXDOMAIN. The server is authoritative for what it knows (AA set) and never
 *   recurses (RA clear; RD is echoed).
 * - A response larger than the transport allows (512 bytes over UDP, or the client's EDNS size
 *   from 512 up to {@link DNS_UDP_MAX_SIZE}) first drops its additional records; if it is still
 *   too large, it keeps as many answers as fit and sets TC, so the client asks again over TCP
 *   (as Docker's embedded DNS does).
 */
export function answerQuery(query: Buffer, lookup: NameLookup, scope: DnsScope, transport: 'udp' | 'tcp'): Buffer | undefined {
  if (query.length < 3 || (query[2]! & 0x80) !== 0) return undefined
  if (query.length < HEADER) return headerOnly(query, DnsRcode.FORMERR)
  const flags = query.readUInt16BE(2)
  const rd = flags & RD
  if (((flags >> 11) & 0xf) !== 0) return headerOnly(query, DnsRcode.NOTIMP)
  const qEnd = questionEnd(query)
  let packet: dnsPacket.DecodedPacket
  try {
    packet = dnsPacket.decode(query)
  } catch {
    return headerOnly(query, DnsRcode.FORMERR)
  }
  const question = packet.questions?.[0]
  if (qEnd === undefined || question === undefined || packet.questions?.length !== 1) return headerOnly(query, DnsRcode.FORMERR)
  const opts = (packet.additionals ?? []).filter((a): a is OptAnswer => a.type === 'OPT')
  if (opts.length > 1) return headerOnly(query, DnsRcode.FORMERR)
  const opt = opts[0]
  const reply: OptAnswer | undefined =
    opt === undefined ? undefined : { type: 'OPT', name: '.', udpPayloadSize: DNS_UDP_MAX_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }
  const base = { query, qEnd, rd, opt: reply }
  if (query.readUInt16BE(qEnd - 2) !== CLASS_IN) return respond(base, DnsRcode.REFUSED, [], [], DNS_TCP_MAX_SIZE)
  if (opt !== undefined && reply !== undefined && opt.ednsVersion > 0) {
    return respond({ ...base, opt: { ...reply, extendedRcode: BADVERS_EXTENDED } }, DnsRcode.NOERROR, [], [], DNS_TCP_MAX_SIZE)
  }
  const maxSize =
    transport === 'tcp' ? DNS_TCP_MAX_SIZE : Math.min(DNS_UDP_MAX_SIZE, Math.max(DNS_UDP_DEFAULT_SIZE, opt?.udpPayloadSize ?? 0))
  try {
    const type = question.type
    if (type === 'A' || type === 'AAAA' || type === 'SRV') {
      const r = lookup.lookup(question.name, type, scope)
      return respond(base, r.found ? DnsRcode.NOERROR : DnsRcode.NXDOMAIN, r.answers.map(toWire), r.additionals.map(toWire), maxSize)
    }
    const found = lookup.lookup(question.name, 'A', scope).found
    return respond(base, found ? DnsRcode.NOERROR : DnsRcode.NXDOMAIN, [], [], maxSize)
  } catch {
    return respond(base, DnsRcode.SERVFAIL, [], [], maxSize)
  }
}

/** Where the (single) question of a query ends, or undefined when its name is malformed or compressed. */
function questionEnd(query: Buffer): number | undefined {
  let off = HEADER
  for (;;) {
    const len = query[off]
    if (len === undefined || (len & 0xc0) !== 0) return undefined
    off += 1 + len
    if (len === 0) break
  }
  return off + 4 <= query.length ? off + 4 : undefined
}

/** A response of just a header: the query's id and opcode, QR and `rcode`, no sections. */
function headerOnly(query: Buffer, rcode: DnsRcode): Buffer {
  const out = Buffer.alloc(HEADER)
  out.writeUInt16BE(query.readUInt16BE(0), 0)
  out.writeUInt16BE(QR | (query[2]! & 0x79) << 8 | rcode, 2)
  return out
}

interface ResponseBase {
  readonly query: Buffer
  readonly qEnd: number
  readonly rd: number
  readonly opt: OptAnswer | undefined
}

/** The query's header and question with `answers` and `additionals`, trimmed to `maxSize` (TC set) if need be. */
function respond(base: ResponseBase, rcode: DnsRcode, answers: Answer[], additionals: Answer[], maxSize: number): Buffer {
  const questionBytes = base.qEnd - HEADER
  const extra = base.opt === undefined ? [] : [base.opt]
  const size = (an: Answer[], ad: Answer[]): number => dnsPacket.encodingLength({ answers: an, additionals: [...ad, ...extra] }) + questionBytes
  let body = dnsPacket.encode({ answers, additionals: [...additionals, ...extra] })
  let tc = 0
  if (body.length + questionBytes > maxSize && additionals.length > 0) {
    // Additional records are optional (RFC 2181 §9): dropping them alone does not set TC.
    additionals = []
    body = dnsPacket.encode({ answers, additionals: extra })
  }
  if (body.length + questionBytes > maxSize) {
    tc = TC
    // The most answers that fit (at least the header, question and OPT always do).
    let lo = 0
    let hi = answers.length
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (size(answers.slice(0, mid), []) <= maxSize) lo = mid
      else hi = mid - 1
    }
    answers = answers.slice(0, lo)
    body = dnsPacket.encode({ answers, additionals: extra })
  }
  // dns-packet wrote a header with no question: ours replaces it, and the query's question goes after it.
  body.writeUInt16BE(base.query.readUInt16BE(0), 0)
  body.writeUInt16BE(QR | AA | tc | base.rd | rcode, 2)
  body.writeUInt16BE(1, 4)
  body.writeUInt16BE(answers.length, 6)
  body.writeUInt16BE(0, 8)
  body.writeUInt16BE(additionals.length + extra.length, 10)
  return Buffer.concat([body.subarray(0, HEADER), base.query.subarray(HEADER, base.qEnd), body.subarray(HEADER)])
}

function toWire(r: DnsRecord): Answer {
  switch (r.type) {
    case 'A':
    case 'AAAA':
      return { type: r.type, name: r.name, ttl: r.ttl, class: 'IN', data: r.address }
    case 'SRV':
      return { type: 'SRV', name: r.name, ttl: r.ttl, class: 'IN', data: { priority: r.priority, weight: r.weight, port: r.port, target: r.target } }
  }
}
