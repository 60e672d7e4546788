import { NodeAvailability, NodeState, TaskState } from '@swarmkit-ts/api'
import type { Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { Harness, replicatedSpec } from './helpers/harness.ts'

function get(h: Harness, id: string): Frozen<Task> | undefined {
  return h.store.view((tx) => tx.tasks.get(id))
}

function others(h: Harness, serviceId: string, ids: readonly (string | undefined)[]): Frozen<Task>[] {
  return h.tasks(serviceId).filter((t) => !ids.includes(t.id))
}

describe('leader-change repair', () => {
  it('resumes a restart delay that was in progress with what is left of it', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 1))
    await h.settle()
    const [first] = h.tasks(svc.id)
    await h.driver.fail(first?.id ?? '')
    await h.advance(2_000)
    const [replacement] = others(h, svc.id, [first?.id])
    await h.leaderChange()
    await h.settle()
    expect(get(h, replacement?.id ?? '')?.desiredState).toBe(TaskState.READY)
    await h.advance(2_999)
    expect(get(h, replacement?.id ?? '')?.desiredState).toBe(TaskState.READY)
    await h.advance(1)
    expect(h.running(svc.id).map((t) => t.id)).toEqual([replacement?.id])
    expect(h.tasks(svc.id).length).toBe(2)
  })

  it('starts at once a delayed task whose delay ran out while no orchestrator ran', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 1))
    await h.settle()
    const [first] = h.tasks(svc.id)
    await h.driver.fail(first?.id ?? '')
    await h.advance(1_000)
    await h.stop()
    await h.advance(10_000)
    const [replacement] = others(h, svc.id, [first?.id])
    expect(replacement?.desiredState).toBe(TaskState.READY)
    h.start()
    await h.settle()
    expect(h.running(svc.id).map((t) => t.id)).toEqual([replacement?.id])
  })

  it('restarts at start a task that failed while no orchestrator ran', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 1))
    await h.settle()
    const [first] = h.tasks(svc.id)
    await h.stop()
    await h.driver.fail(first?.id ?? '')
    await h.advance(60_000)
    expect(h.tasks(svc.id).length).toBe(1)
    h.start()
    await h.settle()
    expect(get(h, first?.id ?? '')?.desiredState).toBe(TaskState.SHUTDOWN)
    const [replacement] = others(h, svc.id, [first?.id])
    expect(replacement?.desiredState).toBe(TaskState.READY)
    await h.advance(5_000)
    expect(h.running(svc.id).map((t) => t.id)).toEqual([replacement?.id])
  })

  it('replaces at start the tasks of nodes that went down or were drained while no orchestrator ran', async () => {
    const h = new Harness()
    const n1 = await h.addNode('n1')
    const n2 = await h.addNode('n2')
    const svc = await h.createService(replicatedSpec('web', 2))
    await h.settle()
    const n3 = await h.addNode('n3')
    await h.stop()
    await h.setNodeState(n1, NodeState.DOWN)
    await h.setAvailability(n2, NodeAvailability.DRAIN)
    h.start()
    await h.advance(5_000)
    expect(h.running(svc.id).map((t) => t.nodeId)).toEqual([n3, n3])
    expect(h.live(svc.id).length).toBe(2)
  })

  it('rebuilds the restart history, so max attempts still hold after a leader change', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 1, { task: { container: { image: 'busybox:1' }, restart: { maxAttempts: 1 } } }))
    await h.settle()
    const [first] = h.tasks(svc.id)
    await h.driver.fail(first?.id ?? '')
    await h.advance(5_000)
    const [second] = h.running(svc.id)
    expect(second?.id).not.toBe(first?.id)
    await h.leaderChange()
    await h.settle()
    await h.driver.fail(second?.id ?? '')
    await h.advance(60_000)
    expect(h.tasks(svc.id).length).toBe(2)
    expect(h.live(svc.id)).toEqual([])
  })

  it('waits at start for the predecessor of a delayed task to stop before starting it', async () => {
    const h = new Harness()
    const n1 = await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 1))
    await h.settle()
    await h.addNode('n2')
    h.driver.enabled = false
    await h.setAvailability(n1, NodeAvailability.DRAIN)
    await h.settle()
    const [old] = h.tasks(svc.id).filter((t) => t.nodeId === n1)
    const [replacement] = others(h, svc.id, [old?.id])
    await h.leaderChange()
    await h.advance(30_000)
    expect(get(h, replacement?.id ?? '')?.desiredState).toBe(TaskState.READY)
    h.driver.enabled = true
    await h.settle()
    expect(get(h, old?.id ?? '')?.status.state).toBe(TaskState.SHUTDOWN)
    expect(h.running(svc.id).map((t) => t.id)).toEqual([replacement?.id])
  })
})
