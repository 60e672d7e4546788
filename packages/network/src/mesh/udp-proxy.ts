/**
 * The UDP side of the routing mesh: one socket per published port; per client (address, port)
 * a session with its own socket connected to one backend, replies relayed back from the
 * published port, idle sessions closed.
 *
 * @module
 */
import { createSocket } from 'node:dgram'
import type { RemoteInfo, Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import type { Logger } from '@swarmkit-ts/api'
import type { BackendPool, BackendState, PoolConnection } from './backend-pool.ts'
import { bindWithRetry } from './bind.ts'

/** Options of a {@link UdpPortProxy}. */
export interface UdpPortProxyInit {
  /** Local address to listen on. */
  readonly address: string
  /** The published port. */
  readonly port: number
  /** Its backends. */
  readonly pool: BackendPool
  /** A session without traffic this long is closed. */
  readonly idleTimeoutMs: number
  /** Sessions open at most; a new client's datagrams are dropped beyond it. */
  readonly maxSessions: number
  /** Where failures go. */
  readonly logger: Logger
}

/** Datagrams a session holds while its socket connects; later ones are dropped. */
const MAX_QUEUED = 64

class UdpSession implements PoolConnection {
  readonly #proxy: UdpPortProxy
  readonly key: string
  readonly backend: BackendState
  readonly #socket: Socket
  #queue: Buffer[] | undefined = []
  readonly #idle: NodeJS.Timeout
  closed = false

  constructor(proxy: UdpPortProxy, key: string, client: RemoteInfo, backend: BackendState, idleTimeoutMs: number, reply: (msg: Buffer, to: RemoteInfo) => void, onFail: () => void) {
    this.#proxy = proxy
    this.key = key
    this.backend = backend
    this.#socket = createSocket(isIPv6(backend.host) ? 'udp6' : 'udp4')
    this.#socket.on('message', (msg) => {
      this.#idle.refresh()
      reply(msg, client)
    })
    // A connected UDP socket learns of an unreachable port (ICMP) as ECONNREFUSED: the session
    // ends and the client's next datagram opens one to another backend.
    this.#socket.on('error', () => {
      onFail()
      this.close()
    })
    this.#socket.connect(backend.port, backend.host, () => {
      const q = this.#queue ?? []
      this.#queue = undefined
      for (const m of q) this.#send(m)
    })
    this.#idle = setTimeout(() => this.close(), idleTimeoutMs)
    this.#idle.unref()
  }

  /** Forwards one datagram of the client to the backend. */
  forward(msg: Buffer): void {
    this.#idle.refresh()
    if (this.#queue === undefined) this.#send(msg)
    else if (this.#queue.length < MAX_QUEUED) this.#queue.push(msg)
  }

  #send(msg: Buffer): void {
    this.#socket.send(msg, (err) => {
      if (err !== null) this.close()
    })
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.#idle)
    try {
      this.#socket.close()
    } catch {
      // already closed
    }
    this.#proxy.sessionClosed(this)
  }
}

/**
 * A published UDP port. The first datagram of a client (address, port) picks a backend
 * (round-robin) and opens a session to it; later datagrams of that client go to the same
 * backend while the session lives. A session ends after `idleTimeoutMs` without traffic either
 * way, when its backend reports the port unreachable, or when its backend's drain times out.
 * With no backend, or `maxSessions` sessions open (each holds a socket), a new client's
 * datagrams are dropped.
 */
export class UdpPortProxy {
  readonly #init: UdpPortProxyInit
  readonly #socket: Socket
  readonly #sessions = new Map<string, UdpSession>()
  #closed = false
  /** Sessions opened. */
  accepted = 0
  /** Datagrams dropped because no backend could take them. */
  rejected = 0

  /** A port, not yet bound (see {@link listen}). */
  constructor(init: UdpPortProxyInit) {
    this.#init = init
    this.#socket = createSocket({ type: isIPv6(init.address) ? 'udp6' : 'udp4' })
    this.#socket.on('message', (msg, rinfo) => this.#message(msg, rinfo))
  }

  /** Binds the published port (retrying one still held by a closing listener). */
  listen(signal: AbortSignal): Promise<void> {
    return bindWithRetry(signal, (done) => {
      const onError = (err: Error): void => done(err)
      this.#socket.once('error', onError)
      this.#socket.bind({ address: this.#init.address, port: this.#init.port, exclusive: true }, () => {
        this.#socket.off('error', onError)
        // Closed while the bind was under way: release the port at once.
        if (this.#closed) this.#closeSocket()
        this.#socket.on('error', (err) => this.#init.logger.error('routing mesh: udp listener failed', { port: this.#init.port, error: String(err) }))
        done(undefined)
      })
    })
  }

  /** Closes the port and every session (replies could no longer leave from the published port). */
  close(): Promise<void> {
    this.#closed = true
    for (const s of [...this.#sessions.values()]) s.close()
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve())
      } catch {
        resolve() // never bound, or already closed
      }
    })
  }

  #closeSocket(): void {
    try {
      this.#socket.close()
    } catch {
      // already closed
    }
  }

  /** @internal Called by a session once it closed. */
  sessionClosed(s: UdpSession): void {
    if (this.#sessions.get(s.key) === s) this.#sessions.delete(s.key)
    this.#init.pool.detach(s.backend, s)
  }

  #reply(msg: Buffer, to: RemoteInfo): void {
    try {
      this.#socket.send(msg, to.port, to.address)
    } catch {
      // the port was closed meanwhile
    }
  }

  #message(msg: Buffer, rinfo: RemoteInfo): void {
    const key = `${rinfo.address} ${rinfo.port}`
    let s = this.#sessions.get(key)
    if (s === undefined || s.closed) {
      const b = this.#sessions.size < this.#init.maxSessions ? this.#init.pool.pick(undefined) : undefined
      if (b === undefined) {
        this.rejected++
        return
      }
      s = new UdpSession(this, key, { ...rinfo }, b, this.#init.idleTimeoutMs, (reply, to) => this.#reply(reply, to), () => this.#init.pool.failed(b))
      this.#sessions.set(key, s)
      this.#init.pool.attach(b, s)
      this.accepted++
    }
    s.forward(msg)
  }
}
