/**
 * Every schedule that ever failed the simulation (test/testdata/sim-regressions.json, appended by
 * the property tests and the soak script) replays cleanly.
 */
import { describe, expect, it } from 'vitest'
import { loadRegressions } from './sim/regressions.ts'
import { runSimulation } from './sim/run-simulation.ts'

const regressions = loadRegressions()

describe('simulation regressions', () => {
  it('the regression file holds well-formed schedules', () => {
    for (const r of regressions) {
      expect(r.schedule.size === 3 || r.schedule.size === 5).toBe(true)
      expect(typeof r.error).toBe('string')
    }
  })

  it.each(regressions.map((r, i) => [i, r.note ?? r.error, r] as const))('#%i (%s) replays cleanly', async (_i, _what, r) => {
    const report = await runSimulation(r.schedule)
    expect(report.virtualMs).toBeGreaterThan(0)
  })
})
