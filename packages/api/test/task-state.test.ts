import { describe, expect, it } from 'vitest'
import { canTransition, compareTaskStates, isActiveOnNode, isTaskState, isTerminal, TASK_STATES, TaskState, taskStateName } from '../src/index.ts'

describe('TaskState', () => {
  it('has SwarmKit values in lifecycle order', () => {
    expect(TaskState).toEqual({
      NEW: 0, PENDING: 64, ASSIGNED: 192, ACCEPTED: 256, PREPARING: 320, READY: 384, STARTING: 448, RUNNING: 512,
      COMPLETE: 576, SHUTDOWN: 640, FAILED: 704, REJECTED: 768, REMOVE: 800, ORPHANED: 832,
    })
    expect(TASK_STATES).toEqual([...TASK_STATES].sort((a, b) => a - b))
    expect(TASK_STATES).toHaveLength(14)
  })

  it('orders states and only moves forward', () => {
    expect(compareTaskStates(TaskState.NEW, TaskState.RUNNING)).toBeLessThan(0)
    expect(compareTaskStates(TaskState.FAILED, TaskState.RUNNING)).toBeGreaterThan(0)
    expect(compareTaskStates(TaskState.READY, TaskState.READY)).toBe(0)
    expect(canTransition(TaskState.ASSIGNED, TaskState.RUNNING)).toBe(true)
    expect(canTransition(TaskState.RUNNING, TaskState.RUNNING)).toBe(true)
    expect(canTransition(TaskState.RUNNING, TaskState.PREPARING)).toBe(false)
    expect(canTransition(TaskState.SHUTDOWN, TaskState.COMPLETE)).toBe(false)
  })

  it('classifies terminal and node-resident states', () => {
    expect(TASK_STATES.filter(isTerminal).map(taskStateName)).toEqual(['COMPLETE', 'SHUTDOWN', 'FAILED', 'REJECTED', 'REMOVE', 'ORPHANED'])
    expect(TASK_STATES.filter(isActiveOnNode).map(taskStateName)).toEqual(['ASSIGNED', 'ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING'])
  })

  it('names states and recognises values', () => {
    expect(taskStateName(TaskState.REJECTED)).toBe('REJECTED')
    expect(isTaskState(512)).toBe(true)
    expect(isTaskState(500)).toBe(false)
    expect(isTaskState('RUNNING')).toBe(false)
    expect(() => taskStateName(1 as TaskState)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'state' }))
  })
})
