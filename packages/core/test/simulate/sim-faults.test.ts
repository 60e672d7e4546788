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

const spec = (name: string, replicas: number): ServiceSpec => ({ annotations: { name }, mode: { replicated: { replicas } }, task: { container: { image: 'busybox:fake' } } })

const isUp = (t: { status: { state: TaskState }; desiredState: TaskState }): boolean => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING

describe('simulated faults', () => {
  it('elects a new leader after a leader crash; every acknowledged write survives, services converge', async () => {
    sim = await simulateCluster({ managers: 3, workers: 3, seed: 21 })
    const names = ['a', 'b', 'c', 'd']
    const ids: string[] = []
    for (const n of names) ids.push((await sim.services.create(spec(n, 2))).id)
    const old = sim.leader()!
    sim.crash(old.id)
    expect(sim.members().find((m) => m.id === old.id)?.up).toBe(false)
    await sim.runUntil(() => sim!.leader() !== undefined)
    expect(sim.leader()!.id).not.toBe(old.id)
    expect((await sim.services.list()).map((s) => s.id).sort()).toEqual([...ids].sort())
    for (const id of ids) await sim.services.waitConverged(id)
    const running = (await sim.tasks.list()).filter(isUp)
    expect(running.length).toBe(8)
    // The new leader records who leads and whom it reaches in the managers' Nodes, as a real one does.
    await sim.runUntil(async () => (await sim!.nodes.get(old.id)).managerStatus?.reachability === 'unreachable')
    const leaderNode = await sim.nodes.get(sim.leader()!.id)
    expect([leaderNode.managerStatus?.leader, leaderNode.managerStatus?.reachability]).toEqual([true, 'reachable'])
    expect((await sim.nodes.get(old.id)).managerStatus?.leader).toBe(false)
    await sim.restart(old.id)
    await sim.runUntil(async () => (await sim!.nodes.get(old.id)).managerStatus?.reachability === 'reachable')
    await sim.runUntil(() => sim!.raftStatus(old.id).appliedIndex === sim!.raftStatus().appliedIndex)
    expect(sim.store(old.id).view((tx) => tx.services.find().map((s) => s.id).sort())).toEqual([...ids].sort())
  })

  it('a partitioned leader is replaced on the majority side and steps down when healed', async () => {
    sim = await simulateCluster({ managers: 3, workers: 2, seed: 22 })
    const svc = await sim.services.create(spec('web', 4))
    await sim.services.waitConverged(svc.id)
    const old = sim.leader()!
    sim.partition([old.id])
    await sim.runUntil(() => sim!.leader() !== undefined && sim!.leader()!.id !== old.id)
    const fresh = sim.leader()!
    expect(sim.raftStatus(fresh.id).term > sim.raftStatus(old.id).term).toBe(true)
    await sim.services.scale(svc.id, 6)
    await sim.services.waitConverged(svc.id)
    sim.heal()
    await sim.runUntil(() => sim!.raftStatus(old.id).leader === sim!.raftStatus(fresh.id).leader && sim!.raftStatus(old.id).appliedIndex === sim!.raftStatus(fresh.id).appliedIndex)
    expect(sim.raftStatus(old.id).leader).toBe(fresh.raftId)
    expect(sim.store(old.id).view((tx) => tx.services.get(svc.id)?.spec.mode)).toEqual({ replicated: { replicas: 6 } })
    expect((await sim.tasks.list({ serviceIds: [svc.id] })).filter(isUp).length).toBe(6)
  })

  it('a crashed worker goes down, its tasks move; restarted, it runs no duplicate', async () => {
    sim = await simulateCluster({ managers: 1, workers: 3, seed: 23 })
    const svc = await sim.services.create(spec('web', 6))
    await sim.services.waitConverged(svc.id)
    const victim = sim.members().find((m) => m.role === 'worker')!.id
    sim.crash(victim)
    await sim.runUntil(async () => (await sim!.nodes.get(victim)).status.state === 'down')
    await sim.runUntil(async () => {
      const up = (await sim!.tasks.list({ serviceIds: [svc.id] })).filter(isUp)
      return up.length === 6 && up.every((t) => t.nodeId !== victim)
    })
    await sim.restart(victim)
    await sim.runUntil(async () => (await sim!.nodes.get(victim)).status.state === 'ready')
    await sim.advance(30_000)
    const up = (await sim.tasks.list({ serviceIds: [svc.id] })).filter(isUp)
    expect(up.length).toBe(6)
    expect(new Set(up.map((t) => t.slot)).size).toBe(6)
    expect(up.filter((t) => t.nodeId === victim)).toEqual([])
  })

  it('failTask: the task fails with its exit code and the orchestrator replaces it', async () => {
    sim = await simulateCluster({ managers: 1, workers: 2, seed: 24 })
    const svc = await sim.services.create(spec('web', 2))
    await sim.services.waitConverged(svc.id)
    const victim = (await sim.tasks.list({ serviceIds: [svc.id] })).find(isUp)!
    sim.failTask(victim.id, { exitCode: 3 })
    await sim.runUntil(async () => (await sim!.tasks.get(victim.id)).status.state === TaskState.FAILED)
    expect((await sim.tasks.get(victim.id)).status.containerStatus?.exitCode).toBe(3)
    await sim.runUntil(async () => (await sim!.tasks.list({ serviceIds: [svc.id] })).filter(isUp).length === 2)
    const up = (await sim.tasks.list({ serviceIds: [svc.id] })).filter(isUp)
    expect(up.map((t) => t.slot).sort()).toEqual([1, 2])
    expect(up.some((t) => t.slot === victim.slot && t.id !== victim.id)).toBe(true)
    expect(() => sim!.failTask(victim.id)).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'task-not-running' }))
    expect(() => sim!.failTask('nosuchtask')).toThrow(expect.objectContaining({ name: 'NotFoundError' }))
  })

  it('failTask works on any program (a shell loop here), and a task with restart condition none is not replaced', async () => {
    sim = await simulateCluster({ managers: 1, workers: 1, seed: 30 })
    const svc = await sim.services.create({
      annotations: { name: 'once' },
      mode: { replicated: { replicas: 1 } },
      task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'while true; do sleep 1; done'] }, restart: { condition: 'none' } },
    })
    await sim.services.waitConverged(svc.id)
    const victim = (await sim.tasks.list({ serviceIds: [svc.id] })).find(isUp)!
    sim.failTask(victim.id, { exitCode: 42 })
    await sim.runUntil(async () => (await sim!.tasks.get(victim.id)).status.state === TaskState.FAILED)
    await sim.advance(60_000)
    const tasks = await sim.tasks.list({ serviceIds: [svc.id] })
    expect(tasks.map((t) => [t.id, t.status.state, t.status.containerStatus?.exitCode])).toEqual([[victim.id, TaskState.FAILED, 42]])
  })

  it('slowDisk: writes through a manager with a slow disk take its virtual time, and still commit', async () => {
    sim = await simulateCluster({ managers: 1, workers: 1, seed: 25 })
    const leader = sim.leader()!
    const t0 = sim.now()
    await sim.services.create(spec('fast', 1))
    const fast = sim.now() - t0
    sim.slowDisk(leader.id, 500)
    const t1 = sim.now()
    await sim.services.create(spec('slow', 1))
    const slow = sim.now() - t1
    expect(fast < 500).toBe(true)
    expect(slow >= 500).toBe(true)
    sim.slowDisk(leader.id, 0)
    expect((await sim.services.list()).map((s) => s.spec.annotations.name)).toEqual(['fast', 'slow'])
    expect(() => sim!.slowDisk(leader.id, -1)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'ms' }))
  })

  it('watch: events arrive as virtual time moves; the watch fails with UnavailableError when its manager crashes', async () => {
    sim = await simulateCluster({ managers: 3, workers: 1, seed: 26 })
    const it = sim.watch({ kinds: ['service'], actions: ['create'] })[Symbol.asyncIterator]()
    const next = it.next()
    const svc = await sim.services.create(spec('web', 1))
    const ev = await next
    expect(ev.done === true ? undefined : ev.value).toMatchObject({ kind: 'service', action: 'create', object: { id: svc.id } })
    const pending = it.next()
    pending.catch(() => undefined)
    sim.crash(sim.leader()!.id)
    await sim.settle()
    await expect(pending).rejects.toMatchObject({ name: 'UnavailableError' })
  })

  it('a read sent to an isolated leader that has not noticed yet is answered by the next leader', async () => {
    sim = await simulateCluster({ managers: 3, workers: 1, seed: 27 })
    await sim.services.create(spec('before', 1))
    const old = sim.leader()!
    sim.partition([old.id])
    expect(sim.leader()?.id).toBe(old.id)
    const names = (await sim.services.list()).map((s) => s.spec.annotations.name)
    expect(names).toEqual(['before'])
    expect(sim.leader()?.id).not.toBe(old.id)
    expect(sim.raftStatus(old.id).leader).toBe(0n)
  })

  it('every manager crashed and restarted: the cluster recovers its state from the Raft logs and its tasks keep running', async () => {
    sim = await simulateCluster({ managers: 3, workers: 2, seed: 28, raft: { snapshotInterval: 5 } })
    const svc = await sim.services.create(spec('web', 4))
    await sim.services.waitConverged(svc.id)
    for (let i = 0; i < 6; i++) await sim.services.update(svc.id, { ...spec('web', 4), annotations: { name: 'web', labels: { round: String(i) } } })
    await sim.services.waitConverged(svc.id)
    const managers = sim.members().filter((m) => m.role === 'manager')
    for (const m of managers) sim.crash(m.id)
    expect(sim.leader()).toBe(undefined)
    await sim.restart(managers[0]!.id)
    expect(sim.raftStatus().leader).toBe(0n)
    for (const m of managers) await sim.restart(m.id)
    await sim.runUntil(() => sim!.leader() !== undefined)
    expect((await sim.services.get(svc.id)).spec.annotations.labels).toEqual({ round: '5' })
    await sim.services.waitConverged(svc.id)
    expect((await sim.tasks.list({ serviceIds: [svc.id] })).filter(isUp).length).toBe(4)
  })

  it('a worker cut off from the managers goes down and its tasks move; healed, it comes back and keeps no extra task running', async () => {
    sim = await simulateCluster({ managers: 3, workers: 3, seed: 29 })
    const svc = await sim.services.create(spec('web', 6))
    await sim.services.waitConverged(svc.id)
    const cut = sim.members().find((m) => m.role === 'worker')!.id
    sim.partition([cut])
    await sim.runUntil(async () => (await sim!.nodes.get(cut)).status.state === 'down')
    await sim.runUntil(async () => {
      const up = (await sim!.tasks.list({ serviceIds: [svc.id] })).filter(isUp)
      return up.length === 6 && up.every((t) => t.nodeId !== cut)
    })
    sim.heal()
    await sim.runUntil(async () => (await sim!.nodes.get(cut)).status.state === 'ready')
    await sim.advance(30_000)
    const up = (await sim.tasks.list({ serviceIds: [svc.id] })).filter(isUp)
    expect(up.length).toBe(6)
    expect(new Set(up.map((t) => t.slot)).size).toBe(6)
    // The replacements stay where they are: the healed worker is assigned no task to run.
    const store = sim.store()
    const assigned = store.view((tx) => tx.tasks.find({ nodeId: cut })).filter((t) => t.desiredState === TaskState.RUNNING)
    expect(assigned.length).toBe(0)
  })
})
