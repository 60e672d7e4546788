import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SeededRandom, checkLinearizability, kvModel } from '../src/index.ts'
import type { KvInput, KvOutput, Operation } from '../src/index.ts'

type KvOp = Operation<KvInput, KvOutput>

/** What happened to an operation: it returned, or the client lost track of it (applied or not). */
type Fate = 'returned' | 'applied' | 'lost'

interface OpSpec {
  readonly clientId: number
  readonly key: number
  readonly kind: KvInput['type']
  /** For cas: 0 expects the current value, 1 expects absence, 2+ some earlier written value. */
  readonly expected: number
  readonly callSlack: number
  readonly returnSlack: number
  readonly fate: Fate
}

const arbOpSpec: fc.Arbitrary<OpSpec> = fc.record({
  clientId: fc.integer({ min: 0, max: 4 }),
  key: fc.integer({ min: 0, max: 2 }),
  kind: fc.constantFrom('get', 'get', 'put', 'append', 'cas'),
  expected: fc.nat({ max: 5 }),
  callSlack: fc.nat({ max: 40 }),
  returnSlack: fc.nat({ max: 40 }),
  fate: fc.constantFrom<Fate>('returned', 'returned', 'returned', 'returned', 'applied', 'lost'),
})

/**
 * Runs the operations one after another against a real map, the i-th at virtual time 10·i, and
 * records each with an interval around that instant; a client's operations never overlap (the
 * next is called after the previous returned, or gave up). Linearizable by construction.
 */
function execute(specs: readonly OpSpec[]): KvOp[] {
  const store = new Map<string, string>()
  const written: string[] = []
  // When each client's next operation takes effect: this one must have returned by then.
  const nextAt: (number | undefined)[] = []
  const seen = new Map<number, number>()
  for (let i = specs.length - 1; i >= 0; i--) {
    const clientId = (specs[i] as OpSpec).clientId
    nextAt[i] = seen.get(clientId)
    seen.set(clientId, 10 * i)
  }
  const freeAt = new Map<number, number>()
  return specs.map((spec, i) => {
    const key = `k${spec.key}`
    const value = `v${i}.`
    const current = store.get(key) ?? null
    const apply = spec.fate !== 'lost'
    let input: KvInput
    let output: KvOutput
    switch (spec.kind) {
      case 'get':
        input = { type: 'get', key }
        output = { type: 'get', value: current }
        break
      case 'put':
        input = { type: 'put', key, value }
        output = { type: 'put' }
        if (apply) store.set(key, value)
        break
      case 'append':
        input = { type: 'append', key, value }
        output = { type: 'append' }
        if (apply) store.set(key, (current ?? '') + value)
        break
      case 'cas': {
        const expected = spec.expected === 0 ? current : spec.expected === 1 ? null : (written[written.length - spec.expected + 1] ?? null)
        input = { type: 'cas', key, expected, value }
        output = { type: 'cas', ok: current === expected }
        if (apply && current === expected) store.set(key, value)
        break
      }
    }
    if (input.type !== 'get') written.push(value)
    const at = 10 * i
    const call = Math.max(freeAt.get(spec.clientId) ?? Number.NEGATIVE_INFINITY, at - spec.callSlack)
    const ret = Math.min(at + spec.returnSlack, nextAt[i] ?? Number.POSITIVE_INFINITY)
    freeAt.set(spec.clientId, ret)
    return spec.fate === 'returned' ? { clientId: spec.clientId, input, output, call, return: ret } : { clientId: spec.clientId, input, call }
  })
}

/** A 1,000-operation workload of 5 clients over 10 keys, a quarter of it indeterminate. */
function bigHistory(seed: number): KvOp[] {
  const random = new SeededRandom(seed)
  const kinds = ['get', 'get', 'put', 'append', 'cas'] as const
  const fates = ['returned', 'returned', 'returned', 'returned', 'returned', 'returned', 'applied', 'lost'] as const
  const specs: OpSpec[] = Array.from({ length: 1000 }, () => ({
    clientId: random.int(5),
    key: random.int(10),
    kind: kinds[random.int(kinds.length)] as KvInput['type'],
    expected: random.int(4),
    callSlack: random.int(50),
    returnSlack: random.int(50),
    fate: fates[random.int(fates.length)] as Fate,
  }))
  return execute(specs)
}

describe('checkLinearizability properties (kvModel)', () => {
  it('accepts every history recorded from a sequential execution', () => {
    fc.assert(
      fc.property(fc.array(arbOpSpec, { maxLength: 60 }), (specs) => {
        expect(checkLinearizability(kvModel, execute(specs)).ok).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('rejects the same histories once one returned read sees a value never written', () => {
    fc.assert(
      fc.property(fc.array(arbOpSpec, { minLength: 1, maxLength: 40 }), fc.nat(), (specs, pick) => {
        const history = execute(specs)
        const reads = history.flatMap((op, i) => (op.input.type === 'get' && op.return !== undefined ? [i] : []))
        fc.pre(reads.length > 0)
        const index = reads[pick % reads.length] as number
        const original = history[index] as KvOp
        const corrupted: KvOp = { ...original, output: { type: 'get', value: 'never' } }
        history[index] = corrupted
        const result = checkLinearizability(kvModel, history, { minimize: true })
        expect(result).toMatchObject({ ok: false, partition: original.input.key })
        if (result.ok !== false) return
        expect(result.counterexample).toContain(corrupted)
      }),
      { numRuns: 200 },
    )
  })

  it('accepts overlapping histories too, where a client does not wait for its previous operation', () => {
    fc.assert(
      fc.property(fc.array(arbOpSpec, { maxLength: 40 }), (specs) => {
        // Every operation from its own client: intervals overlap freely.
        const history = execute(specs.map((spec, i) => ({ ...spec, clientId: i })))
        expect(checkLinearizability(kvModel, history).ok).toBe(true)
      }),
      { numRuns: 200 },
    )
  })

  it('decides a 1,000-operation history of 5 clients over 10 keys ', () => {
    // Step counts are deterministic; they guard the search against blowing up (no timing here).
    for (const seed of [1, 2, 3]) {
      const history = bigHistory(seed)
      const good = checkLinearizability(kvModel, history)
      expect(good.ok).toBe(true)
      expect(good.steps).toBeLessThan(10_000)
      const index = history.findIndex((op, i) => i >= 500 && op.input.type === 'get' && op.return !== undefined)
      const corrupted: KvOp = { ...(history[index] as KvOp), output: { type: 'get', value: 'never' } }
      history[index] = corrupted
      const bad = checkLinearizability(kvModel, history)
      expect(bad).toMatchObject({ ok: false, partition: corrupted.input.key, blockedOperation: corrupted })
      // Proving the violation is exhaustive over the lost appends still pending: costlier.
      expect(bad.steps).toBeLessThan(300_000)
    }
  })
})
