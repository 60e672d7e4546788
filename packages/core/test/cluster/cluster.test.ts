/**
 * Cluster end to end in one process, real gRPC over mutual TLS on 127.0.0.1, the fake runtime:
 * three managers and two workers, a service converging, scaled and updated, through any manager,
 * and across the loss of the leader.
 */
import { describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import type { ServiceProgress } from '@swarmkit-ts/orchestrator'
import type { ManagerCluster } from '../../src/cluster/index.ts'
import { ClusterRig, guard, runningTasks, sleeper, until } from './rig.ts'

const rig = new ClusterRig()

/** Three managers and two workers. */
async function fiveNodes(): Promise<{ managers: ManagerCluster[]; workerIds: string[] }> {
  const m1 = await rig.init()
  const m2 = await rig.joinManager(m1)
  const m3 = await rig.joinManager(m1)
  const w1 = await rig.joinWorker(m1)
  const w2 = await rig.joinWorker(m2)
  const ids = [m1.nodeId, m2.nodeId, m3.nodeId, w1.nodeId, w2.nodeId]
  await until(async () => (await m1.nodes.list()).filter((n) => n.status.state === 'ready').length === 5, 'five nodes ready')
  expect(new Set(ids).size).toBe(5)
  return { managers: [m1, m2, m3], workerIds: [w1.nodeId, w2.nodeId] }
}

describe('Cluster', () => {
  it('init, two managers and two workers joined: a 6-replica service converges on all five nodes, progress yields, scale and update converge', async () => {
    const { managers, workerIds } = await fiveNodes()
    const [m1, m2, m3] = managers as [ManagerCluster, ManagerCluster, ManagerCluster]
    const nodes = await m2.nodes.list()
    expect(nodes.map((n) => n.role).sort()).toEqual(['manager', 'manager', 'manager', 'worker', 'worker'])
    expect(nodes.filter((n) => n.role === 'worker').map((n) => n.id).sort()).toEqual([...workerIds].sort())
    expect(nodes.filter((n) => n.managerStatus?.leader === true).map((n) => n.id)).toEqual([m1.nodeId])

    const web = await m2.services.create(sleeper('web', 6))
    const seen: ServiceProgress[] = []
    const ctrl = new AbortController()
    const watching = (async () => {
      for await (const p of m3.services.progress('web', { signal: ctrl.signal })) {
        seen.push(p)
        if (p.converged) return
      }
    })()
    const converged = await m3.services.waitConverged(web.id, { signal: guard() })
    expect(converged).toMatchObject({ serviceId: web.id, name: 'web', desired: 6, running: 6, runningUpToDate: 6, converged: true, deleted: false })
    await watching
    expect(seen.length).toBeGreaterThan(1)
    expect(seen[0]?.converged).toBe(false)
    expect(seen.at(-1)?.running).toBe(6)
    const placed = new Set((await m1.tasks.list({ serviceIds: [web.id] })).filter((t) => t.desiredState === TaskState.RUNNING).map((t) => t.nodeId))
    expect(placed.size).toBe(5)

    await m3.services.scale(web.id, 9)
    expect(await m2.services.waitConverged('web', { signal: guard() })).toMatchObject({ desired: 9, running: 9, converged: true })
    expect(await runningTasks(m1, web.id)).toBe(9)

    const current = await m1.services.get('web')
    const updated = await m2.services.update(web.id, { ...sleeper('web', 9, ['VERSION=2']), update: { parallelism: 3 } }, { version: current.meta.version.index })
    expect(updated.spec.task.container?.env).toEqual(['VERSION=2'])
    expect(await m3.services.waitConverged('web', { signal: guard() })).toMatchObject({ desired: 9, runningUpToDate: 9, converged: true })
    const live = (await m1.tasks.list({ serviceIds: [web.id] })).filter((t) => t.desiredState === TaskState.RUNNING)
    expect(live.length).toBe(9)
    expect(live.every((t) => t.spec.container?.env?.includes('VERSION=2') === true)).toBe(true)
  })
  it('the leader closed: another manager leads, control works through each remaining manager, and a scaled service converges on the nodes left', async () => {
    const { managers } = await fiveNodes()
    const [m1, m2, m3] = managers as [ManagerCluster, ManagerCluster, ManagerCluster]
    const api = await m3.services.create(sleeper('api', 6))
    await m1.services.waitConverged(api.id, { signal: guard() })
    const leaderEvents: string[] = []
    m2.on('leader', (e) => {
      if (e.leaderAddress !== undefined) leaderEvents.push(e.leaderAddress)
    })

    rig.forget(m1)
    await m1.close()
    await until(() => (m2.isLeader || m3.isLeader) && m2.leaderAddress() === m3.leaderAddress(), 'a new leader known to both')
    const [leader, follower] = m2.isLeader ? [m2, m3] : [m3, m2]
    expect(leaderEvents.at(-1)).toBe(leader.address)
    expect((await follower.services.get('api')).id).toBe(api.id)
    await follower.services.scale(api.id, 8)
    expect((await leader.services.get(api.id)).spec.mode).toEqual({ replicated: { replicas: 8 } })

    // m1's tasks move once the new leader's dispatcher declares its node down.
    await until(async () => (await follower.tasks.list({ serviceIds: [api.id], nodeIds: [m1.nodeId], desiredStates: [TaskState.RUNNING] })).length === 0, 'no task left to run on the closed manager')
    expect(await follower.services.waitConverged('api', { signal: guard() })).toMatchObject({ desired: 8, running: 8, converged: true })
    const live = (await leader.tasks.list({ serviceIds: [api.id], desiredStates: [TaskState.RUNNING] })).filter((t) => t.status.state === TaskState.RUNNING)
    expect(live.length).toBe(8)
    expect(live.some((t) => t.nodeId === m1.nodeId)).toBe(false)
    expect((await leader.nodes.get(m1.nodeId)).status.state).toBe('down')
  })
})
