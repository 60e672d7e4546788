import { describe, expect, it } from 'vitest'
import { checkLinearizability, kvModel } from '../src/index.ts'
import type { KvInput, KvOutput, Model, Operation } from '../src/index.ts'

type KvOp = Operation<KvInput, KvOutput>

const get = (clientId: number, key: string, value: string | null, call: number, ret: number): KvOp => ({
  clientId,
  input: { type: 'get', key },
  output: { type: 'get', value },
  call,
  return: ret,
})
const put = (clientId: number, key: string, value: string, call: number, ret?: number): KvOp =>
  ret === undefined
    ? { clientId, input: { type: 'put', key, value }, call }
    : { clientId, input: { type: 'put', key, value }, output: { type: 'put' }, call, return: ret }
const append = (clientId: number, key: string, value: string, call: number, ret: number): KvOp => ({
  clientId,
  input: { type: 'append', key, value },
  output: { type: 'append' },
  call,
  return: ret,
})
const cas = (clientId: number, key: string, expected: string | null, value: string, ok: boolean | undefined, call: number, ret?: number): KvOp =>
  ret === undefined || ok === undefined
    ? { clientId, input: { type: 'cas', key, expected, value }, call }
    : { clientId, input: { type: 'cas', key, expected, value }, output: { type: 'cas', ok }, call, return: ret }

describe('checkLinearizability with kvModel: linearizable histories', () => {
  it('accepts the empty history and a sequential one', () => {
    expect(checkLinearizability(kvModel, [])).toEqual({ ok: true, steps: 0 })
    const history = [
      get(0, 'x', null, 0, 1),
      put(0, 'x', 'a', 2, 3),
      get(1, 'x', 'a', 4, 5),
      append(1, 'x', 'b', 6, 7),
      get(0, 'x', 'ab', 8, 9),
      cas(0, 'x', 'a', 'z', false, 10, 11),
      cas(1, 'x', 'ab', 'c', true, 12, 13),
      get(0, 'x', 'c', 14, 15),
      cas(0, 'y', null, 'new', true, 16, 17),
      get(2, 'y', 'new', 18, 19),
    ]
    expect(checkLinearizability(kvModel, history).ok).toBe(true)
  })

  it('accepts overlapping operations taking effect in any order consistent with real time', () => {
    const history = [
      put(0, 'x', '1', 0, 100),
      put(1, 'x', '2', 10, 60),
      get(2, 'x', '2', 20, 30), // put 2 took effect first…
      get(3, 'x', '1', 70, 80), // …and put 1 after it
      get(2, 'x', '1', 110, 120),
    ]
    expect(checkLinearizability(kvModel, history).ok).toBe(true)
  })

  it('treats touching intervals as concurrent', () => {
    // The get is called at the very instant the put returns: it may precede the put.
    expect(checkLinearizability(kvModel, [put(0, 'x', '1', 0, 10), get(1, 'x', null, 10, 20)]).ok).toBe(true)
    expect(checkLinearizability(kvModel, [put(0, 'x', '1', 0, 10), get(1, 'x', null, 11, 20)]).ok).toBe(false)
  })

  it('accepts an indeterminate write that took effect, even long after its call', () => {
    const history = [put(0, 'x', '1', 0), get(1, 'x', null, 10, 20), get(1, 'x', '1', 1000, 1010), get(2, 'x', '1', 2000, 2010)]
    expect(checkLinearizability(kvModel, history).ok).toBe(true)
  })

  it('accepts an indeterminate write that never took effect', () => {
    const history = [put(0, 'x', '0', 0, 1), put(1, 'x', 'lost', 5), get(2, 'x', '0', 10, 20), get(2, 'x', '0', 1000, 1010)]
    expect(checkLinearizability(kvModel, history).ok).toBe(true)
  })

  it('accepts indeterminate compare-and-sets either way, and ignores an indeterminate output', () => {
    const took: KvOp[] = [put(0, 'x', 'a', 0, 1), cas(1, 'x', 'a', 'b', undefined, 2), get(2, 'x', 'b', 10, 11)]
    const didNot: KvOp[] = [put(0, 'x', 'a', 0, 1), cas(1, 'x', 'a', 'b', undefined, 2), get(2, 'x', 'a', 10, 11)]
    expect(checkLinearizability(kvModel, took).ok).toBe(true)
    expect(checkLinearizability(kvModel, didNot).ok).toBe(true)
    const withOutput: KvOp = { clientId: 3, input: { type: 'get', key: 'x' }, output: { type: 'get', value: 'garbage' }, call: 3 }
    expect(checkLinearizability(kvModel, [...took, withOutput]).ok).toBe(true)
  })

  it('accepts a returned operation recorded without output as any result', () => {
    const history: KvOp[] = [put(0, 'x', 'a', 0, 1), { clientId: 1, input: { type: 'get', key: 'x' }, call: 2, return: 3 }]
    expect(checkLinearizability(kvModel, history).ok).toBe(true)
  })
})

describe('checkLinearizability with kvModel: violations', () => {
  it('reports a stale read after a completed write, with the offending key', () => {
    const history = [put(0, 'y', '1', 0, 5), put(0, 'x', '1', 0, 10), get(1, 'y', '1', 6, 7), get(1, 'x', null, 20, 30)]
    const result = checkLinearizability(kvModel, history, { minimize: true })
    expect(result).toMatchObject({ ok: false, partition: 'x' })
    if (result.ok !== false) return
    expect(result.operations).toEqual([history[1], history[3]])
    expect(result.longestLinearization).toEqual([history[1]])
    expect(result.blockedOperation).toBe(history[3])
    expect(result.counterexample).toEqual([history[1], history[3]])
  })

  it('reports two readers seeing two writes in opposite orders', () => {
    const history = [
      put(0, 'k', '1', 0, 100),
      put(1, 'k', '2', 0, 100),
      get(2, 'k', '1', 10, 20),
      get(2, 'k', '2', 30, 40),
      get(3, 'k', '2', 10, 20),
      get(3, 'k', '1', 30, 40),
    ]
    const result = checkLinearizability(kvModel, history, { minimize: true })
    expect(result).toMatchObject({ ok: false, partition: 'k' })
    if (result.ok !== false) return
    // The writes may have happened or not: the four reads alone are contradictory.
    expect(result.counterexample).toEqual(history.slice(2))
    // Without the second reader the history is fine.
    expect(checkLinearizability(kvModel, history.slice(0, 4)).ok).toBe(true)
  })

  it('reports a read of a value never written', () => {
    const history = [put(0, 'a', '1', 0, 1), get(0, 'a', '1', 2, 3), put(0, 'b', '1', 4, 5), get(1, 'b', '7', 6, 7)]
    const result = checkLinearizability(kvModel, history, { minimize: true })
    expect(result).toMatchObject({ ok: false, partition: 'b', blockedOperation: history[3] })
    if (result.ok !== false) return
    expect(result.counterexample).toEqual([history[3]])
  })

  it('reports a lost update: two compare-and-sets from the same value both succeed', () => {
    const history = [
      put(0, 'c', '0', 0, 1),
      cas(1, 'c', '0', 'a', true, 10, 20),
      cas(2, 'c', '0', 'b', true, 15, 25),
      get(0, 'c', 'b', 30, 31),
      put(0, 'other', 'x', 40, 41),
    ]
    const result = checkLinearizability(kvModel, history, { minimize: true })
    expect(result).toMatchObject({ ok: false, partition: 'c' })
    if (result.ok !== false) return
    expect(result.operations).toEqual(history.slice(0, 4))
    // Whether or not the put happened, and whenever: it sets '0' once, so only one swap can see it.
    expect(result.counterexample).toEqual(history.slice(1, 3))
  })

  it('reports a failed compare-and-set that should have succeeded', () => {
    const history = [put(0, 'c', '0', 0, 1), cas(1, 'c', '0', 'a', false, 10, 20)]
    expect(checkLinearizability(kvModel, history)).toMatchObject({ ok: false, partition: 'c', blockedOperation: history[1] })
  })

  it('reports an output of the wrong type', () => {
    const history: KvOp[] = [{ clientId: 0, input: { type: 'put', key: 'x', value: '1' }, output: { type: 'get', value: null }, call: 0, return: 1 }]
    expect(checkLinearizability(kvModel, history)).toMatchObject({ ok: false, partition: 'x', longestLinearization: [] })
  })

  it('reports the first failing partition in order of first appearance', () => {
    const history = [get(0, 'b', 'nope', 0, 1), get(0, 'a', 'nope', 2, 3)]
    expect(checkLinearizability(kvModel, history)).toMatchObject({ ok: false, partition: 'b' })
  })
})

describe('checkLinearizability options and validation', () => {
  it('checks the whole history as one partition with partitionBy: null', () => {
    const history = [put(0, 'x', '1', 0, 1), get(1, 'x', null, 2, 3)]
    expect(checkLinearizability(kvModel, history, { partitionBy: null })).toMatchObject({ ok: false, partition: '' })
    expect(checkLinearizability(kvModel, [put(0, 'x', '1', 0, 1), get(1, 'y', null, 2, 3)], { partitionBy: null }).ok).toBe(true)
  })

  it('uses a custom partitionBy', () => {
    const history = [put(0, 'x1', '1', 0, 1), get(1, 'x2', null, 2, 3), get(1, 'y', '1', 4, 5)]
    const byLetter = (input: KvInput): string => input.key.slice(0, 1)
    expect(checkLinearizability(kvModel, history, { partitionBy: byLetter })).toMatchObject({ ok: false, partition: 'y' })
  })

  it('returns unknown when a partition needs more than maxSteps', () => {
    const history = [put(0, 'x', '1', 0, 1), get(1, 'x', '1', 2, 3), put(0, 'y', '1', 0, 1), get(1, 'y', '1', 2, 3)]
    expect(checkLinearizability(kvModel, history, { maxSteps: 1 })).toEqual({ ok: 'unknown', partition: 'x', steps: 2 })
    expect(checkLinearizability(kvModel, history, { maxSteps: 100 })).toEqual({ ok: true, steps: 4 })
  })

  it('prefers a definite failure over unknown', () => {
    // x needs 4 steps (one per operation); y fails in 2 (its call is refused, then its return is reached).
    const slow = [put(0, 'x', '1', 0, 1), get(1, 'x', '1', 2, 3), get(1, 'x', '1', 4, 5), get(1, 'x', '1', 6, 7)]
    const bad = [get(0, 'y', 'never', 0, 1)]
    expect(checkLinearizability(kvModel, [...slow, ...bad], { maxSteps: 2 })).toMatchObject({ ok: false, partition: 'y' })
  })

  it('rejects bad times and a bad maxSteps, naming the field', () => {
    expect(() => checkLinearizability(kvModel, [put(0, 'x', '1', 0, 1), put(0, 'x', '1', 5, 4)])).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: 'history[1].return' }),
    )
    expect(() => checkLinearizability(kvModel, [put(0, 'x', '1', Number.NaN, 1)])).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: 'history[0].call' }),
    )
    expect(() => checkLinearizability(kvModel, [], { maxSteps: 0 })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'options.maxSteps' }))
  })

  it('works with any model: a counter with increment and read', () => {
    type CounterInput = { readonly type: 'inc' } | { readonly type: 'read' }
    const counter: Model<number, CounterInput, number> = {
      init: () => 0,
      step: (state, input, output) =>
        input.type === 'inc' ? { ok: true, state: state + 1 } : output === undefined || output === state ? { ok: true, state } : { ok: false },
      key: (state) => String(state),
    }
    const inc = (clientId: number, call: number, ret?: number): Operation<CounterInput, number> =>
      ret === undefined ? { clientId, input: { type: 'inc' }, call } : { clientId, input: { type: 'inc' }, call, return: ret }
    const read = (clientId: number, value: number, call: number, ret: number): Operation<CounterInput, number> => ({
      clientId,
      input: { type: 'read' },
      output: value,
      call,
      return: ret,
    })
    expect(checkLinearizability(counter, [inc(0, 0, 10), inc(1, 0, 10), read(2, 1, 5, 6), read(2, 2, 11, 12)]).ok).toBe(true)
    expect(checkLinearizability(counter, [inc(0, 0, 10), inc(1, 0), read(2, 2, 11, 12), read(2, 1, 13, 14)])).toMatchObject({ ok: false, partition: '' })
  })
})

describe('README example', () => {
  it('finds the stale read and its counterexample', () => {
    const history: Operation<KvInput, KvOutput>[] = [
      { clientId: 1, input: { type: 'put', key: 'x', value: '1' }, output: { type: 'put' }, call: 0, return: 10 },
      { clientId: 2, input: { type: 'put', key: 'y', value: '2' }, call: 5 }, // timed out: may or may not have happened
      { clientId: 3, input: { type: 'get', key: 'y' }, output: { type: 'get', value: '2' }, call: 40, return: 50 },
      { clientId: 3, input: { type: 'get', key: 'x' }, output: { type: 'get', value: null }, call: 20, return: 30 }, // stale
    ]
    const result = checkLinearizability(kvModel, history, { minimize: true })
    expect(result).toMatchObject({ ok: false, partition: 'x', blockedOperation: history[3], counterexample: [history[0], history[3]] })
  })
})
