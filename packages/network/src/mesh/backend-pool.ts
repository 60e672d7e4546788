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
  /** Whether it failed lately and is passed over until its pause ends (see `BackendPool`). */
  readonly paused: boolean
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
  /** Consecutive failures (reset by an established connection). */
  streak = 0
  /** Until when (`performance.now()` ms) it is passed over after a failure. */
  pausedUntil = 0
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
    const paused = this.pausedUntil > performance.now()
    return { taskId: this.taskId, host: this.host, port: this.port, active: this.conns.size, total: this.total, failed: this.failed, draining: this.draining, paused }
  }
}

/** Identity of a backend: the same task at another address is another backend. */
export function backendKey(b: MeshBackend): string {
  return `${b.taskId} ${b.host} ${b.port}`
}

/**
 * The backends of one port. New connections go round-robin over the current backends; a failed
 * attempt moves on to the next backend not yet tried for that connection. A backend that failed
 * is passed over for `failurePauseMs` (doubling with each consecutive failure, up to 32×), unless
 * every backend is paused — so a dead backend costs one failed attempt per pause, not one per
 * k connections, until the table drops it. A backend removed by {@link update} takes no new
 * connection; its open ones go on and are closed `drainTimeoutMs` after the removal if still open.
 */
export class BackendPool {
  readonly #drainTimeoutMs: number
  #active: BackendState[] = []
  /** Every backend with state: the active ones and the draining ones with open connections. */
  readonly #all = new Map<string, BackendState>()
  #next = 0

  readonly #failurePauseMs: number

  /**
   * @param drainTimeoutMs - how long a removed backend's connections may go on.
   * @param failurePauseMs - how long a backend that failed is passed over (0: never).
   */
  constructor(drainTimeoutMs: number, failurePauseMs: number) {
    this.#drainTimeoutMs = drainTimeoutMs
    this.#failurePauseMs = failurePauseMs
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
   * The backend for a connection's next attempt: the next one in round-robin order not in
   * `tried` and not paused (a paused one if nothing else is left); undefined when every backend
   * was tried. The round-robin position moves past the backend returned.
   */
  pick(tried: ReadonlySet<BackendState> | undefined): BackendState | undefined {
    const n = this.#active.length
    if (n === 0) return undefined
    let fallback = -1
    let now = -1
    for (let i = 0; i < n; i++) {
      const at = (this.#next + i) % n
      const s = this.#active[at] as BackendState
      if (tried?.has(s) === true) continue
      if (s.pausedUntil > 0) {
        if (now < 0) now = performance.now()
        if (s.pausedUntil > now) {
          if (fallback < 0) fallback = at
          continue
        }
      }
      this.#next = (at + 1) % n
      return s
    }
    if (fallback < 0) return undefined
    this.#next = (fallback + 1) % n
    return this.#active[fallback]
  }

  /** Records a failed attempt on `s`: it is paused (see the class). */
  failed(s: BackendState): void {
    s.failed++
    s.streak++
    if (this.#failurePauseMs > 0) s.pausedUntil = performance.now() + this.#failurePauseMs * 2 ** Math.min(s.streak - 1, 5)
  }

  /**
   * Records an established connection to `s`. A connection that completes after its backend
   * left the table drains like the others (its deadline counts from now if none is running).
   */
  attach(s: BackendState, conn: PoolConnection): void {
    s.conns.add(conn)
    s.total++
    s.streak = 0
    s.pausedUntil = 0
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
