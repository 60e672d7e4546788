import { TASK_STATES, TaskState } from '@swarmkit-ts/api'
import type { Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { oldestFirst, pruneSlot } from '../src/reaper/reaper-plan.ts'

/** A minimal task for the pure pruning walk: what it reads is the id, states and timestamps. */
function slotTask(i: number, state: TaskState, desired: TaskState, appliedAt: number | undefined, timestamp: number): Frozen<Task> {
  return {
    id: `t${String(i).padStart(3, '0')}`,
    meta: { version: { index: 1n }, createdAt: i, updatedAt: i },
    spec: {},
    serviceId: 's',
    slot: 1,
    nodeId: '',
    annotations: { name: `t${i}` },
    serviceAnnotations: { name: 's' },
    status: { state, timestamp, ...(appliedAt === undefined ? {} : { appliedAt }) },
    desiredState: desired,
  }
}

const deletable = (t: Frozen<Task>): boolean =>
  t.status.state > TaskState.RUNNING || (t.status.state < TaskState.ASSIGNED && t.desiredState > TaskState.RUNNING)

const arbSlot = fc
  .array(
    fc.record({
      state: fc.constantFrom(...TASK_STATES),
      desired: fc.constantFrom(TaskState.READY, TaskState.RUNNING, TaskState.COMPLETE, TaskState.SHUTDOWN, TaskState.REMOVE),
      appliedAt: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
      timestamp: fc.integer({ min: 0, max: 20 }),
    }),
    { maxLength: 12 },
  )
  .map((xs) => xs.map((x, i) => slotTask(i, x.state, x.desired, x.appliedAt, x.timestamp)))

describe('task reaper: pruning one slot (properties)', () => {
  it('never deletes a task that may still run, keeps exactly the limit when it can, and deletes the oldest stopped tasks first', () => {
    fc.assert(
      fc.property(arbSlot, fc.integer({ min: 0, max: 6 }), (tasks, limit) => {
        const { deleteIds } = pruneSlot(tasks, limit)
        const deleted = new Set(deleteIds)
        expect(deleted.size).toBe(deleteIds.length)
        const remaining = tasks.filter((t) => !deleted.has(t.id))
        // Only stopped tasks and tasks that will never run are deleted.
        expect(tasks.filter((t) => deleted.has(t.id)).every(deletable)).toBe(true)
        // Within the limit: nothing deleted. Above it: down to the limit, or every deletable task went.
        if (tasks.length <= limit) expect(deleteIds).toEqual([])
        else if (remaining.length > limit) expect(remaining.some(deletable)).toBe(false)
        else expect(remaining).toHaveLength(limit)
        // The deleted ones are the oldest of the deletable ones.
        const order = oldestFirst(tasks).filter(deletable).map((t) => t.id)
        expect(deleteIds).toEqual(order.slice(0, deleteIds.length))
      }),
      { numRuns: 500 },
    )
  })

  it('counts the running tasks met before the limit was reached', () => {
    const tasks = [
      slotTask(0, TaskState.RUNNING, TaskState.RUNNING, 1, 1),
      slotTask(1, TaskState.FAILED, TaskState.SHUTDOWN, 2, 2),
      slotTask(2, TaskState.RUNNING, TaskState.RUNNING, 3, 3),
      slotTask(3, TaskState.SHUTDOWN, TaskState.SHUTDOWN, 4, 4),
    ]
    expect(pruneSlot(tasks, 1)).toEqual({ deleteIds: ['t001', 't003'], running: 2 })
    expect(pruneSlot(tasks, 3)).toEqual({ deleteIds: ['t001'], running: 1 })
  })
})
