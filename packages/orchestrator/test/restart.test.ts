import { NodeAvailability, TaskState } from '@swarmkit-ts/api'
import type { RestartPolicy, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { Harness, replicatedSpec } from './helpers/harness.ts'

const T0 = 1_700_000_000_000

function spec(restart: RestartPolicy, image = 'busybox:1') {
  return replicatedSpec('web', 1, { task: { container: { image }, restart } })
}

/** Tasks ordered by creation. */
function byCreation(tasks: readonly Frozen<Task>[]): Frozen<Task>[] {
  return [...tasks].sort((a, b) => a.meta.createdAt - b.meta.createdAt || (a.meta.version.index < b.meta.version.index ? -1 : 1))
}

/** Collects the creation time (relative to T0) of every task created from now on. */
function recordCreations(h: Harness): number[] {
  const out: number[] = []
  const watch = h.store.watch({ kinds: 'task', actions: ['create'] })
  void (async () => {
    for await (const ev of watch) if (ev.action === 'create') out.push(ev.object.meta.createdAt - T0)
  })()
  return out
}

async function failingService(h: Harness, restart: RestartPolicy) {
  await h.addNode('n1')
  h.driver.failingImages.add('bad:1')
  const svc = await h.createService(spec(restart, 'bad:1'))
  await h.settle()
  return svc
}

describe('restart supervisor', () => {
  it('keeps the replacement at desired READY for the default 5 s delay, then RUNNING', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 1))
    await h.settle()
    const [first] = h.tasks(svc.id)
    await h.driver.fail(first?.id ?? '')
    await h.settle()
    const replacement = h.tasks(svc.id).find((t) => t.id !== first?.id)
    expect(replacement?.slot).toBe(1)
    expect(replacement?.desiredState).toBe(TaskState.READY)
    expect(replacement?.status.state).toBe(TaskState.READY)
    expect(h.tasks(svc.id).find((t) => t.id === first?.id)?.desiredState).toBe(TaskState.SHUTDOWN)
    await h.advance(4_999)
    expect(h.store.view((tx) => tx.tasks.get(replacement?.id ?? ''))?.desiredState).toBe(TaskState.READY)
    await h.advance(1)
    expect(h.running(svc.id).map((t) => t.id)).toEqual([replacement?.id])
  })

  it('uses the policy delay of the task spec', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(spec({ delayMs: 250 }))
    await h.settle()
    const [first] = h.tasks(svc.id)
    await h.driver.fail(first?.id ?? '')
    await h.advance(249)
    expect(h.running(svc.id)).toEqual([])
    await h.advance(1)
    expect(h.running(svc.id).length).toBe(1)
  })

  it('never restarts with condition none', async () => {
    const h = new Harness()
    const svc = await failingService(h, { condition: 'none' })
    await h.advance(60_000)
    const tasks = h.tasks(svc.id)
    expect(tasks.map((t) => [t.status.state, t.desiredState])).toEqual([[TaskState.FAILED, TaskState.SHUTDOWN]])
  })

  it('does not recreate a task that ended under condition none when the service is reconciled again', async () => {
    const h = new Harness()
    const created = recordCreations(h)
    const svc = await failingService(h, { condition: 'none' })
    await h.updateService(svc.id, (s) => ({ ...s, labels: { touched: 'yes' } }))
    await h.leaderChange()
    await h.advance(60_000)
    expect(created).toEqual([0])
  })

  it('scaled to 0 and back to 1 under condition none, runs a new task while the removed one is not reaped yet', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(spec({ condition: 'none' }))
    await h.settle()
    const [first] = h.running(svc.id)
    await h.updateService(svc.id, (s) => ({ ...s, mode: { replicated: { replicas: 0 } } }))
    await h.settle()
    expect(h.tasks(svc.id).find((t) => t.id === first?.id)?.desiredState).toBe(TaskState.REMOVE)
    await h.updateService(svc.id, (s) => ({ ...s, mode: { replicated: { replicas: 1 } } }))
    await h.settle()
    const running = h.running(svc.id)
    expect(running.map((t) => t.slot)).toEqual([1])
    expect(running[0]?.id).not.toBe(first?.id)
  })

  it('with condition on-failure restarts a failed task but not one that exited 0', async () => {
    const h = new Harness()
    const created = recordCreations(h)
    await h.addNode('n1')
    const svc = await h.createService(spec({ condition: 'on-failure' }))
    await h.settle()
    const [first] = h.tasks(svc.id)
    await h.driver.fail(first?.id ?? '')
    await h.advance(5_000)
    const [second] = h.running(svc.id)
    expect(second?.id).not.toBe(first?.id)
    await h.driver.complete(second?.id ?? '')
    await h.advance(60_000)
    expect(created).toEqual([0, 0])
    expect(h.live(svc.id)).toEqual([])
  })

  it('with condition any restarts a task that exited 0', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(spec({ condition: 'any' }))
    await h.settle()
    const [first] = h.tasks(svc.id)
    await h.driver.complete(first?.id ?? '')
    await h.advance(5_000)
    expect(h.tasks(svc.id).length).toBe(2)
    expect(h.running(svc.id).length).toBe(1)
  })

  it('stops after max attempts when there is no window', async () => {
    const h = new Harness()
    const created = recordCreations(h)
    const svc = await failingService(h, { maxAttempts: 2 })
    await h.advance(60_000)
    expect(created).toEqual([0, 0, 5_000])
    expect(h.live(svc.id)).toEqual([])
  })

  it('counts max attempts only inside the window', async () => {
    const h = new Harness()
    const created = recordCreations(h)
    const svc = await failingService(h, { maxAttempts: 1, windowMs: 60_000 })
    await h.advance(120_000)
    // The replacement failed 5 s after the first restart: inside the window, no more restarts.
    expect(created).toEqual([0, 0])
    expect(h.live(svc.id)).toEqual([])
  })

  it('lets restarts older than the window age out', async () => {
    const h = new Harness()
    const created = recordCreations(h)
    await failingService(h, { maxAttempts: 1, windowMs: 60_000, delayMs: 70_000 })
    await h.advance(210_000)
    // Each replacement fails 70 s after the previous restart, when that restart is out of the window.
    expect(created).toEqual([0, 0, 70_000, 140_000, 210_000])
  })

  it('does not restart in a tight loop: a replacement that fails during its delay is restarted when the delay ends', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 1))
    await h.settle()
    const [first] = h.tasks(svc.id)
    await h.driver.fail(first?.id ?? '')
    await h.advance(1_000)
    const second = h.tasks(svc.id).find((t) => t.id !== first?.id)
    await h.driver.fail(second?.id ?? '', TaskState.REJECTED)
    await h.advance(3_999)
    expect(h.tasks(svc.id).length).toBe(2)
    await h.advance(1)
    const tasks = byCreation(h.tasks(svc.id))
    expect(tasks.length).toBe(3)
    expect(tasks[2]?.meta.createdAt).toBe(T0 + 5_000)
    expect(tasks[1]?.desiredState).toBe(TaskState.SHUTDOWN)
    expect(tasks[2]?.desiredState).toBe(TaskState.READY)
    await h.advance(5_000)
    expect(h.running(svc.id).map((t) => t.id)).toEqual([tasks[2]?.id])
  })

  it('starts the replacement of a task on a drained node without delay, once the old task stopped', async () => {
    const h = new Harness()
    const n1 = await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 1))
    await h.settle()
    await h.addNode('n2')
    h.driver.enabled = false
    await h.setAvailability(n1, NodeAvailability.DRAIN)
    await h.settle()
    const [old, replacement] = byCreation(h.tasks(svc.id))
    expect(old?.desiredState).toBe(TaskState.SHUTDOWN)
    // The old task still runs: the replacement waits for it.
    expect(replacement?.desiredState).toBe(TaskState.READY)
    h.driver.enabled = true
    await h.settle()
    expect(h.running(svc.id).map((t) => t.id)).toEqual([replacement?.id])
    expect(h.clock.now()).toBe(T0)
  })

  it('starts the replacement after 1 minute when the old task never reports that it stopped', async () => {
    const h = new Harness()
    const n1 = await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 1))
    await h.settle()
    h.driver.enabled = false
    await h.setAvailability(n1, NodeAvailability.DRAIN)
    await h.settle()
    const [, replacement] = byCreation(h.tasks(svc.id))
    await h.advance(59_999)
    expect(h.store.view((tx) => tx.tasks.get(replacement?.id ?? ''))?.desiredState).toBe(TaskState.READY)
    await h.advance(1)
    expect(h.store.view((tx) => tx.tasks.get(replacement?.id ?? ''))?.desiredState).toBe(TaskState.RUNNING)
  })
})
