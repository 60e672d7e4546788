import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, SequenceConflictError, UpdateState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { Harness, replicatedSpec } from './helpers/harness.ts'

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

describe('ServiceControl', () => {
  it('creates a service at spec version 0; a job starts at iteration 0', async () => {
    const h = new Harness({ start: false })
    const s = await h.createService(replicatedSpec('web', 2))
    expect(s.specVersion).toEqual({ index: 0n })
    expect(s.jobStatus).toBeUndefined()
    const j = await h.createService({ annotations: { name: 'job' }, mode: { replicatedJob: { maxConcurrent: 1 } }, task: { container: { image: 'busybox' } } })
    expect(j.jobStatus).toEqual({ jobIteration: { index: 0n }, lastExecution: h.clock.now() })
  })

  it('refuses an invalid spec with the field named and leaves the store unchanged', async () => {
    const h = new Harness({ start: false })
    const before = h.store.version
    const err = await caught(h.createService(replicatedSpec('web', -1)))
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('mode.replicated.replicas')
    expect(h.store.version).toBe(before)
    expect(await caught(h.createService(replicatedSpec('-web', 1)))).toBeInstanceOf(InvalidArgumentError)
  })

  it('refuses an update that would leave the service invalid, naming the field, and changes nothing', async () => {
    const h = new Harness({ start: false })
    const s = await h.createService(replicatedSpec('web', 2))
    const version = h.store.version
    const bad = (change: (spec: ServiceSpec) => ServiceSpec): Promise<unknown> => caught(h.updateService(s.id, change))
    const cases: [string, (spec: ServiceSpec) => ServiceSpec][] = [
      ['task.container.image', (x) => ({ ...x, task: { container: { image: '' } } })],
      ['update.maxFailureRatio', (x) => ({ ...x, update: { maxFailureRatio: 2 } })],
      ['task.placement.constraints[0]', (x) => ({ ...x, task: { ...x.task, placement: { constraints: ['node.labels.zone ~ a'] } } })],
      ['annotations.name', (x) => ({ ...x, annotations: { name: 'other' } })],
      ['mode', (x) => ({ ...x, mode: { global: {} } })],
    ]
    for (const [field, change] of cases) {
      const err = await bad(change)
      expect(err, field).toBeInstanceOf(InvalidArgumentError)
      expect((err as InvalidArgumentError).field).toBe(field)
    }
    expect(h.store.version).toBe(version)
    expect(h.service(s.id).spec).toEqual(s.spec)
  })

  it('keeps the previous spec, moves the spec version and clears the update status on update', async () => {
    const h = new Harness({ start: false })
    const s = await h.createService(replicatedSpec('web', 2))
    await h.store.update((tx) => tx.services.update(s.id, (d) => void (d.updateStatus = { state: UpdateState.PAUSED, message: 'x' })))
    const at = h.service(s.id).meta.version.index
    const u = await h.updateService(s.id, (x) => ({ ...x, mode: { replicated: { replicas: 3 } } }))
    expect(u.previousSpec).toEqual(s.spec)
    expect(u.previousSpecVersion).toEqual({ index: 0n })
    expect(u.specVersion).toEqual({ index: at })
    expect(u.updateStatus).toBeUndefined()
  })

  it('checks the caller’s version (optimistic concurrency)', async () => {
    const h = new Harness({ start: false })
    const s = await h.createService(replicatedSpec('web', 1))
    const stale = s.meta.version.index
    await h.updateService(s.id, (x) => ({ ...x, mode: { replicated: { replicas: 2 } } }))
    const err = await caught(h.control.update(s.id, replicatedSpec('web', 3), { version: stale }))
    expect(err).toBeInstanceOf(SequenceConflictError)
    expect((err as SequenceConflictError).expected).toBe(stale)
  })

  it('a job update starts a new iteration', async () => {
    const h = new Harness({ start: false })
    const j = await h.createService({ annotations: { name: 'job' }, mode: { replicatedJob: {} }, task: { container: { image: 'busybox' } } })
    h.clock.advance(1000)
    const u = await h.updateService(j.id, (x) => x)
    expect(u.jobStatus?.jobIteration).toEqual({ index: 1n })
    expect(u.jobStatus?.lastExecution).toBe(h.clock.now())
  })

  it('rolls back by hand: swaps spec and previous spec, ROLLBACK_STARTED "manually requested rollback"', async () => {
    const h = new Harness({ start: false })
    const s = await h.createService(replicatedSpec('web', 1))
    expect(await caught(h.control.rollback(s.id))).toBeInstanceOf(FailedPreconditionError)
    const u = await h.updateService(s.id, (x) => ({ ...x, task: { container: { image: 'busybox:2' } } }))
    const r = await h.control.rollback(s.id)
    expect(r.spec).toEqual(s.spec)
    expect(r.specVersion).toEqual(s.specVersion)
    expect(r.previousSpec).toEqual(u.spec)
    expect(r.previousSpecVersion).toEqual(u.specVersion)
    expect(r.updateStatus).toEqual({ state: UpdateState.ROLLBACK_STARTED, message: 'manually requested rollback', startedAt: h.clock.now() })
  })

  it('removes a service; unknown ids and taken names give typed errors', async () => {
    const h = new Harness({ start: false })
    const s = await h.createService(replicatedSpec('web', 1))
    expect(await caught(h.createService(replicatedSpec('web', 1)))).toBeInstanceOf(AlreadyExistsError)
    await h.control.remove(s.id)
    expect(h.store.view((tx) => tx.services.get(s.id))).toBeUndefined()
    expect(await caught(h.control.remove(s.id))).toBeInstanceOf(NotFoundError)
    expect(await caught(h.control.update(s.id, replicatedSpec('web', 1)))).toBeInstanceOf(NotFoundError)
  })
})
