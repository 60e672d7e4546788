import { TaskState } from '@swarmkit-ts/api'
import type { RestartPolicy, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { conditionAllowsRestart, historyAllowsRestart, pruneWindow, restartHistoryKey } from '../src/restart/restart-policy.ts'

function task(restart: RestartPolicy, state: TaskState, endedAt = 100_000, specVersion = 1n): Frozen<Task> {
  return {
    id: 't',
    slot: 2,
    nodeId: 'n1',
    spec: { restart },
    specVersion: { index: specVersion },
    status: { state, timestamp: 1, appliedAt: endedAt },
  } as unknown as Frozen<Task>
}

describe('restart policy', () => {
  it('condition: none never, on-failure unless completed, any always except a completed job task', () => {
    const cases: [NonNullable<RestartPolicy['condition']>, TaskState, boolean, boolean][] = [
      ['none', TaskState.FAILED, false, false],
      ['on-failure', TaskState.FAILED, false, true],
      ['on-failure', TaskState.COMPLETE, false, false],
      ['any', TaskState.COMPLETE, false, true],
      ['any', TaskState.COMPLETE, true, false],
      ['any', TaskState.FAILED, true, true],
    ]
    expect(cases.map(([condition, state, job]) => conditionAllowsRestart(task({ condition }, state), job))).toEqual(cases.map((c) => c[3]))
  })

  it('keys the history by slot, or by node for global modes', () => {
    const t = task({}, TaskState.FAILED)
    expect([restartHistoryKey(t, false), restartHistoryKey(t, true)]).toEqual(['s:2', 'n:n1'])
  })

  it('prunes restarts at or before the start of the window', () => {
    expect(pruneWindow([10, 40, 41, 90], 100, 60)).toEqual([41, 90])
  })

  it('counts only restarts inside the window and before the task ended', () => {
    const h = { specVersion: 1n, totalRestarts: 3, timestamps: [50_000, 90_000, 100_000] }
    // 50 s is inside [100 s - 60 s, …); the restart at 100 s came with or after the end: ignored.
    expect(historyAllowsRestart(task({ maxAttempts: 2, windowMs: 60_000 }, TaskState.FAILED), h)).toBe(false)
    expect(historyAllowsRestart(task({ maxAttempts: 3, windowMs: 60_000 }, TaskState.FAILED), h)).toBe(true)
    expect(historyAllowsRestart(task({ maxAttempts: 2, windowMs: 30_000 }, TaskState.FAILED), h)).toBe(true)
  })

  it('without a window compares the total, and a new spec version or no limit always allows', () => {
    const h = { specVersion: 1n, totalRestarts: 2, timestamps: [] }
    expect(historyAllowsRestart(task({ maxAttempts: 2 }, TaskState.FAILED), h)).toBe(false)
    expect(historyAllowsRestart(task({ maxAttempts: 3 }, TaskState.FAILED), h)).toBe(true)
    expect(historyAllowsRestart(task({ maxAttempts: 2 }, TaskState.FAILED, 0, 2n), h)).toBe(true)
    expect(historyAllowsRestart(task({ maxAttempts: 0 }, TaskState.FAILED), h)).toBe(true)
    expect(historyAllowsRestart(task({ maxAttempts: 1 }, TaskState.FAILED), undefined)).toBe(true)
  })
})
