/**
 * The backends of one published port, as the data plane sees them: round-robin choice, open
 * connections per backend, and draining of backends that left the table.
 *
 * @module
 */
import type { MeshBackend } from './endpoints.ts'

/** Something the pool can end when a drain times out (a proxied TCP connection, a UDP session). */
export interface PoolConnection {
  /** Ends it now (both sides). */
  close(): void
}

/** Counters of one backend of one port. */
export interface MeshBackendStats {
  /** The task. */
  readonly taskId: string
  /** Where it is reached. */
  readonly host: string
  /** Its port. */
  readonly port: number
  /** Connections (TCP) or sessions (UDP) open to it now. */
  readonly active: number
  /** Connections or sessions it was given since it joined (including open ones). */
  readonly total: number
  /** Connection attempts it refused or that failed before being established. */
  readonly failed: number
  /** Whether it left the table and only its open connections remain. */
  readonly draining: boolean
}

/** One backend's live state. */
export class BackendState {
  /** See {@link backendKey}. */
  readonly key: string
  /** The task. */
  readonly taskId: string
  /** Its address. */
  readonly host: string
  /** Its port. */
  readonly port: number
  /** Connections (or UDP sessions) open to it. */
  readonly conns = new Set<PoolConnection>()
  /** Connections given to it since it joined. */
  total = 0
  /** Attempts that failed before being established. */
  failed = 0
  /** Whether it left the table. */
  draining = false
  /** Closes its remaining connections when the drain times out. */
  drainTimer: NodeJS.Timeout | undefined

  /** A backend of the table, with no connection yet. */
  constructor(b: MeshBackend) {
    this.key = backendKey(b)
    this.taskId = b.taskId
    this.host = b.host
    this.port = b.port
  }

  /** Its counters. */
  stats(): MeshBackendStats {
    return { taskId: this.taskId, host: this.host, port: this.port, active: this.conns.size, total: this.total, failed: this.failed, draining: this.draining }
  }
}

/** Identity of a backend: the same task at another address is another backend. */
export function backendKey(b: MeshBackend): string {
  return `${b.taskId} ${b.host} ${b.port}`
}

/**
 * The backends of one port. New connections go round-robin over the current backends (each new
 * connection starts one step further; a failed attempt moves on to the next backend not yet tried
 * for it). A backend removed by {@link update} takes no new connection; its open ones go on and
 * are closed `drainTimeoutMs` after the removal if still open.
 */
export class BackendPool {
  readonly #drainTimeoutMs: number
  #active: BackendState[] = []
  /** Every backend with state: the active ones and the draining ones with open connections. */
  readonly #all = new Map<string, BackendState>()
  #next = 0

  /** @param drainTimeoutMs - how long a removed backend's connections may go on. */
  constructor(drainTimeoutMs: number) {
    this.#drainTimeoutMs = drainTimeoutMs
  }

  /** Number of active backends. */
  get size(): number {
    return this.#active.length
  }

  /** Replaces the active backends (in the table's order); the others drain. */
  update(backends: readonly MeshBackend[]): void {
    const active: BackendState[] = []
    const keep = new Set<string>()
    for (const b of backends) {
      const key = backendKey(b)
      if (keep.has(key)) continue
      keep.add(key)
      let s = this.#all.get(key)
      if (s === undefined) {
        s = new BackendState(b)
        this.#all.set(key, s)
      } else if (s.draining) {
        // Back in the table before its drain ended: it serves again, its connections stay.
        s.draining = false
        if (s.drainTimer !== undefined) clearTimeout(s.drainTimer)
        s.drainTimer = undefined
      }
      active.push(s)
    }
    for (const s of this.#active) if (!keep.has(s.key)) this.#drain(s)
    this.#active = active
    if (this.#next >= active.length) this.#next = 0
  }

  /** Drains every backend (the port is no longer published). */
  drainAll(): void {
    for (const s of this.#active) this.#drain(s)
    this.#active = []
  }

  /** Closes every open connection now and forgets every backend. */
  closeAll(): void {
    for (const s of this.#all.values()) {
      if (s.drainTimer !== undefined) clearTimeout(s.drainTimer)
      for (const c of [...s.conns]) c.close()
    }
    this.#all.clear()
    this.#active = []
  }

  /** Open connections over all backends, draining ones included. */
  get openConnections(): number {
    let n = 0
    for (const s of this.#all.values()) n += s.conns.size
    return n
  }

  /**
   * The backend for a new connection's next attempt, skipping those in `tried`; undefined when
   * none is left. The first attempt of each connection advances the round-robin position.
   */
  pick(tried: ReadonlySet<BackendState> | undefined): BackendState | undefined {
    const n = this.#active.length
    if (n === 0) return undefined
    if (tried === undefined || tried.size === 0) {
      const s = this.#active[this.#next % n] as BackendState
      this.#next = (this.#next + 1) % n
      return s
    }
    for (let i = 0; i < n; i++) {
      const s = this.#active[(this.#next + i) % n] as BackendState
      if (!tried.has(s)) return s
    }
    return undefined
  }

  /**
   * Records an established connection to `s`. A connection that completes after its backend
   * left the table drains like the others (its deadline counts from now if none is running).
   */
  attach(s: BackendState, conn: PoolConnection): void {
    s.conns.add(conn)
    s.total++
    if (!s.draining || s.drainTimer !== undefined) return
    this.#all.set(s.key, s)
    s.draining = false
    this.#drain(s)
  }

  /** Records the end of a connection; a draining backend with none left is forgotten. */
  detach(s: BackendState, conn: PoolConnection): void {
    if (!s.conns.delete(conn)) return
    if (s.draining && s.conns.size === 0) this.#forget(s)
  }

  /** Counters of every backend, active first (in table order), then draining ones. */
  stats(): MeshBackendStats[] {
    const out = this.#active.map((s) => s.stats())
    for (const s of this.#all.values()) if (s.draining) out.push(s.stats())
    return out
  }

  #drain(s: BackendState): void {
    if (s.draining) return
    s.draining = true
    if (s.conns.size === 0) {
      this.#forget(s)
      return
    }
    s.drainTimer = setTimeout(() => {
      s.drainTimer = undefined
      for (const c of [...s.conns]) c.close()
      this.#forget(s)
    }, this.#drainTimeoutMs)
    s.drainTimer.unref()
  }

  #forget(s: BackendState): void {
    if (s.drainTimer !== undefined) clearTimeout(s.drainTimer)
    s.drainTimer = undefined
    if (this.#all.get(s.key) === s) this.#all.delete(s.key)
  }
}
