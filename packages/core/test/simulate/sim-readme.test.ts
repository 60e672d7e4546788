import { afterEach, describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import { simulateCluster } from '../../src/testing.ts'
import type { SimulatedCluster } from '../../src/testing.ts'

let sim: SimulatedCluster | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

describe('the README scenario', () => {
  it('6 replicas converge; after a leader crash a new leader converges a scale to 8', async () => {
    sim = await simulateCluster({ managers: 3, workers: 3, seed: 7 })
    expect(sim.leader()).toBeDefined()
    const svc = await sim.services.create({ annotations: { name: 'web' }, mode: { replicated: { replicas: 6 } }, task: { container: { image: 'busybox:fake' } } })
    await sim.services.waitConverged(svc.id)
    const running = (await sim.tasks.list({ serviceIds: [svc.id] })).filter((t) => t.status.state === TaskState.RUNNING)
    expect(running.length).toBe(6)
    const old = sim.leader()!
    sim.crash(old.id)
    await sim.runUntil(() => sim!.leader() !== undefined && sim!.leader()!.id !== old.id)
    await sim.services.scale(svc.id, 8)
    await sim.services.waitConverged(svc.id)
    const running2 = (await sim.tasks.list({ serviceIds: [svc.id] })).filter((t) => t.status.state === TaskState.RUNNING)
    expect(running2.length).toBe(8)
  })
})
