import { afterAll, afterEach, beforeAll } from 'vitest'
import type { ContainerRuntime, RuntimeContainerSpec, LogLine, RuntimeCapabilities, RuntimeEvent } from '../runtime.ts'

/** What `setup` hands to the compliance suite; `R` is the runtime's own type, handed back to `teardown`. */
export interface ComplianceTarget<R extends ContainerRuntime = ContainerRuntime> {
  /** The runtime under test. */
  runtime: R
  /**
   * A reference to the busybox test image, present locally: `/bin/sh` and the busybox applets
   * (`echo`, `sleep`, `seq`, `cat`, `stat`, `httpd`, …) on `PATH`, no entrypoint, no labels.
   */
  image: string
}

/**
 * Options of `describeContainerRuntimeCompliance`. `R` is inferred from `setup`, so `teardown`
 * gets the runtime with its own type (e.g. to call its `close()`) without a cast.
 */
export interface ComplianceOptions<R extends ContainerRuntime = ContainerRuntime> {
  /** Shown in the suite's name. @default 'runtime' */
  name?: string
  /** Creates the runtime (once, before every test of the suite). */
  setup: () => Promise<ComplianceTarget<R>> | ComplianceTarget<R>
  /** Releases it (once, after the suite). Containers the suite made are already removed. */
  teardown?: (target: ComplianceTarget<R>) => Promise<void> | void
  /** The capabilities the runtime declares; `describe()` must report exactly these. */
  capabilities: RuntimeCapabilities
  /** Per-test time limit in ms. @default 30000 */
  testTimeoutMs?: number
}

/** Label that marks every container of one suite run. */
export const RUN_LABEL = 'swarmkit-ts.compliance.run'
/** Label that marks the containers of one test. */
export const TEST_LABEL = 'swarmkit-ts.compliance.test'

/** A shell loop that exits 0 on SIGTERM, promptly on every runtime (PID 1 or not). */
export const LOOP_UNTIL_TERM = "trap 'exit 0' TERM; echo ready; while true; do sleep 0.1; done"

/** Per-suite state shared by the sections; `target` is valid inside tests only. */
export class Harness {
  readonly options: ComplianceOptions
  readonly runId: string
  readonly timeout: number
  #target: ComplianceTarget | undefined
  #test = 0

  constructor(options: ComplianceOptions) {
    this.options = options
    this.runId = `${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`
    this.timeout = options.testTimeoutMs ?? 30_000
    beforeAll(async () => {
      this.#target = await options.setup()
    }, 120_000)
    afterEach(async () => {
      await this.removeAll({ [RUN_LABEL]: this.runId, [TEST_LABEL]: String(this.#test) })
      this.#test++
    }, 60_000)
    afterAll(async () => {
      if (this.#target === undefined) return
      await this.removeAll({ [RUN_LABEL]: this.runId })
      await options.teardown?.(this.#target)
      this.#target = undefined
    }, 120_000)
  }

  get runtime(): ContainerRuntime {
    if (this.#target === undefined) throw new Error('compliance setup did not run')
    return this.#target.runtime
  }

  get image(): string {
    if (this.#target === undefined) throw new Error('compliance setup did not run')
    return this.#target.image
  }

  /** The labels that scope containers, lists and events to the current test. */
  labels(): Record<string, string> {
    return { [RUN_LABEL]: this.runId, [TEST_LABEL]: String(this.#test) }
  }

  /** A spec for the test image, labelled for the current test. */
  spec(rest: Omit<RuntimeContainerSpec, 'image'> = {}): RuntimeContainerSpec {
    return { image: this.image, ...rest, labels: { ...this.labels(), ...rest.labels } }
  }

  /** `sh -c script` as a spec. */
  sh(script: string, rest: Omit<RuntimeContainerSpec, 'image' | 'command' | 'args'> = {}): RuntimeContainerSpec {
    return this.spec({ ...rest, command: ['sh', '-c', script] })
  }

  /** Creates, starts and waits; returns the id and exit code. */
  async run(spec: RuntimeContainerSpec): Promise<{ id: string; exitCode: number }> {
    const id = await this.runtime.create(spec)
    await this.runtime.start(id)
    const exitCode = await this.runtime.wait(id)
    return { id, exitCode }
  }

  /** Creates and starts a container running {@link LOOP_UNTIL_TERM}, resolving once it printed `ready`. */
  async runLoop(rest: Omit<RuntimeContainerSpec, 'image' | 'command' | 'args'> = {}): Promise<string> {
    const id = await this.runtime.create(this.sh(LOOP_UNTIL_TERM, rest))
    await this.runtime.start(id)
    await this.waitForLine(id, 'ready')
    return id
  }

  /** Every log line so far (no follow). */
  async logs(id: string, options: { tail?: number; since?: number } = {}): Promise<LogLine[]> {
    const out: LogLine[] = []
    for await (const line of this.runtime.logs(id, options)) out.push(line)
    return out
  }

  /** The stdout lines so far, as strings. */
  async stdout(id: string): Promise<string[]> {
    return (await this.logs(id)).filter((l) => l.stream === 'stdout').map((l) => l.line)
  }

  /** Follows the logs until a line equal to `text` appears. */
  async waitForLine(id: string, text: string): Promise<void> {
    const ac = new AbortController()
    const timer = setTimeout(() => ac.abort(), this.timeout)
    try {
      for await (const l of this.runtime.logs(id, { follow: true, signal: ac.signal })) if (l.line === text) return
    } finally {
      clearTimeout(timer)
      ac.abort()
    }
    throw new Error(`container ${id} never printed ${JSON.stringify(text)}`)
  }

  /** Polls `inspect` until `predicate` holds. */
  async poll<T>(read: () => Promise<T>, predicate: (value: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + this.timeout
    for (;;) {
      const value = await read()
      if (predicate(value)) return value
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(value)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /** Starts an event subscription for the current test's labels (fixed at call time). */
  subscribe(since?: string): EventCollector {
    return new EventCollector(this.runtime, this.labels(), since, this.timeout)
  }

  async removeAll(labels: Record<string, string>): Promise<void> {
    if (this.#target === undefined) return
    const rt = this.#target.runtime
    const infos = await rt.list({ labels })
    await Promise.all(infos.map((i) => rt.remove(i.id, { force: true }).catch(() => undefined)))
  }
}

/** Collects the events of one subscription in the background. */
export class EventCollector {
  readonly events: RuntimeEvent[] = []
  readonly #ac = new AbortController()
  readonly #done: Promise<void>
  readonly #timeout: number
  #error: unknown
  #wake: (() => void) | undefined

  constructor(runtime: ContainerRuntime, labels: Record<string, string>, since: string | undefined, timeout: number) {
    this.#timeout = timeout
    const iterable = runtime.events({ labels, signal: this.#ac.signal, ...(since === undefined ? {} : { since }) })
    this.#done = (async () => {
      try {
        for await (const e of iterable) {
          this.events.push(e)
          this.#wake?.()
        }
      } catch (err) {
        this.#error = err
      }
      this.#wake?.()
    })()
  }

  /** Resolves once `predicate(events)` holds; throws on timeout or a stream error. */
  async until(predicate: (events: readonly RuntimeEvent[]) => boolean, what: string): Promise<RuntimeEvent[]> {
    const deadline = Date.now() + this.#timeout
    while (!predicate(this.events)) {
      if (this.#error !== undefined) throw this.#error as Error
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for events: ${what}; got ${JSON.stringify(this.events.map((e) => `${e.type}:${e.id}`))}`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200))
        this.#wake = () => {
          clearTimeout(t)
          resolve()
        }
      })
      this.#wake = undefined
    }
    return [...this.events]
  }

  /** Ends the subscription and waits for the iteration to finish (it must end without error). */
  async close(): Promise<RuntimeEvent[]> {
    this.#ac.abort()
    await this.#done
    if (this.#error !== undefined) throw this.#error as Error
    return [...this.events]
  }
}

/** The events of one container, as `type` or `die:<code>` / `health:<status>`. */
export function eventTrail(events: readonly RuntimeEvent[], id: string): string[] {
  return events
    .filter((e) => e.id === id)
    .map((e) => (e.type === 'die' ? `die:${e.exitCode}` : e.type === 'health' ? `health:${e.health}` : e.type))
}

/** A container id that no runtime has issued. */
export function missingId(): string {
  return `swarmkit-ts-missing-${Math.floor(Math.random() * 1e12).toString(16)}`
}
