import {
  InvalidArgumentError,
  validateClusterSpec,
  validateConfigSpec,
  validateNetworkSpec,
  validateNodeSpec,
  validateSecretSpec,
  validateServiceSpec,
} from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  arbClusterSpec,
  arbConfigSpec,
  arbInvalidClusterSpec,
  arbInvalidConfigSpec,
  arbInvalidNetworkSpec,
  arbInvalidNodeSpec,
  arbInvalidSecretSpec,
  arbInvalidServiceSpec,
  arbNetworkSpec,
  arbNodeSpec,
  arbSecretSpec,
  arbServiceSpec,
} from '../src/index.ts'
import type { InvalidSpec } from '../src/index.ts'

const RUNS = { numRuns: 1000 }

/** Runs `validate` and returns the field of the InvalidArgumentError it throws (or a description of what happened instead). */
function rejectedField<S>(validate: (s: S) => void, spec: S): string {
  try {
    validate(spec)
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.field ?? '(no field)'
    return `threw ${String(err)}`
  }
  return '(accepted)'
}

function expectRejected<S>(validate: (s: S) => void, arb: fc.Arbitrary<InvalidSpec<S>>): void {
  fc.assert(
    fc.property(arb, ({ spec, field, rule }) => {
      expect(rejectedField(validate, spec), rule).toBe(field)
    }),
    RUNS,
  )
}

describe('valid arbitraries pass validation', { timeout: 60_000 }, () => {
  it('arbServiceSpec', () => fc.assert(fc.property(arbServiceSpec(), (s) => validateServiceSpec(s)), RUNS))
  it('arbNodeSpec', () => fc.assert(fc.property(arbNodeSpec(), (s) => validateNodeSpec(s)), RUNS))
  it('arbNetworkSpec', () => fc.assert(fc.property(arbNetworkSpec(), (s) => validateNetworkSpec(s)), RUNS))
  it('arbSecretSpec', () => fc.assert(fc.property(arbSecretSpec(), (s) => validateSecretSpec(s)), RUNS))
  it('arbConfigSpec', () => fc.assert(fc.property(arbConfigSpec(), (s) => validateConfigSpec(s)), RUNS))
  it('arbClusterSpec', () => fc.assert(fc.property(arbClusterSpec(), (s) => validateClusterSpec(s)), RUNS))
})

describe('invalid generators are rejected naming the recorded field', { timeout: 60_000 }, () => {
  it('arbInvalidServiceSpec', () => expectRejected(validateServiceSpec, arbInvalidServiceSpec()))
  it('arbInvalidNodeSpec', () => expectRejected(validateNodeSpec, arbInvalidNodeSpec()))
  it('arbInvalidNetworkSpec', () => expectRejected(validateNetworkSpec, arbInvalidNetworkSpec()))
  it('arbInvalidSecretSpec', () => expectRejected(validateSecretSpec, arbInvalidSecretSpec()))
  it('arbInvalidConfigSpec', () => expectRejected(validateConfigSpec, arbInvalidConfigSpec()))
  it('arbInvalidClusterSpec', () => expectRejected(validateClusterSpec, arbInvalidClusterSpec()))
})
