/**
 * The TCP side of the routing mesh: one listening socket per published port, each accepted
 * connection spliced to a backend chosen by the port's {@link BackendPool}.
 *
 * @module
 */
import { connect, createServer } from 'node:net'
import type { NetConnectOpts, Server, Socket } from 'node:net'
import type { Logger } from '@swarmkit-ts/api'
import type { BackendPool, BackendState, PoolConnection } from './backend-pool.ts'
import { bindWithRetry } from './bind.ts'
import { ReadRelay, adoptAccepted, relayData } from './tcp-relay.ts'

/** Options of a {@link TcpPortProxy}. */
export interface TcpPortProxyInit {
  /** Local address to listen on. */
  readonly address: string
  /** The published port. */
  readonly port: number
  /** Its backends. */
  readonly pool: BackendPool
  /** A backend silent this long is skipped for the next. */
  readonly connectTimeoutMs: number
  /** Where failures go. */
  readonly logger: Logger
}

/** Bytes each socket may buffer before the other side is paused. */
const HIGH_WATER_MARK = 256 * 1024
const KEEP_ALIVE_DELAY_MS = 60_000

/** Errors that are a peer's reset, passed on as a reset to the other side. */
function isReset(err: NodeJS.ErrnoException): boolean {
  return err.code === 'ECONNRESET' || err.code === 'EPIPE'
}

/**
 * A listening TCP port. Each client connection is paused until a backend accepts, then both
 * sockets are piped into each other (no copy, with backpressure), FINs passed on in each
 * direction (half-close kept) and a reset on one side passed on as a reset to the other. A
 * backend that refuses (or does not answer within `connectTimeoutMs`) is skipped for the next
 * one; when none is left the client connection is reset.
 */
export class TcpPortProxy {
  readonly #init: TcpPortProxyInit
  readonly #server: Server
  #closed = false
  /** Client connections open. */
  readonly #clients = new Set<Socket>()
  /** Client connections accepted. */
  accepted = 0
  /** Client connections reset because no backend took them. */
  rejected = 0

  /** A port, not yet listening (see {@link listen}). */
  constructor(init: TcpPortProxyInit) {
    this.#init = init
    this.#server = createServer(
      { pauseOnConnect: true, allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEP_ALIVE_DELAY_MS, highWaterMark: HIGH_WATER_MARK },
      (client) => this.#accept(client),
    )
    this.#server.on('error', (err) => init.logger.error('routing mesh: tcp listener failed', { port: init.port, error: String(err) }))
  }

  /** Binds and listens (retrying a port still held by a closing listener). */
  listen(signal: AbortSignal): Promise<void> {
    return bindWithRetry(signal, (done) => {
      const onError = (err: Error): void => done(err)
      this.#server.once('error', onError)
      this.#server.listen({ host: this.#init.address, port: this.#init.port, exclusive: true }, () => {
        this.#server.off('error', onError)
        // Closed while the bind was under way: release the port at once.
        if (this.#closed) this.#server.close()
        done(undefined)
      })
    })
  }

  /**
   * Stops accepting; resolves once the listening socket and every client connection are closed.
   * Without `abort`, open connections are the pool's to drain (and those still waiting for a
   * backend go on); with `abort`, every client connection is closed now.
   */
  close(abort: boolean): Promise<void> {
    this.#closed = true
    if (abort) for (const c of this.#clients) c.destroy()
    return new Promise((resolve) => {
      if (this.#server.listening) this.#server.close(() => resolve())
      else resolve()
    })
  }

  #accept(accepted: Socket): void {
    this.accepted++
    // The client's requests are read into the relay's own buffer, when its socket can be made to.
    const forward = new ReadRelay()
    const adopted = adoptAccepted(accepted, forward.onread)
    const client = adopted ?? accepted
    client.on('error', () => undefined)
    this.#clients.add(client)
    client.once('close', () => {
      this.#clients.delete(client)
      // The empty shell left by adoptAccepted, counted by the server until now.
      if (adopted !== undefined) accepted.destroy()
    })
    this.#attempt(client, undefined, adopted === undefined ? undefined : forward)
  }

  /** Connects to the next backend; `forward` is the client's relay when it reads into one. */
  #attempt(client: Socket, tried: Set<BackendState> | undefined, forward: ReadRelay | undefined): void {
    const { pool } = this.#init
    const b = pool.pick(tried)
    if (b === undefined) {
      this.rejected++
      if (!client.destroyed) client.resetAndDestroy()
      return
    }
    const attempted = tried ?? new Set<BackendState>()
    attempted.add(b)
    // highWaterMark reaches the socket's Duplex options (Node ≥ 18.17), though NetConnectOpts omits it.
    // The backend's replies are read into the relay's own buffer (no stream machinery per read).
    const back = new ReadRelay()
    const options: NetConnectOpts & { highWaterMark: number } = { host: b.host, port: b.port, allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEP_ALIVE_DELAY_MS, highWaterMark: HIGH_WATER_MARK, onread: back.onread }
    const up = connect(options)
    const fail = (): void => {
      up.off('connect', ok)
      up.off('error', fail)
      up.off('timeout', fail)
      client.off('close', abandon)
      up.on('error', () => undefined)
      up.destroy()
      pool.failed(b)
      if (!client.destroyed) this.#attempt(client, attempted, forward)
    }
    const abandon = (): void => {
      up.off('connect', ok)
      up.on('error', () => undefined)
      up.destroy()
    }
    const ok = (): void => {
      up.off('error', fail)
      up.off('timeout', fail)
      client.off('close', abandon)
      up.setTimeout(0)
      this.#splice(client, up, b, back, forward)
    }
    up.setTimeout(this.#init.connectTimeoutMs)
    up.once('connect', ok)
    up.once('error', fail)
    up.once('timeout', fail)
    client.once('close', abandon)
  }

  #splice(client: Socket, up: Socket, b: BackendState, back: ReadRelay, forward: ReadRelay | undefined): void {
    const { pool } = this.#init
    if (client.destroyed) {
      up.destroy()
      return
    }
    const conn: PoolConnection = {
      close: () => {
        client.destroy()
        up.destroy()
      },
    }
    pool.attach(b, conn)
    let open = 2
    const closed = (): void => {
      if (--open === 0) pool.detach(b, conn)
    }
    client.on('error', (err: NodeJS.ErrnoException) => {
      if (isReset(err)) up.resetAndDestroy()
      else up.destroy()
    })
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (isReset(err)) client.resetAndDestroy()
      else client.destroy()
    })
    // A side closed by an error ends the other; a clean close means both directions finished.
    client.once('close', (hadError) => {
      if (hadError) up.destroy()
      closed()
    })
    up.once('close', (hadError) => {
      if (hadError) client.destroy()
      closed()
    })
    // The client was accepted paused (pauseOnConnect): its data waited in the kernel until now.
    if (forward !== undefined) forward.start(client, up)
    else {
      relayData(client, up)
      client.resume()
    }
    back.start(up, client)
  }
}
