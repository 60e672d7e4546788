/**
 * Failing schedules kept as regression cases in `test/testdata/sim-regressions.json`: the
 * property tests and the soak script append every counterexample they find, and
 * `simulation-regressions.test.ts` replays each one exactly.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { runSimulation } from './run-simulation.ts'
import type { RunReport } from './run-simulation.ts'
import { scheduleArb } from './schedule.ts'
import type { Schedule } from './schedule.ts'

/** One stored failure. */
export interface Regression {
  /**
   * `open`: a known bug not fixed yet — the replay must still fail the same way (so the repro
   * stays valid; flip it to `fixed` with the fix). Absent or `fixed`: the replay must pass.
   */
  readonly status?: 'open' | 'fixed'
  /** What the bug is (and, once fixed, what fixed it). */
  readonly note?: string
  /** What broke, as first reported. */
  readonly error: string
  /**
   * fast-check's seed and path when found (informational: they replay only against the
   * `scheduleArb` of that time; the stored schedule replays always).
   */
  readonly fcSeed?: number
  readonly fcPath?: string
  /**
   * The (shrunk) failing schedule, replayed as is against the current harness (a change to the
   * harness — network, disk, workload — can change what a stored schedule does: re-check the
   * open entries then).
   */
  readonly schedule: Schedule
}

/** The regression file. */
export const REGRESSIONS_FILE = fileURLToPath(new URL('../testdata/sim-regressions.json', import.meta.url))

/** The stored regressions. */
export function loadRegressions(file = REGRESSIONS_FILE): Regression[] {
  return JSON.parse(readFileSync(file, 'utf8')) as Regression[]
}

/** Appends a failure (unless the same schedule is already stored). */
export function recordRegression(r: Regression, file = REGRESSIONS_FILE): void {
  const all = loadRegressions(file)
  const key = JSON.stringify(r.schedule)
  if (all.some((x) => JSON.stringify(x.schedule) === key)) return
  all.push(r)
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`)
}

/** Options of {@link checkSchedules}. */
export interface CheckSchedulesOptions {
  size: number
  numRuns: number
  /** fast-check seed (random when absent). */
  seed?: number
  /** Called after each run with its report. */
  onRun?: (report: RunReport) => void
  /** Store a failure in the regression file. @default true */
  record?: boolean
  /** Longest schedule (see `ScheduleArbOptions.maxSteps`). */
  maxSteps?: number
}

/** The outcome of {@link checkSchedules}. */
export interface CheckSchedulesResult {
  seed: number
  runs: number
  failure?: Regression
}

/**
 * Runs `numRuns` random schedules as a fast-check property; on failure shrinks it, stores the
 * counterexample as a regression and returns it.
 */
export async function checkSchedules(opts: CheckSchedulesOptions): Promise<CheckSchedulesResult> {
  const prop = fc.asyncProperty(scheduleArb({ size: opts.size, ...(opts.maxSteps === undefined ? {} : { maxSteps: opts.maxSteps }) }), async (s) => {
    const report = await runSimulation(s)
    opts.onRun?.(report)
  })
  const details = await fc.check(prop, opts.seed === undefined ? { numRuns: opts.numRuns } : { numRuns: opts.numRuns, seed: opts.seed })
  if (!details.failed || details.counterexample === null) return { seed: details.seed, runs: details.numRuns }
  const [schedule] = details.counterexample
  const err = details.errorInstance
  const failure: Regression = {
    error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    fcSeed: details.seed,
    ...(details.counterexamplePath === null ? {} : { fcPath: details.counterexamplePath }),
    schedule,
  }
  if (opts.record ?? true) recordRegression(failure)
  return { seed: details.seed, runs: details.numRuns, failure }
}
