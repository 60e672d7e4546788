import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkLinearizability, kvModel } from '../src/index.ts'
import type { KvInput, KvOutput, KvState, Operation } from '../src/index.ts'
import { createSearch } from '../src/linearizability-search.ts'

type KvOp = Operation<KvInput, KvOutput>

const VALUES = ['a', 'b', 'c'] as const
const arbValue = fc.constantFrom(...VALUES)
const arbMaybe = fc.constantFrom(null, ...VALUES)

const io = (input: KvInput, output: KvOutput): { input: KvInput; output: KvOutput } => ({ input, output })

/** Random operations on one key with random outputs: some histories are linearizable, most are not. */
const arbOp: fc.Arbitrary<KvOp> = fc
  .record({
    clientId: fc.nat({ max: 3 }),
    call: fc.nat({ max: 20 }),
    length: fc.nat({ max: 10 }),
    returned: fc.boolean(),
    io: fc.oneof(
      arbMaybe.map((value) => io({ type: 'get', key: 'k' }, { type: 'get', value })),
      arbValue.map((value) => io({ type: 'put', key: 'k', value }, { type: 'put' })),
      arbValue.map((value) => io({ type: 'append', key: 'k', value }, { type: 'append' })),
      fc
        .record({ expected: arbMaybe, value: arbValue, ok: fc.boolean() })
        .map(({ expected, value, ok }) => io({ type: 'cas', key: 'k', expected, value }, { type: 'cas', ok })),
    ),
  })
  .map(({ clientId, call, length, returned, io }) =>
    returned ? { clientId, input: io.input, output: io.output, call, return: call + length } : { clientId, input: io.input, call },
  )

/** The definition, by brute force: some order of the operations respects real time and the model. */
function bruteForce(ops: readonly KvOp[]): boolean {
  const done = ops.map(() => false)
  const go = (state: KvState): boolean => {
    if (ops.every((op, i) => done[i] === true || op.return === undefined)) return true
    return ops.some((op, i) => {
      if (done[i] === true) return false
      // Every operation left that returned before this one was called must come first.
      if (ops.some((p, j) => done[j] !== true && p.return !== undefined && p.return < op.call)) return false
      const result = kvModel.step(state, op.input, op.return === undefined ? undefined : op.output)
      if (!result.ok) return false
      done[i] = true
      const found = go(result.state)
      done[i] = false
      return found
    })
  }
  return go(kvModel.init())
}

const relax = (op: KvOp): KvOp => ({ clientId: op.clientId, input: op.input, call: op.call })

describe('linearizability search', () => {
  it('both orders of search agree with the brute-force definition', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 7 }), (ops) => {
        const expected = bruteForce(ops) ? 'ok' : 'fail'
        expect(createSearch(kvModel, ops, 'time-order').run(Number.POSITIVE_INFINITY).kind).toBe(expected)
        expect(createSearch(kvModel, ops, 'exhaustive').run(Number.POSITIVE_INFINITY).kind).toBe(expected)
        expect(checkLinearizability(kvModel, ops).ok).toBe(expected === 'ok')
      }),
      { numRuns: 2000 },
    )
  })

  it('runs in slices that add up to the same search', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 8 }), fc.integer({ min: 1, max: 5 }), (ops, slice) => {
        for (const mode of ['time-order', 'exhaustive'] as const) {
          const whole = createSearch(kvModel, ops, mode).run(Number.POSITIVE_INFINITY)
          const sliced = createSearch(kvModel, ops, mode)
          let outcome = sliced.run(slice)
          while (outcome.kind === 'unknown') outcome = sliced.run(slice)
          expect(outcome).toEqual(whole)
          expect(sliced.run(slice)).toBe(outcome)
        }
      }),
    )
  })

  it('minimizes to a 1-minimal set of operations that is contradictory on its own', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 7 }), (ops) => {
        const result = checkLinearizability(kvModel, ops, { minimize: true })
        fc.pre(result.ok === false)
        if (result.ok !== false) return
        const core = result.counterexample ?? []
        const keepOnly = (kept: readonly KvOp[]): KvOp[] => ops.map((op) => (kept.includes(op) ? op : relax(op)))
        expect(core.every((op) => op.return !== undefined)).toBe(true)
        expect(bruteForce(keepOnly(core))).toBe(false)
        for (const op of core) expect(bruteForce(keepOnly(core.filter((o) => o !== op)))).toBe(true)
      }),
      { numRuns: 1000 },
    )
  })
})
