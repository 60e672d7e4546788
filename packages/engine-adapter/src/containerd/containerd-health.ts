/**
 * Health checks for the containerd runtime: probes run inside the running task through Tasks.Exec
 * (same namespaces and root as the container), on the contract's schedule (`starting` → `healthy`
 * after a success, `unhealthy` after `retries` consecutive failures outside the start period).
 * @internal
 */
import type { ContainerdGrpc } from './containerd-grpc.ts'
import { ociProcess, OCI_PROCESS_TYPE_URL } from './containerd-spec.ts'
import type { ContainerHealthcheck, HealthStatus } from '../runtime.ts'
import { HEALTHCHECK_DEFAULTS } from '../shared/spec-validation.ts'

/**
 * Runs one probe: resolves with its exit code, or rejects (a failure) when it cannot run or times
 * out; resolves with `undefined` when the engine could not be reached (containerd restarting) —
 * that probe counts neither way.
 */
export type RunProbe = (args: readonly string[], timeoutMs: number) => Promise<number | undefined>

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
    let code: number | undefined
    try {
      code = await this.#run(probeArgs(this.#hc.test), this.#hc.timeoutMs)
    } catch {
      code = -1
    }
    if (this.#stopped) return
    if (code === undefined) {
      // The engine was unreachable: the container's health is unknown, not worse.
      this.#schedule()
      return
    }
    if (code === 0) {
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

const TASKS = 'containerd.services.tasks.v1.Tasks'

/** Runs `args` in the container's task through Tasks.Exec; SIGKILLs it after `timeoutMs` (then rejects). */
export async function execProbe(
  c: ContainerdGrpc,
  p: { containerId: string; execId: string; args: readonly string[]; env: readonly string[]; timeoutMs: number },
): Promise<number> {
  const { containerId, execId } = p
  await c.unary(TASKS, 'Exec', {
    containerId, execId, terminal: false, stdout: '', stderr: '', stdin: '',
    spec: { type_url: OCI_PROCESS_TYPE_URL, value: Buffer.from(JSON.stringify(ociProcess(p.args, p.env, '/'))) },
  })
  try {
    const waited = c.unary(TASKS, 'Wait', { containerId, execId })
    await c.unary(TASKS, 'Start', { containerId, execId })
    let timer: NodeJS.Timeout | undefined
    const res = await Promise.race([
      waited,
      new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), p.timeoutMs) }),
    ])
    clearTimeout(timer)
    if (res === undefined) {
      await c.unary(TASKS, 'Kill', { containerId, execId, signal: 9 }).catch(() => undefined)
      await waited.catch(() => undefined)
      throw new Error(`health probe timed out after ${p.timeoutMs} ms`)
    }
    return Number(res['exitStatus'] ?? 255)
  } finally {
    await c.unary(TASKS, 'DeleteProcess', { containerId, execId }).catch(() => undefined)
  }
}
