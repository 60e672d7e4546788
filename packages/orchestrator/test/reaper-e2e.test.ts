import { TaskState } from '@swarmkit-ts/api'
import { afterEach, describe, expect, it } from 'vitest'
import { REAPER_BATCH_INTERVAL_MS } from '../src/index.ts'
import { Harness, globalSpec, replicatedSpec } from './helpers/harness.ts'

const harnesses: Harness[] = []
function harness(retention: number): Harness {
  const h = new Harness({ retention })
  harnesses.push(h)
  return h
}
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop()
})

const task = { container: { image: 'busybox:1' }, restart: { delayMs: 0 } }

describe('task reaper with the whole orchestrator', () => {
  it('after 4 failures of a replicated task, only the 2 newest tasks remain in its slot: the running replacement and the last failure', async () => {
    const h = harness(2)
    await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 1, { task }))
    await h.settle()
    const failed: string[] = []
    for (let i = 0; i < 4; i++) {
      const [run] = h.running(svc.id)
      if (run === undefined) throw new Error('no running task')
      failed.push(run.id)
      await h.driver.fail(run.id)
      await h.advance(REAPER_BATCH_INTERVAL_MS)
    }
    const left = h.tasks(svc.id)
    expect(left).toHaveLength(2)
    expect(left.filter((t) => t.status.state === TaskState.RUNNING)).toHaveLength(1)
    expect(left.filter((t) => t.status.state === TaskState.FAILED).map((t) => t.id)).toEqual([failed[3]])
    expect(left.every((t) => t.slot === 1)).toBe(true)
  })

  it('keeps the history of a global service per node', async () => {
    const h = harness(2)
    const n1 = await h.addNode('n1')
    const n2 = await h.addNode('n2')
    const svc = await h.createService(globalSpec('agent', { task }))
    await h.settle()
    for (let i = 0; i < 3; i++) {
      const run = h.running(svc.id).find((t) => t.nodeId === n1)
      if (run === undefined) throw new Error('no running task on n1')
      await h.driver.fail(run.id)
      await h.advance(REAPER_BATCH_INTERVAL_MS)
    }
    const perNode = (node: string): number => h.tasks(svc.id).filter((t) => t.nodeId === node).length
    expect([perNode(n1), perNode(n2)]).toEqual([2, 1])
    expect(h.running(svc.id).map((t) => t.nodeId).sort()).toEqual([n1, n2].sort())
  })

  it('deletes the tasks of a scaled-down slot once they have shut down', async () => {
    const h = harness(5)
    await h.addNode('n1')
    const svc = await h.createService(replicatedSpec('web', 3, { task }))
    await h.settle()
    expect(h.running(svc.id)).toHaveLength(3)
    await h.updateService(svc.id, (spec) => ({ ...spec, mode: { replicated: { replicas: 1 } } }))
    await h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(h.tasks(svc.id).map((t) => t.slot)).toEqual([1])
  })
})
