/**
 * Runtime figures of a fixture process for the benchmark's `stats` request: event-loop
 * utilisation and delay, GC pauses, CPU time, and the durations of storage syncs.
 */
import { PerformanceObserver, constants, monitorEventLoopDelay, performance } from 'node:perf_hooks'
import type { EventLoopUtilization, IntervalHistogram } from 'node:perf_hooks'
import type { DurationSummary, KvNodeStats } from './protocol.ts'

function summarize(values: number[]): DurationSummary {
  const sorted = values.slice().sort((a, b) => a - b)
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0, total: sorted.reduce((a, b) => a + b, 0) }
}

/** Collects the figures once started; `take` reports and starts over. */
export class RuntimeStats {
  #syncs: number[] = []
  #gcs: number[] = []
  #majorGcs: number[] = []
  #since = performance.now()
  #elu: EventLoopUtilization = performance.eventLoopUtilization()
  #cpu = process.cpuUsage()
  readonly #delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 })
  #started = false

  /** Starts collecting (the loop-delay sampling costs a timer wake-up a millisecond, so only on demand). */
  start(): void {
    if (this.#started) return
    this.#started = true
    this.#delay.enable()
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.#gcs.push(e.duration)
        // Mark-compact (NODE_PERFORMANCE_GC_MAJOR): the long pauses.
        if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) this.#majorGcs.push(e.duration)
      }
    }).observe({ entryTypes: ['gc'] })
  }

  /** Wraps a `sync()` so that its durations are recorded. */
  timeSync(sync: () => Promise<void>): () => Promise<void> {
    return () => {
      if (!this.#started) return sync()
      const t0 = performance.now()
      const p = sync()
      void p.then(
        () => this.#syncs.push(performance.now() - t0),
        () => undefined,
      )
      return p
    }
  }

  /** The figures since the last call (or {@link RuntimeStats.start}), then resets them; starts collecting on first use. */
  take(): KvNodeStats {
    this.start()
    const now = performance.now()
    const elu = performance.eventLoopUtilization(this.#elu)
    const cpu = process.cpuUsage(this.#cpu)
    const d = this.#delay
    const ms = (ns: number): number => ns / 1e6
    const stats: KvNodeStats = {
      elapsedMs: now - this.#since,
      loopUtilization: elu.utilization,
      loopDelay: { count: d.count, p50: ms(d.percentile(50)), p99: ms(d.percentile(99)), max: ms(d.max), total: 0 },
      sync: summarize(this.#syncs),
      gc: summarize(this.#gcs),
      majorGc: summarize(this.#majorGcs),
      cpuMs: (cpu.user + cpu.system) / 1000,
    }
    this.#syncs = []
    this.#gcs = []
    this.#majorGcs = []
    this.#since = now
    this.#elu = performance.eventLoopUtilization()
    this.#cpu = process.cpuUsage()
    d.reset()
    return stats
  }
}
