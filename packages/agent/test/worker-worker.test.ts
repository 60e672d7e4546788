import { describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import type { AssignmentChange, TaskStatus } from '@swarmkit-ts/api'
import { FakeRuntime } from '@swarmkit-ts/engine-adapter'
import { ManualClock } from '@swarmkit-ts/testkit'
import { RuntimeExecutor, TASK_ID_LABEL } from '../src/exec/index.ts'
import { MemoryTaskDb, Worker } from '../src/worker/index.ts'
import type { TaskDb } from '../src/worker/index.ts'
import { desired, secret, task, until, updates } from './helpers/worker-fixtures.ts'

const { ACCEPTED, PREPARING, READY, STARTING, RUNNING, SHUTDOWN, COMPLETE } = TaskState

function setup(db: TaskDb = new MemoryTaskDb(), runtime?: FakeRuntime, clock = new ManualClock(1000)) {
  const rt = runtime ?? new FakeRuntime({ clock })
  const reported: { taskId: string; status: TaskStatus }[] = []
  const worker = new Worker({
    executor: new RuntimeExecutor({ runtime: rt, clock }),
    db,
    report: async (taskId, status) => {
      reported.push({ taskId, status })
      await db.putStatus(taskId, status)
    },
    clock,
  })
  const states = (id: string): TaskState[] => reported.filter((r) => r.taskId === id).map((r) => r.status.state)
  const containers = async (id: string) => rt.list({ labels: { [TASK_ID_LABEL]: id } })
  return { clock, db, runtime: rt, worker, reported, states, containers }
}

describe('Worker', () => {
  it('runs each task of a complete set through ACCEPTED … RUNNING, reporting every state in order', async () => {
    const w = setup()
    await w.worker.assign(updates(task('t1'), task('t2')))
    await until(() => w.states('t1').includes(RUNNING) && w.states('t2').includes(RUNNING), 'both tasks running', w.clock)
    expect(w.states('t1')).toEqual([ACCEPTED, PREPARING, READY, STARTING, RUNNING])
    expect(w.states('t2')).toEqual([ACCEPTED, PREPARING, READY, STARTING, RUNNING])
    expect((await w.containers('t1')).map((c) => c.state)).toEqual(['running'])
    expect(w.db.get('t1')?.task.status.state).toBe(RUNNING)
    await w.worker.stop()
  })

  it('shuts a task down when its desired state becomes SHUTDOWN, keeping its container until the task is removed', async () => {
    const w = setup()
    await w.worker.assign(updates(task('t1')))
    await until(() => w.states('t1').includes(RUNNING), 't1 running', w.clock)
    await w.worker.update(updates(desired(task('t1'), SHUTDOWN)))
    // The fake's `sleep` exits at SIGTERM, so no grace period has to pass.
    await until(() => w.states('t1').includes(SHUTDOWN), 't1 shut down', w.clock)
    expect(w.states('t1').slice(-1)).toEqual([SHUTDOWN])
    expect((await w.containers('t1')).map((c) => c.state)).toEqual(['exited'])

    await w.worker.update([{ action: 'remove', assignment: { task: desired(task('t1'), SHUTDOWN) } }])
    await until(() => w.db.get('t1') === undefined, 't1 forgotten', w.clock)
    expect(await w.containers('t1')).toEqual([])
    expect(w.worker.tasks()).toEqual([])
    await w.worker.stop()
  })

  it('removes the tasks a complete set leaves out (stopped, container removed, entry deleted)', async () => {
    const w = setup()
    await w.worker.assign(updates(task('t1'), task('t2')))
    await until(() => w.states('t1').includes(RUNNING) && w.states('t2').includes(RUNNING), 'both running', w.clock)
    await w.worker.assign(updates(task('t2')))
    await until(() => w.db.get('t1') === undefined, 't1 removed', w.clock)
    expect(await w.containers('t1')).toEqual([])
    expect((await w.containers('t2')).map((c) => c.state)).toEqual(['running'])
    expect(w.worker.tasks().map((t) => t.id)).toEqual(['t2'])
    await w.worker.stop()
  })

  it('holds secrets and configs in memory: updated and removed incrementally, replaced by a complete set', async () => {
    const w = setup()
    const s1 = secret('s1', 'db-password', 'hunter2')
    const s2 = secret('s2', 'api-key', 'k')
    await w.worker.assign([{ action: 'update', assignment: { secret: s1 } }])
    expect(w.worker.dependencies()).toEqual({ secrets: ['s1'], configs: [] })
    await w.worker.update([
      { action: 'update', assignment: { secret: s2 } },
      { action: 'remove', assignment: { secret: s1 } },
    ])
    expect(w.worker.dependencies()).toEqual({ secrets: ['s2'], configs: [] })
    await w.worker.assign([{ action: 'update', assignment: { secret: s1 } }])
    expect(w.worker.dependencies()).toEqual({ secrets: ['s1'], configs: [] })
    await w.worker.stop()
  })

  it('gives a task its secret as a file, looked up when the task is prepared', async () => {
    const w = setup()
    const s1 = secret('s1', 'db-password', 'hunter2')
    const t = task('t1', {}, { secrets: [{ secretId: 's1', secretName: 'db-password', file: { name: 'db-password', mode: 0o400 } }] })
    const changes: AssignmentChange[] = [{ action: 'update', assignment: { secret: s1 } }, ...updates(t)]
    await w.worker.assign(changes)
    await until(() => w.states('t1').includes(RUNNING), 't1 running', w.clock)
    const [info] = await w.containers('t1')
    expect(info?.state).toBe('running')
    await w.worker.stop()
  })

  it('a task that completes stays COMPLETE (no restart on the node) until the managers change it', async () => {
    const w = setup()
    await w.worker.assign(updates(task('t1', {}, { command: ['sh', '-c', 'sleep 5'] })))
    await until(() => w.states('t1').includes(RUNNING), 't1 running', w.clock)
    w.clock.advance(5000)
    await until(() => w.states('t1').includes(COMPLETE), 't1 complete', w.clock)
    expect(w.states('t1')).toEqual([ACCEPTED, PREPARING, READY, STARTING, RUNNING, COMPLETE])
    expect(w.clock.pending()).toBe(0)
    await w.worker.stop()
  })

  it('a restarted worker resumes its running tasks on the same runtime and adopts their containers (no duplicate)', async () => {
    const clock = new ManualClock(1000)
    const runtime = new FakeRuntime({ clock })
    const db = new MemoryTaskDb()
    const first = setup(db, runtime, clock)
    await first.worker.assign(updates(task('t1')))
    await until(() => first.states('t1').includes(RUNNING), 't1 running', clock)
    const [before] = await first.containers('t1')
    await first.worker.stop()

    const second = setup(db, runtime, clock)
    await second.worker.init()
    expect(second.worker.tasks().map((t) => [t.id, t.status.state])).toEqual([['t1', RUNNING]])
    await second.worker.assign(updates(task('t1')))
    const after = await second.containers('t1')
    expect(after.map((c) => [c.id, c.state])).toEqual([[before?.id, 'running']])
    expect(runtime.size).toBe(1)
    expect(second.reported).toEqual([])
    await second.worker.stop()
  })

  it('a restarted worker finishes removing a task it had unassigned before the crash', async () => {
    const clock = new ManualClock(1000)
    const runtime = new FakeRuntime({ clock })
    const db = new MemoryTaskDb()
    const first = setup(db, runtime, clock)
    await first.worker.assign(updates(task('t1')))
    await until(() => first.states('t1').includes(RUNNING), 't1 running', clock)
    await first.worker.stop()
    await db.setAssigned('t1', false) // the crash came right after the removal was recorded

    const second = setup(db, runtime, clock)
    await second.worker.init()
    await until(() => db.get('t1') === undefined, 't1 forgotten', clock)
    expect(runtime.size).toBe(0)
    await second.worker.stop()
  })

  it('a task resumed before READY waits for the first complete set (which carries its secrets)', async () => {
    const clock = new ManualClock(1000)
    const db = new MemoryTaskDb()
    await db.put({ task: { ...task('t1'), status: { state: PREPARING, timestamp: 1 } }, assigned: true })
    const w = setup(db, undefined, clock)
    await w.worker.init()
    expect(w.worker.tasks()).toEqual([])
    await w.worker.assign(updates(task('t1')))
    await until(() => w.states('t1').includes(RUNNING), 't1 running', clock)
    expect(w.states('t1')).toEqual([READY, STARTING, RUNNING])
    await w.worker.stop()
  })

  it('writes every task of an assignment set to the database at once, and starts none before all are durable', async () => {
    const inner = new MemoryTaskDb()
    const held: (() => void)[] = []
    // A database whose puts wait until the test lets them finish.
    const db: TaskDb = {
      entries: () => inner.entries(),
      get: (id) => inner.get(id),
      put: (entry) => new Promise<void>((resolve) => held.push(() => void inner.put(entry).then(resolve))),
      putStatus: (id, s) => inner.putStatus(id, s),
      setAssigned: (id, a) => inner.setAssigned(id, a),
      delete: (id) => inner.delete(id),
      close: () => inner.close(),
    }
    const w = setup(db)
    const assigning = w.worker.assign(updates(task('t1'), task('t2'), task('t3')))
    await until(() => held.length === 3, 'three puts in flight', w.clock)
    expect(w.worker.tasks()).toEqual([])
    for (const release of held.splice(0)) release()
    await assigning
    expect(w.worker.tasks().map((t) => t.id)).toEqual(['t1', 't2', 't3'])
    await until(() => ['t1', 't2', 't3'].every((id) => w.states(id).includes(RUNNING)), 'all three running', w.clock)
    await w.worker.stop()
  })

  it('stop leaves containers running and cancels every timer of the worker', async () => {
    const clock = new ManualClock(1000)
    const runtimeClock = new ManualClock(1000)
    const runtime = new FakeRuntime({ clock: runtimeClock })
    const w = setup(new MemoryTaskDb(), runtime, clock)
    await w.worker.assign(updates(task('t1')))
    await until(() => w.states('t1').includes(RUNNING), 't1 running', clock)
    await w.worker.stop()
    expect(clock.pending()).toBe(0)
    expect((await w.containers('t1')).map((c) => c.state)).toEqual(['running'])
  })
})
