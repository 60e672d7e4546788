/**
 * The store's typed surface: objects handed out are deeply readonly (compile time) and frozen
 * (run time), watch events narrow by kind, `find` takes exactly one selector (compile time and
 * run time), custom indexes over `annotations.indices`, the node name index (the hostname) and
 * what `close()` does to a watch's queued events. The `@ts-expect-error` lines are checked by
 * `pnpm typecheck`: each fails to compile if the type it guards is loosened.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import type { Node, ObjectKind, Service, Task } from '@swarmkit-ts/api'
import { MemoryStore } from '../src/index.ts'
import type { FindBy, Frozen, ObjectEvent, Watch, WatchEvent } from '../src/index.ts'
import { node, service, task, tid } from './fixtures.ts'

async function seeded(): Promise<MemoryStore> {
  const store = new MemoryStore()
  await store.update((tx) => {
    tx.services.create(service(tid('s', 1), 'web', { labels: { tier: 'front' }, networks: [tid('w', 1)] }))
    tx.tasks.create(task(tid('t', 1), tid('s', 1), 1, { nodeId: tid('n', 1) }))
    tx.tasks.create(task(tid('t', 2), tid('s', 1), 2, { nodeId: tid('n', 2) }))
  })
  return store
}

describe('objects handed out are deeply readonly', () => {
  it('types get/find/create/update results as Frozen, so writing a nested field does not compile; at run time it throws', async () => {
    const store = await seeded()
    const svc = store.view((tx) => tx.services.get(tid('s', 1)))
    if (svc === undefined) throw new Error('missing service')
    expectTypeOf(svc).toEqualTypeOf<Frozen<Service>>()
    expectTypeOf(store.view((tx) => tx.tasks.find({ serviceId: tid('s', 1) }))).toEqualTypeOf<Frozen<Task>[]>()
    expect(() => {
      // @ts-expect-error a stored object's nested fields are readonly
      svc.spec.annotations.name = 'renamed'
    }).toThrow(TypeError)
    const nets = svc.spec.task.networks
    if (nets === undefined) throw new Error('missing networks')
    expect(() => {
      // @ts-expect-error a stored object's arrays are readonly
      nets[0] = { target: 'x' }
    }).toThrow(TypeError)
    expect(() => {
      // @ts-expect-error labels are readonly too
      ;(svc.spec.annotations.labels ?? {})['tier'] = 'back'
    }).toThrow(TypeError)
    expect(store.view((tx) => tx.services.get(tid('s', 1))?.spec.annotations)).toStrictEqual({ name: 'web', labels: { tier: 'front' } })
    // A frozen object goes back in as a whole-object update; a recipe gets a mutable draft.
    await store.update((tx) => {
      const cur = tx.services.get(tid('s', 1))
      if (cur === undefined) throw new Error('missing service')
      const next = tx.services.update({ ...cur, spec: { ...cur.spec, annotations: { ...cur.spec.annotations, name: 'www' } } })
      expectTypeOf(next).toEqualTypeOf<Frozen<Service>>()
      tx.services.update(cur.id, (d) => {
        d.spec.annotations.name = 'web2'
      })
    })
    expect(store.view((tx) => tx.services.get(tid('s', 1))?.spec.annotations.name)).toBe('web2')
  })
})

describe('watch events are typed by kind', () => {
  it('narrows the object by ev.kind, and by the selector’s kinds', async () => {
    const store = await seeded()
    const all = store.watch()
    const tasks = store.watch({ kinds: 'task' })
    expectTypeOf(all).toEqualTypeOf<Watch>()
    expectTypeOf(tasks).toEqualTypeOf<Watch<'task'>>()
    // A watch of some kinds is a watch (covariant in its kinds).
    const widened: Watch = tasks
    void widened
    await store.update((tx) => {
      tx.tasks.update(tid('t', 1), (d) => {
        d.nodeId = tid('n', 3)
      })
      tx.services.update(tid('s', 1), (d) => {
        d.spec.annotations.name = 'api'
      })
    })
    const seen: string[] = []
    for (;;) {
      const { value: ev } = (await all.next()) as IteratorYieldResult<WatchEvent>
      if (ev.action === 'commit') break
      if (ev.kind === 'task') {
        expectTypeOf(ev.object).toEqualTypeOf<Frozen<Task>>()
        seen.push(`task node ${ev.object.nodeId === tid('n', 3) ? 'n3' : '?'}`)
      } else if (ev.kind === 'service') {
        expectTypeOf(ev.object).toEqualTypeOf<Frozen<Service>>()
        if (ev.action === 'update') expectTypeOf(ev.oldObject).toEqualTypeOf<Frozen<Service> | undefined>()
        seen.push(`service ${ev.object.spec.annotations.name}`)
      }
    }
    expect(seen).toStrictEqual(['task node n3', 'service api'])
    const first = (await tasks.next()) as IteratorYieldResult<WatchEvent<'task'>>
    if (first.value.action === 'commit') throw new Error('expected the task update first')
    expectTypeOf(first.value).toEqualTypeOf<ObjectEvent<'task'>>()
    expect([first.value.action, first.value.object.slot, first.value.action === 'update' ? first.value.oldObject?.nodeId : '']).toStrictEqual(['update', 1, tid('n', 1)])
    // @ts-expect-error a task watch yields no service events
    expect(first.value.kind === 'service').toBe(false)
    all.close()
    tasks.close()
  })

  it('types where() by the selected kinds', async () => {
    const store = await seeded()
    const w = store.watch({ kinds: 'task', actions: ['update'], where: (ev) => ev.object.slot === 2 })
    await store.update((tx) => {
      for (const n of [1, 2]) {
        tx.tasks.update(tid('t', n), (d) => {
          d.desiredState = TaskState.SHUTDOWN
        })
      }
    })
    const { value } = (await w.next()) as IteratorYieldResult<WatchEvent<'task'>>
    expect(value.action === 'update' ? value.object.id : '').toBe(tid('t', 2))
    w.close()
  })
})

describe('find takes exactly one selector', () => {
  it('rejects a combination at compile time, and at run time for JavaScript callers (nothing silently ignored)', async () => {
    const store = await seeded()
    const combos: unknown[] = [
      { serviceId: tid('s', 1), nodeId: tid('n', 1) },
      { name: 'web', label: 'tier' },
      { idPrefix: 's', namePrefix: 'w' },
      { serviceId: tid('s', 1), desiredState: TaskState.SHUTDOWN },
      { value: 'front' },
      { custom: { key: 'k', val: 'v' }, name: 'web' },
    ]
    // @ts-expect-error two indexes at once are not a selector
    const typed: FindBy<'task'> = { serviceId: tid('s', 1), nodeId: tid('n', 1) }
    void typed
    // @ts-expect-error the slot selector needs its service
    const slotOnly: FindBy<'task'> = { slot: 1 }
    void slotOnly
    // @ts-expect-error a node has no service index
    const wrongKind: FindBy<'node'> = { serviceId: tid('s', 1) }
    void wrongKind
    for (const by of combos) {
      expect(() => store.view((tx) => tx.tasks.find(by as FindBy<'task'>))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'by' }))
      await expect(store.update((tx) => tx.tasks.find(by as FindBy<'task'>))).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'by' })
    }
    expect(() => store.view((tx) => tx.nodes.find({ serviceId: tid('s', 1) } as unknown as FindBy<'node'>))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'by' }))
    // The one compound selector with an index of its own.
    expect(store.view((tx) => tx.tasks.find({ serviceId: tid('s', 1), slot: 2 }).map((t) => t.id))).toStrictEqual([tid('t', 2)])
    expect(store.view((tx) => tx.services.find({ label: 'tier', value: 'front' }).map((s) => s.id))).toStrictEqual([tid('s', 1)])
  })
})

describe('custom indexes over annotations.indices', () => {
  const indexed = (id: string, name: string, indices: { key: string; val: string }[]): ReturnType<typeof service> => {
    const s = service(id, name)
    return { ...s, spec: { ...s.spec, annotations: { ...s.spec.annotations, indices } } }
  }

  it('finds by { custom: { key, val } } and by { customPrefix: { key, prefix } }, through updates, deletes and pending writes', async () => {
    const store = new MemoryStore()
    await store.update((tx) => {
      tx.services.create(indexed(tid('s', 1), 'a', [{ key: 'team', val: 'payments' }, { key: 'env', val: 'prod' }]))
      tx.services.create(indexed(tid('s', 2), 'b', [{ key: 'team', val: 'payroll' }]))
      tx.services.create(indexed(tid('s', 3), 'c', [{ key: 'env', val: 'payments' }]))
      tx.services.create(service(tid('s', 4), 'd'))
      const t = task(tid('t', 1), tid('s', 1), 1)
      tx.tasks.create({ ...t, annotations: { ...t.annotations, indices: [{ key: 'team', val: 'payments' }] } })
    })
    const ids = (by: FindBy<'service'>): string[] => store.view((tx) => tx.services.find(by).map((s) => s.id).sort())
    expect(ids({ custom: { key: 'team', val: 'payments' } })).toStrictEqual([tid('s', 1)])
    expect(ids({ custom: { key: 'team', val: 'Payments' } })).toStrictEqual([]) // exact, as in SwarmKit
    expect(ids({ custom: { key: 'env', val: 'payments' } })).toStrictEqual([tid('s', 3)])
    expect(ids({ customPrefix: { key: 'team', prefix: 'pay' } })).toStrictEqual([tid('s', 1), tid('s', 2)])
    expect(ids({ customPrefix: { key: 'team', prefix: '' } })).toStrictEqual([tid('s', 1), tid('s', 2)])
    expect(ids({ customPrefix: { key: 'te', prefix: '' } })).toStrictEqual([]) // the key is whole
    expect(store.view((tx) => tx.tasks.find({ custom: { key: 'team', val: 'payments' } }).map((t) => t.id))).toStrictEqual([tid('t', 1)])

    await store.update((tx) => {
      tx.services.update(tid('s', 2), (d) => {
        d.spec.annotations.indices = [{ key: 'team', val: 'platform' }]
      })
      tx.services.delete(tid('s', 1))
      // A transaction sees its own writes through the same selectors.
      expect(tx.services.find({ customPrefix: { key: 'team', prefix: 'p' } }).map((s) => s.id)).toStrictEqual([tid('s', 2)])
      expect(tx.services.find({ custom: { key: 'team', val: 'platform' } }).map((s) => s.id)).toStrictEqual([tid('s', 2)])
    })
    expect(ids({ customPrefix: { key: 'team', prefix: 'pay' } })).toStrictEqual([])
    expect(ids({ custom: { key: 'team', val: 'platform' } })).toStrictEqual([tid('s', 2)])
    expect(store.checkIndexes()).toStrictEqual([])
  })

  it('refuses malformed custom selectors with InvalidArgumentError naming the field', () => {
    const store = new MemoryStore()
    const bad: [unknown, string][] = [
      [{ custom: 'team=payments' }, 'by.custom'],
      [{ custom: { key: 'team' } }, 'by.custom.val'],
      [{ customPrefix: { key: 1, prefix: 'p' } }, 'by.customPrefix.key'],
    ]
    for (const [by, field] of bad) {
      expect(() => store.view((tx) => tx.services.find(by as FindBy<'service'>))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
    }
  })
})

describe('the node name index', () => {
  it("indexes a node by its reported hostname (SwarmKit's Description.Hostname), case-insensitively, not by spec.annotations.name", async () => {
    const store = new MemoryStore()
    const named = (n: number, hostname: string | undefined, specName: string): ReturnType<typeof node> => {
      const { description: _, ...base } = node(tid('n', n), specName)
      return hostname === undefined ? base : { ...base, description: { hostname } }
    }
    const watched = store.watch({ kinds: 'node', name: 'worker-1.example' })
    await store.update((tx) => {
      tx.nodes.create(named(1, 'Worker-1.example', 'custom-name'))
      tx.nodes.create(named(2, 'worker-2.example', 'worker-1.example'))
      tx.nodes.create(named(3, undefined, 'no-description'))
    })
    const names = (by: FindBy<'node'>): string[] => store.view((tx) => tx.nodes.find(by).map((n) => n.id).sort())
    expect(names({ name: 'worker-1.example' })).toStrictEqual([tid('n', 1)])
    expect(names({ name: 'custom-name' })).toStrictEqual([])
    expect(names({ name: 'no-description' })).toStrictEqual([])
    expect(names({ namePrefix: 'WORKER-' })).toStrictEqual([tid('n', 1), tid('n', 2)])
    // A node that reports a new hostname moves in the index.
    await store.update((tx) =>
      tx.nodes.update(tid('n', 3), (d) => {
        d.description = { hostname: 'late.example' }
      }),
    )
    expect(names({ name: 'late.example' })).toStrictEqual([tid('n', 3)])
    expect(store.checkIndexes()).toStrictEqual([])
    // Watch selectors use the same name.
    const { value } = (await watched.next()) as IteratorYieldResult<WatchEvent<'node'>>
    expect(value.action === 'create' ? value.object.id : '').toBe(tid('n', 1))
    watched.close()
    expectTypeOf<Frozen<Node>['description']>().toEqualTypeOf<Frozen<Node['description']>>()
  })
})

describe('closing a watch', () => {
  it('drops the events queued but not read; a pending next() and every later one resolve as done', async () => {
    const store = new MemoryStore()
    const w = store.watch({ kinds: 'service' })
    await store.update((tx) => tx.services.create(service(tid('s', 1), 'a')))
    await store.update((tx) => tx.services.create(service(tid('s', 2), 'b')))
    const first = await w.next()
    expect(first.done === true ? undefined : first.value.action).toBe('create')
    // Three events are queued (a commit, a create, a commit): close drops them.
    w.close()
    expect(w.closed).toBe(true)
    expect(await w.next()).toStrictEqual({ value: undefined, done: true })
    expect(await w.next()).toStrictEqual({ value: undefined, done: true })
    expect(store.watcherCount).toBe(0)

    const idle = store.watch()
    const pending = idle.next()
    idle.close()
    expect(await pending).toStrictEqual({ value: undefined, done: true })
    await store.update((tx) => tx.services.create(service(tid('s', 3), 'c')))
    expect(await idle.next()).toStrictEqual({ value: undefined, done: true })
  })

  it('ends a for-await loop that breaks, with the same drop', async () => {
    const store = new MemoryStore()
    const w = store.watch<ObjectKind>()
    await store.update((tx) => {
      tx.services.create(service(tid('s', 1), 'a'))
      tx.services.create(service(tid('s', 2), 'b'))
    })
    const seen: string[] = []
    for await (const ev of w) {
      seen.push(ev.action)
      break
    }
    expect(seen).toStrictEqual(['create'])
    expect(w.closed).toBe(true)
    expect(await w.next()).toStrictEqual({ value: undefined, done: true })
  })
})
