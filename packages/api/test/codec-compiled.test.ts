/**
 * The compiled codec (codec-compile.ts) against the interpreting one: on any input, either the
 * compiled path hands over (undefined) or it gives exactly what the interpreter gives — the same
 * bytes on encode, an equal object on decode — and whenever the interpreter throws, the compiled
 * path hands over. Random values are generated from the schema itself, valid and broken.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fastCodec } from '../src/codec-compile.ts'
import { decodeMessageInterpreted } from '../src/codec-decode.ts'
import { encodeMessageInterpreted } from '../src/codec-encode.ts'
import { codecSchema, type FieldPlan, type MessagePlan, type ValuePlan } from '../src/codec-schema.ts'
import { FULL, MINIMAL, SPECS } from './codec-fixtures.ts'

const plan = (name: string): MessagePlan => codecSchema().message(`swarmkit.v1.${name}`)
const ROOTS = ['Node', 'Service', 'Task', 'Network', 'Cluster', 'Secret', 'Config', 'Extension', 'Resource', 'StoreEvent', 'ServiceSpec', 'TaskSpec']

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }
const attempt = (f: () => unknown): Outcome => {
  try {
    return { ok: true, value: f() }
  } catch (error) {
    return { ok: false, error }
  }
}

/**
 * Encodes with both paths and checks they agree; returns whether the compiled path handled it.
 * A value the compiled path calls canonical must decode back deep-equal.
 */
function checkEncode(p: MessagePlan, value: unknown): boolean {
  const slow = attempt(() => encodeMessageInterpreted(p, value))
  const shape = { canonical: false }
  const fast = fastCodec(p).encode(value, shape)
  if (!slow.ok) {
    expect((slow.error as Error).name).toBe('InvalidArgumentError')
    expect(fast).toBeUndefined()
    return false
  }
  if (fast === undefined) return false
  expect(Buffer.from(fast).toString('hex')).toBe(Buffer.from(slow.value as Uint8Array).toString('hex'))
  const back = decodeMessageInterpreted(p, fast)
  if (shape.canonical) expect(back).toStrictEqual(value)
  else expect(sameValue(back, value)).toBe(false)
  return true
}

/** Deep equality that tells -0 from 0 and a Buffer from a Uint8Array (toStrictEqual does neither). */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b)
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  if (a instanceof Uint8Array) return Buffer.from(a).equals(b as Uint8Array)
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  return ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

/** Decodes with both paths and checks they agree; returns whether the compiled path handled it. */
function checkDecode(p: MessagePlan, bytes: Uint8Array): boolean {
  const slow = attempt(() => decodeMessageInterpreted(p, bytes))
  const fast = fastCodec(p).decode(bytes)
  if (!slow.ok) {
    expect((slow.error as Error).name).toBe('InvalidArgumentError')
    expect(fast).toBeUndefined()
    return false
  }
  if (fast === undefined) return false
  expect(fast).toStrictEqual(slow.value)
  expect(Object.keys(fast)).toStrictEqual(Object.keys(slow.value as object))
  return true
}

// ------------------------------------------------------------------ schema-driven generator

/** A small deterministic PRNG (mulberry32) so one fast-check integer drives a whole value. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Gen {
  rnd: () => number
  /** Probability of breaking a value at each opportunity (wrong type, out of range, extra key…). */
  broken: number
  /** How many defects may still be put in (one at a time shows each check on its own). */
  budget: number
}
/** Whether to put a defect here (p × g.broken), within the budget. */
const defect = (g: Gen, p = 1): boolean => {
  if (g.budget <= 0 || g.rnd() >= g.broken * p) return false
  g.budget--
  return true
}
const gen = (seed: number, broken = 0, budget = 0): Gen => ({ rnd: prng(seed), broken, budget })
const pick = <T,>(g: Gen, xs: readonly T[]): T => xs[Math.floor(g.rnd() * xs.length)] as T
const chance = (g: Gen, p: number): boolean => g.rnd() < p

const STRINGS = ['', 'a', 'web', 'é', '日本', 'x'.repeat(70), 'y'.repeat(200), '\ud800', 'a\u0000b', '🙂', 'z'.repeat(20_000)]
const BROKEN = [undefined, null, 'str', 1.5, -1, 2 ** 53, 2 ** 32, -(2 ** 31) - 1, 1n, -1n, 2n ** 64n, true, [], {}, new Uint8Array(1), NaN, -0]

function scalar(g: Gen, kind: Extract<ValuePlan, { kind: 'scalar' }>['scalar']): unknown {
  if (defect(g)) return pick(g, BROKEN)
  switch (kind) {
    case 'string':
      return pick(g, STRINGS.slice(0, chance(g, 0.02) ? STRINGS.length : STRINGS.length - 1))
    case 'bytes':
      return chance(g, 0.3) ? new Uint8Array(0) : new Uint8Array(Array.from({ length: Math.floor(g.rnd() * 300) }, (_, i) => (i * 7) & 255))
    case 'bool':
      return chance(g, 0.5)
    case 'double':
      return pick(g, [0, -0, 1.5, -2.25, 1e300, Number.MIN_VALUE, Infinity, NaN])
    case 'int32':
      return pick(g, [0, 1, -1, 127, 128, 2 ** 31 - 1, -(2 ** 31), 300])
    case 'uint32':
      return pick(g, [0, 1, 127, 128, 2 ** 32 - 1, 2 ** 31, 16384])
    case 'int64':
      return pick(g, [0, 1, -1, 2 ** 32, -(2 ** 32), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1_700_000_000_000, -123456789012])
    case 'sint64':
      return pick(g, [0, 1, -1, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER])
    case 'uint64':
      return pick(g, [0n, 1n, 127n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n])
  }
}

function value(g: Gen, vp: ValuePlan, depth: number): unknown {
  switch (vp.kind) {
    case 'scalar':
      return scalar(g, vp.scalar)
    case 'enum':
      return defect(g) ? pick(g, ['nope', 99, undefined]) : pick(g, [...vp.codec.toWire.keys()])
    case 'message':
      return message(g, vp.plan, depth + 1)
  }
}

function message(g: Gen, p: MessagePlan, depth: number): unknown {
  if (defect(g, 1 / 4)) return pick(g, BROKEN)
  const out: Record<string, unknown> = {}
  const chosen = new Map<string, string>()
  for (const o of p.oneofs) {
    const set = defect(g) ? [...o.members] : [pick(g, o.members)]
    for (const m of o.members) chosen.set(m, set.includes(m) ? 'set' : 'unset')
  }
  for (const f of p.fields) {
    const c = chosen.get(f.name)
    if (c === 'unset') continue
    const mustHave = f.presence !== 'explicit' || f.requiredCollection || c === 'set'
    if (!mustHave && (depth > 4 || chance(g, 0.5))) continue
    if (f.presence !== 'explicit' && defect(g, 1 / 4)) continue
    if (f.label === 'single') out[f.name] = depth > 6 && f.value.kind === 'message' ? undefined : value(g, f.value, depth)
    else if (f.label === 'repeated') {
      if (defect(g, 1 / 2)) out[f.name] = pick(g, BROKEN)
      else {
        const n = depth > 4 ? 0 : Math.floor(g.rnd() * 3)
        const arr = Array.from({ length: n }, () => value(g, f.value, depth))
        if (defect(g, 1 / 2)) arr.length += 1 // a hole
        out[f.name] = arr
      }
    } else {
      const rec: Record<string, unknown> = {}
      const n = depth > 4 ? 0 : Math.floor(g.rnd() * 3)
      for (let i = 0; i < n; i++) {
        const key = defect(g, 1 / 2) ? pick(g, ['__proto__', '\udc00', '']) : pick(g, ['k', 'tier', 'é', 'long'.repeat(10)])
        Object.defineProperty(rec, key, { value: value(g, f.value, depth), enumerable: true, writable: true, configurable: true })
      }
      out[f.name] = rec
    }
  }
  if (defect(g, 1 / 2)) out[pick(g, ['extra', 'constructor', 'toString'])] = pick(g, [1, undefined])
  if (defect(g, 1 / 2) && p.fields.length > 0) out[pick(g, p.fields).name] = undefined
  return out
}

/** A hand-built plan with every field shape the codec supports, including ones swarmkit.v1 does not use. */
function syntheticPlan(): MessagePlan {
  const wireOf = (v: ValuePlan): number => (v.kind === 'message' ? 2 : v.kind === 'enum' ? 0 : ({ string: 2, bytes: 2, double: 1 } as Record<string, number>)[v.scalar] ?? 0)
  const color = { name: 'test.Color', toWire: new Map<string | number, number>([['red', 0], ['green', 1], ['blue', -3]]), fromWire: new Map<number, string | number>([[0, 'red'], [1, 'green'], [-3, 'blue']]) }
  const noZero = { name: 'test.NoZero', toWire: new Map<string | number, number>([[7, 7]]), fromWire: new Map<number, string | number>([[7, 7]]) }
  const fields: FieldPlan[] = []
  const oneof = { name: 'choice', members: ['pickA', 'pickB'], required: false }
  const self: MessagePlan = { name: 'test.Synthetic', fields, byId: new Map(), byName: new Map(), oneofs: [oneof] }
  const sub: MessagePlan = { name: 'test.Sub', fields: [], byId: new Map(), byName: new Map(), oneofs: [] }
  const add = (list: FieldPlan[], name: string, id: number, label: FieldPlan['label'], presence: FieldPlan['presence'], value: ValuePlan, extra: Partial<FieldPlan> = {}): void => {
    const wireType = wireOf(value)
    const packed = label === 'repeated' && wireType !== 2
    list.push({ name, id, label, presence, requiredCollection: false, value, wireType, tag: ((id << 3) | (label === 'map' || packed ? 2 : wireType)) >>> 0, packed, oneof: undefined, seg: `.${name}`, ...extra })
  }
  add(sub.fields as FieldPlan[], 'need', 1, 'single', 'implicit', { kind: 'scalar', scalar: 'int32' })
  add(sub.fields as FieldPlan[], 'tag', 2, 'single', 'required', { kind: 'message', plan: sub === undefined ? self : self })
  ;(sub.fields as FieldPlan[]).pop() // keep Sub finite: one implicit int32 only
  add(fields, 'i32', 1, 'single', 'implicit', { kind: 'scalar', scalar: 'int32' })
  add(fields, 'u32', 2, 'single', 'implicit', { kind: 'scalar', scalar: 'uint32' })
  add(fields, 's64', 3, 'single', 'implicit', { kind: 'scalar', scalar: 'sint64' })
  add(fields, 'dbl', 4, 'single', 'implicit', { kind: 'scalar', scalar: 'double' })
  add(fields, 'flag', 5, 'single', 'implicit', { kind: 'scalar', scalar: 'bool' })
  add(fields, 'ri32', 6, 'repeated', 'explicit', { kind: 'scalar', scalar: 'int32' })
  add(fields, 'ru64', 7, 'repeated', 'explicit', { kind: 'scalar', scalar: 'uint64' })
  add(fields, 'rs64', 8, 'repeated', 'explicit', { kind: 'scalar', scalar: 'sint64' })
  add(fields, 'rcolor', 9, 'repeated', 'explicit', { kind: 'enum', codec: color })
  add(fields, 'rdbl', 10, 'repeated', 'explicit', { kind: 'scalar', scalar: 'double' }, { requiredCollection: true })
  add(fields, 'color', 11, 'single', 'implicit', { kind: 'enum', codec: color })
  add(fields, 'odd', 12, 'single', 'explicit', { kind: 'enum', codec: noZero })
  add(fields, 'byColor', 13, 'map', 'explicit', { kind: 'enum', codec: color })
  add(fields, 'subs', 14, 'map', 'explicit', { kind: 'message', plan: sub })
  add(fields, 'pickA', 15, 'single', 'explicit', { kind: 'scalar', scalar: 'uint32' }, { oneof })
  add(fields, 'pickB', 16, 'single', 'explicit', { kind: 'message', plan: self }, { oneof })
  add(fields, 'u64', 17, 'single', 'explicit', { kind: 'scalar', scalar: 'uint64' })
  add(fields, 'rbool', 300, 'repeated', 'explicit', { kind: 'scalar', scalar: 'bool' })
  for (const p of [self, sub]) {
    for (const f of p.fields) {
      ;(p.byId as Map<number, FieldPlan>).set(f.id, f)
      ;(p.byName as Map<string, FieldPlan>).set(f.name, f)
    }
  }
  return self
}

// ------------------------------------------------------------------ tests

describe('compiled codec', () => {
  it('handles every fixture itself, with the same bytes and objects as the interpreter', () => {
    const cases: [string, unknown][] = [
      ...Object.entries(FULL).map(([k, v]) => [k, v] as [string, unknown]),
      ...Object.entries(MINIMAL).map(([k, v]) => [k, v] as [string, unknown]),
    ]
    const names: Record<string, string> = { node: 'Node', service: 'Service', task: 'Task', network: 'Network', cluster: 'Cluster', secret: 'Secret', config: 'Config', extension: 'Extension', resource: 'Resource' }
    for (const [kind, obj] of cases) {
      const p = plan(names[kind] as string)
      expect(checkEncode(p, obj), kind).toBe(true)
      expect(checkDecode(p, encodeMessageInterpreted(p, obj)), kind).toBe(true)
    }
    const specNames: Record<string, string> = { service: 'ServiceSpec', node: 'NodeSpec', network: 'NetworkSpec', cluster: 'ClusterSpec', secret: 'SecretSpec', config: 'ConfigSpec' }
    for (const [kind, spec] of Object.entries(SPECS)) {
      const p = plan(specNames[kind] as string)
      expect(checkEncode(p, spec), kind).toBe(true)
      expect(checkDecode(p, encodeMessageInterpreted(p, spec)), kind).toBe(true)
    }
  })

  it('agrees with the interpreter on random valid values (and handles most of them itself)', () => {
    let handled = 0
    let valid = 0
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(...ROOTS), (seed, root) => {
        const p = plan(root)
        const v = message(gen(seed), p, 0)
        const bytes = attempt(() => encodeMessageInterpreted(p, v))
        if (bytes.ok) valid++
        if (checkEncode(p, v)) handled++
        if (bytes.ok) checkDecode(p, bytes.value as Uint8Array)
      }),
      { numRuns: 600 },
    )
    // Valid values bail only for lone surrogates (generated now and then): most go the fast way.
    expect(handled).toBeGreaterThan(valid * 0.6)
  })

  it('hands over every broken value to the interpreter, which reports it', () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(...ROOTS), fc.constantFrom(1, 1, 3), (seed, root, budget) => {
        const p = plan(root)
        const v = message(gen(seed, 0.05, budget), p, 0)
        checkEncode(p, v)
        const bytes = attempt(() => encodeMessageInterpreted(p, v))
        if (bytes.ok) checkDecode(p, bytes.value as Uint8Array)
      }),
      { numRuns: 1500 },
    )
  })

  it('agrees with the interpreter on field kinds the schema does not use yet (int32, uint32, sint64, packed, enum maps)', () => {
    const p = syntheticPlan()
    let handled = 0
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(0, 0.05, 0.2), fc.constantFrom(1, 2), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }), (seed, broken, budget, flips) => {
        const v = message(gen(seed, broken, broken === 0 ? 0 : budget), p, 0)
        if (checkEncode(p, v)) handled++
        const bytes = attempt(() => encodeMessageInterpreted(p, v))
        if (!bytes.ok) return
        checkDecode(p, bytes.value as Uint8Array)
        const other = attempt(() => encodeMessageInterpreted(p, message(gen(seed + 1), p, 0)))
        if (other.ok) checkDecode(p, new Uint8Array([...(bytes.value as Uint8Array), ...(other.value as Uint8Array)]))
        const mutated = new Uint8Array(bytes.value as Uint8Array)
        for (const [at, b] of flips) if (mutated.length > 0) mutated[at % mutated.length] = b
        checkDecode(p, mutated)
      }),
      { numRuns: 2000 },
    )
    expect(handled).toBeGreaterThan(500)
  })

  it('agrees with the interpreter on mutated, truncated and concatenated bytes', () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(...ROOTS), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), fc.nat(3), (seed, root, flips, how) => {
        const p = plan(root)
        const v = message(gen(seed), p, 0)
        const enc = attempt(() => encodeMessageInterpreted(p, v))
        if (!enc.ok) return
        let bytes = new Uint8Array(enc.value as Uint8Array)
        if (how === 1) bytes = bytes.subarray(0, Math.floor(bytes.length / 2))
        if (how === 2) bytes = new Uint8Array([...bytes, ...bytes]) // repeated fields: messages merge
        if (how === 3) {
          // Another value appended: merges, and a second member of a oneof on the wire.
          const other = attempt(() => encodeMessageInterpreted(p, message(gen(seed + 1), p, 0)))
          if (other.ok) bytes = new Uint8Array([...bytes, ...(other.value as Uint8Array)])
        }
        for (const [at, b] of flips) if (bytes.length > 0) bytes[at % bytes.length] = b
        checkDecode(p, bytes)
      }),
      { numRuns: 1500 },
    )
  })

  it('hands over hand-made edge cases: wrong wire types in map entries, field number 0, a merged message', () => {
    const p = plan('Annotations')
    const name = [10, 1, 110] // name = "n"
    const entry = (...inner: number[]): number[] => [18, inner.length, ...inner] // labels (field 2)
    const cases = [
      entry(8, 1, 18, 1, 118), // key with wire type 0
      entry(10, 1, 107, 16, 1), // value with wire type 0
      entry(10, 1, 107, 18, 1, 118, 24, 5), // unknown field 3 in the entry: skipped by both
      entry(2, 0, 10, 1, 107), // field 0 in the entry
      [2, 0], // field 0 in the message
      [10, 1], // truncated string
    ]
    for (const c of cases) checkDecode(p, new Uint8Array([...name, ...c]))
    expect(fastCodec(p).decode(new Uint8Array([...name, ...entry(8, 1, 18, 1, 118)]))).toBeUndefined()
    expect(fastCodec(p).decode(new Uint8Array([...name, ...entry(10, 1, 107, 18, 1, 118, 24, 5)]))).toStrictEqual({ name: 'n', labels: { k: 'v' } })
    const meta = plan('Meta')
    const version = [10, 2, 8, 5] // version { index: 5 }
    expect(checkDecode(meta, new Uint8Array([...version, ...version]))).toBe(false) // merged: the interpreter's case
  })

  it('says which values decode back deep-equal (canonical) and which do not', () => {
    const p = plan('Annotations')
    const shape = (v: unknown): boolean => {
      const s = { canonical: true }
      fastCodec(p).encode(v, s)
      return s.canonical
    }
    expect(shape({ name: 'n' })).toBe(true)
    expect(shape({ name: '' })).toBe(true) // an implicit zero comes back as ''
    expect(shape({ name: 'n', labels: { a: '' } })).toBe(true)
    expect(shape({ name: 'n', labels: {} })).toBe(false) // an empty record comes back absent
    const sp = plan('SecretSpec')
    const secretShape = (v: unknown): boolean => {
      const s = { canonical: true }
      expect(fastCodec(sp).encode(v, s)).toBeDefined()
      return s.canonical
    }
    expect(secretShape({ annotations: { name: 's' }, data: Uint8Array.of(1) })).toBe(true)
    expect(secretShape({ annotations: { name: 's' }, data: Buffer.from([1]) })).toBe(false)
    const task = plan('Task')
    const t = decodeMessageInterpreted(task, encodeMessageInterpreted(task, FULL.task))
    const taskShape = (v: unknown): boolean => {
      const s = { canonical: true }
      expect(fastCodec(task).encode(v, s)).toBeDefined()
      return s.canonical
    }
    expect(taskShape(t)).toBe(true)
    expect(taskShape({ ...t, slot: -0 })).toBe(false)
    expect(taskShape({ ...t, networks: [] })).toBe(false)
  })

  it('writes lengths over one byte by moving the value (nested messages of 128 B … 20 KB)', () => {
    const p = plan('Annotations')
    for (const n of [126, 127, 128, 16_383, 16_384, 20_000]) {
      const v = { name: 'n', labels: { k: 'x'.repeat(n) } }
      expect(checkEncode(p, v)).toBe(true)
      expect(checkDecode(p, encodeMessageInterpreted(p, v))).toBe(true)
    }
  })

  it('gives each encode its own bytes, also when a getter encodes during an encode', () => {
    const p = plan('Annotations')
    const inner = { name: 'inner' }
    const outer = {
      get name(): string {
        fastCodec(p).encode(inner)
        return 'outer'
      },
    }
    const a = fastCodec(p).encode(outer)
    const b = fastCodec(p).encode(inner)
    expect(a).toStrictEqual(encodeMessageInterpreted(p, { name: 'outer' }))
    expect(b).toStrictEqual(encodeMessageInterpreted(p, inner))
  })
})
