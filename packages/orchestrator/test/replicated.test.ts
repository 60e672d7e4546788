import { NodeAvailability, NodeState, TaskState } from '@swarmkit-ts/api'
import type { Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { Harness, replicatedSpec } from './helpers/harness.ts'

/** slot → node of the live tasks, sorted by slot. */
function placement(tasks: readonly Frozen<Task>[]): [number, string][] {
  return tasks.map((t): [number, string] => [t.slot, t.nodeId]).sort((a, b) => a[0] - b[0])
}

function slots(tasks: readonly Frozen<Task>[]): number[] {
  return tasks.map((t) => t.slot).sort((a, b) => a - b)
}

describe('replicated orchestrator', () => {
  it('creates one task per replica in slots 1..N, desired RUNNING, and they run', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 3))
    await h.settle()
    const tasks = h.tasks(svc.id)
    expect(slots(tasks)).toEqual([1, 2, 3])
    expect(tasks.map((t) => t.desiredState)).toEqual([TaskState.RUNNING, TaskState.RUNNING, TaskState.RUNNING])
    expect(slots(h.running(svc.id))).toEqual([1, 2, 3])
    expect(tasks.map((t) => t.annotations.name).sort()).toEqual(tasks.map((t) => `web.${t.slot}.${t.id}`).sort())
  })

  it('scale up fills the lowest free slot numbers from 1, reusing a removed slot number', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 3))
    await h.settle()
    await h.updateService(svc.id, (s) => ({ ...s, mode: { replicated: { replicas: 2 } } }))
    await h.settle()
    expect(slots(h.live(svc.id))).toEqual([1, 2])
    await h.updateService(svc.id, (s) => ({ ...s, mode: { replicated: { replicas: 5 } } }))
    await h.settle()
    expect(slots(h.live(svc.id))).toEqual([1, 2, 3, 4, 5])
    expect(slots(h.running(svc.id))).toEqual([1, 2, 3, 4, 5])
  })

  it('scale down removes slots from the node holding most replicas first, then higher slots, with desired REMOVE', async () => {
    const h = new Harness()
    const n1 = await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 3))
    await h.settle()
    const n2 = await h.addNode('n2')
    await h.updateService(svc.id, (s) => ({ ...s, mode: { replicated: { replicas: 4 } } }))
    await h.settle()
    expect(placement(h.running(svc.id))).toEqual([
      [1, n1],
      [2, n1],
      [3, n1],
      [4, n2],
    ])
    await h.updateService(svc.id, (s) => ({ ...s, mode: { replicated: { replicas: 2 } } }))
    await h.settle()
    expect(placement(h.running(svc.id))).toEqual([
      [1, n1],
      [4, n2],
    ])
    const removed = h.tasks(svc.id).filter((t) => t.desiredState === TaskState.REMOVE)
    expect(slots(removed)).toEqual([2, 3])
    expect(removed.map((t) => t.status.state)).toEqual([TaskState.SHUTDOWN, TaskState.SHUTDOWN])
  })

  it('replaces the task on a node that goes down, after the restart delay, in the same slot on another node', async () => {
    const h = new Harness()
    const n1 = await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 1))
    await h.settle()
    const n2 = await h.addNode('n2')
    const [old] = h.tasks(svc.id)
    await h.setNodeState(n1, NodeState.DOWN)
    await h.settle()
    const replacement = h.tasks(svc.id).find((t) => t.id !== old?.id)
    expect(h.tasks(svc.id).find((t) => t.id === old?.id)?.desiredState).toBe(TaskState.SHUTDOWN)
    expect(replacement?.desiredState).toBe(TaskState.READY)
    await h.advance(4_999)
    expect(h.running(svc.id)).toEqual([])
    await h.advance(1)
    expect(placement(h.running(svc.id))).toEqual([[1, n2]])
  })

  it('replaces the tasks of a drained node at once (no restart delay), once they have stopped', async () => {
    const h = new Harness()
    const n1 = await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 2))
    await h.settle()
    const n2 = await h.addNode('n2')
    await h.setAvailability(n1, NodeAvailability.DRAIN)
    await h.settle()
    expect(placement(h.running(svc.id))).toEqual([
      [1, n2],
      [2, n2],
    ])
    expect(h.tasks(svc.id).filter((t) => t.nodeId === n1).map((t) => [t.desiredState, t.status.state])).toEqual([
      [TaskState.SHUTDOWN, TaskState.SHUTDOWN],
      [TaskState.SHUTDOWN, TaskState.SHUTDOWN],
    ])
  })

  it('replaces the task of a deleted node after the restart delay', async () => {
    const h = new Harness()
    const n1 = await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 1))
    await h.settle()
    const n2 = await h.addNode('n2')
    await h.removeNode(n1)
    await h.settle()
    expect(h.running(svc.id)).toEqual([])
    await h.advance(5_000)
    expect(placement(h.running(svc.id))).toEqual([[1, n2]])
  })

  it('recreates a slot whose live task was deleted from the store', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 2))
    await h.settle()
    const victim = h.tasks(svc.id).find((t) => t.slot === 2)
    await h.store.update((tx) => tx.tasks.delete(victim?.id ?? ''))
    await h.settle()
    expect(slots(h.running(svc.id))).toEqual([1, 2])
    expect(h.tasks(svc.id).some((t) => t.id === victim?.id)).toBe(false)
  })

  it('sets every task of a deleted service to desired REMOVE', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 3))
    await h.settle()
    await h.control.remove(svc.id)
    await h.settle()
    const tasks = h.tasks(svc.id)
    expect(tasks.map((t) => t.desiredState)).toEqual([TaskState.REMOVE, TaskState.REMOVE, TaskState.REMOVE])
    expect(tasks.map((t) => t.status.state)).toEqual([TaskState.SHUTDOWN, TaskState.SHUTDOWN, TaskState.SHUTDOWN])
  })
})
