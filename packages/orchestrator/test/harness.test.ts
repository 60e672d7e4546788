import { TaskState } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { newTask } from '../src/index.ts'
import { Harness, replicatedSpec } from './helpers/harness.ts'

describe('test harness', () => {
  it('the driver moves a task from NEW to RUNNING on an eligible node, then to SHUTDOWN when asked', async () => {
    const h = new Harness({ start: false })
    const n1 = await h.addNode('n1')
    await h.addNode('n2', { availability: 'drain' })
    const svc = await h.createService(replicatedSpec('web', 1))
    const t = newTask(undefined, svc, 1, '', h)
    await h.store.update((tx) => tx.tasks.create(t))
    await h.settle()
    const [run] = h.tasks(svc.id)
    expect(run?.status.state).toBe(TaskState.RUNNING)
    expect(run?.nodeId).toBe(n1)
    expect(run?.annotations.name).toBe(`web.1.${t.id}`)
    await h.store.update((tx) => tx.tasks.update(t.id, (d) => void (d.desiredState = TaskState.SHUTDOWN)))
    await h.settle()
    expect(h.tasks(svc.id)[0]?.status.state).toBe(TaskState.SHUTDOWN)
  })

  it('advance() runs timers in order, settling between them', async () => {
    const h = new Harness({ start: false })
    const seen: number[] = []
    h.clock.setTimeout(() => seen.push(h.clock.now()), 10)
    h.clock.setTimeout(() => seen.push(h.clock.now()), 5)
    await h.advance(20)
    expect(seen.map((t) => t - 1_700_000_000_000)).toEqual([5, 10])
  })
})
