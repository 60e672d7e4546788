/**
 * Property tests: random rounds of concurrent transactions (so group commit is exercised)
 * against a plain reference model.
 */
import { TaskState } from '@swarmkit-ts/api'
import type { IndexEntry, ObjectKind, StoreEvent, StoreObject } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../src/index.ts'
import type { ReadTx, Tx } from '../src/index.ts'
import { node, outcome, service, task, tid } from './fixtures.ts'

const STATES = [TaskState.NEW, TaskState.RUNNING, TaskState.SHUTDOWN] as const
const NAMES = ['web', 'WEB', 'api', 'db'] as const
const LABELS = [undefined, { tier: 'a' }, { tier: 'b' }, { tier: 'a', x: '' }] as const

type Op =
  | { op: 'createService'; i: number; name: string; label: number }
  | { op: 'renameService'; i: number; name: string }
  | { op: 'deleteService'; i: number }
  | { op: 'createTask'; i: number; s: number; slot: number; node: number; desired: number; label: number }
  | { op: 'moveTask'; i: number; s: number; slot: number; node: number; state: number; label: number }
  | { op: 'staleTask'; i: number }
  | { op: 'deleteTask'; i: number }
  | { op: 'createNode'; i: number; role: number; membership: number }
  | { op: 'promoteNode'; i: number }

const idx = (n: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: n - 1 })
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('createService' as const), i: idx(4), name: fc.constantFrom(...NAMES), label: idx(4) }),
  fc.record({ op: fc.constant('renameService' as const), i: idx(4), name: fc.constantFrom(...NAMES) }),
  fc.record({ op: fc.constant('deleteService' as const), i: idx(4) }),
  fc.record({ op: fc.constant('createTask' as const), i: idx(8), s: idx(4), slot: idx(3), node: idx(4), desired: idx(3), label: idx(4) }),
  fc.record({ op: fc.constant('moveTask' as const), i: idx(8), s: idx(4), slot: idx(3), node: idx(4), state: idx(3), label: idx(4) }),
  fc.record({ op: fc.constant('staleTask' as const), i: idx(8) }),
  fc.record({ op: fc.constant('deleteTask' as const), i: idx(8) }),
  fc.record({ op: fc.constant('createNode' as const), i: idx(3), role: idx(2), membership: idx(2) }),
  fc.record({ op: fc.constant('promoteNode' as const), i: idx(3) }),
)
/** Rounds of concurrent transactions of 1–3 operations. */
const arbRounds = fc.array(fc.array(fc.array(arbOp, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 })

const nodeId = (n: number): string => (n === 3 ? '' : tid('m', n))
const labelsOf = (l: number): Record<string, string> | undefined => {
  const v = LABELS[l]
  return v === undefined ? undefined : { ...v }
}
/** Custom index entries that go with label set `l` (none for some). */
const INDICES: readonly (readonly IndexEntry[] | undefined)[] = [
  undefined,
  [{ key: 'team', val: 'pay' }],
  [
    { key: 'team', val: 'payroll' },
    { key: 'env', val: 'prod' },
  ],
  [{ key: 'env', val: 'pay' }],
]
const indicesOf = (l: number): IndexEntry[] | undefined => INDICES[l]?.map((e) => ({ ...e }))
/** A task's annotations for label set `l`: its labels and custom index entries. */
const taskAnnotations = (l: number): { name: string; labels?: Record<string, string>; indices?: IndexEntry[] } => {
  const labels = labelsOf(l)
  const indices = indicesOf(l)
  return { name: '', ...(labels === undefined ? {} : { labels }), ...(indices === undefined ? {} : { indices }) }
}

/** The reference: plain maps of plain objects (no meta), updated one transaction at a time. */
type Model = Map<ObjectKind, Map<string, Record<string, unknown>>>
class Failure extends Error {
  readonly kind: string
  constructor(kind: string) {
    super(kind)
    this.kind = kind
  }
}

function cloneModel(m: Model): Model {
  return new Map([...m].map(([k, v]) => [k, new Map([...v].map(([id, o]) => [id, structuredClone(o)]))]))
}

function strip(o: StoreObject): Record<string, unknown> {
  const { meta: _meta, ...rest } = o as StoreObject & Record<string, unknown>
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>
}

function modelApply(m: Model, op: Op): void {
  const services = m.get('service') as Map<string, Record<string, unknown>>
  const tasks = m.get('task') as Map<string, Record<string, unknown>>
  const nodes = m.get('node') as Map<string, Record<string, unknown>>
  const nameTaken = (name: string, except: string): boolean =>
    [...services.values()].some((s) => s['id'] !== except && ((s['spec'] as { annotations: { name: string } }).annotations.name.toLowerCase() === name.toLowerCase()))
  switch (op.op) {
    case 'createService': {
      const id = tid('s', op.i)
      if (services.has(id) || nameTaken(op.name, id)) throw new Failure('AlreadyExistsError')
      const l = labelsOf(op.label)
      services.set(id, strip(service(id, op.name, l === undefined ? {} : { labels: l }) as unknown as StoreObject))
      return
    }
    case 'renameService': {
      const s = services.get(tid('s', op.i))
      if (s === undefined) throw new Failure('NotFoundError')
      if (nameTaken(op.name, tid('s', op.i))) throw new Failure('AlreadyExistsError')
      ;(s['spec'] as { annotations: { name: string } }).annotations.name = op.name
      return
    }
    case 'deleteService':
      if (!services.delete(tid('s', op.i))) throw new Failure('NotFoundError')
      return
    case 'createTask': {
      const id = tid('t', op.i)
      if (tasks.has(id)) throw new Failure('AlreadyExistsError')
      const l = labelsOf(op.label)
      tasks.set(id, strip({ ...task(id, tid('s', op.s), op.slot, { nodeId: nodeId(op.node), desired: STATES[op.desired] ?? 0, ...(l === undefined ? {} : { labels: l }) }), annotations: taskAnnotations(op.label) } as unknown as StoreObject))
      return
    }
    case 'moveTask': {
      const t = tasks.get(tid('t', op.i))
      if (t === undefined) throw new Failure('NotFoundError')
      t['serviceId'] = tid('s', op.s)
      t['slot'] = op.slot
      t['nodeId'] = nodeId(op.node)
      ;(t['status'] as { state: number }).state = STATES[op.state] ?? 0
      t['annotations'] = taskAnnotations(op.label)
      return
    }
    case 'staleTask':
      throw new Failure(tasks.has(tid('t', op.i)) ? 'SequenceConflictError' : 'NotFoundError')
    case 'deleteTask':
      if (!tasks.delete(tid('t', op.i))) throw new Failure('NotFoundError')
      return
    case 'createNode': {
      const id = tid('m', op.i)
      if (nodes.has(id)) throw new Failure('AlreadyExistsError')
      nodes.set(id, strip(node(id, `host-${op.i}`, op.role === 0 ? 'worker' : 'manager', op.membership === 0 ? 'pending' : 'accepted') as unknown as StoreObject))
      return
    }
    case 'promoteNode': {
      const n = nodes.get(tid('m', op.i))
      if (n === undefined) throw new Failure('NotFoundError')
      n['role'] = 'manager'
      return
    }
  }
}

function storeApply(tx: Tx, op: Op): void {
  switch (op.op) {
    case 'createService': {
      const l = labelsOf(op.label)
      tx.services.create(service(tid('s', op.i), op.name, l === undefined ? {} : { labels: l }))
      return
    }
    case 'renameService':
      tx.services.update(tid('s', op.i), (d) => void (d.spec.annotations.name = op.name))
      return
    case 'deleteService':
      tx.services.delete(tid('s', op.i))
      return
    case 'createTask': {
      const l = labelsOf(op.label)
      tx.tasks.create({ ...task(tid('t', op.i), tid('s', op.s), op.slot, { nodeId: nodeId(op.node), desired: STATES[op.desired] ?? 0, ...(l === undefined ? {} : { labels: l }) }), annotations: taskAnnotations(op.label) })
      return
    }
    case 'moveTask':
      tx.tasks.update(tid('t', op.i), (d) => {
        d.serviceId = tid('s', op.s)
        d.slot = op.slot
        d.nodeId = nodeId(op.node)
        d.status.state = STATES[op.state] ?? 0
        d.annotations = taskAnnotations(op.label)
      })
      return
    case 'staleTask': {
      const t = tx.tasks.get(tid('t', op.i))
      if (t === undefined) tx.tasks.delete(tid('t', op.i))
      else tx.tasks.update({ ...t, meta: { ...t.meta, version: { index: t.meta.version.index + 1n } } })
      return
    }
    case 'deleteTask':
      tx.tasks.delete(tid('t', op.i))
      return
    case 'createNode':
      tx.nodes.create(node(tid('m', op.i), `host-${op.i}`, op.role === 0 ? 'worker' : 'manager', op.membership === 0 ? 'pending' : 'accepted'))
      return
    case 'promoteNode':
      tx.nodes.update(tid('m', op.i), (d) => void (d.role = 'manager'))
      return
  }
}

const sortIds = (objs: readonly StoreObject[]): string[] => objs.map((o) => o.id).sort()

/** Every index lookup equals the matching full scan, in a view or inside a transaction. */
function checkFinds(tx: ReadTx): void {
  const tasks = tx.tasks.find()
  const services = tx.services.find()
  const nodes = tx.nodes.find()
  const eq = (got: readonly StoreObject[], want: readonly StoreObject[]): void => expect(sortIds(got)).toEqual(sortIds(want))
  // find(by) equals the scan, and count(by) its length.
  const same = <B,>(table: { find(by?: B): readonly StoreObject[]; count(by?: B): number }, by: B, want: readonly StoreObject[]): void => {
    eq(table.find(by), want)
    expect(table.count(by)).toBe(want.length)
  }
  expect([tx.tasks.count(), tx.services.count(), tx.nodes.count()]).toEqual([tasks.length, services.length, nodes.length])
  for (let s = 0; s < 4; s++) {
    const sid = tid('s', s)
    same(tx.tasks, { serviceId: sid }, tasks.filter((t) => t.serviceId === sid))
    for (let slot = 0; slot < 3; slot++) same(tx.tasks, { serviceId: sid, slot }, tasks.filter((t) => t.serviceId === sid && t.slot === slot))
  }
  for (let n = 0; n < 3; n++) same(tx.tasks, { nodeId: tid('m', n) }, tasks.filter((t) => t.nodeId === tid('m', n)))
  for (const st of STATES) {
    same(tx.tasks, { desiredState: st }, tasks.filter((t) => t.desiredState === st))
    same(tx.tasks, { state: st }, tasks.filter((t) => t.status.state === st))
  }
  for (const [key, value] of [['tier', undefined], ['tier', 'a'], ['x', ''], ['nope', undefined]] as const) {
    const has = (l: Readonly<Record<string, string>> | undefined): boolean => l !== undefined && Object.hasOwn(l, key) && (value === undefined || l[key] === value)
    const by = value === undefined ? { label: key } : { label: key, value }
    same(tx.tasks, by, tasks.filter((t) => has(t.annotations.labels)))
    same(tx.services, by, services.filter((s) => has(s.spec.annotations.labels)))
  }
  for (const name of [...NAMES, 'W', '']) {
    same(tx.services, { name }, services.filter((s) => name !== '' && s.spec.annotations.name.toLowerCase() === name.toLowerCase()))
    same(tx.services, { namePrefix: name }, services.filter((s) => s.spec.annotations.name.toLowerCase().startsWith(name.toLowerCase())))
  }
  same(tx.tasks, { idPrefix: tid('t', 1).slice(0, 24) }, tasks.filter((t) => t.id.startsWith(tid('t', 1).slice(0, 24))))
  same(tx.tasks, { idPrefix: tid('t', 2) }, tasks.filter((t) => t.id === tid('t', 2)))
  const entries = (t: (typeof tasks)[number]): readonly IndexEntry[] => t.annotations.indices ?? []
  for (const [key, val] of [['team', 'pay'], ['team', 'payroll'], ['env', 'prod'], ['env', 'pay'], ['team', 'prod']] as const) {
    same(tx.tasks, { custom: { key, val } }, tasks.filter((t) => entries(t).some((e) => e.key === key && e.val === val)))
  }
  for (const [key, prefix] of [['team', 'pay'], ['team', 'payr'], ['env', ''], ['en', ''], ['team', 'x']] as const) {
    same(tx.tasks, { customPrefix: { key, prefix } }, tasks.filter((t) => entries(t).some((e) => e.key === key && e.val.startsWith(prefix))))
  }
  same(tx.nodes, { role: 'manager' }, nodes.filter((n) => n.role === 'manager'))
  same(tx.nodes, { membership: 'pending' }, nodes.filter((n) => n.spec.membership === 'pending'))
}

function dumpStore(store: MemoryStore): Record<string, Record<string, unknown>> {
  return store.view((tx) => ({
    service: Object.fromEntries(tx.services.find().map((o) => [o.id, strip(o)])),
    task: Object.fromEntries(tx.tasks.find().map((o) => [o.id, strip(o)])),
    node: Object.fromEntries(tx.nodes.find().map((o) => [o.id, strip(o)])),
  }))
}

function dumpModel(m: Model): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {}
  for (const kind of ['service', 'task', 'node'] as const) out[kind] = Object.fromEntries(m.get(kind) ?? [])
  return out
}

describe('store properties', () => {
  it('random concurrent transactions match a sequential reference model; indexes equal scans; watchers see every change once in order; snapshots restore equal', async () => {
    await fc.assert(
      fc.asyncProperty(arbRounds, async (rounds) => {
        const store = new MemoryStore({ watchQueueLimit: 1_000_000 })
        const watcher = store.watch()
        let model: Model = new Map<ObjectKind, Map<string, Record<string, unknown>>>([
          ['service', new Map<string, Record<string, unknown>>()],
          ['task', new Map<string, Record<string, unknown>>()],
          ['node', new Map<string, Record<string, unknown>>()],
        ])
        let committed = 0
        for (const round of rounds) {
          // The model applies the round's transactions in order; the store gets them all at once.
          const expected: string[] = []
          for (const ops of round) {
            const next = cloneModel(model)
            try {
              for (const op of ops) modelApply(next, op)
              model = next
              expected.push('ok')
              committed++
            } catch (err) {
              if (!(err instanceof Failure)) throw err
              expected.push(err.kind)
            }
          }
          const results = await Promise.all(
            round.map((ops) =>
              outcome(
                store.update((tx) => {
                  for (const op of ops) storeApply(tx, op)
                  checkFinds(tx)
                }),
              ),
            ),
          )
          expect(results.map((r) => (r.ok ? 'ok' : r.error.name))).toEqual(expected)
          expect(dumpStore(store)).toEqual(dumpModel(model))
          expect(store.checkIndexes()).toEqual([])
          store.view(checkFinds)
        }
        // The watcher's events, replayed on an empty map, rebuild the store exactly.
        const replay = new Map<string, StoreObject>()
        let commits = 0
        let lastVersion = 0n
        while (commits < committed) {
          const r = await watcher.next()
          if (r.done === true) throw new Error('watch ended early')
          const ev: StoreEvent = r.value
          if (ev.action === 'commit') {
            expect(ev.version.index >= lastVersion).toBe(true)
            lastVersion = ev.version.index
            commits++
            continue
          }
          const key = `${ev.kind}/${ev.object.id}`
          if (ev.action === 'create') {
            expect(replay.has(key)).toBe(false)
            replay.set(key, ev.object)
          } else if (ev.action === 'update') {
            expect(replay.get(key)).toBe(ev.oldObject)
            replay.set(key, ev.object)
          } else {
            expect(replay.get(key)).toBe(ev.object)
            replay.delete(key)
          }
        }
        expect(lastVersion).toBe(committed === 0 ? 0n : store.version)
        const live = store.view((tx) => [...tx.services.find().map((o) => `service/${o.id}`), ...tx.tasks.find().map((o) => `task/${o.id}`), ...tx.nodes.find().map((o) => `node/${o.id}`)])
        expect([...replay.keys()].sort()).toEqual(live.sort())
        for (const key of live) {
          const [kind, id] = key.split('/') as [string, string]
          const obj = store.view((tx) => (kind === 'service' ? tx.services.get(id) : kind === 'task' ? tx.tasks.get(id) : tx.nodes.get(id)))
          expect(replay.get(key)).toBe(obj)
        }
        watcher.close()
        // Snapshot → restore is equal, indexes included.
        const copy = new MemoryStore()
        copy.restore(store.snapshot())
        expect(copy.version).toBe(store.version)
        expect(dumpStore(copy)).toEqual(dumpStore(store))
        expect(copy.snapshot()).toEqual(store.snapshot())
        expect(copy.checkIndexes()).toEqual([])
        copy.view(checkFinds)
      }),
      { numRuns: 60 },
    )
  }, 120_000)
})
