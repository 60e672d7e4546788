/**
 * The DNS server: UDP and TCP sockets on one address and port, answering from a resolver (an
 * effect at the edge; the answers are decided in `message.ts`).
 *
 * @module
 */
import { createSocket } from 'node:dgram'
import type { Socket as UdpSocket } from 'node:dgram'
import { createServer, isIP } from 'node:net'
import type { Server, Socket } from 'node:net'
import { FailedPreconditionError, InvalidArgumentError, silentLogger } from '@swarmkit-ts/api'
import type { Logger } from '@swarmkit-ts/api'
import { answerQuery } from './message.ts'
import type { DnsScope, NameLookup } from './resolver-types.ts'

/** How long a TCP connection may stay idle before the server closes it, by default (RFC 7766 suggests seconds). */
export const DNS_TCP_IDLE_TIMEOUT_MS = 10_000
/** TCP connections served at once, by default; more are refused until one closes. */
export const DNS_TCP_MAX_CONNECTIONS = 256
/** Tries at finding a port free for both UDP and TCP when asked for port 0. */
const PORT_ATTEMPTS = 20

/** Construction options of a {@link DnsServer}. */
export interface DnsServerInit {
  /** Where answers come from (a {@link ServiceResolver}). */
  readonly resolver: NameLookup
  /** The IP address to listen on (IPv4 or IPv6), e.g. `'127.0.0.1'`. */
  readonly address: string
  /** The port for both UDP and TCP; 0 picks one that is free for both. */
  readonly port: number
  /** The networks whose names this server answers (ids or names, or `'all'`). */
  readonly scope: DnsScope
  /** @default silentLogger */
  readonly logger?: Logger
  /** @default DNS_TCP_IDLE_TIMEOUT_MS */
  readonly tcpIdleTimeoutMs?: number
  /** @default DNS_TCP_MAX_CONNECTIONS */
  readonly maxTcpConnections?: number
}

/** Where a started {@link DnsServer} listens. */
export interface DnsServerAddress {
  readonly address: string
  readonly port: number
}

/**
 * A DNS server for the names of a {@link ServiceResolver}, over UDP and TCP on the same port.
 * It is authoritative for those names and never recurses (RA clear): a name it does not know is
 * NXDOMAIN. See `answerQuery` for each response code. Over TCP, messages carry RFC 1035's
 * 2-byte length prefix; a connection may send several queries and is closed after
 * `tcpIdleTimeoutMs` without one.
 */
export class DnsServer {
  readonly #init: DnsServerInit
  readonly #logger: Logger
  readonly #idleMs: number
  readonly #maxConnections: number
  readonly #sockets = new Set<Socket>()
  #udp: UdpSocket | undefined
  #tcp: Server | undefined
  #state: 'new' | 'starting' | 'started' | 'stopped' = 'new'
  #starting: Promise<DnsServerAddress> | undefined
  #stopping: Promise<void> | undefined

  constructor(init: DnsServerInit) {
    if (isIP(init.address) === 0) throw new InvalidArgumentError('address', `must be an IP address, got ${JSON.stringify(init.address)}`)
    if (!Number.isInteger(init.port) || init.port < 0 || init.port > 65535) throw new InvalidArgumentError('port', 'must be an integer from 0 to 65535')
    const idle = init.tcpIdleTimeoutMs ?? DNS_TCP_IDLE_TIMEOUT_MS
    if (!Number.isInteger(idle) || idle <= 0) throw new InvalidArgumentError('tcpIdleTimeoutMs', 'must be a positive integer')
    const max = init.maxTcpConnections ?? DNS_TCP_MAX_CONNECTIONS
    if (!Number.isInteger(max) || max <= 0) throw new InvalidArgumentError('maxTcpConnections', 'must be a positive integer')
    if (init.scope !== 'all' && !Array.isArray(init.scope)) throw new InvalidArgumentError('scope', "must be an array of network ids or names, or 'all'")
    this.#init = init
    this.#logger = init.logger ?? silentLogger
    this.#idleMs = idle
    this.#maxConnections = max
  }

  /** Binds UDP and TCP and starts answering. Rejects if the port is taken (or, for port 0, none was found free for both). */
  start(): Promise<DnsServerAddress> {
    if (this.#state !== 'new') return Promise.reject(new FailedPreconditionError('the DNS server was already started'))
    this.#state = 'starting'
    this.#starting = this.#bind()
    return this.#starting
  }

  async #bind(): Promise<DnsServerAddress> {
    let lastError: unknown
    for (let i = 0; i < (this.#init.port === 0 ? PORT_ATTEMPTS : 1); i++) {
      const udp = await this.#bindUdp(this.#init.port).catch((err: unknown) => {
        lastError = err
        return undefined
      })
      if (udp === undefined) continue
      const port = udp.address().port
      const tcp = await this.#listenTcp(port).catch((err: unknown) => {
        lastError = err
        return undefined
      })
      if (tcp === undefined) {
        await new Promise<void>((resolve) => udp.close(() => resolve()))
        continue
      }
      this.#udp = udp
      this.#tcp = tcp
      // stop() was called meanwhile: it closes these once this start settles.
      if (this.#state !== 'starting') throw new FailedPreconditionError('the DNS server was stopped while starting')
      this.#state = 'started'
      this.#logger.info('dns server listening', { address: this.#init.address, port })
      return { address: this.#init.address, port }
    }
    this.#state = 'stopped'
    throw lastError instanceof Error ? lastError : new Error(String(lastError))
  }

  /** Closes both sockets and every TCP connection. Idempotent; a stopped server cannot start again. */
  stop(): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping
    this.#state = 'stopped'
    const started = this.#starting ?? Promise.resolve()
    this.#stopping = started.then(
      () => this.#close(),
      () => this.#close(),
    )
    return this.#stopping
  }

  async #close(): Promise<void> {
    const udp = this.#udp
    const tcp = this.#tcp
    this.#udp = undefined
    this.#tcp = undefined
    for (const s of this.#sockets) s.destroy()
    this.#sockets.clear()
    await Promise.all([
      udp === undefined ? undefined : new Promise<void>((resolve) => udp.close(() => resolve())),
      tcp === undefined ? undefined : new Promise<void>((resolve) => tcp.close(() => resolve())),
    ])
  }

  #bindUdp(port: number): Promise<UdpSocket> {
    return new Promise((resolve, reject) => {
      const udp = createSocket(isIP(this.#init.address) === 6 ? 'udp6' : 'udp4')
      const onError = (err: Error): void => {
        udp.close()
        reject(err)
      }
      udp.once('error', onError)
      udp.bind(port, this.#init.address, () => {
        udp.off('error', onError)
        udp.on('error', (err) => this.#logger.warn('dns server: udp socket error', { error: String(err) }))
        udp.on('message', (msg, rinfo) => {
          const out = answerQuery(msg, this.#init.resolver, this.#init.scope, 'udp')
          if (out !== undefined) udp.send(out, rinfo.port, rinfo.address)
        })
        resolve(udp)
      })
    })
  }

  #listenTcp(port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.#serveTcp(socket))
      server.maxConnections = this.#maxConnections
      server.once('error', reject)
      server.listen({ port, host: this.#init.address, exclusive: true }, () => {
        server.off('error', reject)
        server.on('error', (err) => this.#logger.warn('dns server: tcp server error', { error: String(err) }))
        resolve(server)
      })
    })
  }

  /** One TCP connection: length-prefixed queries, answered in order, until it is idle or closed. */
  #serveTcp(socket: Socket): void {
    this.#sockets.add(socket)
    socket.setNoDelay(true)
    socket.setTimeout(this.#idleMs, () => socket.destroy())
    socket.on('error', () => socket.destroy())
    socket.on('close', () => this.#sockets.delete(socket))
    let buf: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0)
        if (buf.length < 2 + len) break
        const msg = buf.subarray(2, 2 + len)
        buf = buf.subarray(2 + len)
        const out = answerQuery(msg, this.#init.resolver, this.#init.scope, 'tcp')
        if (out === undefined) continue
        const prefix = Buffer.alloc(2)
        prefix.writeUInt16BE(out.length, 0)
        socket.write(Buffer.concat([prefix, out]))
      }
      // A client that sends faster than it reads: stop reading until its answers drain.
      if (socket.writableNeedDrain && !socket.isPaused()) {
        socket.pause()
        socket.once('drain', () => socket.resume())
      }
    })
  }
}
