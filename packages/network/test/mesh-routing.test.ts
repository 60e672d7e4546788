// The routing mesh on real sockets (loopback only), fed by a StaticEndpointSource: spreading,
// live table changes, draining, refused backends, UDP sessions and the lifecycle.
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { once } from 'node:events'
import { Agent } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidArgumentError, FailedPreconditionError } from '@swarmkit-ts/api'
import { RoutingMesh, StaticEndpointSource } from '../src/index.ts'
import type { RoutingEntry } from '../src/index.ts'
import { freePort, freeTcpUdpPort, httpGet, startHttpServer, startUdpEcho, udpClient, waitFor } from './helpers/mesh-net.ts'
import type { TestHttpServer } from './helpers/mesh-net.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function servers(n: number): Promise<TestHttpServer[]> {
  const out: TestHttpServer[] = []
  for (let i = 1; i <= n; i++) {
    const s = await startHttpServer(`r${i}`)
    cleanups.push(() => s.close())
    out.push(s)
  }
  return out
}

function entry(publishedPort: number, backends: readonly { id: string; port: number }[], protocol: 'tcp' | 'udp' = 'tcp'): RoutingEntry {
  return { publishedPort, protocol, serviceId: 'svc1', serviceName: 'web', backends: backends.map((b) => ({ taskId: b.id, host: '127.0.0.1', port: b.port })) }
}

async function mesh(source: StaticEndpointSource, extra: { drainTimeoutMs?: number; udpIdleTimeoutMs?: number; udpMaxSessions?: number; failurePauseMs?: number } = {}): Promise<RoutingMesh> {
  const m = new RoutingMesh({ source, listenAddress: '127.0.0.1', ...extra })
  cleanups.push(() => m.stop())
  await m.start()
  return m
}

function count(bodies: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const b of bodies) out[b] = (out[b] ?? 0) + 1
  return out
}

async function requests(port: number, n: number): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(await httpGet(port))
  return out
}

describe('RoutingMesh over TCP', () => {
  it('spreads new connections round-robin: 30 requests over 3 backends give each exactly 10', async () => {
    const s = await servers(3)
    const port = await freePort()
    const m = await mesh(new StaticEndpointSource({ entries: [entry(port, s)] }))
    expect(count(await requests(port, 30))).toEqual({ r1: 10, r2: 10, r3: 10 })
    await waitFor(() => m.stats()[0]?.backends.every((b) => b.active === 0) === true, 'the connections to close')
    expect(m.stats()[0]?.backends.map((b) => [b.taskId, b.total, b.active])).toEqual([['r1', 10, 0], ['r2', 10, 0], ['r3', 10, 0]])
    expect(m.listeners()).toEqual([{ publishedPort: port, protocol: 'tcp', address: '127.0.0.1', serviceId: 'svc1', serviceName: 'web', state: 'listening', backends: 3 }])
  })

  it('follows the table live: a new port is listened on, a removed one is released', async () => {
    const s = await servers(1)
    const [p1, p2] = [await freePort(), await freePort()]
    const source = new StaticEndpointSource({ entries: [entry(p1, s)] })
    const m = await mesh(source)
    source.set({ entries: [entry(p1, s), { ...entry(p2, s), serviceId: 'svc2', serviceName: 'api' }] })
    await m.settled()
    expect(await httpGet(p2)).toBe('r1')
    source.set({ entries: [entry(p2, s)] })
    await m.settled()
    expect(m.listeners().map((l) => l.publishedPort)).toEqual([p2])
    await expect(httpGet(p1)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })

  it('a removed backend takes no new connection, while its open keep-alive connection goes on', async () => {
    const s = await servers(2)
    const port = await freePort()
    const source = new StaticEndpointSource({ entries: [entry(port, s)] })
    const m = await mesh(source)
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    cleanups.push(() => agent.destroy())
    expect(await httpGet(port, agent)).toBe('r1')
    source.set({ entries: [entry(port, [s[1] as TestHttpServer])] })
    expect(count(await requests(port, 4))).toEqual({ r2: 4 })
    // The open connection still reaches r1 (the drain timeout is 30 s).
    expect(await httpGet(port, agent)).toBe('r1')
    expect(m.stats()[0]?.backends.map((b) => [b.taskId, b.active, b.draining])).toEqual([['r2', 0, false], ['r1', 1, true]])
  })

  it('an unpublished port refuses new connections while its open one goes on until the drain timeout', async () => {
    const s = await servers(1)
    const port = await freePort()
    const source = new StaticEndpointSource({ entries: [entry(port, s)] })
    const m = await mesh(source, { drainTimeoutMs: 1_500 })
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    cleanups.push(() => agent.destroy())
    expect(await httpGet(port, agent)).toBe('r1')
    const socket = Object.values(agent.freeSockets).flat()[0] as Socket
    source.set({ entries: [] })
    await m.settled()
    expect(m.listeners()).toEqual([])
    await expect(httpGet(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    expect(await httpGet(port, agent)).toBe('r1')
    await once(socket, 'close')
  })

  it("closes a removed backend's connections once the drain timeout passes", async () => {
    const s = await servers(2)
    const port = await freePort()
    const source = new StaticEndpointSource({ entries: [entry(port, s)] })
    const m = await mesh(source, { drainTimeoutMs: 200 })
    const client = connect(port, '127.0.0.1')
    cleanups.push(() => void client.destroy())
    await once(client, 'connect')
    await waitFor(() => m.stats()[0]?.backends[0]?.active === 1, 'the connection to reach r1')
    source.set({ entries: [entry(port, [s[1] as TestHttpServer])] })
    await once(client, 'close')
    expect(m.stats()[0]?.backends.map((b) => b.taskId)).toEqual(['r2'])
  })

  it('skips a backend that refuses the connection, then passes it over while paused: the others share evenly', async () => {
    const s = await servers(2)
    const dead = await freePort()
    const port = await freePort()
    const m = await mesh(new StaticEndpointSource({ entries: [entry(port, [s[0] as TestHttpServer, { id: 'dead', port: dead }, s[1] as TestHttpServer])] }), { failurePauseMs: 60_000 })
    expect(count(await requests(port, 9))).toEqual({ r1: 5, r2: 4 })
    expect(m.stats()[0]?.backends.find((b) => b.taskId === 'dead')).toMatchObject({ total: 0, failed: 1, paused: true })
  })

  it('without a failure pause, every connection whose turn is the dead backend fails over to the next one', async () => {
    const s = await servers(2)
    const dead = await freePort()
    const port = await freePort()
    const m = await mesh(new StaticEndpointSource({ entries: [entry(port, [s[0] as TestHttpServer, { id: 'dead', port: dead }, s[1] as TestHttpServer])] }), { failurePauseMs: 0 })
    expect(count(await requests(port, 9))).toEqual({ r1: 5, r2: 4 })
    expect(m.stats()[0]?.backends.find((b) => b.taskId === 'dead')).toMatchObject({ total: 0, failed: 4, paused: false })
  })

  it('tries a paused backend when every backend is paused, and un-pauses it once it accepts', async () => {
    const s = await servers(1)
    const port = await freePort()
    const dead = await freePort()
    const source = new StaticEndpointSource({ entries: [entry(port, [{ id: 'dead', port: dead }])] })
    const m = await mesh(source, { failurePauseMs: 60_000 })
    await expect(httpGet(port)).rejects.toMatchObject({ code: 'ECONNRESET' })
    // The same address now answers (the replica came back): the paused backend is tried and un-paused.
    source.set({ entries: [entry(port, [{ id: 'dead', port: (s[0] as TestHttpServer).port }])] })
    expect(await httpGet(port)).toBe('r1')
    expect(m.stats()[0]?.backends.map((b) => [b.taskId, b.paused])).toEqual([['dead', false]])
  })

  it('resets the client connection when no backend is left', async () => {
    const port = await freePort()
    const dead = await freePort()
    const m = await mesh(new StaticEndpointSource({ entries: [entry(port, [{ id: 'dead', port: dead }]), entry(await freePort(), [])] }))
    await expect(httpGet(port)).rejects.toMatchObject({ code: 'ECONNRESET' })
    expect(m.stats().find((st) => st.publishedPort === port)).toMatchObject({ accepted: 1, rejected: 1 })
  })

  it('passes half-closes on: the client ends its side and still reads the whole answer', async () => {
    const s = await servers(1)
    const port = await freePort()
    await mesh(new StaticEndpointSource({ entries: [entry(port, s)] }))
    const client: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    cleanups.push(() => void client.destroy())
    await once(client, 'connect')
    client.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    let got = ''
    client.on('data', (c: Buffer) => (got += c.toString()))
    await once(client, 'end')
    expect(got.endsWith('\r\n\r\nr1')).toBe(true)
  })

  it('stop closes the ports and open connections, and the mesh cannot be started again', async () => {
    const s = await servers(1)
    const port = await freePort()
    const source = new StaticEndpointSource({ entries: [entry(port, s)] })
    const m = new RoutingMesh({ source, listenAddress: '127.0.0.1' })
    await m.start()
    const client = connect(port, '127.0.0.1')
    await once(client, 'connect')
    await waitFor(() => m.stats()[0]?.backends[0]?.active === 1, 'the connection to be spliced')
    const closed = once(client, 'close')
    await m.stop()
    await closed
    await expect(httpGet(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    await expect(m.start()).rejects.toBeInstanceOf(FailedPreconditionError)
  })

  it('reports a port it cannot bind as failed, serves the others, and binds it at the next table change once free', async () => {
    const [blocker, other] = await servers(2)
    const taken = (blocker as TestHttpServer).port
    const port = await freePort()
    const s = [other as TestHttpServer]
    const source = new StaticEndpointSource({ entries: [entry(taken, s), entry(port, s)] })
    const m = await mesh(source)
    const states = (): [number, string][] => m.listeners().map((l) => [l.publishedPort, l.state])
    expect(states()).toEqual([[taken, 'failed'], [port, 'listening']].sort((a, b) => (a[0] as number) - (b[0] as number)))
    expect(m.listeners().find((l) => l.publishedPort === taken)?.error).toContain('EADDRINUSE')
    expect(await httpGet(port)).toBe('r2')
    await (blocker as TestHttpServer).close()
    source.set({ entries: [entry(taken, s), entry(port, [])] })
    await m.settled()
    expect(states()).toEqual([[taken, 'listening'], [port, 'listening']].sort((a, b) => (a[0] as number) - (b[0] as number)))
    expect(await httpGet(taken)).toBe('r2')
  })

  it('rejects bad options and bad tables with the field named', () => {
    const source = new StaticEndpointSource()
    expect(() => new RoutingMesh({ source, listenAddress: 'localhost' })).toThrow(expect.objectContaining({ field: 'listenAddress' }) as Error)
    expect(() => new RoutingMesh({ source, drainTimeoutMs: 0 })).toThrow(InvalidArgumentError)
    expect(() => new RoutingMesh({ source, udpMaxSessions: 1.5 })).toThrow(expect.objectContaining({ field: 'udpMaxSessions' }) as Error)
    expect(() => new RoutingMesh({ source, failurePauseMs: -1 })).toThrow(expect.objectContaining({ field: 'failurePauseMs' }) as Error)
    expect(() => source.set({ entries: [entry(80, [{ id: 't', port: 70_000 }])] })).toThrow(expect.objectContaining({ field: 'entries[0].backends[0].port' }) as Error)
    expect(() => source.set({ entries: [entry(80, []), entry(80, [])] })).toThrow(expect.objectContaining({ field: 'entries[1].publishedPort' }) as Error)
    expect(source.current().entries).toEqual([])
  })
})

describe('RoutingMesh over UDP', () => {
  it('relays datagrams per client session, round-robin over backends, and replies from the published port', async () => {
    const e1 = await startUdpEcho('u1')
    const e2 = await startUdpEcho('u2')
    cleanups.push(() => e1.close(), () => e2.close())
    const port = await freeTcpUdpPort()
    const m = await mesh(new StaticEndpointSource({ entries: [entry(port, [{ id: 'u1', port: e1.port }, { id: 'u2', port: e2.port }], 'udp')] }))
    const a = await udpClient(port)
    const b = await udpClient(port)
    cleanups.push(() => a.close(), () => b.close())
    expect(await a.ask('hello')).toBe('u1:hello')
    expect(await a.ask('again')).toBe('u1:again')
    expect(await b.ask('other')).toBe('u2:other')
    expect(m.stats()[0]).toMatchObject({ protocol: 'udp', accepted: 2, rejected: 0 })
  })

  it('moves a client on when its backend reports the port unreachable', async () => {
    const e1 = await startUdpEcho('u1')
    cleanups.push(() => e1.close())
    const dead = await freeTcpUdpPort()
    const port = await freeTcpUdpPort()
    const m = await mesh(new StaticEndpointSource({ entries: [entry(port, [{ id: 'dead', port: dead }, { id: 'u1', port: e1.port }], 'udp')] }))
    const a = await udpClient(port)
    cleanups.push(() => a.close())
    expect(await a.ask('anyone')).toBe('u1:anyone')
    expect(m.stats()[0]?.backends.find((b) => b.taskId === 'dead')?.failed).toBeGreaterThan(0)
  })

  it('drops the datagrams of a new client while the port has udpMaxSessions sessions open', async () => {
    const e1 = await startUdpEcho('u1')
    cleanups.push(() => e1.close())
    const port = await freeTcpUdpPort()
    const m = await mesh(new StaticEndpointSource({ entries: [entry(port, [{ id: 'u1', port: e1.port }], 'udp')] }), { udpMaxSessions: 1, udpIdleTimeoutMs: 1_000 })
    const a = await udpClient(port)
    const b = await udpClient(port)
    cleanups.push(() => a.close(), () => b.close())
    expect(await a.ask('first')).toBe('u1:first')
    // b resends every 200 ms: dropped while a's session lives, answered once it idled out.
    expect(await b.ask('second')).toBe('u1:second')
    const st = m.stats()[0]
    expect(st?.accepted).toBe(2)
    expect(st?.rejected).toBeGreaterThan(0)
  })

  it('closes an idle session: the next datagram of the client opens a new one', async () => {
    const e1 = await startUdpEcho('u1')
    const e2 = await startUdpEcho('u2')
    cleanups.push(() => e1.close(), () => e2.close())
    const port = await freeTcpUdpPort()
    const m = await mesh(new StaticEndpointSource({ entries: [entry(port, [{ id: 'u1', port: e1.port }, { id: 'u2', port: e2.port }], 'udp')] }), { udpIdleTimeoutMs: 1_000 })
    const a = await udpClient(port)
    cleanups.push(() => a.close())
    expect(await a.ask('one')).toBe('u1:one')
    await waitFor(() => m.stats()[0]?.backends[0]?.active === 0, 'the idle session to close')
    expect(await a.ask('two')).toBe('u2:two')
  })
})
