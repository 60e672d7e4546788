/**
 * The DNS server on loopback: Node's own resolver (c-ares) gets the right answers and follows
 * the store live; raw dns-packet queries check TCP framing, truncation, FORMERR, REFUSED,
 * NOTIMP and that recursion is never offered.
 */
import { createSocket } from 'node:dgram'
import { promises as dns } from 'node:dns'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { FailedPreconditionError, InvalidArgumentError, TaskState } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import { ManualClock } from '@swarmkit-ts/testkit'
import dnsPacket from 'dns-packet'
import type { Packet } from 'dns-packet'
import { afterEach, describe, expect, it } from 'vitest'
import { DnsServer, ServiceResolver } from '../src/index.ts'
import { network, service, task, write } from './dns-fixtures.ts'

const FRONT = 'netfront00000000000000001'
const WEB = 'svcweb0000000000000000001'
const DB = 'svcdb00000000000000000001'
const GUARD_MS = 5_000

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const taskId = (i: number): string => `task${String(i).padStart(21, '0')}`

/** A store with `web` (VIP, IPv4 and IPv6, named ports) with two running tasks, and `db` (DNSRR) with `dbTasks` tasks; a resolver and a server on it. */
async function setup(opts: { dbTasks?: number; tcpIdleTimeoutMs?: number } = {}): Promise<{ store: MemoryStore; resolver: ServiceResolver; server: DnsServer; port: number }> {
  const store = new MemoryStore({ clock: new ManualClock(1_700_000_000_000) })
  await store.update((tx) => {
    tx.networks.create(network(FRONT, 'front'))
    tx.services.create(
      service(WEB, 'web', {
        networks: [{ target: FRONT }],
        vips: [
          { networkId: FRONT, addr: '10.0.1.2/24' },
          { networkId: FRONT, addr: 'fd00::2/64' },
        ],
        ports: [{ name: 'http', protocol: 'tcp', targetPort: 80, publishedPort: 30080 }],
      }),
    )
    tx.tasks.create(task(taskId(1), WEB, 'web', 1, { [FRONT]: ['10.0.1.5/24', 'fd00::5/64'] }))
    tx.tasks.create(task(taskId(2), WEB, 'web', 2, { [FRONT]: ['10.0.1.6/24', 'fd00::6/64'] }))
    tx.services.create(service(DB, 'db', { mode: 'dnsrr', networks: [{ target: FRONT }] }))
    for (let i = 0; i < (opts.dbTasks ?? 0); i++) {
      tx.tasks.create(task(taskId(1000 + i), DB, 'db', i + 1, { [FRONT]: [`10.0.${2 + (i >> 8)}.${i & 255}/16`] }))
    }
  })
  const resolver = new ServiceResolver({ store })
  resolver.start()
  cleanups.push(() => resolver.stop())
  const server = new DnsServer({ resolver, address: '127.0.0.1', port: 0, scope: ['front'], ...(opts.tcpIdleTimeoutMs === undefined ? {} : { tcpIdleTimeoutMs: opts.tcpIdleTimeoutMs }) })
  const { port } = await server.start()
  cleanups.push(() => server.stop())
  return { store, resolver, server, port }
}

/** A fresh c-ares channel (so no answer comes from a cache) pointed at our server. */
function client(port: number): dns.Resolver {
  const r = new dns.Resolver({ timeout: 2_000, tries: 2 })
  r.setServers([`127.0.0.1:${port}`])
  return r
}

/** Sends `msg` over UDP and resolves with the first datagram back. */
function udpExchange(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4')
    const timer = setTimeout(() => {
      sock.close()
      reject(new Error('no UDP answer'))
    }, GUARD_MS)
    sock.once('message', (buf) => {
      clearTimeout(timer)
      sock.close()
      resolve(buf)
    })
    sock.send(msg, port, '127.0.0.1')
  })
}

/** Opens a TCP connection and returns a function that sends a framed message and resolves with the next framed answer. */
async function tcpSession(port: number): Promise<{ socket: Socket; exchange: (msgs: Buffer[]) => Promise<Buffer[]> }> {
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  let buf = Buffer.alloc(0)
  let waiting: { n: number; out: Buffer[]; resolve: (b: Buffer[]) => void } | undefined
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk])
    while (waiting !== undefined && buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const len = buf.readUInt16BE(0)
      waiting.out.push(buf.subarray(2, 2 + len))
      buf = buf.subarray(2 + len)
      if (waiting.out.length === waiting.n) {
        const w = waiting
        waiting = undefined
        w.resolve(w.out)
      }
    }
  })
  const exchange = (msgs: Buffer[]): Promise<Buffer[]> =>
    new Promise((resolve) => {
      waiting = { n: msgs.length, out: [], resolve }
      socket.write(Buffer.concat(msgs.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 255]), m]))))
    })
  return { socket, exchange }
}

function query(id: number, name: string, type: 'A' | 'AAAA' | 'SRV' | 'TXT', extra: Partial<Packet> = {}): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }], ...extra })
}

const rcodeOf = (buf: Buffer): number => buf.readUInt16BE(2) & 0xf

describe('dns server: a real resolver (node:dns) against it', () => {
  it('answers resolve4, resolve6 and resolveSrv with the store’s addresses', async () => {
    const { port } = await setup()
    const r = client(port)
    expect(await r.resolve4('web')).toEqual(['10.0.1.2'])
    expect((await r.resolve4('tasks.web')).sort()).toEqual(['10.0.1.5', '10.0.1.6'])
    expect(await r.resolve6('web')).toEqual(['fd00::2'])
    expect((await r.resolve6('tasks.web.front')).sort()).toEqual(['fd00::5', 'fd00::6'])
    expect(await r.resolveSrv('_http._tcp.web')).toEqual([{ name: 'web', port: 80, priority: 0, weight: 0 }])
    expect(await r.resolve4('web', { ttl: true })).toEqual([{ address: '10.0.1.2', ttl: 600 }])
  })

  it('gets ENOTFOUND (NXDOMAIN) for unknown names and ENODATA for a known name without the type asked', async () => {
    const { port } = await setup()
    await expect(client(port).resolve4('nosuch')).rejects.toMatchObject({ code: 'ENOTFOUND' })
    await expect(client(port).resolve4('example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' })
    await expect(client(port).resolve4('tasks.db')).rejects.toMatchObject({ code: 'ENODATA' })
  })

  it('follows scaling live: tasks added to and removed from the store change the answers', async () => {
    const { store, resolver, port } = await setup()
    await write(store, resolver, (tx) => tx.tasks.create(task(taskId(3), WEB, 'web', 3, { [FRONT]: ['10.0.1.7/24'] })))
    expect((await client(port).resolve4('tasks.web')).sort()).toEqual(['10.0.1.5', '10.0.1.6', '10.0.1.7'])
    await write(store, resolver, (tx) => {
      tx.tasks.update(taskId(1), (t) => void (t.desiredState = TaskState.SHUTDOWN))
      tx.tasks.delete(taskId(2))
    })
    expect(await client(port).resolve4('tasks.web')).toEqual(['10.0.1.7'])
    await write(store, resolver, (tx) => tx.services.delete(WEB))
    await expect(client(port).resolve4('web')).rejects.toMatchObject({ code: 'ENOTFOUND' })
  })

  it('gives every address of a large DNSRR service: the UDP answer is truncated and the client retries over TCP', async () => {
    const { port } = await setup({ dbTasks: 300 })
    const all = await client(port).resolve4('db')
    expect(all.length).toBe(300)
    expect(new Set(all).size).toBe(300)
  })
})

describe('dns server: the wire', () => {
  it('answers authoritatively, echoes RD and never offers recursion (RA clear)', async () => {
    const { port } = await setup()
    const res = dnsPacket.decode(await udpExchange(port, query(4242, 'Web.', 'A')))
    expect(res.id).toBe(4242)
    expect({ qr: res.flag_qr, aa: res.flag_aa, rd: res.flag_rd, ra: res.flag_ra, tc: res.flag_tc }).toEqual({ qr: true, aa: true, rd: true, ra: false, tc: false })
    expect(res.questions).toEqual([{ name: 'Web', type: 'A', class: 'IN' }])
    expect(res.answers).toEqual([{ name: 'Web', type: 'A', class: 'IN', ttl: 600, flush: false, data: '10.0.1.2' }])
  })

  it('sets TC over UDP when the answer exceeds 512 bytes (or the EDNS size), keeping what fits', async () => {
    const { port } = await setup({ dbTasks: 300 })
    const plain = await udpExchange(port, query(1, 'db', 'A'))
    const res = dnsPacket.decode(plain)
    expect(res.flag_tc).toBe(true)
    expect(plain.length).toBeLessThanOrEqual(512)
    // Header 12 bytes, question 8 ('db', A, IN), each answer 18 (name 4, fixed fields 10, address 4).
    expect(res.answers?.length).toBe(Math.floor((512 - 12 - 8) / 18))
    const edns = await udpExchange(port, query(2, 'db', 'A', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] }))
    const ednsRes = dnsPacket.decode(edns)
    expect(ednsRes.flag_tc).toBe(true)
    expect(edns.length).toBeLessThanOrEqual(1232)
    expect(edns.length).toBeGreaterThan(1200)
    expect(ednsRes.additionals?.map((a) => a.type)).toEqual(['OPT'])
  })

  it('serves several length-prefixed queries on one TCP connection, untruncated', async () => {
    const { port } = await setup({ dbTasks: 300 })
    const { socket, exchange } = await tcpSession(port)
    cleanups.push(() => {
      socket.destroy()
      return Promise.resolve()
    })
    const [a, b, c] = await exchange([query(1, 'db', 'A'), query(2, 'web', 'A'), query(3, 'nosuch', 'A')])
    const da = dnsPacket.decode(a!)
    expect({ id: da.id, tc: da.flag_tc, n: da.answers?.length }).toEqual({ id: 1, tc: false, n: 300 })
    expect(dnsPacket.decode(b!).answers).toEqual([{ name: 'web', type: 'A', class: 'IN', ttl: 600, flush: false, data: '10.0.1.2' }])
    expect({ id: dnsPacket.decode(c!).id, rcode: rcodeOf(c!) }).toEqual({ id: 3, rcode: 3 })
    const [d] = await exchange([query(4, '_http._tcp.web', 'SRV')])
    expect(dnsPacket.decode(d!).answers).toEqual([{ name: '_http._tcp.web', type: 'SRV', class: 'IN', ttl: 600, flush: false, data: { priority: 0, weight: 0, port: 80, target: 'web' } }])
  })

  it('answers FORMERR to garbage (and keeps serving), NOTIMP to another opcode, REFUSED to another class, NODATA to another type of a known name', async () => {
    const { port } = await setup()
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x61])
    const formerr = await udpExchange(port, garbage)
    expect({ id: formerr.readUInt16BE(0), qr: formerr[2]! >> 7, rcode: rcodeOf(formerr), length: formerr.length }).toEqual({ id: 0x1234, qr: 1, rcode: 1, length: 12 })
    const tooShort = await udpExchange(port, Buffer.from([0xab, 0xcd, 0x00, 0x00, 0x00]))
    expect(rcodeOf(tooShort)).toBe(1)
    const status = Buffer.from(query(7, 'web', 'A'))
    status[2] = (status[2]! & 0x87) | (2 << 3)
    expect(rcodeOf(await udpExchange(port, status))).toBe(4)
    const chaos = dnsPacket.encode({ type: 'query', id: 8, questions: [{ type: 'A', name: 'web', class: 'CH' }] })
    const refused = await udpExchange(port, chaos)
    expect({ rcode: rcodeOf(refused), question: dnsPacket.decode(refused).questions }).toEqual({ rcode: 5, question: [{ name: 'web', type: 'A', class: 'CH' }] })
    const txt = await udpExchange(port, query(9, 'web', 'TXT'))
    expect({ rcode: rcodeOf(txt), answers: dnsPacket.decode(txt).answers }).toEqual({ rcode: 0, answers: [] })
    const twoQuestions = dnsPacket.encode({ type: 'query', id: 10, questions: [{ type: 'A', name: 'web' }, { type: 'A', name: 'db' }] })
    expect(rcodeOf(await udpExchange(port, twoQuestions))).toBe(1)
    expect(await client(port).resolve4('web')).toEqual(['10.0.1.2'])
  })

  it('never answers a response (no reflection loops)', async () => {
    const { port } = await setup()
    const sock = createSocket('udp4')
    const got: number[] = []
    const done = new Promise<void>((resolve) =>
      sock.on('message', (buf) => {
        got.push(buf.readUInt16BE(0))
        resolve()
      }),
    )
    sock.send(dnsPacket.encode({ type: 'response', id: 77, questions: [{ type: 'A', name: 'web' }] }), port, '127.0.0.1')
    sock.send(query(78, 'web', 'A'), port, '127.0.0.1')
    await done
    sock.close()
    expect(got).toEqual([78])
  })

  it('closes an idle TCP connection after tcpIdleTimeoutMs', async () => {
    const { port } = await setup({ tcpIdleTimeoutMs: 100 })
    const { socket } = await tcpSession(port)
    await new Promise<void>((resolve) => socket.once('close', () => resolve()))
    expect(socket.destroyed).toBe(true)
  })
})

describe('dns server: lifecycle', () => {
  it('stops idempotently and closes both UDP and TCP', async () => {
    const { server, port } = await setup()
    await server.stop()
    await server.stop()
    const refused = await new Promise<string>((resolve) => connect(port, '127.0.0.1').once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? '')))
    expect(refused).toBe('ECONNREFUSED')
    const rebind = createSocket('udp4')
    await new Promise<void>((resolve, reject) => {
      rebind.once('error', reject)
      rebind.bind(port, '127.0.0.1', () => resolve())
    })
    rebind.close()
    await expect(server.start()).rejects.toBeInstanceOf(FailedPreconditionError)
  })

  it('a stop during start closes what the start opened, and the start rejects', async () => {
    const resolver = new ServiceResolver({ store: new MemoryStore() })
    const server = new DnsServer({ resolver, address: '127.0.0.1', port: 0, scope: 'all' })
    const starting = server.start()
    const stopping = server.stop()
    await expect(starting).rejects.toBeInstanceOf(FailedPreconditionError)
    await stopping
    await expect(server.start()).rejects.toBeInstanceOf(FailedPreconditionError)
  })

  it('serves at most maxTcpConnections TCP connections at once; one more is closed without an answer', async () => {
    const store = new MemoryStore()
    await store.update((tx) => {
      tx.networks.create(network(FRONT, 'front'))
      tx.services.create(service(WEB, 'web', { networks: [{ target: FRONT }], vips: [{ networkId: FRONT, addr: '10.0.1.2/24' }] }))
    })
    const resolver = new ServiceResolver({ store })
    resolver.start()
    cleanups.push(() => resolver.stop())
    const server = new DnsServer({ resolver, address: '127.0.0.1', port: 0, scope: 'all', maxTcpConnections: 1 })
    const { port } = await server.start()
    cleanups.push(() => server.stop())
    const first = await tcpSession(port)
    const second = connect(port, '127.0.0.1')
    await new Promise<void>((resolve) => second.once('close', () => resolve()))
    const [answer] = await first.exchange([query(5, 'web', 'A')])
    expect(dnsPacket.decode(answer!).answers?.length).toBe(1)
    first.socket.destroy()
  })

  it('rejects a bad address, port or scope with an error naming the field', () => {
    const resolver = new ServiceResolver({ store: new MemoryStore() })
    expect(() => new DnsServer({ resolver, address: 'localhost', port: 0, scope: [] })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'address' }) as Error)
    expect(() => new DnsServer({ resolver, address: '127.0.0.1', port: 70000, scope: [] })).toThrow(InvalidArgumentError)
    expect(() => new DnsServer({ resolver, address: '127.0.0.1', port: 0, scope: 'some' as unknown as 'all' })).toThrow(expect.objectContaining({ field: 'scope' }) as Error)
  })
})
