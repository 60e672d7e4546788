import { describe, expect, it } from 'vitest'
import type { SimulateOptions } from '../../src/testing.ts'
import { simulateCluster } from '../../src/testing.ts'

/** A fixed scenario: services, a leader crash, a partition, a worker crash; returns the trace. */
async function scenario(options: SimulateOptions): Promise<string> {
  const sim = await simulateCluster(options)
  try {
    const web = await sim.services.create({ annotations: { name: 'web' }, mode: { replicated: { replicas: 5 } }, task: { container: { image: 'busybox:fake' } } })
    await sim.services.create({ annotations: { name: 'agent' }, mode: { global: {} }, task: { container: { image: 'busybox:fake' } } })
    await sim.services.waitConverged(web.id)
    sim.crash(sim.leader()!.id)
    await sim.runUntil(() => sim.leader() !== undefined)
    await sim.services.scale(web.id, 7)
    const worker = sim.members().find((m) => m.role === 'worker')!
    sim.partition([worker.id])
    await sim.advance(20_000)
    sim.heal()
    sim.crash(sim.members().filter((m) => m.role === 'worker')[1]!.id)
    await sim.advance(20_000)
    await sim.services.waitConverged(web.id)
    return sim.trace()
  } finally {
    await sim.close()
  }
}

const faulty: SimulateOptions = { managers: 3, workers: 4, faults: { messageLoss: 0.05, messageDelayMs: [1, 20], taskFailureRate: 0.2 } }

describe('simulation determinism', () => {
  it('replays byte for byte from the same seed, faults included', async () => {
    const a = await scenario({ ...faulty, seed: 5 })
    const b = await scenario({ ...faulty, seed: 5 })
    expect(a.length > 1000).toBe(true)
    expect(b).toBe(a)
  })

  it('runs differently from another seed', async () => {
    const a = await scenario({ ...faulty, seed: 5 })
    const c = await scenario({ ...faulty, seed: 6 })
    expect(c === a).toBe(false)
  })
})
