/**
 * The DNS message layer alone (no sockets): EDNS sizes, BADVERS, and which records a response
 * too large for UDP gives up, with a lookup that returns fixed records.
 */
import dnsPacket from 'dns-packet'
import type { OptAnswer, Packet } from 'dns-packet'
import { describe, expect, it } from 'vitest'
import { answerQuery } from '../src/index.ts'
import type { DnsLookupResult, DnsRecord, NameLookup } from '../src/index.ts'

/** A lookup that answers every name with `result`, and records what it was asked. */
function fixed(result: DnsLookupResult): NameLookup & { asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    lookup: (name, type) => {
      asked.push(`${type} ${name}`)
      return result
    },
  }
}

const a = (i: number, name = 'svc'): DnsRecord => ({ type: 'A', name, ttl: 5, address: `10.0.${i >> 8}.${i & 255}` })
const opt = (udpPayloadSize: number, ednsVersion = 0): OptAnswer => ({ type: 'OPT', name: '.', udpPayloadSize, extendedRcode: 0, ednsVersion, flags: 0, flag_do: false, options: [] })
const query = (name: string, type: 'A' | 'SRV' | 'MX', extra: Partial<Packet> = {}): Buffer => dnsPacket.encode({ type: 'query', id: 99, questions: [{ type, name }], ...extra })

function decode(buf: Buffer | undefined): ReturnType<typeof dnsPacket.decode> & { rcode: number } {
  if (buf === undefined) throw new Error('no response')
  return { ...dnsPacket.decode(buf), rcode: buf.readUInt16BE(2) & 0xf }
}

describe('dns messages', () => {
  it('drops additional records that do not fit over UDP without setting TC, keeping every answer', () => {
    const srv: DnsRecord = { type: 'SRV', name: '_http._tcp.svc', ttl: 5, priority: 0, weight: 0, port: 80, target: 'svc' }
    const lookup = fixed({ found: true, answers: [srv], additionals: Array.from({ length: 100 }, (_, i) => a(i)) })
    const udp = decode(answerQuery(query('_http._tcp.svc', 'SRV'), lookup, 'all', 'udp'))
    expect({ tc: udp.flag_tc, answers: udp.answers?.length, additionals: udp.additionals?.length }).toEqual({ tc: false, answers: 1, additionals: 0 })
    const tcp = decode(answerQuery(query('_http._tcp.svc', 'SRV'), lookup, 'all', 'tcp'))
    expect({ tc: tcp.flag_tc, answers: tcp.answers?.length, additionals: tcp.additionals?.length }).toEqual({ tc: false, answers: 1, additionals: 100 })
  })

  it('holds the UDP size between 512 bytes and 4096 whatever the client’s EDNS record offers, and answers with an OPT record of its own', () => {
    const lookup = fixed({ found: true, answers: Array.from({ length: 400 }, (_, i) => a(i)), additionals: [] })
    const small = answerQuery(query('svc', 'A', { additionals: [opt(100)] }), lookup, 'all', 'udp')
    const large = answerQuery(query('svc', 'A', { additionals: [opt(65000)] }), lookup, 'all', 'udp')
    expect(small!.length).toBeLessThanOrEqual(512)
    expect(small!.length).toBeGreaterThan(512 - 19)
    expect(large!.length).toBeLessThanOrEqual(4096)
    expect(large!.length).toBeGreaterThan(4096 - 19)
    const res = decode(large)
    expect(res.flag_tc).toBe(true)
    expect(res.additionals).toEqual([{ name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }])
  })

  it('answers an EDNS version above 0 with BADVERS and asks the resolver nothing', () => {
    const lookup = fixed({ found: true, answers: [a(1)], additionals: [] })
    const res = decode(answerQuery(query('svc', 'A', { additionals: [opt(1232, 1)] }), lookup, 'all', 'udp'))
    expect({ rcode: res.rcode, answers: res.answers, opt: res.additionals?.map((x) => (x.type === 'OPT' ? x.extendedRcode : -1)) }).toEqual({ rcode: 0, answers: [], opt: [1] })
    expect(lookup.asked).toEqual([])
  })

  it('answers another type of a known name with NODATA and of an unknown name with NXDOMAIN, asking the resolver whether the name exists', () => {
    const known = fixed({ found: true, answers: [a(1)], additionals: [] })
    const res = decode(answerQuery(query('Svc.', 'MX'), known, 'all', 'udp'))
    expect({ rcode: res.rcode, answers: res.answers, aa: res.flag_aa }).toEqual({ rcode: 0, answers: [], aa: true })
    expect(known.asked).toEqual(['A Svc'])
    const unknown = fixed({ found: false, answers: [], additionals: [] })
    expect(decode(answerQuery(query('nosuch', 'MX'), unknown, 'all', 'udp')).rcode).toBe(3)
  })

  it('answers SERVFAIL when the resolver throws', () => {
    const broken: NameLookup = {
      lookup: () => {
        throw new Error('boom')
      },
    }
    expect(decode(answerQuery(query('svc', 'A'), broken, 'all', 'udp')).rcode).toBe(2)
  })

  it('refuses a question whose name is compressed (a pointer into the header) as malformed', () => {
    const q = Buffer.concat([query('x', 'A').subarray(0, 12), Buffer.from([0xc0, 0x00, 0x00, 0x01, 0x00, 0x01])])
    const res = answerQuery(q, fixed({ found: true, answers: [], additionals: [] }), 'all', 'udp')
    expect(res === undefined ? -1 : res.readUInt16BE(2) & 0xf).toBe(1)
  })
})
