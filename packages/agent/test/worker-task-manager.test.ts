/**
 * TaskManager's step signals: a controller's own step controller when it offers one (one
 * AbortController per task), a new one after each abort, its own for a controller without.
 */
import { describe, expect, it } from 'vitest'
import { TaskState, type TaskStatus } from '@swarmkit-ts/api'
import { ManualClock } from '@swarmkit-ts/testkit'
import type { TaskController } from '../src/exec/index.ts'
import { TaskManager } from '../src/worker/task-manager.ts'
import { flush, makeTask } from './helpers/exec-fixtures.ts'

/** A controller whose calls wait until their signal aborts; records each call and its signal. */
function stubController(withStep: boolean): { ctlr: TaskController; calls: [string, AbortSignal][]; steps: AbortController[] } {
  const calls: [string, AbortSignal][] = []
  const steps: AbortController[] = []
  const pending = (name: string) => (signal: AbortSignal): Promise<void> => {
    calls.push([name, signal])
    return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }))
  }
  const ctlr: TaskController = {
    update: () => undefined,
    prepare: pending('prepare'),
    start: pending('start'),
    wait: pending('wait'),
    shutdown: pending('shutdown'),
    terminate: () => Promise.resolve(),
    remove: () => Promise.resolve(),
    close: () => undefined,
    containerStatus: () => undefined,
  }
  if (withStep) {
    ctlr.stepController = () => {
      const c = new AbortController()
      steps.push(c)
      return c
    }
  }
  return { ctlr, calls, steps }
}

describe('TaskManager', () => {
  it("passes the controller's step controller to each call, and asks for a new one only after an abort", async () => {
    const { ctlr, calls, steps } = stubController(true)
    const running = makeTask({}, { status: { timestamp: 0, state: TaskState.RUNNING } })
    const reported: TaskStatus[] = []
    const manager = new TaskManager({ task: running, controller: ctlr, clock: new ManualClock(0), report: (s) => (reported.push(s), Promise.resolve()) })
    manager.start()
    await flush()
    expect(calls.map(([name]) => name)).toEqual(['wait'])
    expect(steps).toHaveLength(1)
    expect(calls[0]?.[1]).toBe(steps[0]?.signal)
    manager.update({ ...running, desiredState: TaskState.SHUTDOWN })
    await flush()
    expect(steps[0]?.signal.aborted).toBe(true)
    expect(calls.map(([name]) => name)).toEqual(['wait', 'shutdown'])
    expect(steps).toHaveLength(2)
    expect(calls[1]?.[1]).toBe(steps[1]?.signal)
    await manager.close()
    expect(steps[1]?.signal.aborted).toBe(true)
    expect(reported).toEqual([])
  })

  it('makes its own step signal for a controller without stepController', async () => {
    const { ctlr, calls } = stubController(false)
    const manager = new TaskManager({ task: makeTask({}, { status: { timestamp: 0, state: TaskState.RUNNING } }), controller: ctlr, clock: new ManualClock(0), report: () => Promise.resolve() })
    manager.start()
    await flush()
    expect(calls.map(([name]) => name)).toEqual(['wait'])
    expect(calls[0]?.[1].aborted).toBe(false)
    await manager.close()
    expect(calls[0]?.[1].aborted).toBe(true)
  })
})
