import { describe, expect, it } from 'vitest'
import { PermissionDeniedError, TaskState, UnavailableError } from '@swarmkit-ts/api'
import type { TaskStatusUpdate } from '@swarmkit-ts/api'
import { ManualClock } from '@swarmkit-ts/testkit'
import { MemoryTaskDb, StatusReporter } from '../src/worker/index.ts'
import { flush, status, task } from './helpers/worker-fixtures.ts'

/** A send that records batches and fails while `failures` has entries (taken in order). */
function recordingSend(): { batches: TaskStatusUpdate[][]; failures: Error[]; send: (u: readonly TaskStatusUpdate[]) => Promise<void>; gate: Promise<void> | undefined } {
  const rec = {
    batches: [] as TaskStatusUpdate[][],
    failures: [] as Error[],
    gate: undefined as Promise<void> | undefined,
    send: async (updates: readonly TaskStatusUpdate[]): Promise<void> => {
      if (rec.gate !== undefined) await rec.gate
      const failure = rec.failures.shift()
      if (failure !== undefined) throw failure
      rec.batches.push([...updates])
    },
  }
  return rec
}

async function setup() {
  const clock = new ManualClock(1000)
  const db = new MemoryTaskDb()
  await db.put({ task: task('t1'), assigned: true })
  await db.put({ task: task('t2'), assigned: true })
  const rec = recordingSend()
  const reporter = new StatusReporter({ db, send: rec.send, clock })
  return { clock, db, rec, reporter }
}

describe('StatusReporter', () => {
  it('writes each status to the task db before sending it', async () => {
    const { db, rec, reporter } = await setup()
    await reporter.report('t1', status(TaskState.ACCEPTED, 1))
    expect(db.get('t1')?.task.status).toEqual(status(TaskState.ACCEPTED, 1))
    await flush()
    expect(rec.batches).toEqual([[{ taskId: 't1', status: status(TaskState.ACCEPTED, 1) }]])
    expect(reporter.acknowledged('t1')).toEqual(status(TaskState.ACCEPTED, 1))
    expect(reporter.pending).toBe(0)
  })

  it('sends only the latest status of a task when several arrive while a send is in flight', async () => {
    const { rec, reporter } = await setup()
    let open: () => void = () => undefined
    rec.gate = new Promise((resolve) => (open = resolve))
    await reporter.report('t1', status(TaskState.ACCEPTED, 1))
    await reporter.report('t2', status(TaskState.ACCEPTED, 1))
    await flush()
    await reporter.report('t1', status(TaskState.PREPARING, 2))
    await reporter.report('t1', status(TaskState.READY, 3))
    await reporter.report('t1', status(TaskState.STARTING, 4))
    rec.gate = undefined
    open()
    await flush()
    expect(rec.batches).toEqual([
      [{ taskId: 't1', status: status(TaskState.ACCEPTED, 1) }],
      [
        { taskId: 't1', status: status(TaskState.STARTING, 4) },
        { taskId: 't2', status: status(TaskState.ACCEPTED, 1) },
      ],
    ])
  })

  it('never sends a status older than one already acknowledged (nor the same one again)', async () => {
    const { db, rec, reporter } = await setup()
    await reporter.report('t1', status(TaskState.RUNNING, 5))
    await flush()
    await reporter.report('t1', status(TaskState.STARTING, 6))
    await reporter.report('t1', status(TaskState.RUNNING, 4))
    await reporter.report('t1', status(TaskState.RUNNING, 5))
    await flush()
    expect(rec.batches).toEqual([[{ taskId: 't1', status: status(TaskState.RUNNING, 5) }]])
    expect(db.get('t1')?.task.status).toEqual(status(TaskState.RUNNING, 5))
  })

  it('retries a failed send with a doubling backoff on the clock until it is acknowledged', async () => {
    const { clock, rec, reporter } = await setup()
    rec.failures.push(new UnavailableError('no session'), new UnavailableError('no session'), new UnavailableError('no session'))
    await reporter.report('t1', status(TaskState.ACCEPTED, 1))
    await flush()
    expect(rec.batches).toEqual([])
    expect(clock.nextDueAt()).toBe(1100)
    clock.advance(100)
    await flush()
    expect(clock.nextDueAt()).toBe(1300)
    clock.advance(200)
    await flush()
    expect(clock.nextDueAt()).toBe(1700)
    clock.advance(399)
    await flush()
    expect(rec.batches).toEqual([])
    clock.advance(1)
    await flush()
    expect(rec.batches).toEqual([[{ taskId: 't1', status: status(TaskState.ACCEPTED, 1) }]])
    expect(clock.pending()).toBe(0)
  })

  it('sends at once after retryNow (a new session), skipping the backoff', async () => {
    const { clock, rec, reporter } = await setup()
    rec.failures.push(new UnavailableError('no session'))
    await reporter.report('t1', status(TaskState.ACCEPTED, 1))
    await flush()
    reporter.retryNow()
    await flush()
    expect(rec.batches).toEqual([[{ taskId: 't1', status: status(TaskState.ACCEPTED, 1) }]])
    expect(clock.pending()).toBe(0)
  })

  it('drops the status of a task a manager refuses (PermissionDenied) and delivers the rest of the batch', async () => {
    const clock = new ManualClock(0)
    const db = new MemoryTaskDb()
    const delivered: TaskStatusUpdate[] = []
    const send = (updates: readonly TaskStatusUpdate[]): Promise<void> => {
      if (updates.some((u) => u.taskId === 'foreign')) return Promise.reject(new PermissionDeniedError('task foreign is not assigned to this node'))
      delivered.push(...updates)
      return Promise.resolve()
    }
    let open: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (open = resolve))
    // The first send waits at the gate, so 'foreign' and 'b' travel together in the second batch.
    const blocked = new StatusReporter({ db, send: async (u) => (await gate, send(u)), clock })
    await Promise.all(['a', 'foreign', 'b'].map((id) => blocked.report(id, status(TaskState.RUNNING, 1))))
    open()
    await flush(10)
    expect(delivered.map((u) => u.taskId).sort()).toEqual(['a', 'b'])
    expect(blocked.pending).toBe(0)
    expect(clock.pending()).toBe(0)
  })

  it('forgets a removed task: its pending status is never sent', async () => {
    const { rec, reporter } = await setup()
    rec.failures.push(new UnavailableError('no session'))
    await reporter.report('t1', status(TaskState.ACCEPTED, 1))
    await flush()
    reporter.forget('t1')
    reporter.retryNow()
    await flush()
    expect(rec.batches).toEqual([])
    expect(reporter.pending).toBe(0)
  })

  it('stop cancels the retry timer', async () => {
    const { clock, rec, reporter } = await setup()
    rec.failures.push(new UnavailableError('no session'))
    await reporter.report('t1', status(TaskState.ACCEPTED, 1))
    await flush()
    expect(clock.pending()).toBe(1)
    reporter.stop()
    expect(clock.pending()).toBe(0)
  })
})
