/**
 * Node availability and labels on 3 managers and 2 workers as separate processes (fake runtime),
 * as SwarmKit has them: DRAIN moves a node's tasks elsewhere; PAUSE keeps them running but places
 * nothing new there; ACTIVE again takes new tasks; a `node.labels` constraint places every task
 * on the labelled nodes; relabelling a node makes the constraint enforcer reject its tasks (they
 * are replaced on a node that matches); a changed constraint on the service updates the tasks
 * whose node no longer matches.
 */
import { describe, expect, it } from 'vitest'
import { NodeAvailability, NodeState, TaskState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { runningTasks, updateNode } from './ops-fixtures.ts'
import { controlOf, ProcessRig, runningByNode, total, until } from './processes.ts'

const web: ServiceSpec = {
  annotations: { name: 'web' },
  mode: { replicated: { replicas: 30 } },
  task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'] } },
}

const perNode: ServiceSpec = {
  annotations: { name: 'per-node' },
  mode: { global: {} },
  task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'] } },
}

const zoned = (zone: string): ServiceSpec => ({
  annotations: { name: 'zoned' },
  mode: { replicated: { replicas: 6 } },
  task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'] }, placement: { constraints: [`node.labels.zone==${zone}`] } },
})

describe('multi-process node availability and labels (3 managers, 2 workers)', () => {
  const rig = new ProcessRig()

  it('drain moves a node’s tasks, pause keeps them and takes no new ones, active takes new ones (replicated and global); a label constraint waits for a labelled node and places tasks there, a relabel rejects them off the node, a constraint change updates them', async () => {
    const m1 = await rig.init('m1')
    const [m2, m3] = [await rig.join('m2', m1, 'manager'), await rig.join('m3', m1, 'manager')]
    const [w1, w2] = await Promise.all([rig.join('w1', m1, 'worker'), rig.join('w2', m1, 'worker')])
    const control = controlOf(m2) // a follower's socket: every write is forwarded to the leader
    await until(async () => (await control.nodes.list()).filter((n) => n.status.state === NodeState.READY).length === 5, 'five nodes ready')
    const [W1, W2] = [w1.ready.nodeId, w2.ready.nodeId]

    const service = await control.services.create(web)
    const global = await control.services.create(perNode)
    await until(async () => total(await runningByNode(control, service.id)) === 30, '30 replicas running')
    await until(async () => (await runningByNode(control, global.id)).size === 5, 'a global task running on each node')
    expect((await runningByNode(control, service.id)).get(W1)).toBeGreaterThan(0)

    // DRAIN: w1's tasks shut down and are replaced elsewhere; 30 keep running.
    expect((await control.nodes.get('w1')).id).toBe(W1) // a node is also found by its hostname
    await updateNode(control, W1, (spec) => ({ ...spec, availability: NodeAvailability.DRAIN }))
    expect((await control.nodes.list({ availabilities: [NodeAvailability.DRAIN] })).map((n) => n.id)).toEqual([W1])
    await until(async () => {
      const byNode = await runningByNode(control, service.id)
      return total(byNode) === 30 && !byNode.has(W1)
    }, '30 replicas running, none on the drained worker')
    await until(async () => (await control.tasks.list({ serviceIds: [service.id], nodeIds: [W1] })).every((t) => t.status.state === TaskState.SHUTDOWN), 'the drained worker’s tasks shut down')
    const drained = await control.tasks.list({ serviceIds: [service.id], nodeIds: [W1] })
    expect(drained.length).toBeGreaterThan(0)
    expect(drained.filter((t) => t.desiredState === TaskState.RUNNING)).toEqual([])
    await until(async () => {
      const byNode = await runningByNode(control, global.id)
      return byNode.size === 4 && !byNode.has(W1)
    }, 'the global task of the drained worker shut down')

    // PAUSE: w2's tasks keep running; a scale-up places nothing on it (nor on the drained w1).
    const onW2 = (await runningTasks(control, service.id)).filter((t) => t.nodeId === W2).map((t) => t.id).sort()
    expect(onW2.length).toBeGreaterThan(0)
    await updateNode(control, W2, (spec) => ({ ...spec, availability: NodeAvailability.PAUSE }))
    await until(async () => (await control.nodes.get(W2)).spec.availability === NodeAvailability.PAUSE, 'w2 paused')
    await control.services.scale(service.id, 40)
    await until(async () => total(await runningByNode(control, service.id)) === 40, '40 replicas running')
    const afterPause = await runningTasks(control, service.id)
    expect(afterPause.filter((t) => t.nodeId === W2).map((t) => t.id).sort()).toEqual(onW2)
    expect(afterPause.filter((t) => t.nodeId === W1)).toEqual([])
    expect((await runningByNode(control, global.id)).get(W2)).toBe(1) // PAUSE keeps a global task too

    // ACTIVE again: new tasks may land there (the spread sends them to the emptiest nodes first).
    for (const id of [W1, W2]) await updateNode(control, id, (spec) => ({ ...spec, availability: NodeAvailability.ACTIVE }))
    await control.services.scale(service.id, 50)
    await until(async () => total(await runningByNode(control, service.id)) === 50, '50 replicas running')
    const afterActive = await runningByNode(control, service.id)
    expect(afterActive.get(W1)).toBeGreaterThan(0)
    await until(async () => (await runningByNode(control, global.id)).size === 5, 'the global task back on the reactivated worker')
    for (const s of [service, global]) await control.services.remove(s.id)
    await until(async () => (await control.tasks.list({ serviceIds: [service.id, global.id] })).length === 0, 'web’s and per-node’s tasks removed')

    // Labels: `node.labels.zone==a` deployed before any node has the label stays pending; zone=a
    // on w1 places every task there; then zone=a on m3 too, zone=b on w2 (nothing moves).
    const [M3] = [m3.ready.nodeId]
    const label = (id: string, zone: string): Promise<void> => updateNode(control, id, (spec) => ({ ...spec, annotations: { ...spec.annotations, labels: { zone } } }))
    const z = await control.services.create(zoned('a'))
    await until(async () => {
      const tasks = await control.tasks.list({ serviceIds: [z.id] })
      return tasks.length === 6 && tasks.every((t) => t.status.state === TaskState.PENDING && t.nodeId === '')
    }, 'six zoned tasks pending: no node matches')
    await label(W1, 'a')
    await until(async () => (await runningByNode(control, z.id)).get(W1) === 6, 'six zoned tasks running on w1')
    await label(M3, 'a')
    await label(W2, 'b')
    expect((await control.nodes.list({ labels: { zone: 'a' } })).map((n) => n.id)).toEqual([M3, W1].sort())
    expect([...(await runningByNode(control, z.id))]).toEqual([[W1, 6]])

    // Relabel w1 to zone=b: the constraint enforcer rejects its tasks; they are replaced on m3.
    const wasOnW1 = (await runningTasks(control, z.id)).map((t) => t.id).sort()
    await label(W1, 'b')
    await until(async () => {
      const byNode = await runningByNode(control, z.id)
      return total(byNode) === 6 && byNode.get(M3) === 6
    }, 'the six zoned tasks all on m3')
    const rejected = (await control.tasks.list({ serviceIds: [z.id], nodeIds: [W1] })).filter((t) => wasOnW1.includes(t.id)).sort((a, b) => (a.id < b.id ? -1 : 1))
    expect(rejected.map((t) => [t.id, t.status.state, t.status.message])).toEqual(wasOnW1.map((id) => [id, TaskState.REJECTED, 'task rejected by constraint enforcer']))

    // A constraint change on the service: the tasks whose node no longer matches are updated onto w1 and w2 (zone=b).
    const current = await control.services.get(z.id)
    await control.services.update(z.id, zoned('b'), { version: current.meta.version.index })
    await until(async () => {
      const byNode = await runningByNode(control, z.id)
      return total(byNode) === 6 && !byNode.has(M3)
    }, 'the six zoned tasks off m3')
    expect([...(await runningByNode(control, z.id)).keys()].every((id) => id === W1 || id === W2)).toBe(true)
  }, 240_000)
})
