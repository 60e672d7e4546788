/**
 * The embedder's property in CI: random simulated clusters (3 managers, 3 or 5 workers) under
 * random operations and faults, each with the spread service created first; after converging,
 * SwarmKit's guarantees hold (the harness) and so does the embedder's rule (`checkSpread`). And a
 * control: the rule catches a service that breaks it.
 */
import { TaskState } from '@swarmkit-ts/api'
import { convergeCluster, runClusterProperty, simulateCluster } from '@swarmkit-ts/core/testing'
import type { SimulatedCluster } from '@swarmkit-ts/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { checkSpread, createSpreadService, spreadServiceSpec } from '../src/spread.ts'

let cluster: SimulatedCluster | undefined
afterEach(async () => {
  await cluster?.close()
  cluster = undefined
})

describe('the spread rule on simulated clusters', () => {
  it('holds after converging, with every harness invariant, under random operations and faults (40 cases)', async () => {
    await runClusterProperty({ numRuns: 40, seed: 21, managers: [3], workers: [3, 5], maxLength: 12, setup: (c) => createSpreadService(c) }, async (c) => {
      expect(await checkSpread(c)).toEqual([])
    })
  })

  it('runs one task per node, as many as there are nodes for, and catches a service that cannot run (which the harness allows)', async () => {
    cluster = await simulateCluster({ managers: 3, workers: 2, seed: 3 })
    await createSpreadService(cluster, 3)
    expect(await convergeCluster(cluster)).toBe(true)
    expect(await checkSpread(cluster)).toEqual([])
    const running = (await cluster.tasks.list()).filter((t) => t.status.state === TaskState.RUNNING)
    expect(new Set(running.map((t) => t.nodeId)).size).toBe(2)
    // A spread service no node satisfies: SwarmKit's guarantees allow it (nothing fits), the embedder's rule does not.
    const base = spreadServiceSpec(2)
    await cluster.services.create({ ...base, annotations: { name: 'other' }, task: { ...base.task, placement: { maxReplicas: 1, constraints: ['node.labels.zone == nowhere'] } } })
    expect(await convergeCluster(cluster)).toBe(true)
    expect(await checkSpread(cluster)).toEqual(['other: 0 tasks running, want at least 2'])
  })
})
