import { describe, expect, it } from 'vitest'
import type { Service, ServiceSpec } from '@swarmkit-ts/api'
import { planServices, sameSpec } from '../src/stack/diff.ts'

const spec = (name: string, image: string, extra: Partial<ServiceSpec['task']> = {}): ServiceSpec => ({
  annotations: { name, labels: { 'com.docker.stack.namespace': 's' } },
  task: { container: { image }, ...extra },
  mode: { replicated: { replicas: 1 } },
})
const service = (id: string, s: ServiceSpec, version = 7n): Service => ({ id, meta: { version: { index: version }, createdAt: 0, updatedAt: 0 }, spec: s })

describe('planServices', () => {
  it('creates the new, updates the changed with the version read, leaves the same alone, prunes only when asked', () => {
    const existing = [service('a1', spec('s_a', 'x:1')), service('b1', spec('s_b', 'x:1')), service('c1', spec('s_c', 'x:1'))]
    const desired = [
      { key: 'a', name: 's_a', spec: spec('s_a', 'x:1') },
      { key: 'b', name: 's_b', spec: spec('s_b', 'x:2') },
      { key: 'd', name: 's_d', spec: spec('s_d', 'x:1') },
    ]
    expect(planServices(desired, existing, false)).toEqual([
      { kind: 'update-service', name: 's_b', id: 'b1', version: 7n, spec: spec('s_b', 'x:2') },
      { kind: 'create-service', name: 's_d', spec: spec('s_d', 'x:1') },
    ])
    expect(planServices(desired, existing, true)[0]).toEqual({ kind: 'remove-service', name: 's_c', id: 'c1' })
  })

  it("keeps a service's forceUpdate: no update for it alone, and an update carries it", () => {
    const existing = [service('a1', spec('s_a', 'x:1', { forceUpdate: 3 }))]
    expect(planServices([{ key: 'a', name: 's_a', spec: spec('s_a', 'x:1') }], existing, false)).toEqual([])
    expect(planServices([{ key: 'a', name: 's_a', spec: spec('s_a', 'x:2') }], existing, false)).toEqual([
      { kind: 'update-service', name: 's_a', id: 'a1', version: 7n, spec: spec('s_a', 'x:2', { forceUpdate: 3 }) },
    ])
  })
})

describe('sameSpec', () => {
  it('treats absent, undefined and empty lists alike, but not different values or modes', () => {
    expect(sameSpec({ a: [], b: undefined, c: { d: 1 } }, { c: { d: 1 } })).toBe(true)
    expect(sameSpec({ mode: { global: {} } }, { mode: { globalJob: {} } })).toBe(false)
    expect(sameSpec({ x: [1, 2] }, { x: [2, 1] })).toBe(false)
    expect(sameSpec({ b: 1, a: 2 }, { a: 2, b: 1 })).toBe(true)
  })
})
