import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  arbInvalidClusterSpec,
  arbInvalidConfigSpec,
  arbInvalidNetworkSpec,
  arbInvalidNodeSpec,
  arbInvalidSecretSpec,
  arbInvalidServiceSpec,
} from '../src/index.ts'
import type { InvalidSpec } from '../src/index.ts'
import type { ServiceSpec } from '@swarmkit-ts/api'

let cached: InvalidSpec<ServiceSpec>[] | undefined
/** One shared sample of invalid service specs (fixed seed). */
function serviceSamples(): InvalidSpec<ServiceSpec>[] {
  cached ??= fc.sample(arbInvalidServiceSpec(), { numRuns: 4000, seed: 10 })
  return cached
}

const FIELD_PATH = /^[a-z][A-Za-z]*(?:\[\d+\])?(?:\.[a-z][A-Za-z]*(?:\[\d+\])?)*$/

describe('invalid-spec generators', { timeout: 60_000 }, () => {
  it('arbInvalidServiceSpec covers at least 15 distinct rules with well-formed field paths', () => {
    const samples = serviceSamples()
    const rules = new Set(samples.map((s) => s.rule))
    expect(rules.size).toBeGreaterThanOrEqual(40)
    for (const s of samples) expect(s.field).toMatch(FIELD_PATH)
    const fields = new Set(samples.map((s) => s.field.replace(/\[\d+\]/g, '[]')))
    for (const f of [
      'annotations.name',
      'mode',
      'task',
      'task.resources.limits.memoryBytes',
      'update.delayMs',
      'update.maxFailureRatio',
      'update',
      'rollback',
      'endpoint.mode',
      'endpoint.ports[].publishedPort',
      'task.placement.constraints[]',
    ]) {
      expect(fields.has(f), f).toBe(true)
    }
  })

  it('records the later duplicate as the offending port', () => {
    for (const s of serviceSamples()) {
      if (s.rule !== 'duplicate-published-port') continue
      const j = Number(/\[(\d+)\]/.exec(s.field)?.[1])
      const ports = s.spec.endpoint?.ports ?? []
      const dup = ports[j]
      expect(dup).toBeDefined()
      const key = (p: (typeof ports)[number]): string => `${p.publishedPort ?? 0}/${p.protocol ?? 'tcp'}`
      const earlier = ports.slice(0, j).filter((p) => key(p) === key(dup!))
      expect(earlier.length).toBe(1)
    }
  })

  it('the other generators cover several rules each', () => {
    const count = <T extends { rule: string; field: string }>(arb: fc.Arbitrary<T>): number => {
      const samples = fc.sample(arb, { numRuns: 500, seed: 12 })
      for (const s of samples) expect(s.field).toMatch(FIELD_PATH)
      return new Set(samples.map((s) => s.field.replace(/\[\d+\]/g, '[]'))).size
    }
    expect(count(arbInvalidSecretSpec())).toBe(4)
    expect(count(arbInvalidConfigSpec())).toBe(3)
    expect(count(arbInvalidNodeSpec())).toBe(4)
    expect(count(arbInvalidNetworkSpec())).toBe(6)
    expect(count(arbInvalidClusterSpec())).toBe(8)
  })
})
