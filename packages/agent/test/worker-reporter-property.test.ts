import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TASK_STATES, TaskState, UnavailableError } from '@swarmkit-ts/api'
import type { TaskStatus, TaskStatusUpdate } from '@swarmkit-ts/api'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { MemoryTaskDb, StatusReporter, isOlderStatus } from '../src/worker/index.ts'
import { flush, task } from './helpers/worker-fixtures.ts'

const TASKS = ['a', 'b', 'c']
const STATES = TASK_STATES.filter((s) => s >= TaskState.ASSIGNED && s <= TaskState.REJECTED)

type Op = { kind: 'report'; task: string; state: TaskState } | { kind: 'fail'; on: boolean } | { kind: 'advance'; ms: number }

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('report' as const), task: fc.constantFrom(...TASKS), state: fc.constantFrom(...STATES) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fail' as const), on: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 10_000 }) }) },
)

describe('StatusReporter (property)', () => {
  it('delivers per task a non-decreasing sequence ending with the newest status reported, whatever fails meanwhile', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbOp, { minLength: 10, maxLength: 60 }), fc.integer({ min: 1, max: 1000 }), async (ops, seed) => {
        const clock = new ManualClock(0)
        const db = new MemoryTaskDb()
        for (const id of TASKS) await db.put({ task: task(id), assigned: true })
        let failing = false
        const delivered: TaskStatusUpdate[] = []
        const send = (updates: readonly TaskStatusUpdate[]): Promise<void> => {
          if (failing) return Promise.reject(new UnavailableError('down'))
          delivered.push(...updates)
          return Promise.resolve()
        }
        const reporter = new StatusReporter({ db, send, clock, random: new SeededRandom(seed), maxBatch: 2 })
        const newest = new Map<string, TaskStatus>()
        for (const op of ops) {
          if (op.kind === 'report') {
            const status: TaskStatus = { state: op.state, timestamp: clock.now() }
            const prev = newest.get(op.task)
            if (prev === undefined || isOlderStatus(prev, status)) newest.set(op.task, status)
            await reporter.report(op.task, status)
          } else if (op.kind === 'fail') failing = op.on
          else clock.advance(op.ms)
          await flush(2)
        }
        failing = false
        clock.advance(10_000)
        await flush(5)
        for (const id of TASKS) {
          const seq = delivered.filter((u) => u.taskId === id).map((u) => u.status)
          for (let i = 1; i < seq.length; i++) expect(isOlderStatus(seq[i] as TaskStatus, seq[i - 1] as TaskStatus)).toBe(false)
          expect(seq.at(-1)).toEqual(newest.get(id))
          expect(db.get(id)?.task.status).toEqual(newest.get(id) ?? task(id).status)
        }
        expect(reporter.pending).toBe(0)
        reporter.stop()
        expect(clock.pending()).toBe(0)
      }),
      { numRuns: 150 },
    )
  })
})
