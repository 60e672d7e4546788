import { UpdateState } from '@swarmkit-ts/api'
import { afterEach, describe, expect, it } from 'vitest'
import { Harness, globalSpec } from './helpers/harness.ts'

const harnesses: Harness[] = []
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop()
})

describe('rolling update of a global service (through the orchestrator)', () => {
  it('replaces the task of one node per delay, each on its own node, then completes', async () => {
    const h = new Harness()
    harnesses.push(h)
    const nodes = [await h.addNode('n1'), await h.addNode('n2'), await h.addNode('n3')].sort()
    const svc = await h.createService(globalSpec('agent', { update: { parallelism: 1, delayMs: 10_000 } }))
    await h.settle()
    expect(h.running(svc.id).map((t) => t.nodeId).sort()).toEqual(nodes)
    await h.updateService(svc.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } } }))
    await h.settle()
    const images = (): string[] => h.running(svc.id).map((t) => t.spec.container?.image ?? '').sort()
    expect(images()).toEqual(['busybox:1', 'busybox:1', 'busybox:2'])
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.UPDATING)
    await h.advance(10_000)
    expect(images()).toEqual(['busybox:1', 'busybox:2', 'busybox:2'])
    await h.advance(10_000)
    expect(images()).toEqual(['busybox:2', 'busybox:2', 'busybox:2'])
    expect(h.running(svc.id).map((t) => t.nodeId).sort()).toEqual(nodes)
    expect(h.live(svc.id)).toHaveLength(3)
    await h.advance(21_000)
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.COMPLETED)
  })

  it('a failing update of a global service rolls back to the previous spec on every node', async () => {
    const h = new Harness()
    harnesses.push(h)
    h.driver.failingImages.add('bad:1')
    await h.addNode('n1')
    await h.addNode('n2')
    const svc = await h.createService(globalSpec('agent', { update: { failureAction: 'rollback' } }))
    await h.settle()
    const v1 = h.service(svc.id)
    await h.updateService(svc.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'bad:1' } } }))
    await h.settle()
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.ROLLBACK_STARTED)
    expect(h.service(svc.id).spec).toEqual(v1.spec)
    await h.advance(60_000)
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.ROLLBACK_COMPLETED)
    expect(h.service(svc.id).updateStatus?.message).toBe('rollback completed')
    expect(h.running(svc.id).map((t) => t.spec.container?.image)).toEqual(['busybox:1', 'busybox:1'])
    expect(h.live(svc.id)).toHaveLength(2)
  })

  it('skips a node relabelled out of the constraints before its turn (no task created there) and completes', async () => {
    const h = new Harness()
    harnesses.push(h)
    await h.addNode('n1', { labels: { zone: 'a' } })
    await h.addNode('n2', { labels: { zone: 'a' } })
    await h.addNode('n3', { labels: { zone: 'b' } })
    const placement = { constraints: ['node.labels.zone==a'] }
    const svc = await h.createService(globalSpec('agent', {
      task: { container: { image: 'busybox:1' }, placement },
      update: { parallelism: 1, delayMs: 10_000 },
    }))
    await h.settle()
    await h.updateService(svc.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } } }))
    await h.settle()
    // One node is updated; the other waits for its turn, 10 s later.
    const first = h.running(svc.id).find((t) => t.spec.container?.image === 'busybox:2')?.nodeId
    const waiting = h.running(svc.id).find((t) => t.spec.container?.image === 'busybox:1')?.nodeId
    expect(first).toBeDefined()
    expect(waiting).toBeDefined()
    await h.updateNode(waiting as string, (n) => {
      n.spec.annotations.labels = { zone: 'b' }
    })
    await h.settle()
    // Its turn (skipped), the delay after it and the final monitor (delay + 1 s).
    await h.advance(10_000 + 10_000 + 11_000)
    expect(h.service(svc.id).updateStatus?.state).toBe(UpdateState.COMPLETED)
    // The relabelled node got no task of the new spec (it could never be scheduled there).
    expect(h.tasks(svc.id).filter((t) => t.nodeId === waiting).map((t) => t.spec.container?.image)).toEqual(['busybox:1'])
    expect(h.live(svc.id).map((t) => [t.nodeId, t.spec.container?.image])).toEqual([[first, 'busybox:2']])
  })
})
