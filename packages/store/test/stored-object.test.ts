import { UpdateState } from '@swarmkit-ts/api'
import type { Service, ServiceSpec } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryStore, encodeChangeSet } from '../src/index.ts'
import { deepEqual, sameTree } from '../src/objects/equality.ts'
import { adoptDecoded } from '../src/objects/stored-object.ts'
import { tid } from './fixtures.ts'

type Tree = null | boolean | number | bigint | string | Uint8Array | readonly Tree[] | { readonly [k: string]: Tree }

/** Plain trees as the codec decodes them: no `undefined`, no NaN, no -0; few distinct leaves so that equal parts are common. */
const arbTree: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Tree>(null, true, 1, 2, 'a', 'b'),
    fc.constantFrom(0, 1).map((n) => Uint8Array.of(n)),
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), tie('tree'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).tree

/** A deep copy (fresh objects, arrays and byte arrays; nothing frozen). */
function copy<T>(t: T): T {
  if (t instanceof Uint8Array) return t.slice() as T
  if (Array.isArray(t)) return t.map(copy) as T
  if (t !== null && typeof t === 'object') return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, copy(v)])) as T
  return t
}

function deepFreeze<T>(t: T): T {
  if (t === null || typeof t !== 'object' || t instanceof Uint8Array) return t
  for (const v of Object.values(t)) deepFreeze(v)
  return Object.freeze(t)
}

function at(t: unknown, path: readonly string[]): unknown {
  let x = t
  for (const k of path) x = x !== null && typeof x === 'object' && Object.hasOwn(x, k) ? (x as Record<string, unknown>)[k] : undefined
  return x
}

/** Every path to an object, array or byte array in `t` (the root included). */
function objectPaths(t: unknown, path: string[] = []): string[][] {
  if (t === null || typeof t !== 'object') return []
  const out = [path]
  if (!(t instanceof Uint8Array)) for (const k of Object.keys(t)) out.push(...objectPaths((t as Record<string, unknown>)[k], [...path, k]))
  return out
}

const meta = { version: { index: 1n }, createdAt: 0, updatedAt: 0 }

describe('sameTree', () => {
  it('is structural equality of trees without undefined members (as deepEqual), and tells absent from undefined', () => {
    fc.assert(
      fc.property(arbTree, arbTree, (a, b) => {
        expect(sameTree(a, b)).toBe(deepEqual(a, b))
        expect(sameTree(a, copy(a))).toBe(true)
      }),
    )
    expect(sameTree({ a: undefined }, { a: undefined })).toBe(true)
    expect(sameTree({ a: undefined }, { b: undefined })).toBe(false)
    expect(sameTree({ a: undefined }, {})).toBe(false)
    expect(sameTree([Uint8Array.of(1, 2)], [Uint8Array.of(1, 2)])).toBe(true)
    expect(sameTree(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false)
    expect(sameTree(Uint8Array.of(1), { 0: 1 })).toBe(false)
    expect(sameTree({ 0: 1 }, Uint8Array.of(1))).toBe(false)
    expect(sameTree([1], { 0: 1 })).toBe(false)
    expect(sameTree({ 0: 1 }, [1])).toBe(false)
    expect(sameTree(1n, 1n)).toBe(true)
  })
})

describe('adoptDecoded', () => {
  it('gives back an equal, deeply frozen object that takes exactly the parts equal to the stored one at the same place', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('a', 'b', 'c'), arbTree, { noNullPrototype: true }), fc.dictionary(fc.constantFrom('a', 'b', 'c'), arbTree, { noNullPrototype: true }), (curParts, newParts) => {
        const cur = deepFreeze({ ...curParts, meta })
        const decoded = copy({ ...newParts, meta })
        const expected = copy(decoded)
        const out = adoptDecoded(decoded, cur, { ...meta, version: { index: 2n } })
        expect(out).toStrictEqual({ ...expected, meta: { ...meta, version: { index: 2n } } })
        for (const path of objectPaths(out)) {
          const part = at(out, path)
          if (!(part instanceof Uint8Array)) expect(Object.isFrozen(part)).toBe(true)
          if (path.length === 0 || path[0] === 'meta') continue
          // Shared exactly when equal: the stored part itself, else a part of the decoded object.
          const old = at(cur, path)
          expect(part === old).toBe(old !== undefined && deepEqual(at(expected, path), old))
        }
      }),
    )
  })

  it('shares equal members of a changed node, but not a node with an extra key or an array of another length', () => {
    const cur = deepFreeze({ meta, x: { same: { k: [1, 2] }, changed: 'old' }, y: { a: { k: 1 } }, z: [{ k: 1 }, { k: 2 }], b: Uint8Array.of(7) })
    const decoded = { meta, x: { same: { k: [1, 2] }, changed: 'new' }, y: { a: { k: 1 }, extra: 1 }, z: [{ k: 1 }], b: Uint8Array.of(7) }
    const out = adoptDecoded(decoded, cur as typeof decoded, meta)
    expect(out.x).not.toBe(cur.x)
    expect(at(out, ['x', 'same'])).toBe(at(cur, ['x', 'same']))
    expect(out.y).not.toBe(cur.y)
    expect(at(out, ['y', 'a'])).toBe(at(cur, ['y', 'a']))
    expect(out.z).not.toBe(cur.z)
    expect(at(out, ['z', '0'])).toBe(at(cur, ['z', '0']))
    expect(out.b).toBe(cur.b)
  })
})

describe('a decoded service update', () => {
  const spec = (gen: number): ServiceSpec => ({
    annotations: { name: 'web', labels: { gen: String(gen) } },
    task: { container: { image: 'busybox', command: ['sh', '-c', 'sleep 1'] } },
    mode: { replicated: { replicas: 1 } },
  })
  const ID = tid('s', 1)
  const created: Service = { id: ID, meta: { version: { index: 0n }, createdAt: 1, updatedAt: 1 }, spec: spec(0), specVersion: { index: 0n } }

  function applied(...updates: Service[]): { store: MemoryStore; states: Service[] } {
    const store = new MemoryStore()
    store.applyEncodedChangeSet(encodeChangeSet({ transactions: [[{ action: 'create', kind: 'service', object: created }]] }), 1n)
    const states = [store.view((tx) => tx.services.get(ID)) as Service]
    updates.forEach((object, i) => {
      const r = store.applyEncodedChangeSet(encodeChangeSet({ transactions: [[{ action: 'update', kind: 'service', object, expectedVersion: BigInt(i + 1) }]] }), BigInt(i + 2))
      expect(r.results).toStrictEqual([{ ok: true }])
      states.push(store.view((tx) => tx.services.get(ID)) as Service)
    })
    return { store, states }
  }

  it("takes the stored spec as the new previousSpec (and specVersion as previousSpecVersion), as the leader's update does", () => {
    const update: Service = { ...created, spec: spec(1), specVersion: { index: 1n }, previousSpec: spec(0), previousSpecVersion: { index: 0n } }
    const { store, states } = applied(update)
    const [before, after] = states as [Service, Service]
    expect(after).toStrictEqual({ ...update, meta: { version: { index: 2n }, createdAt: 1, updatedAt: 1 } })
    expect(after.previousSpec).toBe(before.spec)
    expect(after.previousSpecVersion).toBe(before.specVersion)
    expect(after.spec.task).toBe(before.spec.task) // unchanged parts of the new spec: the stored spec's
    expect(after.spec.annotations).not.toBe(before.spec.annotations)
    expect(store.checkIndexes()).toStrictEqual([])
  })

  it('keeps the stored previousSpec when it did not change, and a previousSpec equal to neither as an equal copy', () => {
    const first: Service = { ...created, spec: spec(1), specVersion: { index: 1n }, previousSpec: spec(0), previousSpecVersion: { index: 0n } }
    // A status write: previousSpec unchanged. Then an update whose previousSpec is neither stored spec.
    const status: Service = { ...first, updateStatus: { state: UpdateState.UPDATING, message: 'updating' } }
    const other: Service = { ...first, spec: spec(2), previousSpec: spec(7) }
    const { states } = applied(first, status, other)
    const [, one, two, three] = states as [Service, Service, Service, Service]
    expect(two.previousSpec).toBe(one.previousSpec)
    expect(two.spec).toBe(one.spec)
    expect(three.previousSpec).toStrictEqual(spec(7))
    expect(three.previousSpec).not.toBe(two.spec)
    expect(three.previousSpec?.task).toBe(two.previousSpec?.task) // shared with its own stored part
  })
})
