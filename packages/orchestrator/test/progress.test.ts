import { NotFoundError, TaskState, UpdateState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { PROGRESS_QUEUE_LIMIT, newTask, serviceProgress } from '../src/index.ts'
import type { ServiceProgress } from '../src/index.ts'
import { Harness, flush, globalSpec, replicatedSpec } from './helpers/harness.ts'

/** A harness without the orchestrator: the tests write tasks themselves. */
async function bare(replicas: number): Promise<{ h: Harness; id: string; taskIds: string[] }> {
  const h = new Harness({ start: false })
  h.driver.enabled = false
  const svc = await h.createService(replicatedSpec('web', replicas))
  const tasks = Array.from({ length: replicas }, (_, i) => newTask(undefined, svc, i + 1, '', h))
  await h.store.update((tx) => {
    for (const t of tasks) tx.tasks.create(t)
  })
  return { h, id: svc.id, taskIds: tasks.map((t) => t.id) }
}

async function setState(h: Harness, taskId: string, state: TaskState, message: string): Promise<void> {
  await h.store.update((tx) =>
    tx.tasks.update(taskId, (d) => {
      d.status = { timestamp: h.clock.now(), state, message }
    }),
  )
}

/** The snapshot of an iterator result that must not be done. */
function value(r: IteratorResult<ServiceProgress, unknown>): ServiceProgress {
  if (r.done === true) throw new Error('the stream ended')
  return r.value
}

/** Whether `p` is still pending after every microtask and I/O callback ran. */
async function pending(p: Promise<unknown>): Promise<boolean> {
  let settled = false
  void p.then(
    () => (settled = true),
    () => (settled = true),
  )
  await flush()
  return !settled
}

describe('serviceProgress', () => {
  it('emits the first snapshot at once: slots by number with state, message, desired state and up-to-date flag', async () => {
    const { h, id, taskIds } = await bare(2)
    const stream = serviceProgress(h.store, id)[Symbol.asyncIterator]()
    const first = await stream.next()
    const expected: ServiceProgress = {
      serviceId: id,
      name: 'web',
      mode: 'replicated',
      desired: 2,
      running: 0,
      runningUpToDate: 0,
      slots: [
        { slot: 1, nodeId: '', taskId: taskIds[0] as string, state: TaskState.NEW, message: 'created', desiredState: TaskState.RUNNING, upToDate: true },
        { slot: 2, nodeId: '', taskId: taskIds[1] as string, state: TaskState.NEW, message: 'created', desiredState: TaskState.RUNNING, upToDate: true },
      ],
      converged: false,
      deleted: false,
    }
    expect(first).toStrictEqual({ done: false, value: expected })
    expect(Object.isFrozen(first.value)).toBe(true)
    expect(Object.isFrozen((first.value as ServiceProgress).slots[0])).toBe(true)
    await stream.return?.()
    expect(h.store.watcherCount).toBe(0)
  })

  it('rejects the first next() with NotFoundError for a service that does not exist, and leaves no watch behind', async () => {
    const h = new Harness({ start: false })
    const stream = serviceProgress(h.store, 'nope')[Symbol.asyncIterator]()
    await expect(stream.next()).rejects.toBeInstanceOf(NotFoundError)
    expect(h.store.watcherCount).toBe(0)
  })

  it('coalesces the commits made while the consumer is busy into one snapshot of the latest state', async () => {
    const { h, id, taskIds } = await bare(2)
    const stream = serviceProgress(h.store, id)[Symbol.asyncIterator]()
    await stream.next()
    await setState(h, taskIds[0] as string, TaskState.PENDING, 'pending task scheduling')
    await setState(h, taskIds[0] as string, TaskState.RUNNING, 'started')
    await setState(h, taskIds[1] as string, TaskState.RUNNING, 'started')
    const next = value(await stream.next())
    expect(next.slots.map((s) => [s.slot, s.state, s.message])).toEqual([
      [1, TaskState.RUNNING, 'started'],
      [2, TaskState.RUNNING, 'started'],
    ])
    expect(next.running).toBe(2)
    expect(next.converged).toBe(true)
    // The backlog is consumed: nothing more until the next commit.
    const after = stream.next()
    expect(await pending(after)).toBe(true)
    await setState(h, taskIds[1] as string, TaskState.FAILED, 'started')
    expect(value(await after).running).toBe(1)
    await stream.return?.()
  })

  it('starts again from a fresh view when a busy consumer lets more than PROGRESS_QUEUE_LIMIT events pile up', async () => {
    const { h, id, taskIds } = await bare(1)
    const t = taskIds[0] as string
    const stream = serviceProgress(h.store, id)[Symbol.asyncIterator]()
    await stream.next()
    await h.store.batch((b) => {
      for (let i = 0; i <= PROGRESS_QUEUE_LIMIT; i++) b.update((tx) => tx.tasks.update(t, (d) => void (d.status.timestamp += 1)))
      b.update((tx) => tx.tasks.update(t, (d) => void (d.status = { timestamp: 0, state: TaskState.RUNNING, message: 'started' })))
    })
    const p = value(await stream.next())
    expect(p.slots.map((s) => [s.state, s.message])).toEqual([[TaskState.RUNNING, 'started']])
    expect(p.converged).toBe(true)
    expect(h.store.watcherCount).toBe(1)
    await stream.return?.()
    expect(h.store.watcherCount).toBe(0)
  })

  it('never emits two equal snapshots in a row: a commit that changes nothing shown is skipped', async () => {
    const { h, id, taskIds } = await bare(1)
    const stream = serviceProgress(h.store, id)[Symbol.asyncIterator]()
    await stream.next()
    const next = stream.next()
    // Only the status timestamp changes, which a snapshot does not show.
    await h.store.update((tx) => tx.tasks.update(taskIds[0] as string, (d) => void (d.status.timestamp += 1)))
    expect(await pending(next)).toBe(true)
    await setState(h, taskIds[0] as string, TaskState.PENDING, 'pending task scheduling')
    expect(value(await next).slots[0]?.state).toBe(TaskState.PENDING)
    await stream.return?.()
  })

  it('ignores commits that touch other services', async () => {
    const { h, id } = await bare(1)
    const stream = serviceProgress(h.store, id)[Symbol.asyncIterator]()
    await stream.next()
    const next = stream.next()
    const other = await h.createService(replicatedSpec('other', 1))
    await h.store.update((tx) => tx.tasks.create(newTask(undefined, other, 1, '', h)))
    expect(await pending(next)).toBe(true)
    await stream.return?.()
    expect(await next).toEqual({ done: true, value: undefined })
  })

  it('ends after a last snapshot with deleted: true when the service is removed', async () => {
    const { h, id } = await bare(1)
    const seen: ServiceProgress[] = []
    const consume = (async () => {
      for await (const p of serviceProgress(h.store, id)) seen.push(p)
    })()
    await flush()
    await h.control.remove(id)
    await consume
    expect(seen.map((p) => [p.deleted, p.desired, p.converged])).toEqual([
      [false, 1, false],
      [true, 0, false],
    ])
    expect(seen[1]?.name).toBe('web')
    expect(seen[1]?.slots.map((s) => s.state)).toEqual([TaskState.NEW])
    expect(h.store.watcherCount).toBe(0)
  })

  it('ends quietly when the signal aborts, and at once when it was aborted before the start', async () => {
    const { h, id } = await bare(1)
    const ac = new AbortController()
    const stream = serviceProgress(h.store, id, { signal: ac.signal })[Symbol.asyncIterator]()
    expect((await stream.next()).done).toBe(false)
    const next = stream.next()
    ac.abort()
    expect(await next).toEqual({ done: true, value: undefined })
    expect(h.store.watcherCount).toBe(0)

    const seen: ServiceProgress[] = []
    for await (const p of serviceProgress(h.store, id, { signal: ac.signal })) seen.push(p)
    expect(seen).toEqual([])
    // An aborted stream does not even look the service up.
    for await (const p of serviceProgress(h.store, 'nope', { signal: ac.signal })) seen.push(p)
    expect(seen).toEqual([])
  })

  it('shows a replicated job: desired totalCompletions, done = completed tasks of the current iteration only', async () => {
    const h = new Harness({ start: false })
    h.driver.enabled = false
    const spec: ServiceSpec = {
      annotations: { name: 'batch' },
      mode: { replicatedJob: { maxConcurrent: 2, totalCompletions: 3 } },
      task: { container: { image: 'busybox:1' } },
    }
    const svc = await h.createService(spec)
    const stale = { ...newTask(undefined, svc, 9, '', h), desiredState: TaskState.COMPLETE, jobIteration: { index: 7n } }
    const a = { ...newTask(undefined, svc, 1, '', h), desiredState: TaskState.COMPLETE, jobIteration: { index: 0n } }
    const b = { ...newTask(undefined, svc, 2, '', h), desiredState: TaskState.COMPLETE, jobIteration: { index: 0n } }
    await h.store.update((tx) => {
      for (const t of [stale, a, b]) tx.tasks.create(t)
    })
    await setState(h, a.id, TaskState.COMPLETE, 'finished')
    const stream = serviceProgress(h.store, svc.id)[Symbol.asyncIterator]()
    const p = value(await stream.next())
    expect([p.mode, p.desired, p.running, p.jobIteration, p.converged]).toEqual(['replicatedJob', 3, 1, 0n, false])
    expect(p.slots.map((s) => [s.slot, s.taskId, s.state])).toEqual([
      [1, a.id, TaskState.COMPLETE],
      [2, b.id, TaskState.NEW],
    ])
    await stream.return?.()
  })

  it('shows the update status and is not converged while an update is paused', async () => {
    const { h, id, taskIds } = await bare(1)
    for (const t of taskIds) await setState(h, t, TaskState.RUNNING, 'started')
    const stream = serviceProgress(h.store, id)[Symbol.asyncIterator]()
    expect(value(await stream.next()).converged).toBe(true)
    await h.store.update((tx) =>
      tx.services.update(id, (s) => {
        s.updateStatus = { state: UpdateState.PAUSED, message: 'update paused due to failure or early termination of task x', startedAt: 5 }
      }),
    )
    const p = value(await stream.next())
    expect(p.updateStatus).toStrictEqual({ state: UpdateState.PAUSED, message: 'update paused due to failure or early termination of task x', startedAt: 5 })
    expect(p.converged).toBe(false)
    await stream.return?.()
  })
})

describe('serviceProgress of a global service before its tasks exist', () => {
  it('counts the eligible nodes as desired: a global service without tasks yet is not converged', async () => {
    const h = new Harness({ start: false })
    h.driver.enabled = false
    await h.addNode('a')
    await h.addNode('b')
    const paused = await h.addNode('c')
    await h.setAvailability(paused, 'pause')
    const svc = await h.createService(globalSpec('agent'))
    const stream = serviceProgress(h.store, svc.id)[Symbol.asyncIterator]()
    const first = value(await stream.next())
    expect([first.mode, first.desired, first.running, first.slots.length, first.converged]).toEqual(['global', 2, 0, 0, false])
    await stream.return?.()
  })
})
