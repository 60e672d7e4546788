import fc from 'fast-check'
import type { ContainerSpec, ServiceSpec, TaskSpec } from '@swarmkit-ts/api'

/**
 * A spec that breaks exactly one validation rule, with the field path the validator must name in
 * its `InvalidArgumentError` and a short id of the broken rule.
 */
export interface InvalidSpec<S> {
  spec: S
  /** The expected `InvalidArgumentError.field`, e.g. `update.delayMs` or `endpoint.ports[1].publishedPort`. */
  field: string
  /** A short id of the broken rule, e.g. `update-negative-duration`. */
  rule: string
}

/**
 * Values a "non-negative safe integer" field must reject: negatives, fractions, NaN, infinities
 * and integers beyond 2^53 − 1.
 */
export function arbNotNonNegativeInteger(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.integer({ min: -1_000_000_000, max: -1 }),
    fc.constantFrom(-1, 0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 53, -(2 ** 53)),
  )
}

/** Values a "safe integer" field must reject (any sign allowed otherwise). */
export function arbNotSafeInteger(): fc.Arbitrary<number> {
  return fc.constantFrom(0.5, -1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -(2 ** 53))
}

/**
 * Strings that are not any known enum value. The result must be cast to the enum's type; the
 * casts are deliberate — the point is to feed the validator what the types forbid.
 */
export function arbUnknownEnum(): fc.Arbitrary<string> {
  return fc.constantFrom('', 'sometimes', 'bogus', 'unknown-value', 'x')
}

/** `list` with `item` inserted at `at` modulo (length + 1); returns the new list and the index used. */
export function insertAt<T>(list: readonly T[] | undefined, at: number, item: T): { list: T[]; index: number } {
  const base = list ?? []
  const index = at % (base.length + 1)
  return { list: [...base.slice(0, index), item, ...base.slice(index)], index }
}

/** The parts of a task spec that are not its runtime (container / attachment / generic). */
export function taskWithoutRuntime(task: TaskSpec): TaskSpec {
  const { container: _c, attachment: _a, generic: _g, ...rest } = task
  return rest
}

/** `spec` with its task turned into a container task running `container` (its own container when it has one). */
export function withContainer(spec: ServiceSpec, fallback: ContainerSpec, patch: (c: ContainerSpec) => ContainerSpec): ServiceSpec {
  const container = patch(spec.task.container ?? fallback)
  return { ...spec, task: { ...taskWithoutRuntime(spec.task), container } }
}

/** `spec` with `task` replaced by `patch(task)`. */
export function withTask(spec: ServiceSpec, patch: (t: TaskSpec) => TaskSpec): ServiceSpec {
  return { ...spec, task: patch(spec.task) }
}
