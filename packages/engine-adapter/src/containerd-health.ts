/**
 * Health checks for the containerd runtime: probes run inside the running task through Tasks.Exec
 * (same namespaces and root as the container), on the contract's schedule (`starting` → `healthy`
 * after a success, `unhealthy` after `retries` consecutive failures outside the start period).
 * @internal
 */
import type { ContainerHealthcheck, HealthStatus } from './runtime.ts'
import { HEALTHCHECK_DEFAULTS } from './spec-validation.ts'

/** Runs one probe: resolves with its exit code, or rejects (a failure) when it cannot run or times out. */
export type RunProbe = (args: readonly string[], timeoutMs: number) => Promise<number>

/** The probe's argv for a healthcheck `test`. */
export function probeArgs(test: readonly string[]): string[] {
  const [kind, ...rest] = test
  return kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest[0] ?? 'true'] : rest
}

/** A running health-check loop; stop it when the task exits. */
export class HealthMonitor {
  readonly #hc: Required<Omit<ContainerHealthcheck, 'test'>> & { test: readonly string[] }
  readonly #run: RunProbe
  readonly #onChange: (status: HealthStatus) => void
  readonly #startedAt = Date.now()
  #status: HealthStatus = 'starting'
  #failures = 0
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(hc: ContainerHealthcheck, run: RunProbe, onChange: (status: HealthStatus) => void) {
    this.#hc = { ...HEALTHCHECK_DEFAULTS, ...hc }
    this.#run = run
    this.#onChange = onChange
    this.#schedule()
  }

  /** Current status. */
  get status(): HealthStatus {
    return this.#status
  }

  /** Ends the loop (no more probes or events). */
  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  #schedule(): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => void this.#probe(), this.#hc.intervalMs)
    this.#timer.unref()
  }

  async #probe(): Promise<void> {
    let ok: boolean
    try {
      ok = (await this.#run(probeArgs(this.#hc.test), this.#hc.timeoutMs)) === 0
    } catch {
      ok = false
    }
    if (this.#stopped) return
    if (ok) {
      this.#failures = 0
      this.#set('healthy')
    } else if (Date.now() - this.#startedAt >= this.#hc.startPeriodMs) {
      this.#failures++
      if (this.#failures >= this.#hc.retries) this.#set('unhealthy')
    }
    this.#schedule()
  }

  #set(status: HealthStatus): void {
    if (status === this.#status) return
    this.#status = status
    this.#onChange(status)
  }
}
