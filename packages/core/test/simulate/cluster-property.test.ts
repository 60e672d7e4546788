/**
 * Our own cluster-level property, on the harness we ship: hundreds of seeded schedules on
 * simulated clusters of 3 and 5 managers and 3 to 6 workers — services created, updated,
 * scaled, rolled back and removed, nodes drained and paused, while workers crash, leaders are
 * killed, partitions cut the cluster, Raft disks slow down, tasks fail and messages are lost and
 * delayed. Each schedule ends healed (partition removed, every node restarted) and converged,
 * then every invariant must hold: replicas, global services, resources, placement, updates ended
 * as their policy says, no acknowledged write lost, the managers' stores agree, and the history
 * of control calls is linearizable.
 *
 * Failing cases are kept in `testdata/sim-regressions.json` (by name, as data) and replayed
 * first, each as its own test. `CLUSTER_SIM_RUNS` sets the number of random cases (default 320),
 * `CLUSTER_SIM_SEED` fast-check's seed (to replay a reported failure).
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatViolations, runClusterCase } from '../../src/simulate/harness/index.ts'
import type { ClusterCase, ClusterCaseOptions, ClusterPropertyOptions } from '../../src/simulate/harness/index.ts'
import { arbClusterCase } from '../../src/simulate/harness/property.ts'

/** A kept failing case. */
interface Regression {
  readonly name: string
  readonly note: string
  readonly simulate?: ClusterCaseOptions['simulate']
  readonly case: ClusterCase
}

const regressions = JSON.parse(readFileSync(new URL('../testdata/sim-regressions.json', import.meta.url), 'utf8')) as Regression[]
const RUNS = Number(process.env['CLUSTER_SIM_RUNS'] ?? 320)
const SEED = process.env['CLUSTER_SIM_SEED'] === undefined ? undefined : Number(process.env['CLUSTER_SIM_SEED'])

/** Background faults of half the cases: lost and delayed Raft messages. */
const LOSSY: ClusterCaseOptions['simulate'] = { faults: { messageLoss: 0.05, messageDelayMs: [1, 40] } }

const OPTIONS: ClusterPropertyOptions = { managers: [3, 5], workers: [3, 4, 6], maxReplicas: 8, maxLength: 16 }

describe('simulated clusters under random operations and faults', () => {
  for (const r of regressions) {
    it(`kept case ${r.name}: converges with every invariant holding`, async () => {
      const { violations } = await runClusterCase(r.case, r.simulate === undefined ? {} : { simulate: r.simulate })
      expect(formatViolations(violations)).toBe('')
    }, 120_000)
  }

  it(`converge after healing with every invariant holding: replicas, global, resources, placement, updates, acknowledged writes, agreement, linearizability (${RUNS} schedules, 3 and 5 managers)`, async () => {
    const property = fc.asyncProperty(arbClusterCase(OPTIONS), fc.boolean(), async (c, lossy) => {
      const { violations } = await runClusterCase(c, lossy ? { simulate: LOSSY } : {})
      expect(formatViolations(violations), `case ${JSON.stringify(c)}, lossy ${lossy}`).toBe('')
    })
    await fc.assert(property, { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) })
  }, 600_000)
})
