/**
 * The whole cluster in one process under random operations: services created, scaled, updated
 * and removed; nodes crashing (the agent alone, or the machine with its containers) and
 * restarting; messages lost and delayed on the links; leader changes (the manager's loops stopped
 * and started again: a new dispatcher term with its UNKNOWN grace). After healing (every node back, every
 * link whole) and settling, every replicated service runs exactly its replica count of tasks,
 * each slot one task in one container, and every status the dispatcher acknowledged to an agent
 * is in the store (or a later one).
 *
 * Deterministic: the agents keep their task databases in memory (each outlives its agent, as a
 * disk would), with writes that take 0, 3 or 40 ms of virtual time (`SlowTaskDb`: the
 * interleavings of a slow disk, where real files would let the order of I/O completions vary),
 * so a seed replays exactly. Failing cases are kept in `testdata/cluster-regressions.json` (the
 * seed, disk delay and operations) and replayed first.
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InProcessCluster, clusterServiceSpec } from './cluster/in-process-cluster.ts'
import { applyOp, arbOps } from './cluster/ops.ts'
import type { ClusterOp } from './cluster/ops.ts'

const NODES = 3
const RUNS = Number(process.env['CLUSTER_PROPERTY_RUNS'] ?? 200)
/** `file` runs the agents on real task databases (then a seed may not replay exactly). */
const FILES = process.env['CLUSTER_PROPERTY_TASKDB'] === 'file'

/** A kept failing case, as data (it survives changes to the arbitraries, unlike a seed and path). */
interface Regression {
  readonly note: string
  readonly seed: number
  readonly diskMs: number
  readonly ops: ClusterOp[]
}

const regressions = JSON.parse(readFileSync(new URL('./testdata/cluster-regressions.json', import.meta.url), 'utf8')) as Regression[]

/** Runs `ops` on a fresh cluster seeded with `seed`, heals it, and returns the violations left. */
async function runCase(seed: number, diskMs: number, ops: readonly ClusterOp[]): Promise<string[]> {
  const c = await InProcessCluster.start({ nodes: NODES, seed, taskDb: FILES ? 'file' : { slowMs: diskMs } })
  try {
    const services: string[] = [(await c.createService(clusterServiceSpec('s0', 2))).id]
    for (const op of ops) await applyOp(c, services, op)
    await c.heal()
    return await c.converge(600_000, 2_000)
  } finally {
    await c.close()
  }
}

const property = fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.constantFrom(0, 3, 40), arbOps(NODES), async (seed, diskMs, ops) => {
  const violations = await runCase(seed, diskMs, ops)
  expect(violations, `ops: ${JSON.stringify(ops)}`).toEqual([])
})

describe('an in-process cluster under random operations, crashes and faults', () => {
  regressions.forEach((r, i) => {
    it(`converges in kept case ${i + 1}: ${r.note}`, async () => {
      expect(await runCase(r.seed, r.diskMs, r.ops)).toEqual([])
    }, 120_000)
  })

  it(`converges after healing: every replicated service runs its replicas, one task per slot and container, acknowledged statuses stored (${RUNS} runs)`, async () => {
    await fc.assert(property, { numRuns: RUNS })
  }, 1_800_000)
})
