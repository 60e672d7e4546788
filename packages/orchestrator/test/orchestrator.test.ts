import { FailedPreconditionError, TaskState } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { Orchestrator } from '../src/index.ts'
import { Harness, globalSpec, replicatedSpec } from './helpers/harness.ts'

describe('Orchestrator runner', () => {
  it('refuses to start twice while running, and starts again after stop (a new leader term)', async () => {
    const h = new Harness({ start: false })
    const o = new Orchestrator({ store: h.store, clock: h.clock, random: h.random })
    const handle = o.start()
    expect(() => o.start()).toThrow(FailedPreconditionError)
    await handle.stop()
    await handle.stop() // idempotent
    const again = o.start()
    await h.addNode('n1')
    const s = await h.createService(replicatedSpec('web', 2))
    await h.settle()
    expect(h.running(s.id).length).toBe(2)
    await again.stop()
  })

  it('leaves no timer and writes nothing once stopped', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const s = await h.createService(replicatedSpec('web', 1))
    await h.settle()
    const [t] = h.running(s.id)
    await h.driver.fail(t?.id ?? '')
    await h.settle() // the replacement waits out its 5 s restart delay on a timer
    expect(h.clock.pending()).toBeGreaterThan(0)
    await h.stop()
    expect(h.clock.pending()).toBe(0)
    const version = h.store.version
    h.driver.enabled = false
    await h.createService(replicatedSpec('api', 3))
    h.clock.advance(60_000)
    await h.settle()
    expect(h.store.version).toBe(version + 1n)
  })

  it('a new run converges what changed while no orchestrator ran: services created, scaled and deleted, nodes drained', async () => {
    const h = new Harness()
    const n1 = await h.addNode('n1')
    const n2 = await h.addNode('n2')
    const web = await h.createService(replicatedSpec('web', 2))
    const agent = await h.createService(globalSpec('agent'))
    const gone = await h.createService(replicatedSpec('gone', 2))
    const goneGlobal = await h.createService(globalSpec('gone-global'))
    await h.settle()
    await h.stop()
    const api = await h.createService(replicatedSpec('api', 3))
    await h.updateService(web.id, (s) => ({ ...s, mode: { replicated: { replicas: 1 } } }))
    await h.control.remove(gone.id)
    await h.control.remove(goneGlobal.id)
    await h.setAvailability(n2, 'drain')
    await h.settle()
    await h.leaderChange()
    await h.advance(10_000)
    expect(h.running(api.id).map((t) => t.nodeId)).toEqual([n1, n1, n1])
    expect(h.running(web.id).map((t) => t.nodeId)).toEqual([n1])
    expect(h.running(agent.id).map((t) => t.nodeId)).toEqual([n1])
    // The deleted services' tasks were set to REMOVE, stopped and deleted by the reaper.
    expect(h.tasks(gone.id)).toEqual([])
    expect(h.tasks(goneGlobal.id)).toEqual([])
    expect(h.store.view((tx) => tx.tasks.find({ nodeId: n2 })).filter((t) => t.desiredState <= TaskState.RUNNING)).toEqual([])
  })

  it('rolls out a spec written straight to the store without a new spec version', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const s = await h.createService(replicatedSpec('web', 2, { update: { parallelism: 0, monitorMs: 0 } }))
    await h.settle()
    await h.store.update((tx) =>
      tx.services.update(s.id, (d) => {
        d.spec.task = { container: { image: 'busybox:2' } }
      }),
    )
    await h.advance(1000)
    expect(h.running(s.id).map((t) => t.spec.container?.image)).toEqual(['busybox:2', 'busybox:2'])
    expect(h.service(s.id).updateStatus?.state).toBe('completed')
  })
})
