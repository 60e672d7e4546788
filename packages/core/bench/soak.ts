/**
 * The soak of the simulated-cluster property (`pnpm --filter @swarmkit-ts/core soak`): the CI
 * property's cases (test/simulate/cluster-property.test.ts) by the thousand or million, within a
 * time budget, with a progress line every few seconds. Each case is a seed, a cluster size and a
 * schedule of operations and faults; it ends healed and converged and every cluster invariant is
 * checked. A failing case is printed as JSON (ready for test/testdata/sim-regressions.json) with
 * its violations, and appended to bench-results/sim-soak-failures.json.
 *
 * Knobs (environment): `SOAK_BUDGET_S` (wall seconds, default 600), `SOAK_RUNS` (most cases,
 * default 1,000,000), `SOAK_SEED` (first batch seed, default the time), `SOAK_MANAGERS`
 * (default `3,5`), `SOAK_WORKERS` (default `3,4,6`), `SOAK_MAX_LENGTH` (steps, default 20),
 * `SOAK_LOSSY` (`0`: no lost or delayed Raft messages; default: every other case),
 * `SOAK_STOP` (`1`: stop at the first failure), `SOAK_PROGRESS_S` (default 10).
 *
 * @module
 */
import { appendFileSync, mkdirSync } from 'node:fs'
import { cpuUsage } from 'node:process'
import fc from 'fast-check'
import { arbClusterCase, formatViolations, runClusterCase } from '../src/testing.ts'
import type { ClusterCase } from '../src/testing.ts'

const env = (name: string, dflt: string): string => process.env[name] ?? dflt
const list = (s: string): number[] => s.split(',').map(Number)
const BUDGET_MS = Number(env('SOAK_BUDGET_S', '600')) * 1000
const RUNS = Number(env('SOAK_RUNS', '1000000'))
const SEED = Number(env('SOAK_SEED', String(Date.now() % 2 ** 31)))
const LOSSY = env('SOAK_LOSSY', 'mixed')
const STOP = env('SOAK_STOP', '0') === '1'
const PROGRESS_MS = Number(env('SOAK_PROGRESS_S', '10')) * 1000
const BATCH = 100

const arb = arbClusterCase({ managers: list(env('SOAK_MANAGERS', '3,5')), workers: list(env('SOAK_WORKERS', '3,4,6')), maxReplicas: 8, maxLength: Number(env('SOAK_MAX_LENGTH', '20')) })
const start = Date.now()
const cpu0 = cpuUsage()
let done = 0
let failures = 0
let virtualMs = 0
let lastProgress = start

function progress(final: boolean): void {
  const wall = (Date.now() - start) / 1000
  const cpu = cpuUsage(cpu0)
  const line = `${final ? 'done' : 'soak'}: ${done} cases, ${failures} failing, ${(done / Math.max(wall, 0.001)).toFixed(1)}/s, ${wall.toFixed(0)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s CPU, ${(virtualMs / 3_600_000).toFixed(1)} virtual hours`
  process.stdout.write(`${line}\n`)
}

function record(c: ClusterCase, lossy: boolean, message: string): void {
  failures++
  process.stdout.write(`FAILING CASE (lossy ${lossy}): ${JSON.stringify(c)}\n${message}\n`)
  mkdirSync(new URL('../../../bench-results/', import.meta.url), { recursive: true })
  appendFileSync(new URL('../../../bench-results/sim-soak-failures.json', import.meta.url), `${JSON.stringify({ at: new Date().toISOString(), lossy, case: c, violations: message })}\n`)
}

process.stdout.write(`soak: seed ${SEED}, budget ${BUDGET_MS / 1000} s, at most ${RUNS} cases\n`)
outer: for (let batch = 0; done < RUNS; batch++) {
  for (const c of fc.sample(arb, { numRuns: BATCH, seed: SEED + batch })) {
    if (done >= RUNS || Date.now() - start >= BUDGET_MS) break outer
    const lossy = LOSSY === 'mixed' ? done % 2 === 1 : LOSSY !== '0'
    try {
      const r = await runClusterCase(c, lossy ? { simulate: { faults: { messageLoss: 0.05, messageDelayMs: [1, 40] } } } : {})
      virtualMs += r.virtualMs
      if (r.violations.length > 0) record(c, lossy, formatViolations(r.violations))
    } catch (err) {
      record(c, lossy, `threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    }
    done++
    if (failures > 0 && STOP) break outer
    if (Date.now() - lastProgress >= PROGRESS_MS) {
      lastProgress = Date.now()
      progress(false)
    }
  }
}
progress(true)
process.exitCode = failures > 0 ? 1 : 0
