/**
 * Health probes of a running container: the contract's `ContainerHealthcheck` semantics on a
 * timer chain (one probe at a time, the next `intervalMs` after the last one ended).
 *
 * @module
 */
import { HEALTHCHECK_DEFAULTS, type ContainerHealthcheck, type HealthStatus } from '@swarmkit-ts/engine-adapter'

/** Construction options of {@link HealthMonitor}. */
export interface HealthMonitorInit {
  readonly check: ContainerHealthcheck
  /** Runs one probe inside the container; resolves with its exit code (non-zero when it timed out or could not run). */
  readonly probe: (timeoutMs: number) => Promise<number>
  /** Called on every change to `healthy` or `unhealthy` (never for the initial `starting`). */
  readonly changed: (health: 'healthy' | 'unhealthy') => void
  /** @default Date.now */
  readonly now?: () => number
}

/**
 * Invariants: `status` is `starting` until the first successful probe or until `retries`
 * consecutive counted failures; failures during `startPeriodMs` after `start()` do not count; once
 * stopped, no probe result changes anything and no probe is started.
 */
export class HealthMonitor {
  #status: HealthStatus = 'starting'
  #failures = 0
  #startedAt = 0
  #timer: NodeJS.Timeout | undefined
  #stopped = false
  readonly #init: HealthMonitorInit
  readonly #now: () => number
  readonly #settings: Required<Omit<ContainerHealthcheck, 'test'>>

  constructor(init: HealthMonitorInit) {
    this.#init = init
    this.#now = init.now ?? Date.now
    const { intervalMs, timeoutMs, retries, startPeriodMs } = { ...HEALTHCHECK_DEFAULTS, ...definedOnly(init.check) }
    this.#settings = { intervalMs, timeoutMs, retries, startPeriodMs }
  }

  /** The current status. */
  get status(): HealthStatus {
    return this.#status
  }

  /** Starts probing (the first probe one interval from now). */
  start(): void {
    this.#startedAt = this.#now()
    this.#schedule()
  }

  /** Stops probing; a probe in flight is ignored when it ends. */
  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  #schedule(): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => void this.#probeOnce(), this.#settings.intervalMs)
  }

  async #probeOnce(): Promise<void> {
    const code = await this.#init.probe(this.#settings.timeoutMs).catch(() => 1)
    if (this.#stopped) return
    if (code === 0) {
      this.#failures = 0
      this.#set('healthy')
    } else if (this.#now() - this.#startedAt >= this.#settings.startPeriodMs) {
      this.#failures++
      if (this.#failures >= this.#settings.retries) this.#set('unhealthy')
    }
    this.#schedule()
  }

  #set(status: 'healthy' | 'unhealthy'): void {
    if (this.#status === status) return
    this.#status = status
    this.#init.changed(status)
  }
}

function definedOnly(check: ContainerHealthcheck): Partial<Omit<ContainerHealthcheck, 'test'>> {
  const out: { -readonly [K in keyof Omit<ContainerHealthcheck, 'test'>]?: number } = {}
  if (check.intervalMs !== undefined) out.intervalMs = check.intervalMs
  if (check.timeoutMs !== undefined) out.timeoutMs = check.timeoutMs
  if (check.retries !== undefined) out.retries = check.retries
  if (check.startPeriodMs !== undefined) out.startPeriodMs = check.startPeriodMs
  return out
}
