/**
 * Properties of doStep over every (state, desired state, controller outcome), with a scripted
 * controller: states only move forward, at most one controller call per step, and SwarmKit's
 * table of transitions and failures.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { FailedPreconditionError, TASK_STATES, TaskState, type ContainerStatus } from '@swarmkit-ts/api'
import { ManualClock } from '@swarmkit-ts/testkit'
import { doStep, TaskExitError, type TaskController } from '../src/exec/index.ts'
import { makeTask } from './helpers/exec-fixtures.ts'

type Outcome = 'ok' | 'exit' | 'fatal'
type Call = 'prepare' | 'start' | 'wait' | 'shutdown'

function scripted(outcome: Outcome, calls: Call[]): TaskController {
  const op = (name: Call) => (): Promise<void> => {
    calls.push(name)
    if (outcome === 'exit') return Promise.reject(new TaskExitError(2))
    if (outcome === 'fatal') return Promise.reject(new FailedPreconditionError('boom'))
    return Promise.resolve()
  }
  const status: ContainerStatus = { containerId: 'c1' }
  return {
    update: () => undefined,
    prepare: op('prepare'),
    start: op('start'),
    wait: op('wait'),
    shutdown: op('shutdown'),
    terminate: () => Promise.resolve(),
    remove: () => Promise.resolve(),
    close: () => undefined,
    containerStatus: () => status,
  }
}

const { NEW, PENDING, ASSIGNED, ACCEPTED, PREPARING, READY, STARTING, RUNNING, COMPLETE, SHUTDOWN, FAILED, REJECTED } = TaskState
const OP_OF: Partial<Record<TaskState, [Call, TaskState]>> = { [PREPARING]: ['prepare', READY], [STARTING]: ['start', RUNNING], [RUNNING]: ['wait', COMPLETE] }
const NEXT: Partial<Record<TaskState, TaskState>> = { [NEW]: ACCEPTED, [PENDING]: ACCEPTED, [ASSIGNED]: ACCEPTED, [ACCEPTED]: PREPARING, [READY]: STARTING }

/** SwarmKit's exec.Do as a table: the call made and the next state (undefined: nothing to do). */
function model(state: TaskState, desired: TaskState, outcome: Outcome): { call?: Call; next?: TaskState } {
  const failed = state < STARTING ? REJECTED : FAILED
  if (desired >= SHUTDOWN) {
    if (state >= COMPLETE) return {}
    return { call: 'shutdown', next: outcome === 'ok' ? SHUTDOWN : failed }
  }
  if (state > desired) return {}
  const op = OP_OF[state]
  if (op !== undefined) return { call: op[0], next: outcome === 'ok' ? op[1] : failed }
  if (state >= desired) return {}
  const next = NEXT[state]
  return next === undefined ? {} : { next }
}

describe('doStep properties', () => {
  it('follows SwarmKit\'s table, never moves a task backwards and calls the controller at most once', async () => {
    const state = fc.constantFrom(...TASK_STATES.filter((s) => s !== TaskState.REMOVE && s !== TaskState.ORPHANED))
    const desired = fc.constantFrom(...TASK_STATES)
    await fc.assert(
      fc.asyncProperty(state, desired, fc.constantFrom<Outcome>('ok', 'exit', 'fatal'), async (s, d, outcome) => {
        const calls: Call[] = []
        const clock = new ManualClock(5_000)
        const task = makeTask({}, { status: { timestamp: 0, state: s, err: 'old' }, desiredState: d })
        const got = await doStep(task, scripted(outcome, calls), { clock, signal: new AbortController().signal })
        const want = model(s, d, outcome)
        expect(calls).toEqual(want.call === undefined ? [] : [want.call])
        expect(got?.state).toBe(want.next)
        if (got === undefined) return
        expect(got.state).toBeGreaterThanOrEqual(s)
        expect(got.timestamp).toBe(5_000)
        const failedNow = want.call !== undefined && outcome !== 'ok'
        expect(got.err).toBe(failedNow ? (outcome === 'exit' ? 'task: non-zero exit (2)' : 'boom') : undefined)
        // The container status rides along from STARTING on, with the exit code of an exit error.
        if (got.state >= STARTING) expect(got.containerStatus).toEqual(outcome === 'exit' && failedNow ? { containerId: 'c1', exitCode: 2 } : { containerId: 'c1' })
        else expect(got.containerStatus).toBeUndefined()
      }),
      { numRuns: 500 },
    )
  })
})
