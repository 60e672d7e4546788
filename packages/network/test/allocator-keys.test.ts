import type { ServiceSpec } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { allocationInputs, endpointKey } from '../src/allocator/allocation-state.ts'

const base: ServiceSpec = { annotations: { name: 'web' }, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'busybox' } } }

describe('allocation keys', () => {
  it('a spec without endpoint or networks has the key of an empty endpoint and no networks', () => {
    const none = allocationInputs(Object.freeze(base))
    expect(none).toBe(allocationInputs(Object.freeze({ ...base, endpoint: {} })))
    expect(none).toBe(allocationInputs(Object.freeze({ ...base, endpoint: { mode: 'vip', ports: [] }, networks: [], task: { ...base.task, networks: [] } })))
    expect(none).not.toBe(allocationInputs(Object.freeze({ ...base, endpoint: { mode: 'dnsrr' } })))
    expect(none).not.toBe(allocationInputs(Object.freeze({ ...base, task: { ...base.task, networks: [{ target: 'n1' }] } })))
    expect(none).not.toBe(allocationInputs(Object.freeze({ ...base, networks: [{ target: 'n1' }] })))
  })

  it('no endpoint has the key of an empty one', () => {
    expect(endpointKey(undefined)).toBe(endpointKey(Object.freeze({})))
    expect(endpointKey(undefined)).not.toBe(endpointKey(Object.freeze({ virtualIps: [{ networkId: 'n1', addr: '10.0.0.2/24' }] })))
  })
})
