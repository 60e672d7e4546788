import fc from 'fast-check'
import { Immer } from 'immer'
import { describe, expect, it, vi } from 'vitest'
import { produce } from '../src/objects/draft.ts'

// Property runs of thousands of cases: a failure guard for CI's loaded 2 cores (a run took 3–5 s there), not a timing assertion.
vi.setConfig({ testTimeout: 60_000 })

// immer is the reference: the store's drafts must give the same results for the data the store
// holds (plain objects, arrays, strings, numbers, bigints, booleans, null, byte arrays).
const immer = new Immer({ autoFreeze: true })

type Tree = unknown
type Rec = Record<string, unknown>

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) {
    for (const k of Object.keys(v)) deepFreeze((v as Rec)[k])
    Object.freeze(v)
  }
  return v
}

/** Every object and array in `v` is frozen (byte arrays aside). */
function allFrozen(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return true
  if (!Object.isFrozen(v)) return false
  return Object.keys(v).every((k) => allFrozen((v as Rec)[k]))
}

const KEYS = ['a', 'b', 'c', 'status', 'spec', 'labels', '0', 'x-y']
const leaf = fc.oneof(fc.string({ maxLength: 4 }), fc.integer({ min: -5, max: 5 }), fc.bigInt({ min: -3n, max: 3n }), fc.boolean(), fc.constant(null))
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.uint8Array({ maxLength: 3 }),
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('tree'), { maxKeys: 5 }),
  ),
}))
const objectTree = fc.dictionary(fc.constantFrom(...KEYS), tree, { minKeys: 1, maxKeys: 6 })

/** One step of a recipe. Paths pick among the keys present when the step runs (modulo). */
type Op =
  | { readonly op: 'set'; readonly path: number[]; readonly key: number; readonly value: Tree }
  | { readonly op: 'setNew'; readonly path: number[]; readonly key: string; readonly value: Tree }
  | { readonly op: 'delete'; readonly path: number[]; readonly key: number }
  | { readonly op: 'move'; readonly from: number[]; readonly to: number[]; readonly key: number }
  | { readonly op: 'spread'; readonly path: number[]; readonly key: number; readonly extra: string; readonly value: Tree }
  | { readonly op: 'push'; readonly path: number[]; readonly value: Tree }
  | { readonly op: 'splice'; readonly path: number[]; readonly start: number; readonly count: number }
  | { readonly op: 'reverse'; readonly path: number[] }
  | { readonly op: 'truncate'; readonly path: number[]; readonly length: number }
  | { readonly op: 'filter'; readonly path: number[] }
  | { readonly op: 'keepThenReplace'; readonly path: number[]; readonly key: number; readonly value: Tree }
  | { readonly op: 'read'; readonly path: number[] }

const path = fc.array(fc.nat(7), { maxLength: 3 })
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), path, key: fc.nat(7), value: tree }),
  fc.record({ op: fc.constant('setNew' as const), path, key: fc.constantFrom(...KEYS), value: tree }),
  fc.record({ op: fc.constant('delete' as const), path, key: fc.nat(7) }),
  fc.record({ op: fc.constant('move' as const), from: path, to: path, key: fc.nat(7) }),
  fc.record({ op: fc.constant('spread' as const), path, key: fc.nat(7), extra: fc.constantFrom(...KEYS), value: leaf }),
  fc.record({ op: fc.constant('push' as const), path, value: tree }),
  fc.record({ op: fc.constant('splice' as const), path, start: fc.nat(4), count: fc.nat(2) }),
  fc.record({ op: fc.constant('reverse' as const), path }),
  fc.record({ op: fc.constant('truncate' as const), path, length: fc.nat(3) }),
  fc.record({ op: fc.constant('filter' as const), path }),
  fc.record({ op: fc.constant('keepThenReplace' as const), path, key: fc.nat(7), value: leaf }),
  fc.record({ op: fc.constant('read' as const), path }),
)

function isObj(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)
}

/** Follows `p` from `d` through objects and arrays (modulo their keys); stops at a leaf. */
function walk(d: unknown, p: readonly number[]): Rec | undefined {
  let cur = d
  for (const i of p) {
    if (!isObj(cur)) break
    const keys = Object.keys(cur)
    if (keys.length === 0) break
    const next = cur[keys[i % keys.length] as string]
    if (!isObj(next)) break
    cur = next
  }
  return isObj(cur) ? cur : undefined
}

function pick(o: Rec, i: number): string | undefined {
  const keys = Object.keys(o)
  return keys.length === 0 ? undefined : keys[i % keys.length]
}

/** Plain copy of a generated value (each run gets its own, so a recipe never shares one between the two implementations). */
function clone(v: Tree): Tree {
  if (v instanceof Uint8Array) return v.slice()
  if (Array.isArray(v)) return v.map(clone)
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)]))
  return v
}

function run(d: unknown, ops: readonly Op[]): void {
  for (const o of ops) {
    switch (o.op) {
      case 'set': {
        const t = walk(d, o.path)
        const k = t === undefined ? undefined : pick(t, o.key)
        if (t !== undefined && k !== undefined && !(Array.isArray(t) && k === 'length')) t[k] = clone(o.value)
        break
      }
      case 'setNew': {
        const t = walk(d, o.path)
        if (t !== undefined && !Array.isArray(t)) t[o.key] = clone(o.value)
        break
      }
      case 'delete': {
        const t = walk(d, o.path)
        const k = t === undefined ? undefined : pick(t, o.key)
        if (t !== undefined && k !== undefined && !Array.isArray(t)) delete t[k]
        break
      }
      case 'move': {
        // A draft (or a part of one) assigned somewhere else in the same tree.
        const from = walk(d, o.from)
        const to = walk(d, o.to)
        const k = to === undefined ? undefined : pick(to, o.key)
        if (from !== undefined && to !== undefined && k !== undefined && from !== to && !Array.isArray(to) && !contains(from, to)) to[k] = from
        break
      }
      case 'spread': {
        const t = walk(d, o.path)
        const k = t === undefined ? undefined : pick(t, o.key)
        const v = t === undefined || k === undefined ? undefined : t[k]
        if (t !== undefined && k !== undefined && isObj(v) && !Array.isArray(v) && !Array.isArray(t)) t[k] = { ...v, [o.extra]: clone(o.value) }
        break
      }
      case 'push': {
        const t = walk(d, o.path)
        if (Array.isArray(t)) t.push(clone(o.value))
        break
      }
      case 'splice': {
        const t = walk(d, o.path)
        if (Array.isArray(t)) t.splice(o.start, o.count)
        break
      }
      case 'reverse': {
        const t = walk(d, o.path)
        if (Array.isArray(t)) t.reverse()
        break
      }
      case 'truncate': {
        const t = walk(d, o.path)
        if (Array.isArray(t) && o.length < t.length) t.length = o.length
        break
      }
      case 'filter': {
        // A new array holding drafts of the old one's elements.
        const t = walk(d, o.path)
        const parent = walk(d, o.path.slice(0, -1))
        if (Array.isArray(t) && parent !== undefined && parent !== t && !Array.isArray(parent)) {
          for (const k of Object.keys(parent)) if (parent[k] === t) parent[k] = t.filter((_, i) => i % 2 === 0)
        }
        break
      }
      case 'keepThenReplace': {
        // A child kept in a variable, replaced in its parent, then written: the write is lost.
        const t = walk(d, o.path)
        const k = t === undefined ? undefined : pick(t, o.key)
        const child = t === undefined || k === undefined ? undefined : t[k]
        if (t !== undefined && k !== undefined && isObj(child) && !Array.isArray(child) && !Array.isArray(t)) {
          t[k] = clone(o.value)
          child['kept'] = 1
        }
        break
      }
      case 'read': {
        const t = walk(d, o.path)
        if (t !== undefined) JSON.stringify(t, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? [...v] : v))
        break
      }
    }
  }
}

/** Whether `inner` is `outer` or inside it (moving a tree into itself would make a cycle). */
function contains(outer: unknown, inner: unknown): boolean {
  if (outer === inner) return true
  if (!isObj(outer)) return false
  return Object.keys(outer).some((k) => contains(outer[k], inner))
}

/** The paths (as strings) where `a` and `b` are the very same object. */
function sharedPaths(a: unknown, b: unknown, at = ''): string[] {
  if (!isObj(a) || !isObj(b)) return []
  if (a === b) return [at]
  return Object.keys(a).flatMap((k) => sharedPaths(a[k], b[k], `${at}/${k}`))
}

describe('drafts (against immer)', () => {
  it('give the same result as immer for random recipes, share the same untouched parts, freeze every new part but the top level', () => {
    fc.assert(
      fc.property(objectTree, fc.array(op, { maxLength: 8 }), (raw, ops) => {
        const base = deepFreeze(clone(raw)) as Rec
        const { result: ours, changed } = produce(base, (d) => run(d, ops))
        const theirs = immer.produce<Rec>(base, (d) => run(d, ops))
        expect(ours).toStrictEqual(theirs)
        expect(Object.keys(ours)).toEqual(Object.keys(theirs))
        if (theirs === base) expect(ours).toBe(base)
        expect(sharedPaths(ours, base)).toEqual(sharedPaths(theirs, base))
        // Keys not reported as changed hold the base's own values.
        for (const k of new Set([...Object.keys(ours), ...Object.keys(base)])) {
          if (changed.includes(k)) continue
          expect(Object.hasOwn(ours, k)).toBe(Object.hasOwn(base, k))
          expect(ours[k]).toBe(base[k])
        }
        // The top level is left for the caller to complete; everything below is frozen.
        for (const k of Object.keys(ours)) expect(allFrozen(ours[k])).toBe(true)
      }),
      { numRuns: 3000 },
    )
  })

  it('a task status update copies the top level and the status and shares the rest', () => {
    const base = deepFreeze({ id: 't1', spec: { image: 'x', env: ['A=1'] }, status: { state: 1, message: 'new' }, labels: { a: '1' } })
    const { result, returned } = produce(base, (d) => {
      d.status.state = 2
    })
    expect(returned).toBeUndefined()
    expect(result).toEqual({ ...base, status: { state: 2, message: 'new' } })
    expect(result.spec).toBe(base.spec)
    expect(result.labels).toBe(base.labels)
    expect(Object.isFrozen(result.status)).toBe(true)
    expect(Object.isFrozen(result)).toBe(false)
  })

  it('returns the base when the recipe changes nothing (reads, same values)', () => {
    const base = deepFreeze({ a: { b: 1 }, c: [1, 2], d: 'x' })
    expect(
      produce(base, (d) => {
        void d.a.b
        d.d = 'x'
        d.a.b = 1
        void d.c.map((x) => x)
      }).result,
    ).toBe(base)
    // Found by the property above (seed -782431099): a child's draft put back where it was read.
    const withList = deepFreeze({ a: [] as number[] })
    expect(
      produce(withList, (d) => {
        const same = d.a
        d.a = same
      }).result,
    ).toBe(withList)
  })

  it('drafts arrays (Array.isArray, methods, iteration) and leaves byte arrays as they are', () => {
    const bytes = new Uint8Array([1, 2])
    const base = deepFreeze({ list: [{ n: 1 }, { n: 2 }], bytes })
    const { result } = produce(base, (d) => {
      expect(Array.isArray(d.list)).toBe(true)
      expect(d.bytes).toBe(bytes)
      for (const x of d.list) x.n *= 10
      d.list.push({ n: 3 })
      d.list.sort((x, y) => y.n - x.n)
    })
    expect(result.list).toEqual([{ n: 20 }, { n: 10 }, { n: 3 }])
    expect(result.bytes).toBe(bytes)
    expect(Object.isFrozen(result.list[2])).toBe(true)
  })

  it('supports Object.keys, in, spread and JSON on drafts; refuses defineProperty and setPrototypeOf', () => {
    const base = deepFreeze({ a: { x: 1 }, b: 2 })
    produce(base, (d) => {
      expect(Object.keys(d)).toEqual(['a', 'b'])
      expect('a' in d).toBe(true)
      expect('z' in d).toBe(false)
      expect({ ...d.a }).toEqual({ x: 1 })
      expect(JSON.stringify(d)).toBe('{"a":{"x":1},"b":2}')
      expect(Object.getPrototypeOf(d)).toBe(Object.prototype)
      expect(() => Object.defineProperty(d, 'c', { value: 1 })).toThrow(/defineProperty/)
      expect(() => void Object.setPrototypeOf(d, null)).toThrow(/setPrototypeOf/)
      expect(Object.prototype.hasOwnProperty.call(d, 'b')).toBe(true)
      expect(typeof d.propertyIsEnumerable).toBe('function')
      expect(Object.hasOwn(d, 'b')).toBe(true)
    })
  })

  it('a draft kept after its recipe returned (or threw) cannot be used', () => {
    const base = deepFreeze({ a: { x: 1 } })
    let kept: { a: { x: number } } | undefined
    produce(base, (d) => {
      kept = d
    })
    expect(() => kept?.a).toThrow(/after its recipe returned/)
    expect(() => {
      if (kept !== undefined) kept.a = { x: 2 }
    }).toThrow(/after its recipe returned/)
    let inner: { x: number } | undefined
    expect(() =>
      produce(base, (d) => {
        inner = d.a
        throw new Error('boom')
      }),
    ).toThrow('boom')
    expect(() => {
      if (inner !== undefined) inner.x = 5
    }).toThrow(/after its recipe returned/)
    expect(base).toEqual({ a: { x: 1 } })
  })

  it('does not draft what sits on the prototype (__proto__, methods)', () => {
    const base = deepFreeze({ a: 1 })
    produce(base, (d) => {
      expect(Object.getPrototypeOf(d)).toBe(Object.prototype)
      expect((d as unknown as { __proto__: unknown }).__proto__).toBe(Object.prototype)
      expect(typeof d.toString).toBe('function')
    })
  })
})
