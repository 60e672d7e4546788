/**
 * The harness on real simulated clusters: the schedule runner records every call with its
 * outcome, the invariants fail an unconverged cluster and pass it once converged, a case replays
 * byte for byte, and an embedder's failing check fails the property.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  ClusterInvariantError,
  assertClusterInvariants,
  checkClusterInvariants,
  convergeCluster,
  runClusterCase,
  runClusterProperty,
  runClusterSchedule,
} from '../../src/simulate/harness/index.ts'
import type { ClusterCase, ClusterSchedule } from '../../src/simulate/harness/index.ts'
import { simulateCluster } from '../../src/simulate/index.ts'
import type { SimulatedCluster } from '../../src/simulate/index.ts'

const create = (replicas: number | null): ClusterSchedule[number] => ({
  kind: 'create-service',
  replicas,
  reserveNanoCpus: 0,
  maxReplicasPerNode: 0,
  failureAction: 'pause',
  order: 'stop-first',
  parallelism: 1,
})

let cluster: SimulatedCluster | undefined
afterEach(async () => {
  await cluster?.close()
  cluster = undefined
})

describe('the harness on a simulated cluster', () => {
  it('records each call of a schedule with its outcome: acknowledged writes with their versions, refusals with their error', async () => {
    cluster = await simulateCluster({ managers: 3, workers: 2, seed: 5 })
    const run = await runClusterSchedule(cluster, [create(2), create(null), { kind: 'scale-service', service: 1, replicas: 3 }, { kind: 'rollback-service', service: 0 }, { kind: 'read-service', service: 0 }])
    expect(run.services).toEqual(['s1', 's2'])
    const calls = run.history.serviceCalls.map((c) => ({ input: c.operation.input, output: c.operation.output, versioned: c.version !== undefined }))
    expect(calls).toEqual([
      { input: { type: 'create', name: 's1', value: { token: 'w1', replicas: 2, rollbackOnFailure: false } }, output: { ok: true }, versioned: true },
      { input: { type: 'create', name: 's2', value: { token: 'w2', replicas: null, rollbackOnFailure: false } }, output: { ok: true }, versioned: true },
      { input: { type: 'scale', name: 's2', replicas: 3 }, output: { ok: false, error: 'failed-precondition' }, versioned: false },
      { input: { type: 'rollback', name: 's1' }, output: { ok: false, error: 'failed-precondition' }, versioned: false },
      { input: { type: 'get', name: 's1' }, output: { ok: true, value: { token: 'w1', replicas: 2, rollbackOnFailure: false } }, versioned: false },
    ])
  }, 60_000)

  it('fails a cluster that has not converged yet with one error listing the violations, and passes it once converged', async () => {
    cluster = await simulateCluster({ managers: 3, workers: 2, seed: 6 })
    const run = await runClusterSchedule(cluster, [create(3)])
    const error = (() => {
      try {
        assertClusterInvariants(cluster, { history: run.history })
      } catch (err) {
        return err
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(ClusterInvariantError)
    expect((error as ClusterInvariantError).violations.map((v) => v.invariant)).toContain('replicas')
    expect(checkClusterInvariants(cluster, { history: run.history, converged: false })).toEqual([])
    expect(await convergeCluster(cluster)).toBe(true)
    expect(checkClusterInvariants(cluster, { history: run.history })).toEqual([])
    const running = (await cluster.tasks.list()).filter((t) => t.status.state === 512 && t.desiredState === 512)
    expect(running.length).toBe(3)
  }, 60_000)

  it('replays a case byte for byte: the same seed and schedule give the same trace and outcome', async () => {
    const c: ClusterCase = {
      seed: 11,
      managers: 3,
      workers: 3,
      schedule: [create(4), { kind: 'crash-leader' }, { kind: 'update-service', service: 0, failureAction: 'rollback' }, { kind: 'crash-worker', worker: 1 }, { kind: 'fail-task', task: 2 }],
    }
    const first = await runClusterCase(c)
    const second = await runClusterCase(c)
    expect(first.violations).toEqual([])
    expect(second.virtualMs).toBe(first.virtualMs)
    expect(second.trace === first.trace).toBe(true)
  }, 120_000)

  it('fails the property with the case when the embedder check throws', async () => {
    const failing = runClusterProperty({ numRuns: 3, seed: 1, endOnFailure: true, maxLength: 2, faults: false }, () => {
      throw new Error('the embedder says no')
    })
    const error = await failing.then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(error).toBeInstanceOf(Error)
    expect(String((error as Error).message)).toMatch(/Property failed after 1 tests/)
    expect(String(((error as Error).cause as Error | undefined)?.message)).toBe('the embedder says no')
  }, 120_000)
})
