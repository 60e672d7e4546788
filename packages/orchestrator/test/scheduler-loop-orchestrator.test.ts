import { TaskState, silentLogger } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { ASSIGNED_MESSAGE, Orchestrator, ServiceControl } from '../src/index.ts'
import { replicatedSpec } from './helpers/harness.ts'
import { SchedulerFixture, fid } from './scheduler-loop-fixture.ts'

describe('Orchestrator with scheduler: true', () => {
  it('places the tasks the replicated orchestrator creates once they are allocated, spread over the nodes', async () => {
    const f = new SchedulerFixture()
    for (const n of ['n1', 'n2', 'n3']) await f.addNode(n)
    const handle = new Orchestrator({ store: f.store, clock: f.clock, random: f.random, logger: silentLogger, scheduler: true }).start()
    const control = new ServiceControl({ store: f.store, clock: f.clock, random: f.random })
    const svc = await control.create(replicatedSpec('web', 6))
    await f.settle()
    // Play the network allocator: NEW → PENDING.
    const created = f.store.view((tx) => tx.tasks.find({ serviceId: svc.id }))
    expect(created.map((t) => t.status.state)).toEqual(Array<TaskState>(6).fill(TaskState.NEW))
    await f.store.update((tx) => {
      for (const t of created) tx.tasks.update(t.id, (d) => void (d.status = { timestamp: f.clock.now(), state: TaskState.PENDING, message: 'pending task scheduling' }))
    })
    await f.advance(50)
    const tasks = f.store.view((tx) => tx.tasks.find({ serviceId: svc.id }))
    expect(tasks.map((t) => t.status.message)).toEqual(Array<string>(6).fill(ASSIGNED_MESSAGE))
    const perNode = new Map<string, number>()
    for (const t of tasks) perNode.set(t.nodeId, (perNode.get(t.nodeId) ?? 0) + 1)
    expect([...perNode.entries()].sort()).toEqual([
      [fid('n1'), 2],
      [fid('n2'), 2],
      [fid('n3'), 2],
    ])
    await handle.stop()
    expect(f.clock.nextDueAt()).toBeUndefined()
  })
})
