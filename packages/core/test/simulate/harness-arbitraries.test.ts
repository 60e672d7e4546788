/**
 * The harness's arbitraries stay within their bounds: schedule lengths, replica counts, no max
 * replicas per node on a global service (as Docker's CLI), no fault in an operations-only
 * schedule, and plain JSON data (a failing case prints and replays as is).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { arbClusterFault, arbClusterOperation, arbClusterSchedule } from '../../src/simulate/harness/index.ts'

const FAULTS = new Set(['crash-worker', 'restart-worker', 'crash-leader', 'restart-manager', 'partition', 'heal', 'slow-disk', 'fail-task'])

describe('the harness arbitraries', () => {
  it('draw bounded schedules of plain data, operations-only when faults are off', () => {
    for (const schedule of fc.sample(arbClusterSchedule({ minLength: 2, maxLength: 5, maxReplicas: 4, leadingService: false }), { numRuns: 300, seed: 3 })) {
      expect(schedule.length).toBeGreaterThanOrEqual(2)
      expect(schedule.length).toBeLessThanOrEqual(5)
      expect(JSON.parse(JSON.stringify(schedule))).toEqual(schedule)
      for (const step of schedule) {
        if (step.kind === 'create-service' || step.kind === 'scale-service') expect(step.replicas ?? 0).toBeLessThanOrEqual(4)
        if (step.kind === 'create-service' && step.replicas === null) expect(step.maxReplicasPerNode).toBe(0)
      }
    }
    const quiet = fc.sample(arbClusterSchedule({ faults: false }), { numRuns: 200, seed: 4 }).flat()
    expect(quiet.filter((s) => FAULTS.has(s.kind))).toEqual([])
  })

  it('start a schedule with a replicated service of at least one replica and a second of time, unless told not to', () => {
    for (const [first, second] of fc.sample(arbClusterSchedule({ maxReplicas: 3 }), { numRuns: 200, seed: 8 })) {
      expect(first?.kind === 'create-service' && first.replicas !== null && first.replicas >= 1 && first.replicas <= 3).toBe(true)
      expect(second).toEqual({ kind: 'advance', ms: 1_000 })
    }
  })

  it('leave out the fault kinds switched off, and draw every kind otherwise', () => {
    const calm = fc.sample(arbClusterFault({ managerFaults: false, partitions: false, slowDisks: false, taskFailures: false }), { numRuns: 200, seed: 5 })
    expect(new Set(calm.map((f) => f.kind))).toEqual(new Set(['crash-worker', 'restart-worker']))
    expect(new Set(fc.sample(arbClusterFault(), { numRuns: 500, seed: 6 }).map((f) => f.kind))).toEqual(FAULTS)
    const kinds = new Set(fc.sample(arbClusterOperation({ global: false, reservations: false }), { numRuns: 500, seed: 7 }).map((o) => o.kind))
    expect(kinds).toEqual(new Set(['create-service', 'update-service', 'scale-service', 'rollback-service', 'remove-service', 'read-service', 'set-availability', 'advance']))
  })
})
