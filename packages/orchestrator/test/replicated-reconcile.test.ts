import { TaskState } from '@swarmkit-ts/api'
import type { Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { groupSlots, reconcileReplicated } from '../src/replicated/reconcile.ts'
import type { Slot } from '../src/index.ts'

/** A task stub with what the decision reads. */
function task(id: string, slot: number, nodeId: string, state: TaskState = TaskState.RUNNING, desiredState: TaskState = TaskState.RUNNING): Frozen<Task> {
  return { id, slot, nodeId, status: { state, timestamp: 0 }, desiredState } as unknown as Frozen<Task>
}

function runnable(...tasks: Frozen<Task>[]): Map<number, Slot> {
  return new Map(tasks.map((t) => [t.slot, [t]]))
}

describe('reconcileReplicated', () => {
  it('creates the missing replicas in the lowest free slot numbers from 1', () => {
    const r = reconcileReplicated(5, runnable(task('a', 1, 'n1'), task('c', 3, 'n1'), task('f', 6, 'n1')))
    expect(r.create).toEqual([2, 4])
    expect(r.remove).toEqual([])
    expect(r.keep.map((s) => s[0]?.id)).toEqual(['a', 'c', 'f'])
  })

  it('keeps every slot when the count matches', () => {
    const r = reconcileReplicated(2, runnable(task('a', 1, 'n1'), task('b', 2, 'n2')))
    expect(r).toEqual({ create: [], remove: [], keep: [[task('a', 1, 'n1')], [task('b', 2, 'n2')]] })
  })

  it('scales down from the node holding the most replicas first', () => {
    const r = reconcileReplicated(
      3,
      runnable(task('a', 1, 'n1'), task('b', 2, 'n1'), task('c', 3, 'n1'), task('d', 4, 'n2'), task('e', 5, 'n2'), task('f', 6, 'n3')),
    )
    // n1 keeps one copy, n2 one, n3 one.
    expect(r.keep.map((s) => s[0]?.id)).toEqual(['a', 'd', 'f'])
    expect(r.remove).toEqual(['b', 'e', 'c'])
  })

  it('among equally loaded nodes removes a slot without a RUNNING task before a running one', () => {
    const r = reconcileReplicated(2, runnable(task('a', 1, 'n1', TaskState.PENDING), task('b', 2, 'n2'), task('c', 3, 'n3')))
    expect(r.remove).toEqual(['a'])
  })

  it('among equally loaded nodes and equal running state removes the higher slot numbers', () => {
    const r = reconcileReplicated(1, runnable(task('a', 1, 'n1'), task('b', 2, 'n2'), task('c', 3, 'n3')))
    expect(r.remove).toEqual(['b', 'c'])
    expect(r.keep.map((s) => s[0]?.id)).toEqual(['a'])
  })

  it('removes unassigned slots and slots with several tasks before any single task on a node', () => {
    const slots = new Map<number, Slot>([
      [1, [task('a', 1, 'n1'), task('a2', 1, 'n1', TaskState.READY, TaskState.READY)]],
      [2, [task('b', 2, '', TaskState.PENDING)]],
      [3, [task('c', 3, 'n1')]],
      [4, [task('d', 4, 'n1')]],
    ])
    const r = reconcileReplicated(2, slots)
    expect(r.remove).toEqual(['a', 'a2', 'b'])
    expect(r.keep.map((s) => s[0]?.id)).toEqual(['c', 'd'])
  })

  it('scales to zero by removing every task of every slot', () => {
    const r = reconcileReplicated(0, runnable(task('a', 1, 'n1'), task('b', 2, 'n2')))
    expect(r.keep).toEqual([])
    expect([...r.remove].sort()).toEqual(['a', 'b'])
  })
})

describe('groupSlots', () => {
  it('splits slots into runnable ones (their updatable tasks) and dead ones', () => {
    const live = task('a', 1, 'n1')
    const old = task('a0', 1, 'n1', TaskState.FAILED, TaskState.SHUTDOWN)
    const dead = task('b', 2, 'n1', TaskState.SHUTDOWN, TaskState.REMOVE)
    const g = groupSlots([live, old, dead], (slot) => slot.filter((t) => t.desiredState <= TaskState.RUNNING))
    expect([...g.runnable]).toEqual([[1, [live]]])
    expect([...g.dead]).toEqual([[2, [dead]]])
  })
})
