/**
 * Open-ended deterministic simulation ("VOPR-style"): runs random fault schedules on 3 and 5
 * members until stopped (Ctrl-C) or for SOAK_SECONDS, printing progress. Every failure is shrunk,
 * printed with its fast-check seed, and appended to test/testdata/sim-regressions.json, where
 * `simulation-regressions.test.ts` replays it.
 *
 *   pnpm --filter @swarmkit-ts/raft soak
 *   SOAK_SECONDS=600 SOAK_SIZES=5 pnpm --filter @swarmkit-ts/raft soak
 *
 * SOAK_STEPS sets the longest schedule (default 24, twice CI's).
 */
import { cryptoRandom } from '@swarmkit-ts/api'
import { checkSchedules } from '../test/sim/regressions.ts'

const seconds = process.env.SOAK_SECONDS === undefined ? Infinity : Number(process.env.SOAK_SECONDS)
const sizes = (process.env.SOAK_SIZES ?? '3,5').split(',').map(Number)
/** Schedules per fast-check batch (each batch has its own seed). */
const batch = Number(process.env.SOAK_BATCH ?? 50)
const maxSteps = Number(process.env.SOAK_STEPS ?? 24)

const started = performance.now()
let runs = 0
let events = 0
let failures = 0
let stop = false
let lastReport = started
process.on('SIGINT', () => {
  if (stop) process.exit(130)
  stop = true
  console.log('\nstopping after this batch (Ctrl-C again to quit now)')
})

function report(): void {
  const s = (performance.now() - started) / 1000
  console.log(`${s.toFixed(0)} s: ${runs} schedules (${(runs / s).toFixed(1)}/s, ${(events / s).toFixed(0)} events/s), ${failures} failure(s)`)
}

for (let round = 0; !stop && (performance.now() - started) / 1000 < seconds; round++) {
  const size = sizes[round % sizes.length] ?? 3
  const seed = cryptoRandom.int(2 ** 31 - 1)
  const res = await checkSchedules({
    size,
    numRuns: batch,
    seed,
    maxSteps,
    onRun: (r) => {
      runs++
      events += r.events
    },
  })
  if (res.failure !== undefined) {
    failures++
    console.log(`FAILURE on ${size} members, fast-check seed ${seed} path ${res.failure.fcPath ?? '?'}: ${res.failure.error}`)
    console.log(`  schedule (stored in test/testdata/sim-regressions.json): ${JSON.stringify(res.failure.schedule)}`)
  }
  if (performance.now() - lastReport > 10_000) {
    lastReport = performance.now()
    report()
  }
}
report()
process.exit(failures > 0 ? 1 : 0)
