/**
 * The embedder's own guarantee, checked on top of swarmkit-ts's: a service placed with
 * `maxReplicas: 1` ("one task per node", e.g. a cache that must not share a machine) never runs
 * two tasks on one node, and once the cluster has converged it runs as many tasks as it can —
 * its replica count, or one per node that may take it when there are fewer.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import type { SimulatedCluster } from '@swarmkit-ts/core/testing'

/** The spread service the embedder runs in every simulated cluster. */
export function spreadServiceSpec(replicas: number): ServiceSpec {
  return {
    annotations: { name: 'cache' },
    mode: { replicated: { replicas } },
    task: { container: { image: 'busybox:fake' }, placement: { maxReplicas: 1 } },
  }
}

/** Creates the spread service (the property's `setup`). */
export async function createSpreadService(cluster: SimulatedCluster, replicas = 3): Promise<void> {
  await cluster.services.create(spreadServiceSpec(replicas))
}

/**
 * The violations of the embedder's rule in `cluster` now, through the same handles an
 * application uses (`services`, `tasks`, `nodes`): empty when it holds.
 */
export async function checkSpread(cluster: SimulatedCluster): Promise<string[]> {
  const out: string[] = []
  const nodes = await cluster.nodes.list()
  const usable = nodes.filter((n) => n.status.state === 'ready' && n.spec.availability === 'active').length
  for (const service of await cluster.services.list()) {
    if (service.spec.task.placement?.maxReplicas !== 1 || !('replicated' in service.spec.mode)) continue
    const running = (await cluster.tasks.list({ serviceIds: [service.id] })).filter((t) => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING)
    const perNode = new Map<string, number>()
    for (const t of running) perNode.set(t.nodeId, (perNode.get(t.nodeId) ?? 0) + 1)
    for (const [nodeId, n] of perNode) if (n > 1) out.push(`${service.spec.annotations.name}: ${n} tasks on node ${nodeId}`)
    // A paused node keeps the task it has but takes no new one.
    const want = Math.min(service.spec.mode.replicated.replicas ?? 1, usable)
    if (running.length < want) out.push(`${service.spec.annotations.name}: ${running.length} tasks running, want at least ${want}`)
  }
  return out
}
