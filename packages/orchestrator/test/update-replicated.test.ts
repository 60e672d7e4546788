import { TaskState, UpdateState } from '@swarmkit-ts/api'
import type { ServiceSpec, UpdateConfig } from '@swarmkit-ts/api'
import { afterEach, describe, expect, it } from 'vitest'
import { Harness, replicatedSpec } from './helpers/harness.ts'

const harnesses: Harness[] = []
async function harness(nodes = 2): Promise<Harness> {
  const h = new Harness()
  harnesses.push(h)
  for (let i = 1; i <= nodes; i++) await h.addNode(`n${i}`)
  return h
}
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop()
})

function withImage(image: string, update?: UpdateConfig): (spec: ServiceSpec) => ServiceSpec {
  return (spec) => ({ ...spec, task: { ...spec.task, container: { image } }, ...(update === undefined ? {} : { update }) })
}

function images(h: Harness, serviceId: string): string[] {
  return h
    .running(serviceId)
    .map((t) => t.spec.container?.image ?? '')
    .sort()
}

describe('rolling update of a replicated service (through the orchestrator)', () => {
  it('parallelism 1, delay 10 s: one slot per step, exact counts, then COMPLETED', async () => {
    const h = await harness()
    const svc = await h.createService(replicatedSpec('web', 3))
    await h.settle()
    const t0 = h.clock.now()
    await h.updateService(svc.id, withImage('busybox:2', { parallelism: 1, delayMs: 10_000 }))
    await h.settle()
    expect(images(h, svc.id)).toEqual(['busybox:1', 'busybox:1', 'busybox:2'])
    expect(h.live(svc.id)).toHaveLength(3)
    await h.advance(10_000)
    expect(images(h, svc.id)).toEqual(['busybox:1', 'busybox:2', 'busybox:2'])
    await h.advance(10_000)
    expect(images(h, svc.id)).toEqual(['busybox:2', 'busybox:2', 'busybox:2'])
    expect(h.live(svc.id).map((t) => t.slot).sort()).toEqual([1, 2, 3])
    // The last worker's delay (10 s), then delay + 1 s of monitoring (delay ≥ monitor).
    await h.advance(20_999)
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.UPDATING)
    await h.advance(1)
    expect(h.service(svc.id).updateStatus).toEqual({ state: UpdateState.COMPLETED, message: 'update completed', startedAt: t0, completedAt: t0 + 41_000 })
  })

  it('start-first: a slot briefly holds the new task running next to the old one, never fewer running than replicas', async () => {
    const h = await harness()
    const svc = await h.createService(replicatedSpec('web', 2))
    await h.settle()
    let most = 0
    let least = Infinity
    const abort = new AbortController()
    const seen = (async () => {
      for await (const ev of h.store.watch({ kinds: ['task'], actions: ['commit'] }, { signal: abort.signal })) {
        void ev
        const n = h.tasks(svc.id).filter((t) => t.status.state === TaskState.RUNNING).length
        most = Math.max(most, n)
        least = Math.min(least, n)
      }
    })()
    await h.updateService(svc.id, withImage('busybox:2', { order: 'start-first' }))
    await h.advance(5000)
    abort.abort()
    await seen
    expect(most).toBe(3)
    expect(least).toBe(2)
    expect(images(h, svc.id)).toEqual(['busybox:2', 'busybox:2'])
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.COMPLETED)
  })

  it('failure action rollback: back to the previous spec, ROLLBACK_STARTED, then ROLLBACK_COMPLETED "rollback completed"', async () => {
    const h = await harness()
    h.driver.failingImages.add('bad:1')
    const svc = await h.createService(replicatedSpec('web', 3, { update: { failureAction: 'rollback' } }))
    await h.settle()
    const v1 = h.service(svc.id)
    const statuses: string[] = []
    const abort = new AbortController()
    const seen = (async () => {
      for await (const ev of h.store.watch({ kinds: ['service'], actions: ['update'] }, { signal: abort.signal })) {
        if (ev.action !== 'update') continue
        const st = ev.object.updateStatus
        if (st !== undefined && st.state !== ev.oldObject?.updateStatus?.state) statuses.push(`${st.state}: ${st.message ?? ''}`)
      }
    })()
    await h.updateService(svc.id, withImage('bad:1', { failureAction: 'rollback', delayMs: 1000 }))
    await h.settle()
    const rolled = h.service(svc.id)
    expect(rolled.spec).toEqual(v1.spec)
    expect(rolled.specVersion).toEqual(v1.specVersion)
    expect(rolled.previousSpec).toBeUndefined()
    await h.advance(60_000)
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.ROLLBACK_COMPLETED)
    expect(h.service(svc.id).updateStatus?.message).toBe('rollback completed')
    expect(images(h, svc.id)).toEqual(['busybox:1', 'busybox:1', 'busybox:1'])
    expect(h.live(svc.id)).toHaveLength(3)
    abort.abort()
    await seen
    const bad = h.tasks(svc.id).filter((t) => t.spec.container?.image === 'bad:1')
    expect(bad).toHaveLength(1)
    expect(statuses).toEqual([
      'updating: update in progress',
      `rollback_started: update rolled back due to failure or early termination of task ${bad[0]?.id}`,
      'rollback_completed: rollback completed',
    ])
  })

  it('a rollback that fails too ends ROLLBACK_PAUSED and is not rolled back again', async () => {
    const h = await harness()
    h.driver.failingImages.add('bad:1')
    const svc = await h.createService(replicatedSpec('web', 2))
    await h.settle()
    await h.updateService(svc.id, withImage('bad:1', { failureAction: 'rollback', delayMs: 1000 }))
    // The image rolled back to fails from now on.
    h.driver.failingImages.add('busybox:1')
    await h.advance(60_000)
    const s = h.service(svc.id)
    expect(s.updateStatus?.state).toBe(UpdateState.ROLLBACK_PAUSED)
    expect(s.updateStatus?.message).toMatch(/^rollback paused due to failure or early termination of task [0-9a-z]{25}$/)
    expect(s.spec.task.container?.image).toBe('busybox:1')
  })

  it('a manual rollback brings back the previous spec with the rollback config and completes', async () => {
    const h = await harness()
    const svc = await h.createService(replicatedSpec('web', 2, { rollback: { parallelism: 0 } }))
    await h.settle()
    await h.updateService(svc.id, withImage('busybox:2'))
    await h.advance(10_000)
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.COMPLETED)
    await h.control.rollback(svc.id)
    await h.settle()
    expect(images(h, svc.id)).toEqual(['busybox:1', 'busybox:1'])
    expect(h.service(svc.id).updateStatus?.message).toBe('manually requested rollback')
    await h.advance(5000)
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.ROLLBACK_COMPLETED)
  })

  it('a new spec during an update cancels it; the new update replaces every slot and completes', async () => {
    const h = await harness()
    const svc = await h.createService(replicatedSpec('web', 3))
    await h.settle()
    await h.updateService(svc.id, withImage('busybox:2', { delayMs: 10_000 }))
    await h.settle()
    expect(images(h, svc.id)).toEqual(['busybox:1', 'busybox:1', 'busybox:2'])
    await h.updateService(svc.id, withImage('busybox:3', { parallelism: 0 }))
    await h.advance(60_000)
    expect(images(h, svc.id)).toEqual(['busybox:3', 'busybox:3', 'busybox:3'])
    expect(h.tasks(svc.id).filter((t) => t.spec.container?.image === 'busybox:2')).toHaveLength(1)
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.COMPLETED)
  })

  it('a leader change mid-update resumes the update and completes it', async () => {
    const h = await harness()
    const svc = await h.createService(replicatedSpec('web', 4))
    await h.settle()
    await h.updateService(svc.id, withImage('busybox:2', { delayMs: 10_000 }))
    await h.settle()
    expect(images(h, svc.id)).toEqual(['busybox:1', 'busybox:1', 'busybox:1', 'busybox:2'])
    await h.leaderChange()
    await h.settle()
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.UPDATING)
    await h.advance(120_000)
    expect(images(h, svc.id)).toEqual(['busybox:2', 'busybox:2', 'busybox:2', 'busybox:2'])
    expect(h.live(svc.id)).toHaveLength(4)
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.COMPLETED)
  })

  it('a slot whose task stopped and is not restarted (restart condition none) is still replaced by the update', async () => {
    const h = await harness()
    const svc = await h.createService(replicatedSpec('web', 2, { task: { container: { image: 'busybox:1' }, restart: { condition: 'none' } } }))
    await h.settle()
    const [victim] = h.running(svc.id)
    await h.driver.fail(victim?.id ?? '')
    await h.advance(10_000)
    expect(h.running(svc.id)).toHaveLength(1)
    await h.updateService(svc.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } } }))
    await h.advance(10_000)
    expect(images(h, svc.id)).toEqual(['busybox:2', 'busybox:2'])
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.COMPLETED)
  })

  it('a paused update stays paused until a new spec, which clears the status and updates again', async () => {
    const h = await harness()
    h.driver.failingImages.add('bad:1')
    const svc = await h.createService(replicatedSpec('web', 2))
    await h.settle()
    await h.updateService(svc.id, withImage('bad:1', { delayMs: 1000 }))
    await h.advance(60_000)
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.PAUSED)
    expect(h.tasks(svc.id).filter((t) => t.spec.container?.image === 'busybox:1' && t.status.state === TaskState.RUNNING)).toHaveLength(1)
    const t1 = h.clock.now()
    await h.updateService(svc.id, withImage('busybox:2', { delayMs: 1000 }))
    await h.settle()
    expect(h.service(svc.id).updateStatus).toEqual({ state: UpdateState.UPDATING, message: 'update in progress', startedAt: t1 })
    await h.advance(60_000)
    expect(images(h, svc.id)).toEqual(['busybox:2', 'busybox:2'])
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.COMPLETED)
  })

  it('a leader change during a rollback resumes it with the rollback config and completes it', async () => {
    const h = await harness()
    const svc = await h.createService(replicatedSpec('web', 3, { rollback: { parallelism: 1, delayMs: 10_000 } }))
    await h.settle()
    await h.updateService(svc.id, withImage('busybox:2', { parallelism: 0 }))
    await h.advance(10_000)
    expect(images(h, svc.id)).toEqual(['busybox:2', 'busybox:2', 'busybox:2'])
    await h.control.rollback(svc.id)
    await h.settle()
    expect(images(h, svc.id)).toEqual(['busybox:1', 'busybox:2', 'busybox:2'])
    await h.leaderChange()
    await h.settle()
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.ROLLBACK_STARTED)
    expect(images(h, svc.id)).toEqual(['busybox:1', 'busybox:1', 'busybox:2'])
    await h.advance(10_000)
    expect(images(h, svc.id)).toEqual(['busybox:1', 'busybox:1', 'busybox:1'])
    await h.advance(60_000)
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.ROLLBACK_COMPLETED)
    expect(h.live(svc.id)).toHaveLength(3)
  })
})
