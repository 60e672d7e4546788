import { PermissionDeniedError, TaskState } from '@swarmkit-ts/api'
import type { Task, TaskStatus } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { STATUS_FLUSH_INTERVAL_MS, STATUS_FLUSH_LIMIT, decideStatusUpdate } from '../src/index.ts'
import { DispatcherFixture, idOf, task } from './helpers/dispatcher-fixture.ts'

const MANAGER = idOf('mgr')

function running(timestamp: number): TaskStatus {
  return { timestamp, state: TaskState.RUNNING, message: 'started' }
}

describe('Dispatcher status intake', () => {
  it('queues updates and writes them 100 ms later with appliedBy and appliedAt', async () => {
    const f = new DispatcherFixture({ config: { nodeId: MANAGER } })
    const c = await f.connect('n1')
    await f.addTask('t1', 'n1')
    await c.api.updateTaskStatus({ sessionId: c.sessionId, updates: [{ taskId: idOf('t1'), status: running(5) }] })
    await f.advance(STATUS_FLUSH_INTERVAL_MS - 1)
    expect(f.task('t1')?.status.state).toBe(TaskState.ASSIGNED)
    const at = f.clock.now() + 1
    await f.advance(1)
    expect(f.task('t1')?.status).toEqual({ ...running(5), appliedBy: MANAGER, appliedAt: at })
    await f.stop()
  })

  it('with statusFlushMs 0, writes the updates queued in one turn at the next turn, together', async () => {
    const f = new DispatcherFixture({ config: { nodeId: MANAGER, statusFlushMs: 0 } })
    const c = await f.connect('n1')
    await f.addTask('t1', 'n1')
    await f.addTask('t2', 'n1')
    const version = f.store.version
    await Promise.all(['t1', 't2'].map((t) => c.api.updateTaskStatus({ sessionId: c.sessionId, updates: [{ taskId: idOf(t), status: running(5) }] })))
    expect(f.task('t1')?.status.state).toBe(TaskState.ASSIGNED)
    await f.advance(0)
    expect(f.task('t1')?.status).toEqual({ ...running(5), appliedBy: MANAGER, appliedAt: f.clock.now() })
    expect(f.task('t2')?.status.state).toBe(TaskState.RUNNING)
    expect(f.store.version).toBe(version + 1n)
    await f.stop()
  })

  it('keeps the latest update per task and writes 10,000 queued updates at once, in batches', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    await f.store.batch((b) => {
      for (let i = 0; i < STATUS_FLUSH_LIMIT; i += 100) {
        b.update((tx) => {
          for (let j = i; j < i + 100; j++) tx.tasks.create(task(`t${String(j)}`, 'n1'))
        })
      }
    })
    const ids = Array.from({ length: STATUS_FLUSH_LIMIT }, (_, i) => idOf(`t${String(i)}`))
    await c.api.updateTaskStatus({ sessionId: c.sessionId, updates: ids.slice(0, 10).map((taskId) => ({ taskId, status: { timestamp: 1, state: TaskState.PREPARING } })) })
    await c.api.updateTaskStatus({ sessionId: c.sessionId, updates: ids.map((taskId) => ({ taskId, status: running(2) })) })
    await f.settle()
    expect(f.clock.now()).toBe(1_700_000_000_000)
    const states = f.store.view((tx) => ids.map((id) => tx.tasks.get(id)?.status.state))
    expect(new Set(states)).toEqual(new Set([TaskState.RUNNING]))
    await f.stop()
  }, 120_000)

  it('writes one batch at a time: updates that arrive while a write is in flight go in the next write, each task with its latest status only', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    await f.store.batch((b) => {
      for (let i = 0; i < STATUS_FLUSH_LIMIT; i += 100) {
        b.update((tx) => {
          for (let j = i; j < i + 100; j++) tx.tasks.create(task(`t${String(j)}`, 'n1'))
        })
      }
    })
    const ids = Array.from({ length: STATUS_FLUSH_LIMIT }, (_, i) => idOf(`t${String(i)}`))
    const seen = new Map<string, TaskState[]>()
    const watch = f.store.watch({ kinds: 'task', actions: ['update'] }, { queueLimit: 10 * STATUS_FLUSH_LIMIT })
    const watching = (async () => {
      for await (const ev of watch) if (ev.action === 'update') seen.set(ev.object.id, [...(seen.get(ev.object.id) ?? []), ev.object.status.state])
    })()
    const send = (state: TaskState, timestamp: number): Promise<void> =>
      c.api.updateTaskStatus({ sessionId: c.sessionId, updates: ids.map((taskId) => ({ taskId, status: { timestamp, state } })) })
    // Each request fills the queue to the limit: the first is written at once, the next two while it is in flight.
    await Promise.all([send(TaskState.PREPARING, 1), send(TaskState.READY, 2), send(TaskState.RUNNING, 3)])
    await f.settle()
    watch.close()
    await watching
    expect(f.clock.now()).toBe(1_700_000_000_000)
    expect(new Set([...seen.values()].map((states) => states.join(',')))).toEqual(new Set([`${TaskState.PREPARING},${TaskState.RUNNING}`]))
    expect(seen.size).toBe(STATUS_FLUSH_LIMIT)
    await f.stop()
  }, 120_000)

  it('never moves a state backwards: an update lower than the stored state is ignored', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    await f.addTask('t1', 'n1', { state: TaskState.RUNNING })
    const before = f.task('t1')?.status
    await c.api.updateTaskStatus({ sessionId: c.sessionId, updates: [{ taskId: idOf('t1'), status: { timestamp: 9, state: TaskState.STARTING } }] })
    await f.advance(STATUS_FLUSH_INTERVAL_MS)
    expect(f.task('t1')?.status).toEqual(before)
    await f.stop()
  })

  it('refuses (PermissionDenied) a request naming another node’s task and queues none of it', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    await f.addTask('mine', 'n1')
    await f.addTask('theirs', 'n2')
    const err = await c.api
      .updateTaskStatus({
        sessionId: c.sessionId,
        updates: [
          { taskId: idOf('mine'), status: running(1) },
          { taskId: idOf('theirs'), status: running(1) },
        ],
      })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermissionDeniedError)
    await f.advance(STATUS_FLUSH_INTERVAL_MS)
    expect(f.task('mine')?.status.state).toBe(TaskState.ASSIGNED)
    expect(f.task('theirs')?.status.state).toBe(TaskState.ASSIGNED)
    await f.stop()
  })

  it('skips a task that is gone, and refuses an invalid session', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    await expect(c.api.updateTaskStatus({ sessionId: c.sessionId, updates: [{ taskId: idOf('gone'), status: running(1) }] })).resolves.toBeUndefined()
    await expect(c.api.updateTaskStatus({ sessionId: 'other', updates: [] })).rejects.toMatchObject({ reason: 'session-invalid' })
    await f.stop()
  })

  it('stop writes what is queued', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    await f.addTask('t1', 'n1')
    await c.api.updateTaskStatus({ sessionId: c.sessionId, updates: [{ taskId: idOf('t1'), status: running(3) }] })
    await f.stop()
    expect(f.task('t1')?.status.state).toBe(TaskState.RUNNING)
    expect(f.clock.pending()).toBe(0)
  })

  it('decideStatusUpdate applies an update iff its state is not lower and it differs (property)', () => {
    const states = Object.values(TaskState)
    fc.assert(
      fc.property(fc.constantFrom(...states), fc.constantFrom(...states), fc.nat(10), fc.nat(10), (stored, next, ts1, ts2) => {
        const t = { ...task('t1', 'n1'), meta: { version: { index: 1n }, createdAt: 0, updatedAt: 0 }, status: { timestamp: ts1, state: stored } } as Frozen<Task>
        const out = decideStatusUpdate(t, { timestamp: ts2, state: next }, { by: 'm', at: 7 })
        if (next < stored || (next === stored && ts1 === ts2)) return out === undefined
        return out !== undefined && out.state === next && out.timestamp === ts2 && out.appliedBy === 'm' && out.appliedAt === 7
      }),
    )
  })
})
