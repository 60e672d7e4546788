import type { Network, Task } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { driverNetworkOf, taskNetworkRequestOf } from '../src/driver/index.ts'

const meta = { version: { index: 3n }, createdAt: 1, updatedAt: 2 }

describe('driverNetworkOf', () => {
  it('takes the allocated subnets and gateways, internal, ingress, the VXLAN id and the labels of a store network', () => {
    const network: Network = {
      id: 'net1',
      meta,
      spec: { annotations: { name: 'app', labels: { team: 'a' } }, internal: true, ipv6Enabled: true, driverConfig: { name: 'overlay' } },
      driverState: { name: 'overlay', options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097,4098' } },
      ipam: { driver: { name: 'default' }, configs: [{ family: 'ipv6', subnet: 'fd00:1::/64', gateway: 'fd00:1::1' }, { subnet: '10.0.1.0/24', gateway: '10.0.1.1' }] },
    }
    expect(driverNetworkOf(network)).toEqual({
      id: 'net1', name: 'app', subnet: '10.0.1.0/24', gateway: '10.0.1.1', ipv6: { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' },
      internal: true, vxlanId: 4097, labels: { team: 'a' },
    })
    const ingress: Network = { id: 'ing', meta, spec: { annotations: { name: 'ingress' }, ingress: true }, ipam: { configs: [{ family: 'ipv4', subnet: '10.0.0.0/24', gateway: '10.0.0.1' }] } }
    expect(driverNetworkOf(ingress)).toEqual({ id: 'ing', name: 'ingress', subnet: '10.0.0.0/24', gateway: '10.0.0.1', ingress: true })
  })

  it('refuses a network the allocator has not allocated yet (network-not-allocated)', () => {
    const network: Network = { id: 'net2', meta, spec: { annotations: { name: 'late' } } }
    expect(() => driverNetworkOf(network)).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'network-not-allocated' }))
  })
})

describe('taskNetworkRequestOf', () => {
  it('takes the task\'s attachments and its endpoint\'s ports (none when absent)', () => {
    const base = { id: 't1', networks: [{ networkId: 'net1', addresses: ['10.0.1.5/24'] }], endpoint: { ports: [{ targetPort: 80, publishedPort: 30000 }] } }
    expect(taskNetworkRequestOf(base as unknown as Task)).toEqual({ taskId: 't1', attachments: base.networks, ports: base.endpoint.ports })
    expect(taskNetworkRequestOf({ id: 't2' } as unknown as Task)).toEqual({ taskId: 't2', attachments: [], ports: [] })
  })
})
