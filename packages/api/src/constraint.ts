// STUB — being written by the constraints helper. Signatures are fixed.
import type { Node } from './objects.ts'

/** Comparison operators of a placement constraint. */
export const ConstraintOperator = { EQ: '==', NE: '!=' } as const
/** Comparison operator of a placement constraint. */
export type ConstraintOperator = (typeof ConstraintOperator)[keyof typeof ConstraintOperator]

/** A parsed placement constraint. */
export interface Constraint {
  /** The key as written, e.g. `node.labels.zone`. */
  key: string
  operator: ConstraintOperator
  /** The expected value as written (trimmed). */
  value: string
}

/** Parses one expression; throws `InvalidArgumentError` naming `field`. */
export function parseConstraint(expression: string, field = 'constraint'): Constraint {
  void expression
  void field
  throw new Error('not implemented')
}

/** Parses a list of expressions; a bad one throws `InvalidArgumentError` naming `${field}[i]`. */
export function parseConstraints(expressions: readonly string[], field = 'constraints'): Constraint[] {
  return expressions.map((e, i) => parseConstraint(e, `${field}[${i}]`))
}

/** Whether `node` satisfies every constraint. */
export function matchConstraints(constraints: readonly Constraint[], node: Node): boolean {
  void constraints
  void node
  throw new Error('not implemented')
}
