/**
 * The in-process cluster end to end: a service created on the manager runs on the agents'
 * runtimes with its statuses back in the store; scaling, rolling updates and removal reach the
 * containers; a crashed agent's node goes DOWN and its tasks move, and when it comes back its
 * stale containers stop; a restarted agent adopts its running containers.
 */
import { NodeState, TaskState } from '@swarmkit-ts/api'
import { afterEach, describe, expect, it } from 'vitest'
import { InProcessCluster, clusterServiceSpec, withEnv } from './cluster/in-process-cluster.ts'
import { TASK_ID_LABEL, checkCluster } from './cluster/invariants.ts'

let cluster: InProcessCluster | undefined
afterEach(async () => {
  await cluster?.close()
  cluster = undefined
})

async function start(nodes: number, seed = 1): Promise<InProcessCluster> {
  cluster = await InProcessCluster.start({ nodes, seed })
  return cluster
}

async function runningContainers(c: InProcessCluster, i: number): Promise<string[]> {
  const node = c.nodes[i]
  if (node === undefined) throw new Error(`no node ${i}`)
  return (await node.runtime.list()).filter((x) => x.state === 'running').map((x) => x.labels[TASK_ID_LABEL] ?? '?')
}

describe('the in-process cluster', { timeout: 60_000 }, () => {
  it('registers every agent: each node READY in the store with its hostname', async () => {
    const c = await start(3)
    const nodes = c.store.view((tx) => tx.nodes.find())
    expect(nodes.map((n) => [n.description?.hostname, n.status.state]).sort()).toEqual([
      ['node-0', NodeState.READY],
      ['node-1', NodeState.READY],
      ['node-2', NodeState.READY],
    ])
  })

  it('runs a created service: 6 tasks RUNNING, spread 2 per node, each in one container, statuses acknowledged and stored', async () => {
    const c = await start(3)
    const s = await c.createService(clusterServiceSpec('web', 6))
    expect(await c.converge()).toEqual([])
    expect(c.running(s.id)).toHaveLength(6)
    for (let i = 0; i < 3; i++) expect(await runningContainers(c, i)).toHaveLength(2)
    expect(c.acks.entries().filter((a) => a.status.state === TaskState.RUNNING)).toHaveLength(6)
  })

  it('scales a service down and up, rolls an update and removes it, reaching the containers each time', async () => {
    const c = await start(2)
    const s = await c.createService(clusterServiceSpec('web', 4))
    expect(await c.converge()).toEqual([])
    await c.scale(s.id, 1)
    expect(await c.converge()).toEqual([])
    expect((await runningContainers(c, 0)).length + (await runningContainers(c, 1)).length).toBe(1)
    await c.scale(s.id, 3)
    const before = new Set(c.running(s.id).map((t) => t.id))
    await c.updateService(s.id, (spec) => withEnv(spec, ['V=2']))
    expect(await c.converge()).toEqual([])
    const after = c.running(s.id)
    expect(after).toHaveLength(3)
    expect(after.filter((t) => before.has(t.id))).toEqual([])
    expect(after.map((t) => t.spec.container?.env)).toEqual([['V=2'], ['V=2'], ['V=2']])
    await c.removeService(s.id)
    expect(await c.converge()).toEqual([])
    expect([...(await runningContainers(c, 0)), ...(await runningContainers(c, 1))]).toEqual([])
  })

  it('a node whose agent exited is DISCONNECTED with its tasks in place until its heartbeat deadline; an agent back in time keeps them', async () => {
    const c = await start(2)
    const s = await c.createService(clusterServiceSpec('web', 2))
    expect(await c.converge()).toEqual([])
    const crashed = c.nodes[0]
    if (crashed === undefined) throw new Error('no node 0')
    const before = c.running(s.id).map((t) => [t.id, t.nodeId]).sort()
    await c.crashNode(0)
    await c.advance(5_000) // within the heartbeat deadline (3 × 5 s after the last heartbeat)
    expect(c.store.view((tx) => tx.nodes.get(crashed.id))?.status.state).toBe(NodeState.DISCONNECTED)
    expect(c.running(s.id).map((t) => [t.id, t.nodeId]).sort()).toEqual(before)
    await c.restartNode(0)
    expect(await c.converge()).toEqual([])
    expect(c.store.view((tx) => tx.nodes.get(crashed.id))?.status.state).toBe(NodeState.READY)
    expect(c.running(s.id).map((t) => [t.id, t.nodeId]).sort()).toEqual(before)
  })

  it('a node whose agent exited and stays away is DOWN at its heartbeat deadline, and its tasks move', async () => {
    const c = await start(2)
    const s = await c.createService(clusterServiceSpec('web', 2))
    expect(await c.converge()).toEqual([])
    const crashed = c.nodes[0]
    if (crashed === undefined) throw new Error('no node 0')
    await c.crashNode(0)
    await c.advance(60_000)
    expect(c.store.view((tx) => tx.nodes.get(crashed.id))?.status.state).toBe(NodeState.DOWN)
    expect(c.running(s.id).map((t) => t.nodeId)).toEqual([c.nodes[1]?.id, c.nodes[1]?.id])
  })

  it('moves the tasks of a crashed machine once it is DOWN; when it comes back, it runs only what it is given', async () => {
    const c = await start(3)
    const s = await c.createService(clusterServiceSpec('web', 3))
    expect(await c.converge()).toEqual([])
    const crashed = c.nodes[0]
    if (crashed === undefined) throw new Error('no node 0')
    const stale = await runningContainers(c, 0)
    expect(stale).toHaveLength(1)
    await c.crashNode(0, { machine: true })
    await c.advance(30_000)
    expect(c.store.view((tx) => tx.nodes.get(crashed.id))?.status.state).toBe(NodeState.DOWN)
    expect(c.running(s.id).filter((t) => t.nodeId !== crashed.id)).toHaveLength(3)
    await c.restartNode(0)
    expect(await c.converge()).toEqual([])
    expect(await runningContainers(c, 0)).not.toContain(stale[0])
  })

  it('a restarted agent adopts its running containers: no duplicate, the same container id', async () => {
    const c = await start(1)
    await c.createService(clusterServiceSpec('web', 2))
    expect(await c.converge()).toEqual([])
    const node = c.nodes[0]
    if (node === undefined) throw new Error('no node 0')
    const ids = (await node.runtime.list()).map((x) => x.id).sort()
    await c.crashNode(0)
    await c.restartNode(0)
    expect(await c.converge()).toEqual([])
    expect((await node.runtime.list()).map((x) => x.id).sort()).toEqual(ids)
    expect(checkCluster(await c.snapshot())).toEqual([])
  })

  it('a machine that lost its containers gets its tasks back running once it restarts', async () => {
    const c = await start(1)
    const s = await c.createService(clusterServiceSpec('web', 2))
    expect(await c.converge()).toEqual([])
    await c.crashNode(0, { machine: true })
    await c.restartNode(0)
    expect(await c.converge()).toEqual([])
    expect(c.running(s.id)).toHaveLength(2)
    expect(await runningContainers(c, 0)).toHaveLength(2)
  })

  it('records a task status that moves backwards (the control of the monotonic check)', async () => {
    const c = await start(1)
    const s = await c.createService(clusterServiceSpec('web', 1))
    expect(await c.converge()).toEqual([])
    const t = c.running(s.id)[0]
    if (t === undefined) throw new Error('no running task')
    await c.store.update((tx) => tx.tasks.update(t.id, (d) => void (d.status = { ...d.status, state: TaskState.STARTING })))
    await c.settle()
    expect(c.backwards).toEqual([`task ${t.id}: status moved back from ${TaskState.RUNNING} to ${TaskState.STARTING}`])
  })
})
