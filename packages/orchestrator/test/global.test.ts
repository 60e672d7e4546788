import { NodeAvailability, NodeRole, NodeState, TaskState, UpdateState, generateId } from '@swarmkit-ts/api'
import type { Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { Harness, globalSpec } from './helpers/harness.ts'

/** The node ids of `tasks`, sorted. */
function nodesOf(tasks: readonly Frozen<Task>[]): string[] {
  return tasks.map((t) => t.nodeId).sort()
}

/** A harness with nodes named `names` (ACTIVE, READY); resolves with the harness and the node ids by name. */
async function withNodes(...names: string[]): Promise<{ h: Harness; ids: Record<string, string> }> {
  const h = new Harness()
  const ids: Record<string, string> = {}
  for (const n of names) ids[n] = await h.addNode(n, { labels: { zone: 'a' } })
  await h.settle()
  return { h, ids }
}

describe('global orchestrator', () => {
  it('creates one running task per eligible node when a global service is created, none on drained or down nodes', async () => {
    const h = new Harness()
    const n1 = await h.addNode('n1')
    const n2 = await h.addNode('n2')
    await h.addNode('n3', { availability: NodeAvailability.DRAIN })
    await h.addNode('n4', { state: NodeState.DOWN })
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    const tasks = h.tasks(svc.id)
    expect(nodesOf(tasks)).toEqual([n1, n2].sort())
    for (const t of tasks) {
      expect(t.slot).toBe(0)
      expect(t.desiredState).toBe(TaskState.RUNNING)
      expect(t.status.state).toBe(TaskState.RUNNING)
      expect(t.annotations.name).toBe(`agent.${t.nodeId}.${t.id}`)
    }
  })

  it('gives a node that joins later a task of every global service', async () => {
    const { h, ids } = await withNodes('n1')
    const a = await h.createService(globalSpec('a'))
    const b = await h.createService(globalSpec('b'))
    await h.settle()
    const n2 = await h.addNode('n2')
    await h.settle()
    expect(nodesOf(h.running(a.id))).toEqual([ids.n1, n2].sort())
    expect(nodesOf(h.running(b.id))).toEqual([ids.n1, n2].sort())
    expect(h.tasks(a.id)).toHaveLength(2)
  })

  it('shuts the task of a drained node down and creates no replacement', async () => {
    const { h, ids } = await withNodes('n1', 'n2')
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    const onN2 = h.tasks(svc.id).find((t) => t.nodeId === ids.n2)
    await h.setAvailability(ids.n2 as string, NodeAvailability.DRAIN)
    await h.advance(10_000)
    const after = h.tasks(svc.id)
    expect(after).toHaveLength(2)
    const old = after.find((t) => t.id === onN2?.id)
    expect(old?.desiredState).toBe(TaskState.SHUTDOWN)
    expect(old?.status.state).toBe(TaskState.SHUTDOWN)
    expect(nodesOf(h.live(svc.id))).toEqual([ids.n1])
  })

  it('gives a drained node that is made active again a new task', async () => {
    const { h, ids } = await withNodes('n1', 'n2')
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    await h.setAvailability(ids.n2 as string, NodeAvailability.DRAIN)
    await h.settle()
    await h.setAvailability(ids.n2 as string, NodeAvailability.ACTIVE)
    await h.settle()
    expect(h.tasks(svc.id)).toHaveLength(3)
    expect(nodesOf(h.running(svc.id))).toEqual([ids.n1, ids.n2].sort())
  })

  it('keeps the task of a paused node, and gives a node paused before the service is created no task', async () => {
    const { h, ids } = await withNodes('n1', 'n2')
    const n3 = await h.addNode('n3', { availability: NodeAvailability.PAUSE })
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    const before = h.tasks(svc.id).map((t) => t.id).sort()
    await h.setAvailability(ids.n2 as string, NodeAvailability.PAUSE)
    await h.advance(10_000)
    expect(h.tasks(svc.id).map((t) => t.id).sort()).toEqual(before)
    expect(nodesOf(h.running(svc.id))).toEqual([ids.n1, ids.n2].sort())
    expect(h.tasks(svc.id).some((t) => t.nodeId === n3)).toBe(false)
  })

  it('shuts a task down when a label change makes its node no longer match, and creates one when it matches again', async () => {
    const { h, ids } = await withNodes('n1', 'n2')
    const svc = await h.createService(globalSpec('agent', { task: { container: { image: 'busybox:1' }, placement: { constraints: ['node.labels.zone==a'] } } }))
    await h.settle()
    const first = h.tasks(svc.id).find((t) => t.nodeId === ids.n2)
    await h.updateNode(ids.n2 as string, (n) => void (n.spec.annotations.labels = { zone: 'b' }))
    await h.settle()
    expect(h.tasks(svc.id).find((t) => t.id === first?.id)?.desiredState).toBe(TaskState.SHUTDOWN)
    expect(nodesOf(h.live(svc.id))).toEqual([ids.n1])
    await h.updateNode(ids.n2 as string, (n) => void (n.spec.annotations.labels = { zone: 'a' }))
    await h.settle()
    expect(h.tasks(svc.id)).toHaveLength(3)
    expect(nodesOf(h.running(svc.id))).toEqual([ids.n1, ids.n2].sort())
  })

  it('shuts the task of a node that goes down, and gives the node a new task when it is ready again', async () => {
    const { h, ids } = await withNodes('n1', 'n2')
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    const first = h.tasks(svc.id).find((t) => t.nodeId === ids.n2)
    await h.setNodeState(ids.n2 as string, NodeState.DOWN)
    await h.settle()
    expect(h.tasks(svc.id).find((t) => t.id === first?.id)?.desiredState).toBe(TaskState.SHUTDOWN)
    expect(h.tasks(svc.id)).toHaveLength(2)
    await h.setNodeState(ids.n2 as string, NodeState.READY)
    await h.settle()
    const onN2 = h.tasks(svc.id).filter((t) => t.nodeId === ids.n2 && t.desiredState === TaskState.RUNNING)
    expect(onN2).toHaveLength(1)
    expect(onN2[0]?.id).not.toBe(first?.id)
    expect(onN2[0]?.status.state).toBe(TaskState.RUNNING)
  })

  it('shuts the task of a removed node down', async () => {
    const { h, ids } = await withNodes('n1', 'n2')
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    const first = h.tasks(svc.id).find((t) => t.nodeId === ids.n2)
    await h.removeNode(ids.n2 as string)
    await h.settle()
    expect(h.tasks(svc.id).find((t) => t.id === first?.id)?.desiredState).toBe(TaskState.SHUTDOWN)
    expect(nodesOf(h.live(svc.id))).toEqual([ids.n1])
  })

  it('sets every task of a deleted global service to desired REMOVE', async () => {
    const { h } = await withNodes('n1', 'n2')
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    await h.control.remove(svc.id)
    await h.settle()
    const tasks = h.tasks(svc.id)
    expect(tasks.map((t) => t.desiredState)).toEqual([TaskState.REMOVE, TaskState.REMOVE])
  })

  it('rolls an update out on active nodes through the update supervisor, and replaces the task of a node paused meanwhile directly once it is active', async () => {
    const { h, ids } = await withNodes('n1', 'n2', 'n3')
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    await h.setAvailability(ids.n2 as string, NodeAvailability.PAUSE)
    await h.settle()
    const old = h.tasks(svc.id).find((t) => t.nodeId === ids.n2)
    await h.updateService(svc.id, (s) => ({ ...s, task: { container: { image: 'busybox:2' } } }))
    await h.advance(60_000)
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.COMPLETED)
    const image = (nodeId: string | undefined): (string | undefined)[] => h.running(svc.id).filter((t) => t.nodeId === nodeId).map((t) => t.spec.container?.image)
    expect([image(ids.n1), image(ids.n2), image(ids.n3)]).toEqual([['busybox:2'], ['busybox:1'], ['busybox:2']])
    expect(h.tasks(svc.id).find((t) => t.id === old?.id)?.desiredState).toBe(TaskState.RUNNING)
    await h.setAvailability(ids.n2 as string, NodeAvailability.ACTIVE)
    await h.settle()
    expect(h.tasks(svc.id).find((t) => t.id === old?.id)?.desiredState).toBe(TaskState.SHUTDOWN)
    const onN2 = h.running(svc.id).filter((t) => t.nodeId === ids.n2)
    expect(onN2.map((t) => t.spec.container?.image)).toEqual(['busybox:2'])
  })

  it('restarts a failed task on the same node after the default 5 s restart delay', async () => {
    const { h, ids } = await withNodes('n1', 'n2')
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    const failed = h.tasks(svc.id).find((t) => t.nodeId === ids.n2) as Frozen<Task>
    await h.driver.fail(failed.id)
    await h.settle()
    const replacement = h.tasks(svc.id).find((t) => t.nodeId === ids.n2 && t.id !== failed.id)
    expect(h.tasks(svc.id).find((t) => t.id === failed.id)?.desiredState).toBe(TaskState.SHUTDOWN)
    expect(replacement?.slot).toBe(0)
    expect(replacement?.desiredState).toBe(TaskState.READY)
    await h.advance(4_999)
    expect(h.tasks(svc.id).find((t) => t.id === replacement?.id)?.desiredState).toBe(TaskState.READY)
    await h.advance(1)
    expect(h.tasks(svc.id).find((t) => t.id === replacement?.id)?.status.state).toBe(TaskState.RUNNING)
    expect(h.tasks(svc.id)).toHaveLength(3)
    expect(nodesOf(h.running(svc.id))).toEqual([ids.n1, ids.n2].sort())
  })

  it('shuts a failed task of a paused node down without a replacement', async () => {
    const { h, ids } = await withNodes('n1', 'n2')
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    await h.setAvailability(ids.n2 as string, NodeAvailability.PAUSE)
    await h.settle()
    const failed = h.tasks(svc.id).find((t) => t.nodeId === ids.n2) as Frozen<Task>
    await h.driver.fail(failed.id)
    await h.advance(10_000)
    expect(h.tasks(svc.id)).toHaveLength(2)
    expect(h.tasks(svc.id).find((t) => t.id === failed.id)?.desiredState).toBe(TaskState.SHUTDOWN)
  })

  it('creates no new task on a node whose task exited under restart condition none, even when another node joins or the node is updated', async () => {
    const { h, ids } = await withNodes('n1', 'n2')
    const spec = globalSpec('agent', { task: { container: { image: 'busybox:1' }, restart: { condition: 'none' } } })
    const svc = await h.createService(spec)
    await h.settle()
    const exited = h.tasks(svc.id).find((t) => t.nodeId === ids.n2) as Frozen<Task>
    await h.driver.complete(exited.id)
    await h.advance(10_000)
    const n3 = await h.addNode('n3')
    await h.advance(10_000)
    expect(h.tasks(svc.id)).toHaveLength(3)
    expect(nodesOf(h.running(svc.id))).toEqual([ids.n1, n3].sort())
    await h.setAvailability(ids.n2 as string, NodeAvailability.ACTIVE)
    await h.settle()
    expect(h.tasks(svc.id)).toHaveLength(3)
  })

  it('keeps the tasks of still-matching nodes when only the constraints change, and shuts down those of nodes that no longer match', async () => {
    const h = new Harness()
    const a1 = await h.addNode('a1', { labels: { zone: 'a', disk: 'ssd' } })
    const a2 = await h.addNode('a2', { labels: { zone: 'a' } })
    const b1 = await h.addNode('b1', { labels: { zone: 'b', disk: 'ssd' } })
    const spec = globalSpec('agent', { task: { container: { image: 'busybox:1' }, placement: { constraints: ['node.labels.zone==a'] } } })
    const svc = await h.createService(spec)
    await h.settle()
    const before = new Map(h.tasks(svc.id).map((t) => [t.nodeId, t.id]))
    await h.updateService(svc.id, (s) => ({ ...s, task: { ...s.task, placement: { constraints: ['node.labels.disk==ssd'] } } }))
    await h.advance(30_000)
    const live = h.live(svc.id)
    expect(nodesOf(live)).toEqual([a1, b1].sort())
    expect(live.find((t) => t.nodeId === a1)?.id).toBe(before.get(a1))
    expect(h.tasks(svc.id).find((t) => t.id === before.get(a2))?.desiredState).toBe(TaskState.SHUTDOWN)
    expect(h.tasks(svc.id)).toHaveLength(3)
  })

  it('a new leader resumes a restart delay the old one started, keeping one task per node', async () => {
    const { h, ids } = await withNodes('n1', 'n2')
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    const failed = h.tasks(svc.id).find((t) => t.nodeId === ids.n2) as Frozen<Task>
    await h.driver.fail(failed.id)
    await h.advance(2_000)
    const replacement = h.tasks(svc.id).find((t) => t.nodeId === ids.n2 && t.id !== failed.id) as Frozen<Task>
    expect(replacement.desiredState).toBe(TaskState.READY)
    await h.leaderChange()
    await h.advance(2_999)
    expect(h.tasks(svc.id).find((t) => t.id === replacement.id)?.desiredState).toBe(TaskState.READY)
    await h.advance(1)
    expect(h.tasks(svc.id).find((t) => t.id === replacement.id)?.status.state).toBe(TaskState.RUNNING)
    expect(h.tasks(svc.id)).toHaveLength(3)
    expect(nodesOf(h.running(svc.id))).toEqual([ids.n1, ids.n2].sort())
  })

  it('gives a node drained and made active again its task back under restart condition none', async () => {
    const { h, ids } = await withNodes('n1', 'n2')
    const svc = await h.createService(globalSpec('agent', { task: { container: { image: 'busybox:1' }, restart: { condition: 'none' } } }))
    await h.settle()
    await h.setAvailability(ids.n2 as string, NodeAvailability.DRAIN)
    await h.settle()
    await h.setAvailability(ids.n2 as string, NodeAvailability.ACTIVE)
    await h.settle()
    expect(h.tasks(svc.id)).toHaveLength(3)
    expect(nodesOf(h.running(svc.id))).toEqual([ids.n1, ids.n2].sort())
  })

  it('keeps exactly one task per node across a leader change', async () => {
    const { h, ids } = await withNodes('n1', 'n2', 'n3')
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    const before = h.tasks(svc.id).map((t) => t.id).sort()
    await h.leaderChange()
    await h.settle()
    await h.leaderChange()
    await h.advance(10_000)
    expect(h.tasks(svc.id).map((t) => t.id).sort()).toEqual(before)
    expect(nodesOf(h.running(svc.id))).toEqual([ids.n1, ids.n2, ids.n3].sort())
  })

  it('a new leader gives a node that joined while no leader ran its task, and shuts down the task of a node drained meanwhile', async () => {
    const { h, ids } = await withNodes('n1', 'n2')
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    await h.stop()
    const n3 = await h.addNode('n3')
    await h.setAvailability(ids.n2 as string, NodeAvailability.DRAIN)
    h.start()
    await h.settle()
    expect(nodesOf(h.live(svc.id))).toEqual([ids.n1, n3].sort())
    expect(h.tasks(svc.id)).toHaveLength(3)
  })

  it('a new leader removes the tasks of a global service deleted while no leader ran', async () => {
    const { h } = await withNodes('n1', 'n2')
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    await h.stop()
    await h.control.remove(svc.id)
    h.start()
    await h.settle()
    expect(h.tasks(svc.id).map((t) => [t.desiredState, t.status.state])).toEqual([
      [TaskState.REMOVE, TaskState.SHUTDOWN],
      [TaskState.REMOVE, TaskState.SHUTDOWN],
    ])
  })

  it('gives each of 250 nodes joining in one commit exactly one task', async () => {
    const h = new Harness()
    const svc = await h.createService(globalSpec('agent'))
    await h.settle()
    const ids = Array.from({ length: 250 }, () => generateId(h.random))
    await h.store.update((tx) => {
      for (const [i, id] of ids.entries()) {
        tx.nodes.create({
          id,
          spec: { annotations: { name: `n${i}` }, desiredRole: NodeRole.WORKER, membership: 'accepted', availability: NodeAvailability.ACTIVE },
          description: { hostname: `n${i}`, platform: { os: 'linux', architecture: 'x86_64' } },
          status: { state: NodeState.READY },
          role: NodeRole.WORKER,
        })
      }
    })
    await h.settle()
    expect(nodesOf(h.running(svc.id))).toEqual([...ids].sort())
    expect(h.tasks(svc.id)).toHaveLength(250)
  })
})
