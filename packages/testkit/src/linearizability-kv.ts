/**
 * A ready-made sequential model for {@link checkLinearizability}: a key-value store of string
 * registers with get, put, append and compare-and-set, partitioned by key.
 */
import type { Model, StepResult } from './linearizability-types.ts'

/** An operation on the key-value store. */
export type KvInput =
  | { readonly type: 'get'; readonly key: string }
  | { readonly type: 'put'; readonly key: string; readonly value: string }
  /** Appends `value` to the current string (to `''` when the key is absent). */
  | { readonly type: 'append'; readonly key: string; readonly value: string }
  /** Sets `value` if the current value is `expected` (`null`: the key is absent). */
  | { readonly type: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string }

/** What an operation returned; its `type` must match the input's. */
export type KvOutput =
  /** `value` is `null` when the key is absent. */
  | { readonly type: 'get'; readonly value: string | null }
  | { readonly type: 'put' }
  | { readonly type: 'append' }
  /** Whether the swap happened. */
  | { readonly type: 'cas'; readonly ok: boolean }

/** The state of {@link kvModel}: the value of every present key. */
export type KvState = ReadonlyMap<string, string>

const EMPTY: KvState = new Map()

function withValue(state: KvState, key: string, value: string): StepResult<KvState> {
  const next = new Map(state)
  next.set(key, value)
  return { ok: true, state: next }
}

function stateKey(state: KvState): string {
  // Partitioned by key, a state holds at most one entry: keep that case cheap.
  // Length-prefixed, so distinct states get distinct strings (a JSON array never starts with a digit).
  if (state.size <= 1) {
    for (const [k, v] of state) return `${k.length}:${k}${v}`
    return ''
  }
  return JSON.stringify([...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/**
 * The key-value store model. `partitionBy` is the key, so each key is checked on its own.
 * A returned operation without `output` accepts any result; an output whose `type` differs from
 * the input's is never legal.
 */
export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => EMPTY,
  step(state, input, output) {
    if (output !== undefined && output.type !== input.type) return { ok: false }
    const current = state.get(input.key) ?? null
    switch (input.type) {
      case 'get':
        return output === undefined || (output.type === 'get' && output.value === current) ? { ok: true, state } : { ok: false }
      case 'put':
        return withValue(state, input.key, input.value)
      case 'append':
        return withValue(state, input.key, (current ?? '') + input.value)
      case 'cas': {
        const swapped = current === input.expected
        if (output !== undefined && output.type === 'cas' && output.ok !== swapped) return { ok: false }
        return swapped ? withValue(state, input.key, input.value) : { ok: true, state }
      }
    }
  },
  key: stateKey,
  partitionBy: (input) => input.key,
}
