import { TaskState, UpdateState } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { serviceProgress } from '../src/index.ts'
import type { ServiceProgress } from '../src/index.ts'
import { Harness, globalSpec, replicatedSpec } from './helpers/harness.ts'

/** The snapshot of an iterator result that must not be done. */
function value(r: IteratorResult<ServiceProgress, unknown>): ServiceProgress {
  if (r.done === true) throw new Error('the stream ended')
  return r.value
}

/** A snapshot without its task ids (checked apart against the store), slots as tuples. */
function shape(p: ServiceProgress): unknown {
  return {
    desired: p.desired,
    running: p.running,
    runningUpToDate: p.runningUpToDate,
    slots: p.slots.map((s) => [s.slot, s.state, s.message, s.desiredState, s.upToDate]),
    updateStatus: p.updateStatus,
    converged: p.converged,
    deleted: p.deleted,
  }
}

/** Every slot's task id is the id of a live task of that slot in the store, one per slot. */
function checkTaskIds(h: Harness, p: ServiceProgress): void {
  const tasks = new Map(h.tasks(p.serviceId).map((t) => [t.id, t]))
  for (const s of p.slots) {
    const t = tasks.get(s.taskId)
    expect([t?.slot, t?.status.state, t?.desiredState]).toEqual([s.slot, s.state, s.desiredState])
  }
  expect(new Set(p.slots.map((s) => s.taskId)).size).toBe(p.slots.length)
}

const R = TaskState.RUNNING

describe('serviceProgress on a running orchestrator', () => {
  it('follows a replicated service through create, running, scale-up, rolling update and delete', async () => {
    const h = new Harness()
    await h.addNode('n1')
    await h.addNode('n2')
    h.driver.enabled = false
    const update = { parallelism: 0, delayMs: 0, monitorMs: 0 }
    const svc = await h.createService(replicatedSpec('web', 2, { update }))
    await h.settle()
    const stream = serviceProgress(h.store, svc.id)[Symbol.asyncIterator]()

    const created = value(await stream.next())
    expect([created.serviceId, created.name, created.mode]).toEqual([svc.id, 'web', 'replicated'])
    expect(shape(created)).toEqual({
      desired: 2,
      running: 0,
      runningUpToDate: 0,
      slots: [
        [1, TaskState.NEW, 'created', R, true],
        [2, TaskState.NEW, 'created', R, true],
      ],
      updateStatus: undefined,
      converged: false,
      deleted: false,
    })
    checkTaskIds(h, created)

    h.driver.enabled = true
    await h.settle()
    const running = value(await stream.next())
    expect(shape(running)).toEqual({
      desired: 2,
      running: 2,
      runningUpToDate: 2,
      slots: [
        [1, R, 'started', R, true],
        [2, R, 'started', R, true],
      ],
      updateStatus: undefined,
      converged: true,
      deleted: false,
    })
    checkTaskIds(h, running)

    h.driver.enabled = false
    await h.updateService(svc.id, (s) => replicatedSpec('web', 3, { update: s.update ?? update }))
    await h.settle()
    const scaling = value(await stream.next())
    expect(shape(scaling)).toEqual({
      desired: 3,
      running: 2,
      runningUpToDate: 2,
      slots: [
        [1, R, 'started', R, true],
        [2, R, 'started', R, true],
        [3, TaskState.NEW, 'created', R, true],
      ],
      updateStatus: undefined,
      converged: false,
      deleted: false,
    })
    h.driver.enabled = true
    await h.settle()
    expect(value(await stream.next()).converged).toBe(true)

    await h.updateService(svc.id, (s) => ({ ...s, task: { container: { image: 'busybox:2' } } }))
    const now = h.clock.now()
    await h.advance(60_000)
    const updated = value(await stream.next())
    expect(shape(updated)).toEqual({
      desired: 3,
      running: 3,
      runningUpToDate: 3,
      slots: [
        [1, R, 'started', R, true],
        [2, R, 'started', R, true],
        [3, R, 'started', R, true],
      ],
      // completedAt: when the updater's last monitor ended (its timing is the updater's to test).
      updateStatus: { state: UpdateState.COMPLETED, message: 'update completed', startedAt: now, completedAt: h.service(svc.id).updateStatus?.completedAt },
      converged: true,
      deleted: false,
    })
    checkTaskIds(h, updated)
    expect(h.store.view((tx) => updated.slots.map((s) => tx.tasks.get(s.taskId)?.spec.container?.image))).toEqual(['busybox:2', 'busybox:2', 'busybox:2'])

    await h.control.remove(svc.id)
    await h.settle()
    const deleted = value(await stream.next())
    expect([deleted.deleted, deleted.desired, deleted.converged, deleted.updateStatus]).toEqual([true, 0, false, undefined])
    expect(await stream.next()).toEqual({ done: true, value: undefined })
  })

  it('follows a global service by node id, and a drained node leaves the desired count', async () => {
    const h = new Harness()
    const a = await h.addNode('a', { id: 'aaaaaaaaaaaaaaaaaaaaaaaaa' })
    const b = await h.addNode('b', { id: 'bbbbbbbbbbbbbbbbbbbbbbbbb' })
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    const stream = serviceProgress(h.store, svc.id)[Symbol.asyncIterator]()
    const first = value(await stream.next())
    expect(first.mode).toBe('global')
    expect(first.slots.map((s) => [s.nodeId, s.slot, s.state])).toEqual([
      [a, 0, R],
      [b, 0, R],
    ])
    expect([first.desired, first.running, first.converged]).toEqual([2, 2, true])

    await h.setAvailability(b, 'drain')
    await h.settle()
    const drained = value(await stream.next())
    expect([drained.desired, drained.running, drained.converged]).toEqual([1, 1, true])
    await stream.return?.()
  })
})

describe('serviceProgress of jobs on a running orchestrator', () => {
  it('counts completed tasks of the current iteration against totalCompletions, and starts over at the next iteration', async () => {
    const h = new Harness()
    await h.addNode('n1')
    h.driver.holdJobs = true
    const svc = await h.createService({
      annotations: { name: 'batch' },
      mode: { replicatedJob: { maxConcurrent: 2, totalCompletions: 3 } },
      task: { container: { image: 'busybox:1' } },
    })
    await h.settle()
    const stream = serviceProgress(h.store, svc.id)[Symbol.asyncIterator]()
    const first = value(await stream.next())
    expect([first.mode, first.desired, first.running, first.jobIteration, first.converged]).toEqual(['replicatedJob', 3, 0, 0n, false])
    expect(first.slots.map((s) => [s.state, s.desiredState])).toEqual([
      [R, TaskState.COMPLETE],
      [R, TaskState.COMPLETE],
    ])

    h.driver.holdJobs = false
    await h.settle()
    const done = value(await stream.next())
    expect([done.desired, done.running, done.converged]).toEqual([3, 3, true])
    expect(done.slots.map((s) => s.state)).toEqual([TaskState.COMPLETE, TaskState.COMPLETE, TaskState.COMPLETE])

    h.driver.holdJobs = true
    await h.updateService(svc.id, (s) => s)
    await h.settle()
    const next = value(await stream.next())
    expect([next.jobIteration, next.desired, next.running, next.converged]).toEqual([1n, 3, 0, false])
    expect(next.slots.map((s) => s.state)).toEqual([R, R])
    await stream.return?.()
  })
})
