/**
 * Runs the embedder's property from the command line (`pnpm start`): `RUNS` random cases
 * (default 100), each a simulated cluster under a random schedule, converged, then checked
 * against SwarmKit's guarantees and the spread rule. Prints fast-check's report on a failure.
 */
import { runClusterProperty } from '@swarmkit-ts/core/testing'
import { checkSpread, createSpreadService } from './spread.ts'

const runs = Number(process.env['RUNS'] ?? 100)
const started = Date.now()
await runClusterProperty({ numRuns: runs, managers: [3], workers: [3, 5], setup: (cluster) => createSpreadService(cluster) }, async (cluster) => {
  const violations = await checkSpread(cluster)
  if (violations.length > 0) throw new Error(violations.join('\n'))
})
process.stdout.write(`${runs} simulated clusters converged with every invariant holding (${((Date.now() - started) / 1000).toFixed(1)} s)\n`)
