/**
 * Socket helpers of the routing mesh tests: free ports, small HTTP and UDP servers, one-shot
 * clients, and waiting for a condition (a generous timeout only as a failure guard).
 */
import { createSocket } from 'node:dgram'
import type { Socket as UdpSocket } from 'node:dgram'
import { once } from 'node:events'
import { createServer as createHttpServer, request } from 'node:http'
import type { Agent, Server as HttpServer } from 'node:http'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'

/** A TCP port free on 127.0.0.1 right now (bound and released). */
export async function freePort(): Promise<number> {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

/** A UDP port free on 127.0.0.1 right now. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4')
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r))
  const port = s.address().port
  await new Promise<void>((r) => s.close(r))
  return port
}

/** A TCP and UDP port free on 127.0.0.1 right now. */
export async function freeTcpUdpPort(): Promise<number> {
  for (;;) {
    const p = await freePort()
    const s = createSocket('udp4')
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false))
      s.bind(p, '127.0.0.1', () => r(true))
    })
    if (ok) {
      await new Promise<void>((r) => s.close(r))
      return p
    }
  }
}

/** An HTTP server on 127.0.0.1 answering `id` (and holding `/hold` requests until released). */
export interface TestHttpServer {
  readonly id: string
  readonly port: number
  readonly server: HttpServer
  /** Requests answered. */
  served: number
  close(): Promise<void>
}

/** Starts an HTTP server on 127.0.0.1 (port 0: any) whose every answer is its `id`. */
export async function startHttpServer(id: string, port = 0): Promise<TestHttpServer> {
  const server = createHttpServer((_req, res) => {
    t.served++
    res.end(id)
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  const t: TestHttpServer = {
    id,
    port: (server.address() as AddressInfo).port,
    server,
    served: 0,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
  return t
}

/** GET `path` on 127.0.0.1:`port` (a fresh connection unless `agent`); the body. */
export function httpGet(port: number, agent?: Agent, path = '/', host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, ...(agent === undefined ? { agent: false } : { agent }) }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve(body))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** A UDP echo server on 127.0.0.1 answering `${id}:${message}`. */
export async function startUdpEcho(id: string, port = 0): Promise<{ port: number; socket: UdpSocket; close(): Promise<void> }> {
  const socket = createSocket('udp4')
  socket.on('message', (msg, rinfo) => socket.send(`${id}:${msg.toString()}`, rinfo.port, rinfo.address))
  await new Promise<void>((r) => socket.bind(port, '127.0.0.1', r))
  return { port: socket.address().port, socket, close: () => new Promise<void>((r) => socket.close(r)) }
}

/**
 * A UDP client socket on 127.0.0.1 that sends to `port`; `ask(msg)` resolves with the reply that
 * ends in `:msg` (use a distinct message per ask).
 */
export async function udpClient(port: number): Promise<{ ask(msg: string): Promise<string>; close(): Promise<void> }> {
  const socket = createSocket('udp4')
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r))
  const waiting = new Map<string, (reply: string) => void>()
  socket.on('message', (m) => {
    const reply = m.toString()
    const key = reply.slice(reply.indexOf(':') + 1)
    waiting.get(key)?.(reply)
    waiting.delete(key)
  })
  return {
    // Resends every 200 ms until the reply comes (UDP may drop; the reply is what is asserted).
    ask: async (msg: string) => {
      const got = new Promise<string>((r) => waiting.set(msg, r))
      const send = (): void => socket.send(msg, port, '127.0.0.1')
      send()
      const timer = setInterval(send, 200)
      try {
        return await got
      } finally {
        clearInterval(timer)
      }
    },
    close: () => new Promise<void>((r) => socket.close(r)),
  }
}

/** Waits until `cond()` holds (polling every 10 ms); fails after `timeoutMs`, a guard only. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
