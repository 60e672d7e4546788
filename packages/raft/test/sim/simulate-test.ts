/**
 * The body of the simulation property tests: runs the schedules, and on failure prints how to
 * replay it (the counterexample is also stored in the regression file).
 */
import { checkSchedules } from './regressions.ts'
import type { Regression } from './regressions.ts'

/** The outcome of {@link simulate}. */
export interface SimulateResult {
  runs: number
  expected: number
  seed: number
  failure: Regression | undefined
}

/**
 * Runs random schedules on `size` members: `defaultRuns`, or SIM_RUNS scaled (SIM_RUNS is the
 * count for 3 members; 5 members run two thirds of it). SIM_SEED pins fast-check's seed.
 */
export async function simulate(size: number, defaultRuns: number): Promise<SimulateResult> {
  const env = process.env.SIM_RUNS
  const expected = env === undefined ? defaultRuns : size === 3 ? Number(env) : Math.max(1, Math.round((Number(env) * 2) / 3))
  const seedEnv = process.env.SIM_SEED
  const res = await checkSchedules({ size, numRuns: expected, ...(seedEnv === undefined ? {} : { seed: Number(seedEnv) }) })
  if (res.failure !== undefined) {
    console.error(`simulation failed (fast-check seed ${res.seed}, path ${res.failure.fcPath ?? '?'}): ${res.failure.error}\nschedule: ${JSON.stringify(res.failure.schedule)}`)
  }
  return { runs: res.runs, expected, seed: res.seed, failure: res.failure }
}
