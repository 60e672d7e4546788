/**
 * The simulation can catch bugs: with a deliberately broken disk, the runs of a fixed fast-check
 * seed fail (without shrinking: the first failing schedule is reported), while the same schedules
 * pass on a correct disk (the property tests cover that).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { runSimulation } from './sim/run-simulation.ts'
import type { RunOptions } from './sim/run-simulation.ts'
import { scheduleArb } from './sim/schedule.ts'
import type { Schedule } from './sim/schedule.ts'

/** The first failure among `numRuns` schedules of fast-check seed `seed` under `options`. */
async function firstFailure(seed: number, options: RunOptions, numRuns = 300): Promise<{ error: unknown; schedule: Schedule | undefined }> {
  const details = await fc.check(
    fc.asyncProperty(scheduleArb({ size: 3 }), async (s) => {
      await runSimulation(s, options)
    }),
    { seed, numRuns, endOnFailure: true },
  )
  return { error: details.errorInstance, schedule: details.counterexample?.[0] }
}

describe('the simulation catches a broken disk', () => {
  it('an fsync that acknowledges before the data is durable: a vote leaves before it is on disk', async () => {
    const { error } = await firstFailure(7, { diskFault: 'ack-before-durable' }, 5)
    expect(error).toMatchObject({ name: 'SimViolation', invariant: 'vote durability' })
  })

  it('the same bug without the durable-state checks: the end-to-end checks still fail a run', async () => {
    const { error, schedule } = await firstFailure(7, { diskFault: 'ack-before-durable', durabilityChecks: false })
    expect(error).toMatchObject({ name: 'SimViolation' })
    expect(schedule?.steps.some((s) => s.action.kind === 'crash')).toBe(true)
    // The schedule is fine on a correct disk.
    if (schedule !== undefined) await expect(runSimulation(schedule)).resolves.toMatchObject({ crashes: expect.any(Number) as number })
  }, 120_000)

  it('a disk that loses its last synced batch on a crash: an applied entry is no longer on a quorum', async () => {
    const { error, schedule } = await firstFailure(7, { diskFault: 'forget-synced-tail' })
    expect(error).toBeInstanceOf(Error)
    expect(schedule?.steps.some((s) => s.action.kind === 'crash')).toBe(true)
    if (schedule !== undefined) await expect(runSimulation(schedule)).resolves.toMatchObject({ crashes: expect.any(Number) as number })
  }, 120_000)
})
