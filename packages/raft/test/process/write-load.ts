/**
 * Concurrent writers against a {@link ProcessCluster}: each writes unique keys, records the
 * writes that were acknowledged, and moves to another member when one fails. A write that was
 * not acknowledged is indeterminate: it may or may not be in the log.
 */
import type { ProcessCluster } from './process-cluster.ts'
import { poll } from './process-cluster.ts'

/** Options of a {@link WriteLoad}. */
export interface WriteLoadOptions {
  /** Concurrent writers. @default 4 */
  writers?: number
  /** How long a member may take to apply one write before the attempt is abandoned. @default 4000 */
  timeoutMs?: number
}

/** A write load that can be started and stopped several times (rounds). */
export class WriteLoad {
  /** Acknowledged writes: key → value. */
  readonly acked = new Map<string, string>()
  /** Failed (indeterminate) attempts by error name. */
  readonly failures = new Map<string, number>()
  readonly #cluster: ProcessCluster
  readonly #writers: number
  readonly #timeoutMs: number
  #seq = 0
  #running = false
  #runs: Promise<void>[] = []

  constructor(cluster: ProcessCluster, options: WriteLoadOptions = {}) {
    this.#cluster = cluster
    this.#writers = options.writers ?? 4
    this.#timeoutMs = options.timeoutMs ?? 4000
  }

  /** Attempts made so far. */
  get attempts(): number {
    return this.#seq
  }

  /** Starts the writers; `label` goes into the keys. */
  start(label: string): void {
    if (this.#running) throw new Error('the load is already running')
    this.#running = true
    this.#runs = Array.from({ length: this.#writers }, (_, w) => this.#writer(label, w))
  }

  /** Stops the writers and waits for their last attempts to settle. */
  async stop(): Promise<void> {
    this.#running = false
    await Promise.all(this.#runs)
  }

  /** Waits until at least `count` writes in all were acknowledged. */
  async waitAcked(count: number, deadlineMs = 30_000): Promise<void> {
    await poll(`${count} acknowledged writes (have ${this.acked.size})`, () => Promise.resolve(this.acked.size >= count ? true : undefined), deadlineMs, 20)
  }

  async #writer(label: string, w: number): Promise<void> {
    let target = w
    while (this.#running) {
      const live = this.#cluster.live()
      const p = live[target % Math.max(live.length, 1)]
      const n = this.#seq++
      const key = `${label}-w${w}-${n}`
      const value = `v${n}`
      try {
        if (p === undefined) throw new Error('no live member')
        const r = await p.request('put', { key, value, timeoutMs: this.#timeoutMs }, this.#timeoutMs + 10_000)
        if (r.value !== value) throw new Error(`put ${key} answered ${r.value}, expected ${value}`)
        this.acked.set(key, value)
      } catch (err) {
        const name = err instanceof Error ? err.name : 'unknown'
        this.failures.set(name, (this.failures.get(name) ?? 0) + 1)
        target++
        await new Promise((r) => setTimeout(r, 25))
      }
    }
  }
}
