/**
 * Status updates (applied, a lower state ignored, another node's task refused, an unknown session
 * refused) and leadership loss (`NotLeaderError` on open streams and on every call).
 */
import { GrpcStatus, NotLeaderError, PermissionDeniedError, TaskState } from '@swarmkit-ts/api'
import { expect } from 'vitest'
import type { Checks } from './harness.ts'
import { expectSessionInvalid } from './session-tests.ts'

/** Checks that `err` is `NotLeaderError`. */
function expectNotLeader(err: unknown): void {
  expect(err).toBeInstanceOf(NotLeaderError)
  expect(err).toMatchObject({ name: 'NotLeaderError', code: GrpcStatus.UNAVAILABLE })
}

/** The status updates checks, by test name. */
export const STATUS_CHECKS: Checks = {
  'applies a status update to the stored task': async (h) => {
    const nodeId = h.id('node')
    const task = await h.createTask(nodeId)
    const { sessionId, stream } = await h.register(nodeId)
    const status = { timestamp: 1_000, state: TaskState.RUNNING, message: 'started', containerStatus: { containerId: 'c1', pid: 42 } }
    const r = await h.settle('the update', h.target.api(nodeId).updateTaskStatus({ sessionId, updates: [{ taskId: task.id, status }] }))
    expect(r).toStrictEqual({ value: undefined })
    const applied = await h.until('the status applied', () => {
      const s = h.task(task.id).status
      return s.state === TaskState.RUNNING ? s : undefined
    })
    expect(applied).toMatchObject(status)
    await stream.return?.()
  },

  'ignores a state lower than the stored one': async (h) => {
    const nodeId = h.id('node')
    const running = await h.createTask(nodeId, { state: TaskState.RUNNING })
    const witness = await h.createTask(nodeId)
    const { sessionId, stream } = await h.register(nodeId)
    const api = h.target.api(nodeId)
    await h.settle('the lower update', api.updateTaskStatus({ sessionId, updates: [{ taskId: running.id, status: { timestamp: 5, state: TaskState.ACCEPTED, message: 'late' } }] }))
    await h.settle('the witness update', api.updateTaskStatus({ sessionId, updates: [{ taskId: witness.id, status: { timestamp: 6, state: TaskState.ACCEPTED } }] }))
    // Updates are written in order: once the witness is applied, the lower one was seen.
    await h.until('the witness applied', () => (h.task(witness.id).status.state === TaskState.ACCEPTED ? true : undefined))
    expect(h.task(running.id).status).toStrictEqual(running.status)
    await stream.return?.()
  },

  "refuses an update of another node's task with PermissionDeniedError, applying nothing": async (h) => {
    const nodeId = h.id('node')
    const mine = await h.createTask(nodeId)
    const theirs = await h.createTask(h.id('othr'))
    const { sessionId, stream } = await h.register(nodeId)
    const updates = [
      { taskId: mine.id, status: { timestamp: 7, state: TaskState.ACCEPTED } },
      { taskId: theirs.id, status: { timestamp: 7, state: TaskState.FAILED, err: 'not yours' } },
    ]
    const err = await h.rejection('the update', h.target.api(nodeId).updateTaskStatus({ sessionId, updates }))
    expect(err).toBeInstanceOf(PermissionDeniedError)
    expect(err).toMatchObject({ name: 'PermissionDeniedError', code: GrpcStatus.PERMISSION_DENIED })
    await h.pass(1_000)
    expect([h.task(mine.id).status, h.task(theirs.id).status]).toStrictEqual([mine.status, theirs.status])
    await stream.return?.()
  },

  'refuses an update of an unknown session with session-invalid': async (h) => {
    const nodeId = h.id('node')
    const task = await h.createTask(nodeId)
    const { stream } = await h.register(nodeId)
    const updates = [{ taskId: task.id, status: { timestamp: 8, state: TaskState.RUNNING } }]
    expectSessionInvalid(await h.rejection('the update', h.target.api(nodeId).updateTaskStatus({ sessionId: 'not-a-session', updates })))
    await stream.return?.()
  },
}

/** The leadership checks, by test name. */
export const LEADERSHIP_CHECKS: Checks = {
  'once the dispatcher stops, open streams end with NotLeaderError and every call fails with it': async (h) => {
    const nodeId = h.id('node')
    const { sessionId, stream } = await h.register(nodeId)
    const assignments = h.target.api(nodeId).assignments({ sessionId })[Symbol.asyncIterator]()
    await h.next('the complete assignments message', assignments)
    await h.target.stop()
    const sessionEnd = await h.end('the session stream', stream)
    expect('error' in sessionEnd).toBe(true)
    if ('error' in sessionEnd) expectNotLeader(sessionEnd.error)
    const assignmentsEnd = await h.end('the assignments stream', assignments)
    expect('error' in assignmentsEnd).toBe(true)
    if ('error' in assignmentsEnd) expectNotLeader(assignmentsEnd.error)
    const api = h.target.api(nodeId)
    expectNotLeader(await h.rejection('the heartbeat', api.heartbeat({ sessionId })))
    expectNotLeader(await h.rejection('the update', api.updateTaskStatus({ sessionId, updates: [] })))
    const again = await h.end('a new session', api.session({ description: {} })[Symbol.asyncIterator]())
    expect('error' in again).toBe(true)
    if ('error' in again) expectNotLeader(again.error)
  },
}
