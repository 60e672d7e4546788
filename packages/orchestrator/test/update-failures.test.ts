import { TaskState, UpdateState } from '@swarmkit-ts/api'
import type { ServiceSpec, UpdateConfig } from '@swarmkit-ts/api'
import { afterEach, describe, expect, it } from 'vitest'
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

function withImage(image: string, update?: UpdateConfig, rollback?: UpdateConfig): (spec: ServiceSpec) => ServiceSpec {
  return (spec) => ({
    ...spec,
    task: { ...spec.task, container: { image } },
    ...(update === undefined ? {} : { update }),
    ...(rollback === undefined ? {} : { rollback }),
  })
}

/** Ids of the service's tasks running `image`, in creation order. */
function tasksOf(f: UpdateFixture, serviceId: string, image: string): string[] {
  return f.history.filter((c) => c.change === 'created' && c.image === image && f.h.tasks(serviceId).some((t) => t.id === c.taskId)).map((c) => c.taskId)
}

describe('updater: failure action', () => {
  it('pause: the first failure pauses the update with SwarmKit’s message and no further slot is started', async () => {
    const f = fixture()
    f.h.driver.failingImages.add('bad:1')
    const svc = await f.service(replicatedSpec('web', 3), 3)
    await f.update(svc.id, withImage('bad:1', { delayMs: 1000 }))
    const [bad] = tasksOf(f, svc.id, 'bad:1')
    expect(f.h.service(svc.id).updateStatus).toEqual({
      state: UpdateState.PAUSED,
      message: `update paused due to failure or early termination of task ${bad}`,
      startedAt: f.t0,
    })
    await f.h.advance(60_000)
    expect(tasksOf(f, svc.id, 'bad:1')).toHaveLength(1)
    expect(f.runningImages(svc.id)).toEqual(['busybox:1', 'busybox:1'])
  })

  it('a paused update is not resumed when the supervisor is handed the same service again', async () => {
    const f = fixture()
    f.h.driver.failingImages.add('bad:1')
    const svc = await f.service(replicatedSpec('web', 3), 3)
    await f.update(svc.id, withImage('bad:1', { delayMs: 1000 }))
    await f.h.advance(2000)
    expect(f.h.service(svc.id).updateStatus?.state).toBe(UpdateState.PAUSED)
    await f.kick(svc.id)
    await f.h.advance(60_000)
    expect(tasksOf(f, svc.id, 'bad:1')).toHaveLength(1)
    expect(f.h.service(svc.id).updateStatus?.state).toBe(UpdateState.PAUSED)
  })

  it('continue: failures are ignored and the update completes', async () => {
    const f = fixture()
    f.h.driver.failingImages.add('bad:1')
    const svc = await f.service(replicatedSpec('web', 3), 3)
    await f.update(svc.id, withImage('bad:1', { failureAction: 'continue' }))
    expect(tasksOf(f, svc.id, 'bad:1')).toHaveLength(3)
    expect(f.h.service(svc.id).updateStatus?.state).toBe(UpdateState.UPDATING)
    await f.h.advance(5000)
    expect(f.h.service(svc.id).updateStatus).toEqual({ state: UpdateState.COMPLETED, message: 'update completed', startedAt: f.t0, completedAt: f.t0 + 5000 })
  })

  it('rollback: the spec goes back to the previous one, ROLLBACK_STARTED, then the rollback completes', async () => {
    const f = fixture()
    f.h.driver.failingImages.add('bad:1')
    const svc = await f.service(replicatedSpec('web', 2), 2)
    const v1 = f.h.service(svc.id)
    await f.update(svc.id, withImage('bad:1', { failureAction: 'rollback', delayMs: 1000 }))
    const [bad] = tasksOf(f, svc.id, 'bad:1')
    const rolled = f.h.service(svc.id)
    expect(rolled.spec).toEqual(v1.spec)
    expect(rolled.specVersion).toEqual(v1.specVersion)
    expect(rolled.previousSpec).toBeUndefined()
    expect(rolled.previousSpecVersion).toBeUndefined()
    expect(rolled.updateStatus).toEqual({
      state: UpdateState.ROLLBACK_STARTED,
      message: `update rolled back due to failure or early termination of task ${bad}`,
      startedAt: f.t0,
    })
    // The orchestrator hands the rolled-back service over; the rollback replaces the bad task.
    await f.kick(svc.id)
    expect(f.runningImages(svc.id)).toEqual(['busybox:1', 'busybox:1'])
    const before = f.elapsed()
    await f.h.advance(5000)
    expect(f.h.service(svc.id).updateStatus).toEqual({
      state: UpdateState.ROLLBACK_COMPLETED,
      message: 'rollback completed',
      startedAt: f.t0,
      completedAt: f.t0 + before + 5000,
    })
    expect(tasksOf(f, svc.id, 'bad:1')).toHaveLength(1)
  })

  it.each(['pause', 'rollback'] as const)('a failing rollback (rollback failure action %s) is paused as ROLLBACK_PAUSED, never rolled back', async (action) => {
    const f = fixture()
    f.h.driver.failingImages.add('bad:1')
    const svc = await f.service(replicatedSpec('web', 2), 2)
    await f.update(svc.id, withImage('bad:1', { failureAction: 'rollback', delayMs: 1000 }, { failureAction: action }))
    expect(f.h.service(svc.id).updateStatus?.state).toBe(UpdateState.ROLLBACK_STARTED)
    const rolledBackSpec = f.h.service(svc.id).spec
    f.h.driver.failingImages.add('busybox:1')
    const mark = f.history.length
    await f.kick(svc.id)
    const failed = f.history.slice(mark).find((c) => c.change === 'created')
    expect(f.h.tasks(svc.id).find((t) => t.id === failed?.taskId)?.status.state).toBe(TaskState.FAILED)
    expect(f.h.service(svc.id).updateStatus).toEqual({
      state: UpdateState.ROLLBACK_PAUSED,
      message: `rollback paused due to failure or early termination of task ${failed?.taskId}`,
      startedAt: f.t0,
    })
    expect(f.h.service(svc.id).spec).toEqual(rolledBackSpec)
  })
})

describe('updater: failure ratio and monitor', () => {
  async function runningUpdate(f: UpdateFixture, update: UpdateConfig): Promise<{ id: string; fresh: string[] }> {
    const svc = await f.service(replicatedSpec('web', 4), 4)
    await f.update(svc.id, withImage('busybox:2', update))
    return { id: svc.id, fresh: tasksOf(f, svc.id, 'busybox:2') }
  }

  it('maxFailureRatio 0.5 with 4 slots: 2 failures (exactly half) let the update complete', async () => {
    const f = fixture()
    const { id, fresh } = await runningUpdate(f, { parallelism: 0, maxFailureRatio: 0.5 })
    expect(fresh).toHaveLength(4)
    await f.h.driver.fail(fresh[0] as string)
    await f.h.driver.fail(fresh[1] as string)
    await f.h.advance(5000)
    expect(f.h.service(id).updateStatus?.state).toBe(UpdateState.COMPLETED)
  })

  it('maxFailureRatio 0.5 with 4 slots: the third failure (more than half) pauses, naming that task', async () => {
    const f = fixture()
    const { id, fresh } = await runningUpdate(f, { parallelism: 0, maxFailureRatio: 0.5 })
    for (const t of fresh.slice(0, 3)) await f.h.driver.fail(t)
    await f.h.settle()
    expect(f.h.service(id).updateStatus).toEqual({
      state: UpdateState.PAUSED,
      message: `update paused due to failure or early termination of task ${fresh[2]}`,
      startedAt: f.t0,
    })
  })

  it('a task failing exactly monitorMs after it ran counts as a failure', async () => {
    const f = fixture()
    const { id, fresh } = await runningUpdate(f, { parallelism: 1, delayMs: 3000, monitorMs: 5000 })
    expect(fresh).toHaveLength(1)
    await f.h.advance(5000)
    await f.h.driver.fail(fresh[0] as string)
    await f.h.settle()
    expect(f.h.service(id).updateStatus?.state).toBe(UpdateState.PAUSED)
  })

  it('a task failing after its monitor period is not counted', async () => {
    const f = fixture()
    const { id, fresh } = await runningUpdate(f, { parallelism: 1, delayMs: 3000, monitorMs: 5000 })
    await f.h.advance(5001)
    await f.h.driver.fail(fresh[0] as string)
    await f.h.advance(60_000)
    expect(f.h.service(id).updateStatus?.state).toBe(UpdateState.COMPLETED)
    expect(tasksOf(f, id, 'busybox:2')).toHaveLength(4)
  })

  it('COMPLETED comes exactly one monitor period after the last task ran', async () => {
    const f = fixture()
    const svc = await f.service(replicatedSpec('web', 2), 2)
    await f.update(svc.id, withImage('busybox:2', { monitorMs: 7000 }))
    expect(f.runningImages(svc.id)).toEqual(['busybox:2', 'busybox:2'])
    const lastRan = Math.max(...f.history.filter((c) => c.image === 'busybox:2' && c.change === 'observed RUNNING').map((c) => c.at))
    await f.h.advance(lastRan + 6999 - f.elapsed())
    expect(f.h.service(svc.id).updateStatus?.state).toBe(UpdateState.UPDATING)
    await f.h.advance(1)
    expect(f.h.service(svc.id).updateStatus).toEqual({ state: UpdateState.COMPLETED, message: 'update completed', startedAt: f.t0, completedAt: f.t0 + lastRan + 7000 })
  })
})
