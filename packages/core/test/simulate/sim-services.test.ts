import { afterEach, describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { simulateCluster } from '../../src/testing.ts'
import type { SimulatedCluster } from '../../src/testing.ts'

let sim: SimulatedCluster | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

const spec = (name: string, replicas: number, env: string[] = []): ServiceSpec => ({
  annotations: { name },
  mode: { replicated: { replicas } },
  task: { container: { image: 'busybox:fake', env } },
})

/** The tasks of `serviceId` observed RUNNING and desired RUNNING, per node id. */
async function runningByNode(c: SimulatedCluster, serviceId: string): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const t of await c.tasks.list({ serviceIds: [serviceId] })) {
    if (t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING) out.set(t.nodeId, (out.get(t.nodeId) ?? 0) + 1)
  }
  return out
}

const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0)

describe('simulated services', () => {
  it('creates, scales, updates and removes a replicated service, each to convergence', async () => {
    sim = await simulateCluster({ managers: 3, workers: 3, seed: 11 })
    const svc = await sim.services.create(spec('web', 6))
    await sim.services.waitConverged(svc.id)
    const first = await runningByNode(sim, svc.id)
    expect(total(first)).toBe(6)
    expect([...first.values()]).toEqual([2, 2, 2])

    await sim.services.scale(svc.id, 2)
    await sim.services.waitConverged(svc.id)
    expect(total(await runningByNode(sim, svc.id))).toBe(2)

    const current = await sim.services.get(svc.id)
    await sim.services.update(svc.id, spec('web', 2, ['V=2']), { version: current.meta.version.index })
    await sim.services.waitConverged(svc.id)
    const tasks = await sim.tasks.list({ serviceIds: [svc.id] })
    const running = tasks.filter((t) => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING)
    expect(running.map((t) => t.spec.container?.env)).toEqual([['V=2'], ['V=2']])

    await sim.services.remove(svc.id)
    await sim.runUntil(async () => (await sim!.tasks.list({ serviceIds: [svc.id] })).every((t) => t.status.state > TaskState.RUNNING))
    await expect(sim.services.get(svc.id)).rejects.toMatchObject({ name: 'NotFoundError' })
    const workerIds = new Set(sim.members().filter((m) => m.role === 'worker').map((m) => m.id))
    expect(workerIds.size).toBe(3)
  })

  it('runs a global service once on every worker (managers are drained)', async () => {
    sim = await simulateCluster({ managers: 3, workers: 4, seed: 12 })
    const svc = await sim.services.create({ annotations: { name: 'agent' }, mode: { global: {} }, task: { container: { image: 'busybox:fake' } } })
    await sim.services.waitConverged(svc.id)
    const byNode = await runningByNode(sim, svc.id)
    const workers = sim.members().filter((m) => m.role === 'worker').map((m) => m.id).sort()
    expect([...byNode.keys()].sort()).toEqual(workers)
    expect([...byNode.values()]).toEqual([1, 1, 1, 1])
  })

  it('moves the tasks of a drained worker to the others', async () => {
    sim = await simulateCluster({ managers: 1, workers: 3, seed: 13 })
    const svc = await sim.services.create(spec('web', 6))
    await sim.services.waitConverged(svc.id)
    const drained = sim.members().find((m) => m.role === 'worker')!.id
    expect((await runningByNode(sim, svc.id)).get(drained)).toBe(2)
    await sim.nodes.setAvailability(drained, 'drain')
    await sim.runUntil(async () => {
      const m = await runningByNode(sim!, svc.id)
      return total(m) === 6 && !m.has(drained)
    })
    const after = await runningByNode(sim, svc.id)
    expect([...after.values()]).toEqual([3, 3])
  })

  it('refuses promotion, which is not simulated', async () => {
    sim = await simulateCluster({ managers: 1, workers: 1, seed: 14 })
    const worker = sim.members().find((m) => m.role === 'worker')!.id
    await expect(sim.nodes.promote(worker)).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'not-simulated' })
  })

  it('reads the logs of a service from its tasks on the workers, through the leader', async () => {
    sim = await simulateCluster({ managers: 3, workers: 2, seed: 15 })
    const svc = await sim.services.create({
      annotations: { name: 'hello' },
      mode: { replicated: { replicas: 2 } },
      task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'echo hello from $HOSTNAME; echo oops >&2; sleep 100000'] } },
    })
    await sim.services.waitConverged(svc.id)
    const lines: string[] = []
    const tasks = new Map((await sim.tasks.list({ serviceIds: [svc.id] })).map((t) => [t.id, t]))
    for await (const m of sim.services.logs(svc.id)) {
      const container = tasks.get(m.taskId)?.status.containerStatus?.containerId ?? '?'
      lines.push(`${m.stream} ${m.line.replace(container.slice(0, 12), '<host>')} ${tasks.get(m.taskId)?.nodeId === m.nodeId}`)
    }
    expect(lines.sort()).toEqual(['stderr oops true', 'stderr oops true', 'stdout hello from <host> true', 'stdout hello from <host> true'])
  })

  it('follows the logs of a service as virtual time moves, until the caller stops', async () => {
    sim = await simulateCluster({ managers: 1, workers: 1, seed: 16 })
    const svc = await sim.services.create({
      annotations: { name: 'ticker' },
      mode: { replicated: { replicas: 1 } },
      task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'while true; do echo tick; sleep 1; done'] } },
    })
    await sim.services.waitConverged(svc.id)
    const start = sim.now()
    const lines: string[] = []
    for await (const m of sim.services.logs(svc.id, { follow: true, tail: 0 })) {
      lines.push(m.line)
      if (lines.length === 3) break
    }
    expect(lines.length).toBe(3)
    expect(lines).toEqual(['tick', 'tick', 'tick'])
    expect(sim.now() - start >= 2_000).toBe(true)
  })
})
