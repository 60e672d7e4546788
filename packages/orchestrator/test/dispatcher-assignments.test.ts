import { TaskState } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { ASSIGNMENT_BATCH_LIMIT } from '../src/index.ts'
import { DispatcherFixture, describeChanges, idOf, specUsing, task } from './helpers/dispatcher-fixture.ts'

describe('Dispatcher assignments', () => {
  it('the first message is complete: the node’s tasks from ASSIGNED on, with the secrets and configs they use', async () => {
    const f = new DispatcherFixture()
    await f.addSecretAndConfig('s1', 'c1')
    await f.addSecretAndConfig('s2', 'c2')
    await f.addTask('t1', 'n1', { spec: specUsing('s1', 'c1') })
    await f.addTask('t2', 'n1', { state: TaskState.RUNNING })
    await f.addTask('t3', 'n1', { state: TaskState.PENDING, spec: specUsing('s2') })
    await f.addTask('t4', 'n2', { spec: specUsing('s2', 'c2') })
    const c = await f.connect('n1')
    const a = await f.assignments(c)
    expect(a.messages).toHaveLength(1)
    expect(a.last).toMatchObject({ type: 'complete', appliesTo: '', resultsIn: '1' })
    expect(describeChanges(a.last)).toEqual(['update task:t1', 'update task:t2', 'update secret:s1', 'update config:c1'])
    const secret = a.last.changes.find((ch) => 'secret' in ch.assignment)?.assignment
    expect(secret !== undefined && 'secret' in secret ? secret.secret.spec.data : undefined).toEqual(new Uint8Array([1, 2, 3]))
    await f.stop()
  })

  it('later messages are incremental, each applying to the previous one’s sequence number', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    const a = await f.assignments(c)
    await f.addTask('t1', 'n1')
    await f.advance(100)
    await f.updateTask('t1', (d) => void (d.desiredState = TaskState.SHUTDOWN))
    await f.advance(100)
    await f.store.update((tx) => tx.tasks.delete(idOf('t1')))
    await f.advance(100)
    expect(a.messages.map((m) => [m.type, m.appliesTo, m.resultsIn])).toEqual([
      ['complete', '', '1'],
      ['incremental', '1', '2'],
      ['incremental', '2', '3'],
      ['incremental', '3', '4'],
    ])
    expect(a.messages.slice(1).map(describeChanges)).toEqual([['update task:t1'], ['update task:t1'], ['remove task:t1']])
    await f.stop()
  })

  it('a change of status alone (the agent’s report) is not sent back; a task reaching ASSIGNED is', async () => {
    const f = new DispatcherFixture()
    await f.addTask('t1', 'n1', { state: TaskState.PENDING })
    const c = await f.connect('n1')
    const a = await f.assignments(c)
    expect(describeChanges(a.last)).toEqual([])
    await f.updateTask('t1', (d) => void (d.status = { timestamp: 1, state: TaskState.ASSIGNED }))
    await f.advance(100)
    expect(describeChanges(a.last)).toEqual(['update task:t1'])
    await f.updateTask('t1', (d) => void (d.status = { timestamp: 2, state: TaskState.RUNNING }))
    await f.advance(1_000)
    expect(a.messages).toHaveLength(2)
    await f.stop()
  })

  it('with assignmentBatchMs 0, sends at the next turn: the changes of one commit together, no wait after them', async () => {
    const f = new DispatcherFixture({ config: { assignmentBatchMs: 0 } })
    const c = await f.connect('n1')
    const a = await f.assignments(c)
    await f.store.update((tx) => {
      tx.tasks.create(task('t1', 'n1'))
      tx.tasks.create(task('t2', 'n1'))
    })
    await f.advance(0)
    expect(a.messages).toHaveLength(2)
    expect(describeChanges(a.last)).toEqual(['update task:t1', 'update task:t2'])
    await f.addTask('t3', 'n1')
    await f.advance(0)
    expect(a.messages).toHaveLength(3)
    expect(describeChanges(a.last)).toEqual(['update task:t3'])
    await f.stop()
  })

  it('batches: 100 modifications go out at once; fewer wait until 100 ms pass with no new one', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    const a = await f.assignments(c)
    await f.store.update((tx) => {
      for (let i = 0; i < ASSIGNMENT_BATCH_LIMIT; i++) tx.tasks.create(task(`b${String(i)}`, 'n1'))
    })
    await f.settle()
    expect(a.messages).toHaveLength(2)
    expect(a.last.changes).toHaveLength(ASSIGNMENT_BATCH_LIMIT)
    await f.addTask('t1', 'n1')
    await f.advance(60)
    await f.addTask('t2', 'n1')
    await f.advance(99)
    expect(a.messages).toHaveLength(2)
    await f.advance(1)
    expect(a.messages).toHaveLength(3)
    expect(describeChanges(a.last)).toEqual(['update task:t1', 'update task:t2'])
    await f.stop()
  })

  it('a secret goes only to a node with a task using it, and is withdrawn when no task of the node does', async () => {
    const f = new DispatcherFixture()
    await f.addSecretAndConfig('s1', 'c1')
    const c1 = await f.connect('n1')
    const c2 = await f.connect('n2')
    const a1 = await f.assignments(c1)
    const a2 = await f.assignments(c2)
    await f.addTask('t1', 'n1', { spec: specUsing('s1', 'c1') })
    await f.addTask('t2', 'n1', { spec: specUsing('s1') })
    await f.advance(100)
    expect(describeChanges(a1.last)).toEqual(['update task:t1', 'update task:t2', 'update secret:s1', 'update config:c1'])
    // t1 ends: the config only it used is withdrawn, the secret t2 still uses stays.
    await f.updateTask('t1', (d) => void (d.status = { timestamp: 1, state: TaskState.COMPLETE }))
    await f.advance(100)
    expect(describeChanges(a1.last)).toEqual(['remove config:c1'])
    await f.store.update((tx) => tx.tasks.delete(idOf('t2')))
    await f.advance(100)
    expect(describeChanges(a1.last)).toEqual(['remove task:t2', 'remove secret:s1'])
    const removed = a1.last.changes[1]?.assignment
    expect(removed !== undefined && 'secret' in removed ? removed.secret.id : undefined).toBe(idOf('s1'))
    expect(a2.messages.flatMap(describeChanges)).toEqual([])
    await f.stop()
  })

  it('an assignments stream needs the live session, and ends when the agent aborts it', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    const bad = await f.assignments({ ...c, sessionId: 'nope' })
    expect(bad.error).toMatchObject({ name: 'FailedPreconditionError', reason: 'session-invalid' })
    const a = await f.assignments(c)
    c.abort.abort()
    await f.settle()
    expect(a.done).toBe(true)
    expect(a.error).toBeUndefined()
    await f.stop()
  })
})
