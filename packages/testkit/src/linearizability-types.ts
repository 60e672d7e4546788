/**
 * Types of the linearizability checker: operations, sequential models and results.
 */

/**
 * One operation of a concurrent history, as a client saw it.
 *
 * An operation without `return` is **indeterminate** (a timeout, a crash, a lost reply): it may
 * or may not have taken effect, at any time after `call`. The checker may linearize it anywhere
 * after its call or leave it out, and ignores its `output`.
 */
export interface Operation<I, O> {
  /** Who issued it (only informative: the checker relies on the times). */
  readonly clientId: number
  /** What was asked. */
  readonly input: I
  /** When it was invoked (any finite number: virtual or real milliseconds, a counter…). */
  readonly call: number
  /** What it returned; absent on a returned operation means "any output is acceptable". */
  readonly output?: O
  /** When its response arrived (≥ `call`); absent for an indeterminate operation. */
  readonly return?: number
}

/** The answer of {@link Model.step}: whether the operation is legal, and the state after it. */
export type StepResult<S> = { readonly ok: true; readonly state: S } | { readonly ok: false }

/**
 * A sequential specification: the object every linearization must be a legal run of.
 * `step` must be a pure function of its arguments.
 */
export interface Model<S, I, O> {
  /** The initial state. */
  init(): S
  /**
   * Applies `input` to `state` and says whether `output` is a result the object could have
   * returned. `output` is `undefined` when it is unknown (an indeterminate operation, or one
   * recorded without output): accept any result then.
   */
  step(state: S, input: I, output: O | undefined): StepResult<S>
  /** A string that is equal for two states exactly when the states are equal (memoization key). */
  key(state: S): string
  /**
   * The partition an operation belongs to, for models that are a product of independent objects
   * (a key-value store is one register per key): each partition is checked on its own, which is
   * exact for such models (P-compositionality) and much faster.
   */
  partitionBy?(input: I): string
}

/** Options of {@link checkLinearizability}. */
export interface CheckLinearizabilityOptions<I> {
  /**
   * The search steps allowed per partition (and per trial while minimizing), give or take the
   * few steps of one candidate scan; when a partition needs more, the result is
   * `{ ok: 'unknown' }`. @default 10_000_000
   */
  maxSteps?: number
  /**
   * Overrides the model's {@link Model.partitionBy}; `null` checks the whole history as one
   * partition.
   */
  partitionBy?: ((input: I) => string) | null
  /**
   * Also compute {@link NotLinearizable.counterexample}, a small set of returned operations that
   * cannot be linearized together. Costs up to one extra search (of at most 100,000 steps, or
   * `maxSteps` when smaller) per returned operation of the failing partition. @default false
   */
  minimize?: boolean
}

/** The history is linearizable. */
export interface Linearizable {
  /** Discriminant. */
  readonly ok: true
  /** Search steps taken over all partitions. */
  readonly steps: number
}

/** The history is not linearizable: details of the first partition (in history order) that fails. */
export interface NotLinearizable<I, O> {
  /** Discriminant. */
  readonly ok: false
  /** The failing partition's key (`''` when the history was checked as a whole). */
  readonly partition: string
  /** The operations of that partition, in history order. */
  readonly operations: readonly Operation<I, O>[]
  /** The longest sequence of its operations the search could linearize, in linearization order. */
  readonly longestLinearization: readonly Operation<I, O>[]
  /**
   * The returned operation that could not be linearized after {@link longestLinearization}: the
   * first obstacle the search hit at its deepest point.
   */
  readonly blockedOperation: Operation<I, O>
  /**
   * With `minimize`: returned operations of the partition (in history order) that are already
   * contradictory when every other operation is treated as indeterminate, i.e. may have happened
   * at any time after its call or not at all. Each one is needed (1-minimal), unless a trial ran
   * out of steps, in which case the operation was kept.
   *
   * Read it as: "these outputs cannot all be true, whatever the other operations did".
   */
  readonly counterexample?: readonly Operation<I, O>[]
  /** Search steps taken over all partitions checked (excluding minimization). */
  readonly steps: number
}

/** The search of a partition ran out of steps; no partition was found to fail. */
export interface LinearizabilityUnknown {
  /** Discriminant. */
  readonly ok: 'unknown'
  /** The first partition that ran out of steps. */
  readonly partition: string
  /** Search steps taken over all partitions. */
  readonly steps: number
}

/** The outcome of {@link checkLinearizability}. */
export type LinearizabilityResult<I, O> = Linearizable | NotLinearizable<I, O> | LinearizabilityUnknown
