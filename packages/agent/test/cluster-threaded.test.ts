// The threaded cluster (test/cluster/threaded-cluster.ts): the manager's loops on this thread, the
// agents in a worker thread, joined by the MessagePort binding — it converges like the
// single-thread cluster, and closes without leaving its thread behind.
import { TaskState } from '@swarmkit-ts/api'
import { afterEach, describe, expect, it } from 'vitest'
import { clusterServiceSpec } from './cluster/in-process-cluster.ts'
import { ThreadedCluster } from './cluster/threaded-cluster.ts'

const WORKER = new URL('./cluster/agent-thread-main.ts', import.meta.url)
const EXEC_ARGV = ['--conditions=@swarmkit-ts/source']

let cluster: ThreadedCluster | undefined
afterEach(async () => {
  await cluster?.close()
  cluster = undefined
})

function running(c: ThreadedCluster, serviceId: string): number {
  return c.store.view((tx) => tx.tasks.find({ serviceId })).filter((t) => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING).length
}

describe('ThreadedCluster', () => {
  it.each([1, 2])('registers every node, runs a service of 60 replicas on 6 agents in %i worker thread(s), then scales it to 6', { timeout: 240_000 }, async (threads) => {
    const c = (cluster = await ThreadedCluster.start({ nodes: 6, threads, seed: 3, workerUrl: WORKER, execArgv: EXEC_ARGV }))
    const svc = await c.services.create(clusterServiceSpec('web', 60))
    await c.runUntil(() => running(c, svc.id) === 60, 600_000)
    const perNode = new Map<string, number>()
    for (const t of c.store.view((tx) => tx.tasks.find({ serviceId: svc.id }))) perNode.set(t.nodeId ?? '', (perNode.get(t.nodeId ?? '') ?? 0) + 1)
    expect([...perNode.keys()].sort()).toEqual([...c.nodeIds].sort())
    expect([...perNode.values()]).toEqual([10, 10, 10, 10, 10, 10])

    await c.services.update(svc.id, clusterServiceSpec('web', 6))
    const live = (): number => c.store.view((tx) => tx.tasks.find({ serviceId: svc.id })).filter((t) => t.desiredState === TaskState.RUNNING).length
    await c.runUntil(() => live() === 6 && running(c, svc.id) === 6, 600_000)
    expect(running(c, svc.id)).toBe(6)
  })
})
