import { DEFAULT_UPDATE_CONFIG, TaskState, UpdateState } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import {
  completedStatus,
  failureOutcome,
  failureRatioExceeded,
  finalMonitorMs,
  isUpdateFailure,
  pausedStatus,
} from '../src/update/update-plan.ts'

describe('update plan (pure decisions)', () => {
  it('the failure ratio must be strictly greater than maxFailureRatio', () => {
    expect(failureRatioExceeded(2, 4, 0.5)).toBe(false)
    expect(failureRatioExceeded(3, 4, 0.5)).toBe(true)
    expect(failureRatioExceeded(1, 10, 0.1)).toBe(false)
    expect(failureRatioExceeded(1, 3, 0)).toBe(true)
    expect(failureRatioExceeded(4, 4, 1)).toBe(false)
  })

  it('a failure counts before RUNNING, and up to and including monitorMs after it', () => {
    expect(isUpdateFailure(TaskState.REJECTED, undefined, 1000, 5000)).toBe(true)
    expect(isUpdateFailure(TaskState.FAILED, 1000, 6000, 5000)).toBe(true)
    expect(isUpdateFailure(TaskState.FAILED, 1000, 6001, 5000)).toBe(false)
    expect(isUpdateFailure(TaskState.COMPLETE, 1000, 1000, 5000)).toBe(true)
    expect(isUpdateFailure(TaskState.RUNNING, undefined, 1000, 5000)).toBe(false)
  })

  it('the final monitor lasts one monitor period, or delay + 1 s when the delay is at least the monitor', () => {
    expect(finalMonitorMs({ ...DEFAULT_UPDATE_CONFIG })).toBe(5000)
    expect(finalMonitorMs({ ...DEFAULT_UPDATE_CONFIG, delayMs: 4999 })).toBe(5000)
    expect(finalMonitorMs({ ...DEFAULT_UPDATE_CONFIG, delayMs: 5000 })).toBe(6000)
    expect(finalMonitorMs({ ...DEFAULT_UPDATE_CONFIG, delayMs: 0, monitorMs: 0 })).toBe(1000)
  })

  it('failure outcomes carry SwarmKit’s messages; a rollback is paused, never rolled back', () => {
    expect(failureOutcome('pause', false, 'T')).toEqual({ kind: 'pause', message: 'update paused due to failure or early termination of task T' })
    expect(failureOutcome('pause', true, 'T')).toEqual({ kind: 'pause', message: 'rollback paused due to failure or early termination of task T' })
    expect(failureOutcome('rollback', false, 'T')).toEqual({ kind: 'rollback', message: 'update rolled back due to failure or early termination of task T' })
    expect(failureOutcome('rollback', true, 'T')).toEqual({ kind: 'pause', message: 'rollback paused due to failure or early termination of task T' })
    expect(failureOutcome('continue', false, 'T')).toEqual({ kind: 'continue' })
  })

  it('pause and completion keep the start time; a rollback ends as ROLLBACK_PAUSED / ROLLBACK_COMPLETED', () => {
    const updating = { state: UpdateState.UPDATING, message: 'update in progress', startedAt: 7 }
    const rollingBack = { state: UpdateState.ROLLBACK_STARTED, message: 'manually requested rollback', startedAt: 7 }
    expect(pausedStatus(updating, 'm')).toEqual({ state: UpdateState.PAUSED, message: 'm', startedAt: 7 })
    expect(pausedStatus(rollingBack, 'm')).toEqual({ state: UpdateState.ROLLBACK_PAUSED, message: 'm', startedAt: 7 })
    expect(completedStatus(updating, 9)).toEqual({ state: UpdateState.COMPLETED, message: 'update completed', startedAt: 7, completedAt: 9 })
    expect(completedStatus(rollingBack, 9)).toEqual({ state: UpdateState.ROLLBACK_COMPLETED, message: 'rollback completed', startedAt: 7, completedAt: 9 })
  })
})
