/**
 * Every schedule that ever failed the simulation (test/testdata/sim-regressions.json, appended by
 * the property tests and the soak script) is replayed: fixed ones must pass; `open` ones — known
 * bugs not fixed yet — must still fail with the same broken invariant, so the repro stays valid
 * until the fix flips them. And a schedule replays exactly (what makes a stored one useful).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { loadRegressions } from './sim/regressions.ts'
import { runSimulation } from './sim/run-simulation.ts'
import { scheduleArb } from './sim/schedule.ts'

const regressions = loadRegressions()

/** "SimViolation: linearizability: …" → { name: 'SimViolation', invariant: 'linearizability' }; "RaftInvariantError: …" → { name }. */
function expectedError(error: string): { name: string; invariant?: string } {
  const m = /^(\w+): (?:([^:]+):)?/.exec(error)
  const name = m?.[1] ?? 'Error'
  return name === 'SimViolation' && m?.[2] !== undefined ? { name, invariant: m[2] } : { name }
}

describe('simulation replay', () => {
  it('a schedule replays exactly: two runs produce the same trace', async () => {
    for (const schedule of fc.sample(scheduleArb({ size: 3 }), { numRuns: 5, seed: 42 })) {
      const traces: string[][] = [[], []]
      for (const t of traces) await runSimulation(schedule, { trace: (line) => t.push(line) })
      expect(traces[0]?.length).toBeGreaterThan(10)
      expect(traces[1]).toEqual(traces[0])
    }
  }, 60_000)
})

describe('simulation regressions', () => {
  it('the regression file holds well-formed schedules', () => {
    expect(regressions.length).toBeGreaterThan(0)
    for (const r of regressions) {
      expect([3, 5]).toContain(r.schedule.size)
      expect(r.schedule.steps.length).toBeGreaterThan(0)
      if (r.status === 'open') expect(expectedError(r.error).name).not.toBe('Error')
    }
  })

  const fixed = regressions.filter((r) => r.status !== 'open')
  const open = regressions.filter((r) => r.status === 'open')

  it.each(fixed.map((r, i) => [i, r] as const))('fixed #%i replays cleanly', async (_i, r) => {
    const report = await runSimulation(r.schedule)
    expect(report.virtualMs).toBeGreaterThan(0)
  })

  it.each(open.map((r, i) => [i, r] as const))('open #%i still fails the same way', async (_i, r) => {
    await expect(runSimulation(r.schedule)).rejects.toMatchObject(expectedError(r.error))
  })
})
