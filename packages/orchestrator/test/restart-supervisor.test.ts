import { TaskState, silentLogger } from '@swarmkit-ts/api'
import type { RestartPolicy, Service, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { RestartSupervisor, TASK_TIMEOUT_MS, newTask } from '../src/index.ts'
import { Harness, replicatedSpec } from './helpers/harness.ts'

/** A harness without orchestrator, and a restart supervisor of its own on the same store. */
async function setup(restart: RestartPolicy = {}) {
  const h = new Harness({ start: false })
  const sup = new RestartSupervisor({ store: h.store, clock: h.clock, random: h.random, logger: silentLogger })
  sup.start()
  await h.addNode('n1')
  const svc = await h.createService(replicatedSpec('web', 1, { task: { container: { image: 'busybox:1' }, restart } }))
  return { h, sup, svc }
}

async function runningTask(h: Harness, svc: Frozen<Service>): Promise<Frozen<Task>> {
  const t = newTask(undefined, svc, 1, '', h)
  await h.store.update((tx) => tx.tasks.create(t))
  await h.settle()
  return get(h, t.id)
}

function get(h: Harness, id: string): Frozen<Task> {
  const t = h.store.view((tx) => tx.tasks.get(id))
  if (t === undefined) throw new Error(`no task ${id}`)
  return t
}

/** Restarts `id` through `sup`; resolves with the replacement's id. */
async function restart(h: Harness, sup: RestartSupervisor, svc: Frozen<Service>, id: string): Promise<string | undefined> {
  const before = new Set(h.tasks(svc.id).map((t) => t.id))
  await h.store.update((tx) => sup.restart(tx, undefined, svc, get(h, id)))
  return h.tasks(svc.id).find((t) => !before.has(t.id))?.id
}

describe('restart supervisor (direct)', () => {
  it('starts the slot history over when the spec version changes', async () => {
    const { h, sup, svc } = await setup({ maxAttempts: 1 })
    const t1 = await runningTask(h, svc)
    await h.driver.fail(t1.id)
    const t2 = await restart(h, sup, svc, t1.id)
    await h.driver.fail(t2 ?? '')
    expect(sup.shouldRestart(get(h, t2 ?? ''), svc)).toBe(false)
    const updated = await h.updateService(svc.id, (s) => ({ ...s, labels: { v: '2' } }))
    const t3 = await runningTask(h, updated)
    await h.driver.fail(t3.id)
    expect(sup.shouldRestart(get(h, t3.id), updated)).toBe(true)
    const t4 = await restart(h, sup, updated, t3.id)
    await h.driver.fail(t4 ?? '')
    expect(sup.shouldRestart(get(h, t4 ?? ''), updated)).toBe(false)
    await sup.stop()
  })

  it('counts the 1-minute wait for the old task from the start of the delayed start, delay included', async () => {
    const { h, sup, svc } = await setup()
    const old = await runningTask(h, svc)
    h.driver.enabled = false
    const next = newTask(undefined, svc, 1, '', h)
    next.desiredState = TaskState.READY
    await h.store.update((tx) => tx.tasks.create(next))
    const done = sup.delayStart(old, next.id, 5_000, true)
    expect(sup.isDelayed(next.id)).toBe(true)
    await h.advance(TASK_TIMEOUT_MS - 1)
    expect(get(h, next.id).desiredState).toBe(TaskState.READY)
    await h.advance(1)
    await done
    expect(get(h, next.id).desiredState).toBe(TaskState.RUNNING)
    expect(sup.isDelayed(next.id)).toBe(false)
    await sup.stop()
  })

  it('starts as soon as the delay is over when the old task stopped during the delay', async () => {
    const { h, sup, svc } = await setup()
    const old = await runningTask(h, svc)
    const next = newTask(undefined, svc, 1, '', h)
    next.desiredState = TaskState.READY
    await h.store.update((tx) => tx.tasks.create(next))
    const done = sup.delayStart(old, next.id, 5_000, true)
    await h.advance(1_000)
    await h.driver.fail(old.id, TaskState.SHUTDOWN)
    await h.advance(4_000)
    await done
    expect(get(h, next.id).desiredState).toBe(TaskState.RUNNING)
    await sup.stop()
  })

  it('stop() cancels pending delayed starts: they resolve, write nothing and leave no timer', async () => {
    const { h, sup, svc } = await setup()
    const next = newTask(undefined, svc, 1, '', h)
    next.desiredState = TaskState.READY
    await h.store.update((tx) => tx.tasks.create(next))
    const done = sup.delayStart(undefined, next.id, 5_000, true)
    await sup.stop()
    await done
    expect(h.clock.nextDueAt()).toBe(undefined)
    await h.advance(10_000)
    expect(get(h, next.id).desiredState).toBe(TaskState.READY)
  })

  it('cancel() of a delayed start leaves the task in READY', async () => {
    const { h, sup, svc } = await setup()
    const next = newTask(undefined, svc, 1, '', h)
    next.desiredState = TaskState.READY
    await h.store.update((tx) => tx.tasks.create(next))
    const done = sup.delayStart(undefined, next.id, 5_000, false)
    sup.cancel(next.id)
    await done
    await h.advance(10_000)
    expect(get(h, next.id).desiredState).toBe(TaskState.READY)
    expect(sup.isDelayed(next.id)).toBe(false)
    await sup.stop()
  })

  it('refuses to restart a task already shut down', async () => {
    const { h, sup, svc } = await setup()
    const t = await runningTask(h, svc)
    await h.store.update((tx) => tx.tasks.update(t.id, (d) => void (d.desiredState = TaskState.SHUTDOWN)))
    expect(await restart(h, sup, svc, t.id)).toBe(undefined)
    await sup.stop()
  })
})
