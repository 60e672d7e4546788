/**
 * The assignments stream: the complete set first (the node's tasks and the secrets they use, as
 * stored), then incremental changes chained by `appliesTo`/`resultsIn`, removals, `session-invalid`
 * and ending the stream with the signal.
 */
import type { AssignmentChange, AssignmentsMessage } from '@swarmkit-ts/api'
import { expect } from 'vitest'
import type { Checks } from './harness.ts'
import { expectSessionInvalid } from './session-tests.ts'

/** `kind:id` of each change with its action, sorted. */
function keys(changes: readonly AssignmentChange[]): string[] {
  return changes
    .map((c) => {
      const a = c.assignment
      const [kind, id] = 'task' in a ? ['task', a.task.id] : 'secret' in a ? ['secret', a.secret.id] : ['config', a.config.id]
      return `${c.action} ${kind} ${id}`
    })
    .sort()
}

/** The assignments checks, by test name. */
export const ASSIGNMENT_CHECKS: Checks = {
  "sends the complete set first: the node's tasks and the secrets they use, exactly as stored": async (h) => {
    const nodeId = h.id('node')
    const secret = await h.createSecret('db-password')
    const task = await h.createTask(nodeId, { secrets: [secret] })
    await h.createTask(h.id('othr'))
    const { sessionId, stream } = await h.register(nodeId)
    const it = h.target.api(nodeId).assignments({ sessionId })[Symbol.asyncIterator]()
    const first = await h.next('the complete assignments message', it)
    expect(first.type).toBe('complete')
    expect(first.appliesTo).toBe('')
    expect(first.resultsIn).not.toBe('')
    expect(keys(first.changes)).toStrictEqual([`update secret ${secret.id}`, `update task ${task.id}`].sort())
    const sent = first.changes.find((c) => 'task' in c.assignment)?.assignment
    expect(sent).toStrictEqual({ task })
    expect(first.changes.find((c) => 'secret' in c.assignment)?.assignment).toStrictEqual({ secret })
    await it.return?.()
    await stream.return?.()
  },

  'then sends incremental changes, each applying to the set the previous message results in': async (h) => {
    const nodeId = h.id('node')
    const { sessionId, stream } = await h.register(nodeId)
    const it = h.target.api(nodeId).assignments({ sessionId })[Symbol.asyncIterator]()
    const first = await h.next('the complete assignments message', it)
    expect([first.type, first.changes]).toStrictEqual(['complete', []])
    const task = await h.createTask(nodeId)
    const added: AssignmentsMessage = await h.next('the incremental message adding the task', it)
    expect(added.type).toBe('incremental')
    expect(added.appliesTo).toBe(first.resultsIn)
    expect(added.changes).toStrictEqual([{ action: 'update', assignment: { task } }])
    await h.store.update((tx) => tx.tasks.delete(task.id))
    const removed = await h.next('the incremental message removing the task', it)
    expect(removed.type).toBe('incremental')
    expect(removed.appliesTo).toBe(added.resultsIn)
    expect(keys(removed.changes)).toStrictEqual([`remove task ${task.id}`])
    await it.return?.()
    await stream.return?.()
  },

  'refuses an assignments stream of an unknown session with session-invalid': async (h) => {
    const nodeId = h.id('node')
    const { stream } = await h.register(nodeId)
    const it = h.target.api(nodeId).assignments({ sessionId: 'not-a-session' })[Symbol.asyncIterator]()
    const end = await h.end('the assignments stream', it)
    expect('error' in end).toBe(true)
    if ('error' in end) expectSessionInvalid(end.error)
    await stream.return?.()
  },

  'ends the assignments stream without an error when the signal aborts': async (h) => {
    const nodeId = h.id('node')
    const { sessionId, stream } = await h.register(nodeId)
    const ac = new AbortController()
    const it = h.target.api(nodeId).assignments({ sessionId }, { signal: ac.signal })[Symbol.asyncIterator]()
    await h.next('the complete assignments message', it)
    ac.abort()
    expect(await h.end('the assignments stream', it)).toStrictEqual({ done: true })
    // The session itself stays valid.
    const beat = await h.settle('the heartbeat', h.target.api(nodeId).heartbeat({ sessionId }))
    expect('value' in beat).toBe(true)
    await stream.return?.()
  },
}
