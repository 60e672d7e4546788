/**
 * A closed-loop load generator shared by every benchmark: `concurrency` workers each issue one
 * operation at a time for `durationMs`; reports throughput and latency percentiles.
 */
export interface LoadResult {
  ops: number
  errors: number
  seconds: number
  perSecond: number
  p50Ms: number
  p99Ms: number
}

export async function runLoad(concurrency: number, durationMs: number, op: (worker: number, seq: number) => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = []
  let errors = 0
  let stop = false
  const start = performance.now()
  const worker = async (w: number): Promise<void> => {
    for (let seq = 0; !stop; seq++) {
      const t0 = performance.now()
      try {
        await op(w, seq)
        latencies.push(performance.now() - t0)
      } catch {
        errors++
      }
    }
  }
  const timer = setTimeout(() => (stop = true), durationMs)
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)))
  clearTimeout(timer)
  const seconds = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN
  return { ops: latencies.length, errors, seconds, perSecond: latencies.length / seconds, p50Ms: pct(50), p99Ms: pct(99) }
}
