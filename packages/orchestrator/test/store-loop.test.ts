import { TaskState } from '@swarmkit-ts/api'
import type { ObjectKind } from '@swarmkit-ts/api'
import type { ObjectEvent } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { StoreLoop, newTask } from '../src/index.ts'
import { Harness, flush, replicatedSpec } from './helpers/harness.ts'

describe('StoreLoop', () => {
  it('starts from a consistent view, then hands over events commit by commit', async () => {
    const h = new Harness({ start: false })
    const svc = await h.createService(replicatedSpec('web', 1))
    const log: string[] = []
    const loop = new StoreLoop(h, 'test', ['task'], {
      resync: (tx) => log.push(`resync ${tx.services.find().length}`),
      event: (ev: ObjectEvent<'task'>) => log.push(`${ev.action} ${ev.object.slot}`),
      tick: () => void log.push('tick'),
    })
    loop.start()
    await h.store.update((tx) => {
      tx.tasks.create(newTask(undefined, svc, 1, '', h))
      tx.tasks.create(newTask(undefined, svc, 2, '', h))
    })
    await flush()
    await h.store.update((tx) => tx.tasks.create(newTask(undefined, svc, 3, '', h)))
    await flush()
    expect(log).toEqual(['resync 1', 'tick', 'create 1', 'create 2', 'tick', 'create 3', 'tick'])
    await loop.stop()
    await h.store.update((tx) => tx.tasks.create(newTask(undefined, svc, 4, '', h)))
    await flush()
    expect(log.length).toBe(7)
  })

  it('ticks once for the commits queued while a tick ran: their events in commit order, then one tick for all of them', async () => {
    const h = new Harness({ start: false })
    const svc = await h.createService(replicatedSpec('web', 1))
    const log: string[] = []
    let release: (() => void) | undefined
    const loop = new StoreLoop(h, 'test', ['task'], {
      resync: () => log.push('resync'),
      event: (ev: ObjectEvent<'task'>) => log.push(`${ev.action} ${ev.object.slot}`),
      // The tick after the first commit waits (as a tick that writes waits for its commit).
      tick: () => {
        log.push('tick')
        return log.length === 4 ? new Promise<void>((resolve) => (release = resolve)) : undefined
      },
    })
    loop.start()
    await h.store.update((tx) => tx.tasks.create(newTask(undefined, svc, 1, '', h)))
    await flush()
    expect(log).toEqual(['resync', 'tick', 'create 1', 'tick'])
    await h.store.update((tx) => tx.tasks.create(newTask(undefined, svc, 2, '', h)))
    await h.store.update((tx) => tx.tasks.create(newTask(undefined, svc, 3, '', h)))
    release?.()
    await flush()
    expect(log).toEqual(['resync', 'tick', 'create 1', 'tick', 'create 2', 'create 3', 'tick'])
    await loop.stop()
  })

  it('resyncs from a fresh view when it falls behind the store instead of losing events', async () => {
    const h = new Harness({ start: false })
    const svc = await h.createService(replicatedSpec('web', 1))
    const resyncs: number[] = []
    let release: () => void = () => {}
    let blocked = true
    const loop = new StoreLoop<ObjectKind>(
      h,
      'test',
      ['task'],
      {
        resync: (tx) => resyncs.push(tx.tasks.find().length),
        event: () => {},
        tick: () => (blocked ? new Promise<void>((r) => (release = r)) : undefined),
      },
      { queueLimit: 4 },
    )
    loop.start()
    await flush()
    for (let i = 1; i <= 10; i++) await h.store.update((tx) => tx.tasks.create({ ...newTask(undefined, svc, i, '', h), desiredState: TaskState.RUNNING }))
    blocked = false
    release()
    await flush()
    await flush()
    expect(resyncs).toEqual([0, 10])
    await loop.stop()
  })

  it('a throwing handler is logged and the loop goes on', async () => {
    const errors: string[] = []
    const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => void errors.push(m), child: () => logger }
    const h = new Harness({ start: false, logger })
    const svc = await h.createService(replicatedSpec('web', 1))
    let seen = 0
    const loop = new StoreLoop(h, 'test', ['task'], {
      resync: () => {},
      event: () => {
        seen++
        if (seen === 1) throw new Error('boom')
      },
      tick: () => {},
    })
    loop.start()
    await h.store.update((tx) => tx.tasks.create(newTask(undefined, svc, 1, '', h)))
    await h.store.update((tx) => tx.tasks.create(newTask(undefined, svc, 2, '', h)))
    await flush()
    expect(seen).toBe(2)
    expect(errors).toEqual(['test: event failed'])
    await loop.stop()
  })
})
