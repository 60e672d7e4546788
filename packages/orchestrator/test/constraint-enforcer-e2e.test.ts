import { TaskState } from '@swarmkit-ts/api'
import { afterEach, describe, expect, it } from 'vitest'
import { CONSTRAINT_REJECT_ERR, CONSTRAINT_REJECT_MESSAGE } from '../src/index.ts'
import { Harness, replicatedSpec } from './helpers/harness.ts'

const harnesses: Harness[] = []
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop()
})

describe('constraint enforcer with the whole orchestrator', () => {
  it('a replicated task rejected on a relabelled node comes back on another matching node', async () => {
    const h = new Harness()
    harnesses.push(h)
    const n1 = await h.addNode('n1', { labels: { zone: 'a' } })
    const n2 = await h.addNode('n2', { labels: { zone: 'a' } })
    await h.addNode('n3', { labels: { zone: 'b' } })
    const svc = await h.createService(
      replicatedSpec('web', 1, {
        task: { container: { image: 'busybox:1' }, placement: { constraints: ['node.labels.zone==a'] }, restart: { delayMs: 0 } },
      }),
    )
    await h.settle()
    const [first] = h.running(svc.id)
    expect(first?.nodeId === n1 || first?.nodeId === n2).toBe(true)
    const from = first?.nodeId as string
    const other = from === n1 ? n2 : n1

    await h.updateNode(from, (n) => {
      n.spec.annotations.labels = { zone: 'b' }
    })
    await h.advance(0)

    const old = h.tasks(svc.id).find((t) => t.id === first?.id)
    expect(old?.status.state).toBe(TaskState.REJECTED)
    expect(old?.status.message).toBe(CONSTRAINT_REJECT_MESSAGE)
    expect(old?.status.err).toBe(CONSTRAINT_REJECT_ERR)
    expect(old?.desiredState).toBe(TaskState.SHUTDOWN)
    const running = h.running(svc.id)
    expect(running.map((t) => [t.slot, t.nodeId])).toEqual([[1, other]])
  })
})
