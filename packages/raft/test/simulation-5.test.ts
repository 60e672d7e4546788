/**
 * Deterministic simulation, 5 members (see simulation.test.ts): SIM_RUNS × 2/3 schedules
 * (default 400).
 */
import { describe, expect, it } from 'vitest'
import { simulate } from './sim/simulate-test.ts'

describe('deterministic simulation, 5 members', () => {
  it('random schedules keep every invariant, stay live after healing and linearizable', async () => {
    const { runs, expected, failure, seed } = await simulate(5, 400)
    expect(failure, `fast-check seed ${seed}`).toBeUndefined()
    expect(runs).toBe(expected)
  }, 900_000)
})
