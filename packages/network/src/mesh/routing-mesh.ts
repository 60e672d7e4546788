/**
 * The routing mesh of one node: a userspace L4 load balancer listening on every published
 * ingress port of the routing table, following the table live.
 *
 * @module
 */
import { isIP } from 'node:net'
import { FailedPreconditionError, InvalidArgumentError, silentLogger } from '@swarmkit-ts/api'
import type { Logger } from '@swarmkit-ts/api'
import { BackendPool } from './backend-pool.ts'
import type { MeshBackendStats } from './backend-pool.ts'
import type { MeshProtocol, RoutingEntry, RoutingTable } from './endpoints.ts'
import type { EndpointSource } from './endpoints-source.ts'
import { TcpPortProxy } from './tcp-proxy.ts'
import { UdpPortProxy } from './udp-proxy.ts'

/** Default of {@link RoutingMeshInit.drainTimeoutMs}. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000
/** Default of {@link RoutingMeshInit.udpIdleTimeoutMs} (Linux conntrack's UDP timeout). */
export const DEFAULT_UDP_IDLE_TIMEOUT_MS = 30_000
/** Default of {@link RoutingMeshInit.connectTimeoutMs}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000
/** Default of {@link RoutingMeshInit.udpMaxSessions}. */
export const DEFAULT_UDP_MAX_SESSIONS = 4_096
/** Default of {@link RoutingMeshInit.failurePauseMs}. */
export const DEFAULT_FAILURE_PAUSE_MS = 1_000

/** Construction options of a {@link RoutingMesh}. */
export interface RoutingMeshInit {
  /** The live routing table. */
  readonly source: EndpointSource
  /** The local address the published ports listen on (IPv4 or IPv6). @default '0.0.0.0' */
  readonly listenAddress?: string
  /** How long a removed backend's open connections may go on before they are closed. @default 30000 */
  readonly drainTimeoutMs?: number
  /** A UDP session without traffic either way for this long is closed. @default 30000 */
  readonly udpIdleTimeoutMs?: number
  /**
   * UDP sessions (one socket each) a published port keeps open at most; datagrams of further
   * clients are dropped until sessions close, as with a full conntrack table. @default 4096
   */
  readonly udpMaxSessions?: number
  /** A backend that has not accepted a TCP connection within this is skipped for the next. @default 5000 */
  readonly connectTimeoutMs?: number
  /**
   * A backend that failed a connection is passed over for this long (doubling with each further
   * failure in a row, up to 32×) unless every backend is; 0 turns this off. @default 1000
   */
  readonly failurePauseMs?: number
  /** Where failures (a port that cannot be bound) are reported. @default silentLogger */
  readonly logger?: Logger
}

/** States of a published port's listener. */
export type MeshListenerState = 'binding' | 'listening' | 'failed'

/** What is published where: one per routing-table entry. */
export interface MeshListenerInfo {
  /** The published port. */
  readonly publishedPort: number
  /** Its protocol. */
  readonly protocol: MeshProtocol
  /** The local address it listens on. */
  readonly address: string
  /** The service publishing it. */
  readonly serviceId: string
  /** That service's name. */
  readonly serviceName: string
  /** Whether the port is bound (`failed`: see `error`; it is tried again when the table changes). */
  readonly state: MeshListenerState
  /** Why binding failed. */
  readonly error?: string
  /** Active backends. */
  readonly backends: number
}

/** Counters of one published port. */
export interface MeshPortStats {
  /** The published port. */
  readonly publishedPort: number
  /** Its protocol. */
  readonly protocol: MeshProtocol
  /** Client connections (TCP) or sessions (UDP) accepted since the port was published. */
  readonly accepted: number
  /** TCP connections reset, or UDP datagrams dropped, because no backend (or no session room) took them. */
  readonly rejected: number
  /** Per backend, active ones first in table order, then draining ones. */
  readonly backends: readonly MeshBackendStats[]
}

interface Listener {
  readonly key: string
  entry: RoutingEntry
  readonly pool: BackendPool
  readonly proxy: TcpPortProxy | UdpPortProxy
  readonly abort: AbortController
  state: MeshListenerState
  error: string | undefined
}

function positiveInt(v: number | undefined, field: string, dflt: number): number {
  if (v === undefined) return dflt
  if (!Number.isInteger(v) || v <= 0) throw new InvalidArgumentError(field, 'must be a positive integer (milliseconds)')
  return v
}

/**
 * The routing mesh (Docker's ingress load balancer, in user space): each published ingress port
 * of the table is listened on (TCP and UDP) and new connections are spread round-robin over the
 * port's backends. Table changes apply live: a new port is bound, a removed port stops
 * listening and drains, a removed backend takes no new connection and its open connections are
 * closed `drainTimeoutMs` after its removal if still open. A backend refusing a connection is
 * skipped for the next one (and passed over for `failurePauseMs`); with none left the client's
 * connection is reset (RST).
 */
export class RoutingMesh {
  readonly #source: EndpointSource
  readonly #address: string
  readonly #drainTimeoutMs: number
  readonly #udpIdleTimeoutMs: number
  readonly #udpMaxSessions: number
  readonly #connectTimeoutMs: number
  readonly #failurePauseMs: number
  readonly #logger: Logger
  readonly #listeners = new Map<string, Listener>()
  /** Ports no longer published whose connections still drain. */
  readonly #retired = new Set<Listener>()
  readonly #binds = new Set<Promise<void>>()
  #unsubscribe: (() => void) | undefined
  #state: 'new' | 'started' | 'stopped' = 'new'

  /** @throws InvalidArgumentError naming the bad option. */
  constructor(init: RoutingMeshInit) {
    this.#source = init.source
    this.#address = init.listenAddress ?? '0.0.0.0'
    if (isIP(this.#address) === 0) throw new InvalidArgumentError('listenAddress', `${this.#address} is not an IP address`)
    this.#drainTimeoutMs = positiveInt(init.drainTimeoutMs, 'drainTimeoutMs', DEFAULT_DRAIN_TIMEOUT_MS)
    this.#udpIdleTimeoutMs = positiveInt(init.udpIdleTimeoutMs, 'udpIdleTimeoutMs', DEFAULT_UDP_IDLE_TIMEOUT_MS)
    this.#connectTimeoutMs = positiveInt(init.connectTimeoutMs, 'connectTimeoutMs', DEFAULT_CONNECT_TIMEOUT_MS)
    this.#udpMaxSessions = positiveInt(init.udpMaxSessions, 'udpMaxSessions', DEFAULT_UDP_MAX_SESSIONS)
    const pause = init.failurePauseMs ?? DEFAULT_FAILURE_PAUSE_MS
    if (!Number.isInteger(pause) || pause < 0) throw new InvalidArgumentError('failurePauseMs', 'must be a non-negative integer (milliseconds)')
    this.#failurePauseMs = pause
    this.#logger = init.logger ?? silentLogger
  }

  /**
   * Publishes the source's current table and follows it; resolves once every port of that table
   * is bound or failed (see {@link listeners}).
   *
   * @throws FailedPreconditionError when already started or stopped.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new FailedPreconditionError(`the routing mesh was already ${this.#state}`, { reason: 'already-started' })
    this.#state = 'started'
    this.#unsubscribe = this.#source.subscribe((t) => this.#apply(t))
    this.#apply(this.#source.current())
    await this.settled()
  }

  /**
   * Stops following the table, closes every port and every open connection now (no drain), and
   * resolves once the ports are released.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return
    this.#state = 'stopped'
    this.#unsubscribe?.()
    const closing: Promise<void>[] = []
    for (const l of [...this.#listeners.values(), ...this.#retired]) {
      l.abort.abort()
      closing.push(l.proxy instanceof TcpPortProxy ? l.proxy.close(true) : l.proxy.close())
      l.pool.closeAll()
    }
    this.#listeners.clear()
    this.#retired.clear()
    await this.settled()
    await Promise.all(closing)
  }

  /** Resolves once no port is being bound (after a table change, for instance). */
  async settled(): Promise<void> {
    while (this.#binds.size > 0) await Promise.allSettled([...this.#binds])
  }

  /** What is published where, ordered by port then protocol. */
  listeners(): MeshListenerInfo[] {
    return [...this.#listeners.values()].sort(byPort).map((l) => ({
      publishedPort: l.entry.publishedPort,
      protocol: l.entry.protocol,
      address: this.#address,
      serviceId: l.entry.serviceId,
      serviceName: l.entry.serviceName,
      state: l.state,
      ...(l.error === undefined ? {} : { error: l.error }),
      backends: l.pool.size,
    }))
  }

  /** Counters per published port (ports still draining after their removal are left out). */
  stats(): MeshPortStats[] {
    return [...this.#listeners.values()].sort(byPort).map((l) => ({
      publishedPort: l.entry.publishedPort,
      protocol: l.entry.protocol,
      accepted: l.proxy.accepted,
      rejected: l.proxy.rejected,
      backends: l.pool.stats(),
    }))
  }

  #apply(table: RoutingTable): void {
    if (this.#state !== 'started') return
    const keep = new Set<string>()
    for (const entry of table.entries) {
      const key = `${entry.protocol}/${entry.publishedPort}`
      keep.add(key)
      const l = this.#listeners.get(key)
      if (l !== undefined && l.state !== 'failed') {
        l.pool.update(entry.backends)
        l.entry = entry
        continue
      }
      if (l !== undefined) this.#retire(l)
      this.#publish(key, entry)
    }
    for (const l of [...this.#listeners.values()]) if (!keep.has(l.key)) this.#retire(l)
    for (const r of [...this.#retired]) if (r.pool.openConnections === 0) this.#retired.delete(r)
  }

  #publish(key: string, entry: RoutingEntry): void {
    const pool = new BackendPool(this.#drainTimeoutMs, this.#failurePauseMs)
    pool.update(entry.backends)
    const common = { address: this.#address, port: entry.publishedPort, pool, logger: this.#logger }
    const proxy =
      entry.protocol === 'tcp'
        ? new TcpPortProxy({ ...common, connectTimeoutMs: this.#connectTimeoutMs })
        : new UdpPortProxy({ ...common, idleTimeoutMs: this.#udpIdleTimeoutMs, maxSessions: this.#udpMaxSessions })
    const l: Listener = { key, entry, pool, proxy, abort: new AbortController(), state: 'binding', error: undefined }
    this.#listeners.set(key, l)
    const bind = proxy.listen(l.abort.signal).then(
      () => {
        if (!l.abort.signal.aborted) l.state = 'listening'
      },
      (err: unknown) => {
        if (l.abort.signal.aborted) return
        l.state = 'failed'
        l.error = err instanceof Error ? err.message : String(err)
        this.#logger.error('routing mesh: cannot publish port', { port: entry.publishedPort, protocol: entry.protocol, error: l.error })
      },
    )
    this.#binds.add(bind)
    void bind.finally(() => this.#binds.delete(bind))
  }

  /** Stops listening on a port no longer published; its connections drain. */
  #retire(l: Listener): void {
    this.#listeners.delete(l.key)
    l.abort.abort()
    if (l.proxy instanceof TcpPortProxy) void l.proxy.close(false)
    else void l.proxy.close()
    l.pool.drainAll()
    if (l.pool.openConnections > 0) this.#retired.add(l)
  }
}

function byPort(a: Listener, b: Listener): number {
  return a.entry.publishedPort - b.entry.publishedPort || (a.entry.protocol < b.entry.protocol ? -1 : a.entry.protocol > b.entry.protocol ? 1 : 0)
}
