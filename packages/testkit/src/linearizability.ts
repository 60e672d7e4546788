/**
 * A model-based linearizability checker in the manner of Porcupine: Wing & Gong's search with
 * Lowe's memoization, over partitions of the history checked one by one.
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { createSearch, isDeterminate } from './linearizability-search.ts'
import type { PartitionSearch, SearchOutcome } from './linearizability-search.ts'
import type { CheckLinearizabilityOptions, LinearizabilityResult, Model, Operation } from './linearizability-types.ts'

const DEFAULT_MAX_STEPS = 10_000_000
/** Steps allowed to each trial of the minimization (or `maxSteps` when smaller). */
const MINIMIZE_TRIAL_STEPS = 100_000

function validateHistory<I, O>(history: readonly Operation<I, O>[]): void {
  history.forEach((op, i) => {
    if (!Number.isFinite(op.call)) throw new InvalidArgumentError(`history[${i}].call`, `must be a finite number, got ${op.call}`)
    if (op.return !== undefined && !(Number.isFinite(op.return) && op.return >= op.call)) {
      throw new InvalidArgumentError(`history[${i}].return`, `must be a finite number >= call (${op.call}), got ${op.return}`)
    }
  })
}

/** Steps each search runs before handing over to the other. */
const SLICE_STEPS = 10_000

/**
 * Searches one partition with two exact searches taking turns: one in time order, which finds
 * the linearization of a correct history fastest, and the exhaustive one, which is much better at
 * proving a violation when indeterminate writes are pending. The first to decide wins; together
 * they take about `maxSteps` steps at most.
 */
function searchPartition<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], maxSteps: number): SearchOutcome {
  const searches = [createSearch(model, ops, 'time-order'), createSearch(model, ops, 'exhaustive')]
  const used = [0, 0]
  for (let turn = 0; ; turn = 1 - turn) {
    const total = (used[0] as number) + (used[1] as number)
    if (total >= maxSteps) return { kind: 'unknown', steps: total }
    const outcome = (searches[turn] as PartitionSearch).run(Math.min(SLICE_STEPS, maxSteps - total))
    used[turn] = outcome.steps
    if (outcome.kind !== 'unknown') return { ...outcome, steps: (used[0] as number) + (used[1] as number) }
  }
}

/** Splits the history by partition key, partitions in order of first appearance. */
function partitionHistory<I, O>(history: readonly Operation<I, O>[], by: ((input: I) => string) | null): Map<string, Operation<I, O>[]> {
  const parts = new Map<string, Operation<I, O>[]>()
  for (const op of history) {
    const key = by === null ? '' : by(op.input)
    let part = parts.get(key)
    if (part === undefined) {
      part = []
      parts.set(key, part)
    }
    part.push(op)
  }
  return parts
}

/** The same operation with its outcome forgotten: it may have taken effect any time after its call. */
function relax<I, O>(op: Operation<I, O>): Operation<I, O> {
  return { clientId: op.clientId, input: op.input, call: op.call }
}

/**
 * Greedily turns returned operations of a failing partition into indeterminate ones, latest call
 * first, keeping each change that leaves the partition non-linearizable. Relaxing only weakens
 * the history, so what remains is a genuine contradiction.
 */
function minimize<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], maxSteps: number): Operation<I, O>[] {
  const current = [...ops]
  const order = ops
    .map((op, i) => ({ op, i }))
    .filter(({ op }) => isDeterminate(op))
    .sort((a, b) => b.op.call - a.op.call || b.i - a.i)
  for (const { op, i } of order) {
    current[i] = relax(op)
    if (searchPartition(model, current, maxSteps).kind !== 'fail') current[i] = op
  }
  return ops.filter((op, i) => current[i] === op && isDeterminate(op))
}

/**
 * Checks that a concurrent history is linearizable with respect to a sequential `model`: that
 * there is a total order of its operations, consistent with real time (an operation that
 * returned before another was called comes first) and legal for the model, in which each
 * returned operation produced its recorded output. Indeterminate operations (no `return`) may
 * appear anywhere after their call, or not at all.
 *
 * Operations whose intervals touch (one returns at the very time another is called) count as
 * concurrent. The history is split by `partitionBy` (the option, else the model's) and every
 * partition is checked independently; the result is deterministic.
 *
 * @returns `{ ok: true }`; `{ ok: false, partition, … }` for the first failing partition, in
 * order of first appearance in the history; or `{ ok: 'unknown', partition }` when no partition
 * fails but one needed more than `maxSteps` steps.
 * @throws InvalidArgumentError when a `call` is not finite or a `return` precedes its `call`
 * (field `history[i].call` / `history[i].return`), or `maxSteps` is not a positive integer.
 */
export function checkLinearizability<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckLinearizabilityOptions<I> = {},
): LinearizabilityResult<I, O> {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS
  if (!Number.isSafeInteger(maxSteps) || maxSteps <= 0) throw new InvalidArgumentError('options.maxSteps', `must be a positive integer, got ${maxSteps}`)
  validateHistory(history)
  const by = options.partitionBy !== undefined ? options.partitionBy : model.partitionBy === undefined ? null : (input: I) => (model.partitionBy as (i: I) => string)(input)

  let steps = 0
  let unknown: string | undefined
  for (const [partition, ops] of partitionHistory(history, by)) {
    const outcome = searchPartition(model, ops, maxSteps)
    steps += outcome.steps
    if (outcome.kind === 'unknown') {
      unknown ??= partition
    } else if (outcome.kind === 'fail') {
      return {
        ok: false,
        partition,
        operations: ops,
        longestLinearization: outcome.longest.map((i) => ops[i] as Operation<I, O>),
        blockedOperation: ops[outcome.blocked] as Operation<I, O>,
        ...(options.minimize === true ? { counterexample: minimize(model, ops, Math.min(maxSteps, MINIMIZE_TRIAL_STEPS)) } : {}),
        steps,
      }
    }
  }
  return unknown === undefined ? { ok: true, steps } : { ok: 'unknown', partition: unknown, steps }
}
