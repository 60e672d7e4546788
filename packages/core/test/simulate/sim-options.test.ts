import { describe, expect, it } from 'vitest'
import { Cluster } from '../../src/index.ts'
import { SimulationDeadlineError, simulateCluster } from '../../src/testing.ts'
import type { SimulateOptions } from '../../src/testing.ts'

/** Real timers of this process (a simulation must never add one; vitest's own come and go). */
function realTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

describe('SimulateOptions validation', () => {
  const bad: [string, SimulateOptions][] = [
    ['managers', { managers: 0 }],
    ['managers', { managers: 8 }],
    ['managers', { managers: 1.5 }],
    ['workers', { workers: -1 }],
    ['seed', { seed: Number.NaN }],
    ['runtime', { runtime: 'docker' as 'fake' }],
    ['faults.messageLoss', { faults: { messageLoss: 2 } }],
    ['faults.taskFailureRate', { faults: { taskFailureRate: -0.1 } }],
    ['faults.messageDelayMs[1]', { faults: { messageDelayMs: [5, 1] } }],
    ['nodeResources.memoryBytes', { nodeResources: { nanoCpus: 1e9, memoryBytes: 0 } }],
    ['raft.tickMs', { raft: { tickMs: 0 } }],
    ['raft.electionTick', { raft: { heartbeatTick: 3, electionTick: 3 } }],
    ['heartbeatPeriodMs', { heartbeatPeriodMs: -5 }],
    ['trace', { trace: 'yes' as unknown as boolean }],
    ['color', { color: 'red' } as unknown as SimulateOptions],
  ]
  for (const [field, options] of bad) {
    it(`refuses a bad ${field} with InvalidArgumentError naming it`, async () => {
      await expect(simulateCluster(options)).rejects.toMatchObject({ name: 'InvalidArgumentError', field })
    })
  }
})

describe('simulated cluster lifecycle', () => {
  it('Cluster.simulate is simulateCluster: one manager, no worker, defaults elsewhere', async () => {
    const sim = await Cluster.simulate({ managers: 1, workers: 0, seed: 3 })
    try {
      expect(sim.seed).toBe(3)
      expect(sim.members().map((m) => [m.hostname, m.role, m.up])).toEqual([['manager-0', 'manager', true]])
      expect(sim.leader()?.hostname).toBe('manager-0')
      expect((await sim.getCluster()).spec.annotations.name).toBe('default')
      expect((await sim.joinTokens()).worker.startsWith('SWMTKN-1-')).toBe(true)
      expect(sim.raftStatus().members.map((m) => m.nodeId)).toEqual([sim.leader()!.id])
    } finally {
      await sim.close()
    }
  })

  it('uses no real timer while it runs, and refuses calls once closed', async () => {
    const before = realTimers()
    const sim = await simulateCluster({ managers: 3, workers: 2, seed: 4 })
    const svc = await sim.services.create({ annotations: { name: 'web' }, mode: { replicated: { replicas: 3 } }, task: { container: { image: 'busybox:fake' } } })
    await sim.services.waitConverged(svc.id)
    await sim.advance(60_000)
    expect(realTimers() <= before).toBe(true)
    await sim.close()
    await sim.close()
    expect(realTimers() <= before).toBe(true)
    expect(sim.members().every((m) => !m.up)).toBe(true)
    await expect(sim.services.list()).rejects.toMatchObject({ name: 'UnavailableError' })
  })

  it('runUntil gives up after its bound with SimulationDeadlineError (reason deadline)', async () => {
    const sim = await simulateCluster({ managers: 1, workers: 1, seed: 5 })
    try {
      const start = sim.now()
      const err: unknown = await sim.runUntil(() => false, { maxVirtualMs: 5_000 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(SimulationDeadlineError)
      expect(err).toMatchObject({ name: 'UnavailableError', reason: 'deadline', virtualMs: 5_000 })
      expect(sim.now() - start).toBe(5_000)
      await expect(sim.runUntil(() => true, { maxVirtualMs: -1 })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'maxVirtualMs' })
    } finally {
      await sim.close()
    }
  })

  it('a call with every manager down waits for a leader, then fails with SimulationDeadlineError', async () => {
    const sim = await simulateCluster({ managers: 1, workers: 0, seed: 6 })
    try {
      const id = sim.leader()!.id
      sim.crash(id)
      expect(() => sim.raftStatus()).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'no-manager' }))
      expect(() => sim.raftStatus(id)).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'node-down' }))
      const start = sim.now()
      await expect(sim.services.list()).rejects.toMatchObject({ name: 'UnavailableError', reason: 'deadline' })
      expect(sim.now() - start >= 60_000).toBe(true)
    } finally {
      await sim.close()
    }
  })
})
