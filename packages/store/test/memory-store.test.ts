import { TaskState } from '@swarmkit-ts/api'
import { ManualClock } from '@swarmkit-ts/testkit'
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../src/index.ts'
import { config, network, node, outcome, secret, service, task, tid } from './fixtures.ts'

const S1 = tid('s', 1)
const S2 = tid('s', 2)
const N1 = tid('n', 1)
const X1 = tid('x', 1)
const C1 = tid('c', 1)

async function seeded(): Promise<MemoryStore> {
  const store = new MemoryStore({ clock: new ManualClock(1_000) })
  await store.update((tx) => {
    tx.services.create(service(S1, 'Web', { labels: { tier: 'front', team: 'a' }, networks: [N1], secrets: [X1], configs: [C1] }))
    tx.services.create(service(S2, 'worker', { labels: { tier: 'back' } }))
    tx.tasks.create(task(tid('t', 1), S1, 1, { nodeId: tid('m', 1), state: TaskState.RUNNING, networks: [N1], secrets: [X1], labels: { x: '1' } }))
    tx.tasks.create(task(tid('t', 2), S1, 2, { nodeId: tid('m', 2), state: TaskState.PENDING }))
    tx.tasks.create(task(tid('t', 3), S2, 1, { nodeId: tid('m', 1), desired: TaskState.SHUTDOWN }))
    tx.nodes.create(node(tid('m', 1), 'host-1', 'manager'))
    tx.nodes.create(node(tid('m', 2), 'host-2', 'worker', 'pending'))
    tx.networks.create(network(N1, 'overlay'))
    tx.secrets.create(secret(X1, 'db-password'))
    tx.configs.create(config(C1, 'nginx.conf'))
  })
  return store
}

const ids = (objs: readonly { id: string }[]): string[] => objs.map((o) => o.id).sort()

describe('MemoryStore lookups', () => {
  it('gets by id and finds by every selector', async () => {
    const store = await seeded()
    store.view((tx) => {
      expect(tx.services.get(S1)?.spec.annotations.name).toBe('Web')
      expect(tx.services.get(tid('s', 9))).toBeUndefined()
      expect(ids(tx.services.find({ name: 'web' }))).toEqual([S1])
      expect(ids(tx.services.find({ namePrefix: 'WO' }))).toEqual([S2])
      expect(ids(tx.services.find({ idPrefix: 's' }))).toEqual([S1, S2])
      expect(ids(tx.services.find({ idPrefix: S2 }))).toEqual([S2])
      expect(ids(tx.services.find({ label: 'tier' }))).toEqual([S1, S2])
      expect(ids(tx.services.find({ label: 'tier', value: 'back' }))).toEqual([S2])
      expect(ids(tx.services.find({ network: N1 }))).toEqual([S1])
      expect(ids(tx.services.find({ secret: X1 }))).toEqual([S1])
      expect(ids(tx.services.find({ config: C1 }))).toEqual([S1])
      expect(ids(tx.tasks.find({ serviceId: S1 }))).toEqual([tid('t', 1), tid('t', 2)])
      expect(ids(tx.tasks.find({ serviceId: S1, slot: 2 }))).toEqual([tid('t', 2)])
      expect(ids(tx.tasks.find({ nodeId: tid('m', 1) }))).toEqual([tid('t', 1), tid('t', 3)])
      expect(ids(tx.tasks.find({ desiredState: TaskState.SHUTDOWN }))).toEqual([tid('t', 3)])
      expect(ids(tx.tasks.find({ state: TaskState.RUNNING }))).toEqual([tid('t', 1)])
      expect(ids(tx.tasks.find({ network: N1 }))).toEqual([tid('t', 1)])
      expect(ids(tx.tasks.find({ secret: X1 }))).toEqual([tid('t', 1)])
      expect(ids(tx.tasks.find({ label: 'x', value: '1' }))).toEqual([tid('t', 1)])
      expect(ids(tx.nodes.find({ role: 'manager' }))).toEqual([tid('m', 1)])
      expect(ids(tx.nodes.find({ membership: 'pending' }))).toEqual([tid('m', 2)])
      expect(ids(tx.nodes.find())).toEqual([tid('m', 1), tid('m', 2)])
    })
    expect(store.checkIndexes()).toEqual([])
  })

  it('rejects an unsupported selector with InvalidArgumentError on by', async () => {
    const store = await seeded()
    expect(() => store.view((tx) => tx.services.find({ serviceId: S1 } as never))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'by' }))
    expect(() => store.view((tx) => tx.tasks.find({ desiredState: 'running' } as never))).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: 'by.desiredState' }),
    )
  })

  it('hands out deeply frozen objects', async () => {
    const store = await seeded()
    const t = store.view((tx) => tx.tasks.get(tid('t', 1)))
    expect(Object.isFrozen(t)).toBe(true)
    expect(Object.isFrozen(t?.status)).toBe(true)
    expect(Object.isFrozen(t?.spec.container?.secrets)).toBe(true)
    expect(Object.isFrozen(t?.meta.version)).toBe(true)
  })

  it('freezes what a recipe creates, and a no-op recipe still writes a new version', async () => {
    const store = await seeded()
    const labels = { added: 'yes' }
    const t = await store.update((tx) =>
      tx.tasks.update(tid('t', 2), (d) => {
        d.annotations.labels = labels
        d.status.message = 'moved'
      }),
    )
    expect(Object.isFrozen(t)).toBe(true)
    expect(Object.isFrozen(t.annotations.labels)).toBe(true)
    expect(Object.isFrozen(t.status)).toBe(true)
    expect(Object.isFrozen(t.meta)).toBe(true)
    const before = store.view((tx) => tx.tasks.get(tid('t', 2))?.meta.version.index)
    await store.update((tx) => tx.tasks.update(tid('t', 2), () => undefined))
    const after = store.view((tx) => tx.tasks.get(tid('t', 2)))
    expect([before, after?.meta.version.index, after?.annotations.labels]).toEqual([2n, 3n, { added: 'yes' }])
  })

  it('does not freeze or keep the caller’s objects', async () => {
    const store = new MemoryStore()
    const input = service(S1, 'web', { labels: { a: 'b' } })
    await store.update((tx) => tx.services.create(input))
    expect(Object.isFrozen(input)).toBe(false)
    expect(Object.isFrozen(input.spec.annotations)).toBe(false)
    ;(input.spec.annotations as { name: string }).name = 'changed'
    expect(store.view((tx) => tx.services.get(S1)?.spec.annotations.name)).toBe('web')
  })

  it('sets meta from the clock at transaction time and the version at apply', async () => {
    const clock = new ManualClock(5_000)
    const store = new MemoryStore({ clock })
    await store.update((tx) => tx.services.create(service(S1, 'web')))
    clock.advance(250)
    await store.update((tx) => tx.services.update(S1, (d) => void (d.spec.mode = { global: {} })))
    const s = store.view((tx) => tx.services.get(S1))
    expect(s?.meta).toEqual({ version: { index: 2n }, createdAt: 5_000, updatedAt: 5_250 })
    expect(store.version).toBe(2n)
  })

  it('a view never sees a commit made while it runs, even one it started', async () => {
    const store = await seeded()
    let pending: Promise<unknown> | undefined
    const counts = store.view((tx) => {
      const before = tx.tasks.find().length
      pending = store.update((w) => w.tasks.delete(tid('t', 1)))
      return [before, tx.tasks.find().length, tx.tasks.get(tid('t', 1)) === undefined]
    })
    expect(counts).toEqual([3, 3, false])
    await pending
    expect(store.view((tx) => tx.tasks.find().length)).toBe(2)
  })

  it('a view is unusable after its callback', async () => {
    const store = await seeded()
    const leaked = store.view((tx) => tx)
    expect(() => leaked.tasks.get(tid('t', 1))).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'tx-closed' }))
  })
})

describe('MemoryStore transactions', () => {
  it('reads inside a transaction see its own writes', async () => {
    const store = new MemoryStore()
    const seen = await store.update((tx) => {
      tx.services.create(service(S1, 'web'))
      tx.tasks.create(task(tid('t', 1), S1, 1))
      tx.tasks.update(tid('t', 1), (d) => void (d.nodeId = tid('m', 1)))
      const a = ids(tx.tasks.find({ nodeId: tid('m', 1) }))
      tx.tasks.delete(tid('t', 1))
      return { a, b: tx.tasks.get(tid('t', 1)), c: tx.services.find({ name: 'WEB' }).length }
    })
    expect(seen).toEqual({ a: [tid('t', 1)], b: undefined, c: 1 })
    expect(store.view((tx) => [tx.tasks.find().length, tx.services.find().length])).toEqual([0, 1])
  })

  it('returns the callback’s result once applied', async () => {
    const store = new MemoryStore()
    const created = await store.update((tx) => tx.services.create(service(S1, 'web')))
    expect(created.meta.version.index).toBe(0n)
    expect(store.view((tx) => tx.services.get(S1)?.meta.version.index)).toBe(1n)
  })

  it('updates with a whole object at the current version', async () => {
    const store = await seeded()
    const cur = store.view((tx) => tx.tasks.get(tid('t', 2)))
    if (cur === undefined) throw new Error('missing')
    await store.update((tx) => tx.tasks.update({ ...cur, nodeId: tid('m', 9) }))
    store.view((tx) => {
      expect(tx.tasks.get(tid('t', 2))?.nodeId).toBe(tid('m', 9))
      expect(ids(tx.tasks.find({ nodeId: tid('m', 9) }))).toEqual([tid('t', 2)])
      expect(ids(tx.tasks.find({ nodeId: tid('m', 2) }))).toEqual([])
    })
  })

  it('a stale version is a SequenceConflictError with kind, id, expected and actual; nothing applied', async () => {
    const store = await seeded()
    const cur = store.view((tx) => tx.tasks.get(tid('t', 2)))
    if (cur === undefined) throw new Error('missing')
    await store.update((tx) => tx.tasks.update(tid('t', 2), (d) => void (d.slot = 7)))
    const before = store.version
    const r = await outcome(
      store.update((tx) => {
        tx.services.delete(S2)
        tx.tasks.update({ ...cur, nodeId: 'x' })
      }),
    )
    expect(r.ok).toBe(false)
    expect(!r.ok && r.error).toMatchObject({ name: 'SequenceConflictError', kind: 'task', id: tid('t', 2), expected: 1n, actual: 2n })
    expect(store.version).toBe(before)
    expect(store.view((tx) => tx.services.get(S2)?.id)).toBe(S2)
  })

  it('a taken name is an AlreadyExistsError (case-insensitive, unique-name kinds only)', async () => {
    const store = await seeded()
    const r = await outcome(store.update((tx) => tx.services.create(service(tid('s', 3), 'WEB'))))
    expect(!r.ok && r.error).toMatchObject({ name: 'AlreadyExistsError', kind: 'service', key: 'WEB' })
    const rename = await outcome(store.update((tx) => tx.services.update(S2, (d) => void (d.spec.annotations.name = 'web'))))
    expect(!rename.ok && rename.error).toMatchObject({ name: 'AlreadyExistsError', kind: 'service', key: 'web' })
    for (const [kind, make] of [
      ['network', () => network(tid('n', 2), 'OVERLAY')],
      ['secret', () => secret(tid('x', 2), 'db-password')],
      ['config', () => config(tid('c', 2), 'nginx.conf')],
    ] as const) {
      const e = await outcome(
        store.update((tx) => {
          const obj = make()
          if (kind === 'network') tx.networks.create(obj)
          else if (kind === 'secret') tx.secrets.create(obj as ReturnType<typeof secret>)
          else tx.configs.create(obj as ReturnType<typeof config>)
        }),
      )
      expect(!e.ok && e.error).toMatchObject({ name: 'AlreadyExistsError', kind })
    }
    // Nodes and tasks may share names.
    await store.update((tx) => {
      tx.nodes.create(node(tid('m', 3), 'host-1'))
      tx.tasks.create(task(tid('t', 8), S1, 8, { name: 'same' }))
      tx.tasks.create(task(tid('t', 9), S1, 9, { name: 'same' }))
    })
    expect(store.view((tx) => tx.nodes.find({ name: 'host-1' }).length)).toBe(2)
  })

  it('a duplicate id is an AlreadyExistsError with the id as key', async () => {
    const store = await seeded()
    const r = await outcome(store.update((tx) => tx.tasks.create(task(tid('t', 1), S1, 5))))
    expect(!r.ok && r.error).toMatchObject({ name: 'AlreadyExistsError', kind: 'task', key: tid('t', 1) })
  })

  it('a missing object is a NotFoundError with kind and id', async () => {
    const store = await seeded()
    for (const fn of [
      (tx: Parameters<Parameters<MemoryStore['update']>[0]>[0]) => tx.tasks.delete(tid('t', 9)),
      (tx: Parameters<Parameters<MemoryStore['update']>[0]>[0]) => tx.tasks.update(tid('t', 9), () => undefined),
    ]) {
      const r = await outcome(store.update(fn))
      expect(!r.ok && r.error).toMatchObject({ name: 'NotFoundError', kind: 'task', id: tid('t', 9) })
    }
  })

  it('bad shapes are InvalidArgumentErrors naming the field', async () => {
    const store = new MemoryStore()
    const cases: [() => unknown, string][] = [
      [() => ({ ...service('nope', 'a') }), 'id'],
      [() => ({ id: S1 }), 'spec'],
      [() => ({ ...service(S1, 'a'), spec: { ...service(S1, 'a').spec, annotations: { name: 3 } } }), 'spec.annotations.name'],
      [() => ({ ...service(S1, 'a'), spec: { ...service(S1, 'a').spec, annotations: { name: 'a', labels: { k: 1 } } } }), 'spec.annotations.labels.k'],
    ]
    for (const [make, field] of cases) {
      const r = await outcome(store.update((tx) => tx.services.create(make() as never)))
      expect(!r.ok && r.error).toMatchObject({ name: 'InvalidArgumentError', field })
    }
    const t = await outcome(store.update((tx) => tx.tasks.create({ ...task(tid('t', 1), S1, 1), slot: 1.5 })))
    expect(!t.ok && t.error).toMatchObject({ name: 'InvalidArgumentError', field: 'slot' })
    await store.update((tx) => tx.tasks.create(task(tid('t', 1), S1, 1)))
    const bad = await outcome(store.update((tx) => tx.tasks.update(tid('t', 1), (d) => void (d.id = tid('t', 2)))))
    expect(!bad.ok && bad.error).toMatchObject({ name: 'InvalidArgumentError', field: 'id' })
    const noVersion = await outcome(store.update((tx) => tx.tasks.update({ ...task(tid('t', 1), S1, 1) } as never)))
    expect(!noVersion.ok && noVersion.error).toMatchObject({ name: 'InvalidArgumentError', field: 'meta.version.index' })
    expect(store.version).toBe(1n)
  })

  it('a throwing callback leaves no trace', async () => {
    const store = await seeded()
    const before = store.snapshot()
    const events = store.watch()
    const r = await outcome(
      store.update((tx) => {
        tx.tasks.delete(tid('t', 1))
        tx.services.create(service(tid('s', 7), 'new'))
        throw new Error('boom')
      }),
    )
    expect(!r.ok && r.error.message).toBe('boom')
    expect(store.snapshot()).toEqual(before)
    await store.update((tx) => tx.services.create(service(tid('s', 8), 'after')))
    const first = await events.next()
    expect(first.value).toMatchObject({ action: 'create', kind: 'service', object: { id: tid('s', 8) } })
    events.close()
  })

  it('refuses an async callback and a tx used after its callback', async () => {
    const store = new MemoryStore()
    const r = await outcome(store.update(async () => Promise.resolve(1)))
    expect(!r.ok && r.error).toMatchObject({ name: 'InvalidArgumentError', field: 'callback' })
    const leaked = await store.update((tx) => tx)
    expect(() => leaked.tasks.get(tid('t', 1))).toThrow(expect.objectContaining({ name: 'FailedPreconditionError' }))
  })
})
