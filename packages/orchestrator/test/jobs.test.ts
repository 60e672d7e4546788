import { NodeAvailability, NodeState, TaskState } from '@swarmkit-ts/api'
import type { ServiceSpec, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { Harness } from './helpers/harness.ts'

/** A replicated job of busybox named `name`. */
function replicatedJob(name: string, maxConcurrent: number, totalCompletions: number): ServiceSpec {
  return { annotations: { name }, mode: { replicatedJob: { maxConcurrent, totalCompletions } }, task: { container: { image: 'busybox:1' } } }
}

/** A global job of busybox named `name`, with `extra` merged in. */
function globalJob(name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { annotations: { name }, mode: { globalJob: {} }, task: { container: { image: 'busybox:1' } }, ...extra }
}

/** Tasks still to finish (not terminal, desired ≤ COMPLETE), by slot. */
function active(h: Harness, serviceId: string): Frozen<Task>[] {
  return h.live(serviceId).sort((a, b) => a.slot - b.slot)
}

const slots = (tasks: readonly Frozen<Task>[]): number[] => tasks.map((t) => t.slot).sort((a, b) => a - b)
const nodesOf = (tasks: readonly Frozen<Task>[]): string[] => tasks.map((t) => t.nodeId).sort()

describe('jobs orchestrator: replicated jobs', () => {
  it('runs maxConcurrent 2 of totalCompletions 5 at a time, in slots 0..4, and stops at 5 completions', async () => {
    const h = new Harness()
    h.driver.holdJobs = true
    await h.addNode('n1')
    await h.addNode('n2')
    const svc = await h.createService(replicatedJob('batch', 2, 5))
    await h.settle()
    const seen: number[][] = []
    for (;;) {
      const now = active(h, svc.id)
      if (now.length === 0) break
      seen.push(slots(now))
      for (const t of now) {
        expect(t.desiredState).toBe(TaskState.COMPLETE)
        expect(t.status.state).toBe(TaskState.RUNNING)
        expect(t.jobIteration).toEqual({ index: 0n })
      }
      await h.driver.complete((now[0] as Frozen<Task>).id)
      await h.settle()
    }
    expect(seen).toEqual([[0, 1], [1, 2], [2, 3], [3, 4], [4]])
    const all = h.tasks(svc.id)
    expect(all.length).toBe(5)
    expect(slots(all)).toEqual([0, 1, 2, 3, 4])
    expect(all.every((t) => t.status.state === TaskState.COMPLETE)).toBe(true)
  })

  it('completes on its own through the driver with exactly totalCompletions tasks and no more after a leader change', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(replicatedJob('batch', 2, 5))
    await h.settle()
    await h.leaderChange()
    await h.settle()
    const all = h.tasks(svc.id)
    expect(slots(all)).toEqual([0, 1, 2, 3, 4])
    expect(all.map((t) => t.status.state)).toEqual(Array(5).fill(TaskState.COMPLETE))
  })

  it('restarts a failed task in the same slot after the 5 s restart delay', async () => {
    const h = new Harness()
    h.driver.holdJobs = true
    await h.addNode('n1')
    const svc = await h.createService(replicatedJob('batch', 1, 1))
    await h.settle()
    const [first] = h.tasks(svc.id)
    await h.driver.fail((first as Frozen<Task>).id)
    await h.settle()
    const replacement = h.tasks(svc.id).find((t) => t.id !== first?.id) as Frozen<Task>
    expect(h.tasks(svc.id).length).toBe(2)
    expect(replacement.slot).toBe(0)
    expect(replacement.jobIteration).toEqual({ index: 0n })
    expect(replacement.desiredState).toBe(TaskState.READY)
    expect(h.store.view((tx) => tx.tasks.get((first as Frozen<Task>).id))?.desiredState).toBe(TaskState.SHUTDOWN)
    await h.advance(4_999)
    expect(h.store.view((tx) => tx.tasks.get(replacement.id))?.desiredState).toBe(TaskState.READY)
    await h.advance(1)
    const started = h.store.view((tx) => tx.tasks.get(replacement.id))
    expect(started?.desiredState).toBe(TaskState.COMPLETE)
    expect(started?.status.state).toBe(TaskState.RUNNING)
    await h.driver.complete(replacement.id)
    await h.settle()
    expect(h.tasks(svc.id).length).toBe(2)
  })

  it('an update starts iteration 1, removes the running tasks of iteration 0 and runs the new iteration in slots from 0', async () => {
    const h = new Harness()
    h.driver.holdJobs = true
    await h.addNode('n1')
    const svc = await h.createService(replicatedJob('batch', 2, 4))
    await h.settle()
    const old = h.tasks(svc.id)
    expect(old.length).toBe(2)
    const updated = await h.updateService(svc.id, (s) => ({ ...s, task: { container: { image: 'busybox:2' } } }))
    expect(updated.jobStatus?.jobIteration).toEqual({ index: 1n })
    await h.settle()
    for (const t of old) {
      const now = h.store.view((tx) => tx.tasks.get(t.id))
      expect(now?.desiredState).toBe(TaskState.REMOVE)
      expect(now?.status.state).toBe(TaskState.SHUTDOWN)
    }
    const fresh = active(h, svc.id)
    expect(slots(fresh)).toEqual([0, 1])
    expect(fresh.map((t) => t.jobIteration)).toEqual([{ index: 1n }, { index: 1n }])
    expect(fresh.map((t) => t.spec.container?.image)).toEqual(['busybox:2', 'busybox:2'])
  })

  it('sets every task of a deleted job to desired REMOVE', async () => {
    const h = new Harness()
    h.driver.holdJobs = true
    await h.addNode('n1')
    const svc = await h.createService(replicatedJob('batch', 3, 3))
    await h.settle()
    await h.control.remove(svc.id)
    await h.settle()
    const tasks = h.tasks(svc.id)
    expect(tasks.length).toBe(3)
    expect(tasks.map((t) => t.desiredState)).toEqual([TaskState.REMOVE, TaskState.REMOVE, TaskState.REMOVE])
  })
})

describe('jobs orchestrator: global jobs', () => {
  it('runs one task per eligible node at iteration time: not on drained, paused, down or non-matching nodes', async () => {
    const h = new Harness()
    const n1 = await h.addNode('n1', { labels: { zone: 'a' } })
    const n2 = await h.addNode('n2', { labels: { zone: 'a' } })
    await h.addNode('drained', { labels: { zone: 'a' }, availability: NodeAvailability.DRAIN })
    await h.addNode('paused', { labels: { zone: 'a' }, availability: NodeAvailability.PAUSE })
    await h.addNode('down', { labels: { zone: 'a' }, state: NodeState.DOWN })
    await h.addNode('other', { labels: { zone: 'b' } })
    const svc = await h.createService(globalJob('scan', { task: { container: { image: 'busybox:1' }, placement: { constraints: ['node.labels.zone==a'] } } }))
    await h.settle()
    const tasks = h.tasks(svc.id)
    expect(nodesOf(tasks)).toEqual([n1, n2].sort())
    for (const t of tasks) {
      expect(t.slot).toBe(0)
      expect(t.desiredState).toBe(TaskState.COMPLETE)
      expect(t.status.state).toBe(TaskState.COMPLETE)
      expect(t.jobIteration).toEqual({ index: 0n })
    }
  })

  it('gives a node that joins later no task until the next iteration', async () => {
    const h = new Harness()
    h.driver.holdJobs = true
    const n1 = await h.addNode('n1')
    const svc = await h.createService(globalJob('scan'))
    await h.settle()
    await h.advance(1_000)
    const n2 = await h.addNode('n2')
    // A task event makes the orchestrator reconcile the job again: still nothing for n2.
    await h.driver.complete((h.tasks(svc.id)[0] as Frozen<Task>).id)
    await h.settle()
    expect(nodesOf(h.tasks(svc.id))).toEqual([n1])
    await h.updateService(svc.id, (s) => ({ ...s, task: { ...s.task, env: ['RUN=2'] } }))
    await h.settle()
    const second = h.tasks(svc.id).filter((t) => t.jobIteration?.index === 1n)
    expect(nodesOf(second)).toEqual([n1, n2].sort())
  })

  it('an update removes the running tasks of the previous iteration', async () => {
    const h = new Harness()
    h.driver.holdJobs = true
    await h.addNode('n1')
    await h.addNode('n2')
    const svc = await h.createService(globalJob('scan'))
    await h.settle()
    const old = h.tasks(svc.id)
    await h.updateService(svc.id, (s) => ({ ...s, task: { ...s.task, env: ['RUN=2'] } }))
    await h.settle()
    expect(old.map((t) => h.store.view((tx) => tx.tasks.get(t.id))?.desiredState)).toEqual([TaskState.REMOVE, TaskState.REMOVE])
    expect(h.live(svc.id).map((t) => t.jobIteration?.index)).toEqual([1n, 1n])
  })

  it('restarts a failed global job task on its node after the restart delay', async () => {
    const h = new Harness()
    h.driver.holdJobs = true
    const n1 = await h.addNode('n1')
    const svc = await h.createService(globalJob('scan'))
    await h.settle()
    const [first] = h.tasks(svc.id)
    await h.driver.fail((first as Frozen<Task>).id)
    await h.advance(5_000)
    const live = h.live(svc.id)
    expect(live.length).toBe(1)
    expect(live[0]?.id).not.toBe(first?.id)
    expect(live[0]?.nodeId).toBe(n1)
    expect(live[0]?.desiredState).toBe(TaskState.COMPLETE)
    expect(live[0]?.status.state).toBe(TaskState.RUNNING)
  })
})
