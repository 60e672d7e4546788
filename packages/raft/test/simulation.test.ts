/**
 * Deterministic simulation (reference/raft-anchors.md §4.3, scenario 30), 3 members: random fault
 * schedules against real RaftNode drivers with a key-value workload; every event is followed by
 * the safety checks, every run ends with liveness after healing and a linearizability check of
 * the client history. SIM_RUNS sets the number of schedules (default 600; 400 more run on 5
 * members in simulation-5.test.ts), SIM_SEED pins fast-check's seed (random otherwise, printed on
 * failure). A failure is shrunk and appended to test/testdata/sim-regressions.json.
 */
import { describe, expect, it } from 'vitest'
import { simulate } from './sim/simulate-test.ts'

describe('deterministic simulation, 3 members', () => {
  it('random schedules keep every invariant, stay live after healing and linearizable', async () => {
    const { runs, expected, failure, seed } = await simulate(3, 600)
    expect(failure, `fast-check seed ${seed}`).toBeUndefined()
    expect(runs).toBe(expected)
  }, 900_000)
})
