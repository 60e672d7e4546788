/**
 * The one-call property: random simulated clusters under random schedules, each healed and
 * converged, then checked against every cluster invariant and the embedder's own check.
 *
 * @module
 */
import fc from 'fast-check'
import type { SimulateOptions } from '../options.ts'
import { simulateCluster } from '../simulated-cluster.ts'
import type { SimulatedCluster } from '../types.ts'
import { arbClusterSchedule, type ClusterScheduleArbitraryOptions } from './arbitraries.ts'
import { ClusterInvariantError, checkClusterInvariants } from './check.ts'
import { convergeCluster, runClusterSchedule, type ConvergeOptions, type ScheduleRun } from './run-schedule.ts'
import type { ClusterSchedule } from './schedule.ts'
import { ClusterInvariant, type ClusterViolation } from './violations.ts'

/** One case of the property, as data: replayed exactly by {@link runClusterCase}. */
export interface ClusterCase {
  /** The simulation's seed. */
  readonly seed: number
  readonly managers: number
  readonly workers: number
  readonly schedule: ClusterSchedule
}

/** An embedder's own invariant, run after the harness's checks on the converged cluster; throw to fail. */
export type ClusterCheck = (cluster: SimulatedCluster, run: ScheduleRun) => void | Promise<void>

/** Options of {@link runClusterCase}. */
export interface ClusterCaseOptions {
  /** Further simulation options (faults, resources, Raft timing); managers, workers and seed come from the case. */
  readonly simulate?: Omit<SimulateOptions, 'managers' | 'workers' | 'seed'>
  /** How long to let the healed cluster converge. */
  readonly converge?: ConvergeOptions
  /** Search steps per service for the linearizability check. @default 1_000_000 */
  readonly linearizabilitySteps?: number
  /**
   * Runs on the fresh cluster before the schedule: the embedder's own services, labels,
   * networks. The schedule's operations only touch the services it creates itself (`s1`, `s2`…),
   * while its faults (crashes, partitions, drains) hit every node.
   */
  readonly setup?: (cluster: SimulatedCluster) => Promise<void>
}

/** What {@link runClusterCase} found. */
export interface ClusterCaseResult {
  /** Every violation (empty: the case passed the harness's checks). */
  readonly violations: readonly ClusterViolation[]
  /** Virtual ms the whole case took. */
  readonly virtualMs: number
  /** The simulation's trace (to compare two runs of one case). */
  readonly trace: string
}

/**
 * Runs one case on a fresh simulated cluster: `options.setup`, the schedule, then {@link convergeCluster}, then
 * {@link checkClusterInvariants} with the history, then `check` (whose error propagates). The
 * cluster is closed in every case.
 */
export async function runClusterCase(c: ClusterCase, options: ClusterCaseOptions = {}, check?: ClusterCheck): Promise<ClusterCaseResult> {
  const cluster = await simulateCluster({ ...options.simulate, managers: c.managers, workers: c.workers, seed: c.seed })
  try {
    const start = cluster.now()
    await options.setup?.(cluster)
    const run = await runClusterSchedule(cluster, c.schedule)
    const converged = await convergeCluster(cluster, options.converge)
    const violations = checkClusterInvariants(cluster, { history: run.history, ...(options.linearizabilitySteps === undefined ? {} : { linearizabilitySteps: options.linearizabilitySteps }) })
    if (!converged && violations.length === 0) violations.push({ invariant: ClusterInvariant.CONVERGENCE, message: `no leader or no stable converged state within ${options.converge?.maxVirtualMs ?? 600_000} virtual ms` })
    if (violations.length === 0 && check !== undefined) await check(cluster, run)
    return { violations, virtualMs: cluster.now() - start, trace: cluster.trace() }
  } finally {
    await cluster.close()
  }
}

/** Options of {@link arbClusterCase} and {@link clusterProperty}. */
export interface ClusterPropertyOptions extends ClusterScheduleArbitraryOptions, ClusterCaseOptions {
  /** Manager counts to draw from. @default [3] */
  readonly managers?: readonly number[]
  /** Worker counts to draw from. @default [3] */
  readonly workers?: readonly number[]
}

/** Cases of the property: a seed, a cluster size and a schedule. */
export function arbClusterCase(options: ClusterPropertyOptions = {}): fc.Arbitrary<ClusterCase> {
  return fc.record({
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    managers: fc.constantFrom(...(options.managers ?? [3])),
    workers: fc.constantFrom(...(options.workers ?? [3])),
    schedule: arbClusterSchedule(options),
  })
}

/** The property as a fast-check value (to run with your own `fc.assert` parameters): fails with a {@link ClusterInvariantError} naming the case. */
export function clusterProperty(options: ClusterPropertyOptions = {}, check?: ClusterCheck): fc.IAsyncPropertyWithHooks<[ClusterCase]> {
  return fc.asyncProperty(arbClusterCase(options), async (c) => {
    const { violations } = await runClusterCase(c, options, check)
    if (violations.length > 0) throw new ClusterInvariantError(violations, `case ${JSON.stringify(c)}`)
  })
}

/** Options of {@link runClusterProperty}: the property's, and fast-check's run parameters. */
export interface RunClusterPropertyOptions extends ClusterPropertyOptions {
  /** Cases to run. @default 20 */
  readonly numRuns?: number
  /** fast-check's seed (to replay a reported failure with `path`). */
  readonly seed?: number
  /** fast-check's path of a reported failure. */
  readonly path?: string
  /** Stop at the first failure without shrinking it (shrinking reruns many cases). @default false */
  readonly endOnFailure?: boolean
}

/**
 * Runs {@link clusterProperty} with `fc.assert`: rejects with fast-check's report (the smallest
 * failing case found, its seed and path) when a case breaks an invariant or `check` throws.
 */
export async function runClusterProperty(options: RunClusterPropertyOptions = {}, check?: ClusterCheck): Promise<void> {
  await fc.assert(clusterProperty(options, check), {
    numRuns: options.numRuns ?? 20,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.path === undefined ? {} : { path: options.path }),
    endOnFailure: options.endOnFailure ?? false,
  })
}
