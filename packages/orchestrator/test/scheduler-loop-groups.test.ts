import { TaskState } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { planPass } from '../src/scheduler/scheduler-groups.ts'
import { SchedulerFixture, fid } from './scheduler-loop-fixture.ts'

describe('planPass', () => {
  const f = new SchedulerFixture()
  const task = (name: string, opts: Parameters<SchedulerFixture['newTask']>[1] = {}) => ({ ...f.newTask(name, opts), meta: { version: { index: 1n }, createdAt: 0, updatedAt: 0 } })
  const ids = (tasks: readonly { id: string }[]): string[] => tasks.map((t) => t.id)

  it('groups unassigned tasks by service and spec version, in first-seen order', () => {
    const a1 = task('a1', { serviceId: 'a', specVersion: 1 })
    const b1 = task('b1', { serviceId: 'b', specVersion: 1 })
    const a2 = task('a2', { serviceId: 'a', specVersion: 1 })
    const a3 = task('a3', { serviceId: 'a', specVersion: 2 })
    const plan = planPass([], [a1, b1, a2, a3])
    expect(plan.groups.map(ids)).toEqual([[fid('a1'), fid('a2')], [fid('b1')], [fid('a3')]])
    expect(plan.preassigned).toEqual([])
    expect(plan.shutdown).toEqual([])
  })

  it('places each task without a spec version in a group of its own', () => {
    const plan = planPass([], [task('x1', { serviceId: 'x' }), task('x2', { serviceId: 'x' })])
    expect(plan.groups.map(ids)).toEqual([[fid('x1')], [fid('x2')]])
  })

  it('keeps pre-assigned tasks apart and sets aside tasks desired SHUTDOWN (REMOVE ones are left alone)', () => {
    const g = task('g', { nodeId: 'n1' })
    const gStop = task('gstop', { nodeId: 'n1', desiredState: TaskState.SHUTDOWN })
    const stop = task('stop', { specVersion: 1, desiredState: TaskState.SHUTDOWN })
    const removed = task('removed', { specVersion: 1, desiredState: TaskState.REMOVE })
    const job = task('job', { specVersion: 1, desiredState: TaskState.COMPLETE })
    const plan = planPass([g, gStop], [stop, removed, job])
    expect(ids(plan.preassigned)).toEqual([fid('g')])
    expect(ids(plan.shutdown)).toEqual([fid('gstop'), fid('stop')])
    expect(plan.groups.map(ids)).toEqual([[fid('job')]])
  })
})
