import { TaskState, UpdateState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { afterEach, describe, expect, it } from 'vitest'
import { newTask } from '../src/index.ts'
import { UpdateStatusWriter } from '../src/update/update-status-writer.ts'
import { replicatedSpec } from './helpers/harness.ts'
import { UpdateFixture } from './helpers/update-fixture.ts'

const fixtures: UpdateFixture[] = []
function fixture(): UpdateFixture {
  const f = new UpdateFixture()
  fixtures.push(f)
  return f
}
afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.stop()
})

function image(f: UpdateFixture, serviceId: string): Map<string, string> {
  return new Map(f.h.live(serviceId).map((t) => [t.id, t.spec.container?.image ?? '']))
}

describe('updater: what makes a task dirty', () => {
  it('force update (task.forceUpdate + 1) replaces every task, same image', async () => {
    const f = fixture()
    const svc = await f.service(replicatedSpec('web', 3), 3)
    const before = f.h.live(svc.id).map((t) => t.id)
    await f.update(svc.id, (s) => ({ ...s, task: { ...s.task, forceUpdate: (s.task.forceUpdate ?? 0) + 1 }, update: { parallelism: 0 } }))
    const after = f.h.live(svc.id)
    expect(after).toHaveLength(3)
    expect(after.filter((t) => before.includes(t.id))).toEqual([])
    expect(after.map((t) => t.spec.forceUpdate)).toEqual([1, 1, 1])
    expect(f.runningImages(svc.id)).toEqual(['busybox:1', 'busybox:1', 'busybox:1'])
  })

  it('a change of placement constraints alone keeps the tasks whose node still matches', async () => {
    const f = fixture()
    const a = await f.h.addNode('a', { labels: { zone: 'a' } })
    const b = await f.h.addNode('b', { labels: { zone: 'b' } })
    const svc = await f.service(replicatedSpec('web', 2), 2)
    const onA = f.h.live(svc.id).find((t) => t.nodeId === a)
    const onB = f.h.live(svc.id).find((t) => t.nodeId === b)
    expect(onA).toBeDefined()
    expect(onB).toBeDefined()
    await f.update(svc.id, (s) => ({ ...s, task: { ...s.task, placement: { constraints: ['node.labels.zone==a'] } } }))
    await f.h.advance(5000)
    const live = f.h.live(svc.id)
    expect(live.map((t) => t.nodeId)).toEqual([a, a])
    expect(live.some((t) => t.id === onA?.id)).toBe(true)
    expect(live.some((t) => t.id === onB?.id)).toBe(false)
    expect(f.h.service(svc.id).updateStatus?.state).toBe(UpdateState.COMPLETED)
  })

  it('an update with no dirty task completes at once without an UPDATING phase', async () => {
    const f = fixture()
    const svc = await f.service(replicatedSpec('web', 2), 2)
    await f.update(svc.id, (s) => ({ ...s, annotations: { ...s.annotations, labels: { team: 'x' } } }))
    expect(f.h.service(svc.id).updateStatus).toBeUndefined()
    expect(f.h.live(svc.id)).toHaveLength(2)
  })
})

describe('updater: manual rollback', () => {
  it('a manual rollback runs with the rollback config, ROLLBACK_STARTED "manually requested rollback" then ROLLBACK_COMPLETED', async () => {
    const f = fixture()
    // The rollback runs with the rollback config of the spec rolled back to (SwarmKit reads service.spec.rollback after the swap).
    const svc = await f.service(replicatedSpec('web', 4, { rollback: { parallelism: 2, delayMs: 10_000 } }), 4)
    const v2 = (s: ServiceSpec): ServiceSpec => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } }, update: { parallelism: 0 } })
    await f.update(svc.id, v2)
    await f.h.advance(5000)
    expect(f.h.service(svc.id).updateStatus?.state).toBe(UpdateState.COMPLETED)
    const t1 = f.h.clock.now()
    await f.h.control.rollback(svc.id)
    await f.kick(svc.id)
    expect(f.h.service(svc.id).updateStatus).toEqual({ state: UpdateState.ROLLBACK_STARTED, message: 'manually requested rollback', startedAt: t1 })
    expect(f.runningImages(svc.id)).toEqual(['busybox:1', 'busybox:1', 'busybox:2', 'busybox:2'])
    await f.h.advance(10_000)
    expect(f.runningImages(svc.id)).toEqual(['busybox:1', 'busybox:1', 'busybox:1', 'busybox:1'])
    // After the last pair: the workers' delay (10 s), then delay + 1 s (the delay is ≥ the monitor).
    await f.h.advance(20_999)
    expect(f.h.service(svc.id).updateStatus?.state).toBe(UpdateState.ROLLBACK_STARTED)
    await f.h.advance(1)
    expect(f.h.service(svc.id).updateStatus).toEqual({
      state: UpdateState.ROLLBACK_COMPLETED,
      message: 'rollback completed',
      startedAt: t1,
      completedAt: t1 + 10_000 + 21_000,
    })
  })
})

describe('update supervisor', () => {
  it('a new spec during an update cancels it, and the new update replaces every slot and completes', async () => {
    const f = fixture()
    const svc = await f.service(replicatedSpec('web', 3), 3)
    await f.update(svc.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } }, update: { delayMs: 10_000 } }))
    expect([...image(f, svc.id).values()].sort()).toEqual(['busybox:1', 'busybox:1', 'busybox:2'])
    const mark = f.history.length
    await f.update(svc.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:3' } }, update: { parallelism: 0 } }))
    await f.h.advance(60_000)
    expect(f.runningImages(svc.id)).toEqual(['busybox:3', 'busybox:3', 'busybox:3'])
    expect(f.history.slice(mark).filter((c) => c.change === 'created').map((c) => c.image)).toEqual(['busybox:3', 'busybox:3', 'busybox:3'])
    expect(f.h.service(svc.id).updateStatus?.state).toBe(UpdateState.COMPLETED)
    expect(f.updates.isUpdating(svc.id)).toBe(false)
  })

  it('handing over the same spec again while an update runs does not restart it', async () => {
    const f = fixture()
    const svc = await f.service(replicatedSpec('web', 3), 3)
    await f.update(svc.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } }, update: { delayMs: 10_000 } }))
    await f.kick(svc.id)
    await f.kick(svc.id)
    expect(f.history.filter((c) => c.change === 'created' && c.image === 'busybox:2')).toHaveLength(1)
    await f.h.advance(10_000)
    expect(f.history.filter((c) => c.change === 'created' && c.image === 'busybox:2')).toHaveLength(2)
  })

  it('cancel(serviceId) stops the update: no further slot is replaced and no status is written', async () => {
    const f = fixture()
    const svc = await f.service(replicatedSpec('web', 3), 3)
    await f.update(svc.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } }, update: { delayMs: 10_000 } }))
    await f.updates.cancel(svc.id)
    await f.h.advance(60_000)
    expect(f.runningImages(svc.id)).toEqual(['busybox:1', 'busybox:1', 'busybox:2'])
    expect(f.h.service(svc.id).updateStatus?.state).toBe(UpdateState.UPDATING)
    expect(f.h.clock.nextDueAt()).toBeUndefined()
  })

  it('a status write of an updater whose spec version was superseded changes nothing', async () => {
    const f = fixture()
    const svc = await f.service(replicatedSpec('web', 1), 1)
    const stale = await f.h.updateService(svc.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } } }))
    const writer = new UpdateStatusWriter(f.h.store, stale, f.h.logger)
    await writer.start(f.h.clock.now())
    expect(f.h.service(svc.id).updateStatus?.state).toBe(UpdateState.UPDATING)
    await f.h.updateService(svc.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:3' } } }))
    await writer.start(f.h.clock.now())
    await writer.pause('paused')
    await writer.complete(f.h.clock.now())
    await writer.rollback('rolled back')
    const now = f.h.service(svc.id)
    expect(now.updateStatus).toBeUndefined()
    expect(now.spec.task.container?.image).toBe('busybox:3')
  })

  it('a slot holding an up-to-date task next to an old one keeps the up-to-date task and only shuts the old one down', async () => {
    const f = fixture()
    const svc = await f.service(replicatedSpec('web', 1), 1)
    const [old] = f.h.tasks(svc.id)
    const v2 = await f.h.updateService(svc.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } } }))
    const fresh = newTask(undefined, v2, 1, '', f.h)
    fresh.desiredState = TaskState.READY
    await f.h.store.update((tx) => tx.tasks.create(fresh))
    await f.kick(svc.id)
    expect(f.history.filter((c) => c.change === 'created').map((c) => c.taskId)).toEqual([old?.id, fresh.id])
    expect(f.h.tasks(svc.id).find((t) => t.id === old?.id)?.status.state).toBe(TaskState.SHUTDOWN)
    expect(f.h.running(svc.id).map((t) => t.id)).toEqual([fresh.id])
  })
})
