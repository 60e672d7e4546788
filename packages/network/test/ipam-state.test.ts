import { AlreadyExistsError, InvalidArgumentError, NotFoundError, ResourceExhaustedError, TaskState } from '@swarmkit-ts/api'
import type { Network, Service, Task } from '@swarmkit-ts/api'
import { describe, expect, test } from 'vitest'
import { Ipam, rebuildIpam } from '../src/ipam/index.ts'
import { caught, network, service, task } from './ipam-fixtures.ts'

describe('Ipam', () => {
  test('allocate returns CIDR-style addresses after the gateway', () => {
    const ipam = new Ipam()
    ipam.addNetwork(network('n1', 'web-net', [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1' }]))
    expect([ipam.allocate('n1'), ipam.allocate('n1')]).toEqual(['10.0.1.2/24', '10.0.1.3/24'])
  })

  test('a dual-stack network allocates per family; a missing family names the field', () => {
    const ipam = new Ipam()
    ipam.addNetwork(network('n1', 'v6', [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1' }, { family: 'ipv6', subnet: 'fd00::/64', gateway: 'fd00::1' }]))
    expect(ipam.allocate('n1', 'ipv6')).toBe('fd00::2/64')
    ipam.addNetwork(network('n2', 'only4', [{ subnet: '10.0.2.0/24' }]))
    const err = caught(() => ipam.allocate('n2', 'ipv6'))
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).message).toBe('family: network only4 has no ipv6 subnet')
  })

  test('a network with two pools of a family spills into the second when the first is full', () => {
    const ipam = new Ipam()
    ipam.addNetwork(network('n1', 'two', [{ subnet: '10.0.1.0/30', gateway: '10.0.1.1' }, { subnet: '10.0.2.0/30', gateway: '10.0.2.1' }]))
    expect([ipam.allocate('n1'), ipam.allocate('n1')]).toEqual(['10.0.1.2/30', '10.0.2.2/30'])
    const err = caught(() => ipam.allocate('n1'))
    expect(err).toBeInstanceOf(ResourceExhaustedError)
    expect((err as ResourceExhaustedError).resource).toBe('addresses of network two (10.0.1.0/30, 10.0.2.0/30)')
  })

  test('an unknown network is a NotFoundError for allocate and reserve, and release is a no-op', () => {
    const ipam = new Ipam()
    expect(caught(() => ipam.allocate('nope'))).toBeInstanceOf(NotFoundError)
    expect(caught(() => ipam.reserve('nope', '10.0.0.2/24', 'f'))).toBeInstanceOf(NotFoundError)
    expect(ipam.release('nope', '10.0.0.2/24')).toBe(false)
  })

  test('reserve accepts a recorded or a static address and refuses a wrong prefix or subnet', () => {
    const ipam = new Ipam()
    ipam.addNetwork(network('n1', 'web-net', [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1' }]))
    expect(ipam.reserve('n1', '10.0.1.9/24', 'f')).toBe('10.0.1.9/24')
    expect(ipam.reserve('n1', '10.0.1.10', 'f')).toBe('10.0.1.10/24')
    expect((caught(() => ipam.reserve('n1', '10.0.1.11/16', 'a')) as Error).message).toBe('a: 10.0.1.11/16 does not have the prefix length of subnet 10.0.1.0/24')
    expect((caught(() => ipam.reserve('n1', '10.0.2.1', 'a')) as Error).message).toBe('a: 10.0.2.1 is not in a subnet of network web-net (10.0.1.0/24)')
    const taken = caught(() => ipam.reserve('n1', '10.0.1.9/24', 'a'))
    expect(taken).toBeInstanceOf(AlreadyExistsError)
    expect(ipam.isUsed('n1', '10.0.1.9/24')).toBe(true)
    expect(ipam.release('n1', '10.0.1.9/24')).toBe(true)
    expect(ipam.release('n1', '10.0.1.9/24')).toBe(false)
    expect(ipam.isUsed('n1', '10.0.1.9')).toBe(false)
  })

  test('addNetwork refuses an overlap with another network and changes nothing', () => {
    const ipam = new Ipam()
    ipam.addNetwork(network('n1', 'web-net', [{ subnet: '10.0.1.0/24' }]))
    const err = caught(() => ipam.addNetwork(network('n2', 'db-net', [{ subnet: '10.0.2.0/24' }, { subnet: '10.0.1.0/25' }])))
    expect((err as InvalidArgumentError).field).toBe('ipam.configs[1].subnet')
    expect((err as InvalidArgumentError).message).toBe('ipam.configs[1].subnet: 10.0.1.0/25 overlaps network "web-net" (10.0.1.0/24)')
    expect(ipam.hasNetwork('n2')).toBe(false)
    ipam.addNetwork(network('n3', 'other', [{ subnet: '10.0.2.0/24' }]))
    expect(ipam.networkIds()).toEqual(['n1', 'n3'])
  })

  test('addNetwork refuses a network twice, or without allocated IPAM', () => {
    const ipam = new Ipam()
    ipam.addNetwork(network('n1', 'a', [{ subnet: '10.0.1.0/24' }]))
    expect(caught(() => ipam.addNetwork(network('n1', 'a', [{ subnet: '10.0.1.0/24' }])))).toBeInstanceOf(AlreadyExistsError)
    expect((caught(() => ipam.addNetwork(network('n2', 'b', []))) as InvalidArgumentError).field).toBe('ipam')
  })

  test('removeNetwork frees its subnets for another network', () => {
    const ipam = new Ipam()
    ipam.addNetwork(network('n1', 'a', [{ subnet: '10.0.1.0/24' }]))
    expect(ipam.removeNetwork('n1')).toBe(true)
    expect(ipam.removeNetwork('n1')).toBe(false)
    ipam.addNetwork(network('n2', 'b', [{ subnet: '10.0.1.0/24' }]))
    expect(ipam.hasNetwork('n2')).toBe(true)
  })

  test('snapshot lists networks by id with their pools and used addresses', () => {
    const ipam = new Ipam()
    ipam.addNetwork(network('n2', 'b', [{ subnet: '10.0.2.0/24', gateway: '10.0.2.1', range: '10.0.2.128/25' }]))
    ipam.addNetwork(network('n1', 'a', [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1' }]))
    ipam.allocate('n2')
    ipam.reserve('n1', '10.0.1.200', 'f')
    ipam.allocate('n1')
    expect(ipam.snapshot()).toEqual({
      networks: [
        { id: 'n1', pools: [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1', used: ['10.0.1.2', '10.0.1.200'] }] },
        { id: 'n2', pools: [{ subnet: '10.0.2.0/24', gateway: '10.0.2.1', range: '10.0.2.128/25', used: ['10.0.2.128'] }] },
      ],
    })
  })
})

describe('rebuildIpam', () => {
  test('networks, VIPs and task addresses recorded in the store come back as they were', () => {
    const networks: Network[] = [network('n1', 'a', [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1' }]), network('n2', 'b', [])]
    const services: Service[] = [service('s1', [{ networkId: 'n1', addr: '10.0.1.2/24' }])]
    const tasks: Task[] = [task('t1', [{ networkId: 'n1', addresses: ['10.0.1.3/24'] }], TaskState.RUNNING)]
    const { ipam, conflicts } = rebuildIpam(networks, tasks, services)
    expect(conflicts).toEqual([])
    expect(ipam.snapshot()).toEqual({ networks: [{ id: 'n1', pools: [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1', used: ['10.0.1.2', '10.0.1.3'] }] }] })
  })

  test('an address recorded twice or on an unknown network is reported, not thrown', () => {
    const networks = [network('n1', 'a', [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1' }])]
    const tasks = [
      task('t1', [{ networkId: 'n1', addresses: ['10.0.1.3/24'] }], TaskState.RUNNING),
      task('t2', [{ networkId: 'n1', addresses: ['10.0.1.3/24'] }, { networkId: 'gone', addresses: ['10.0.9.3/24'] }], TaskState.RUNNING),
    ]
    const { ipam, conflicts } = rebuildIpam(networks, tasks, [])
    expect(conflicts.map((c) => [c.kind, c.id, c.networkId, c.address, c.error.name])).toEqual([
      ['task', 't2', 'n1', '10.0.1.3/24', 'AlreadyExistsError'],
      ['task', 't2', 'gone', '10.0.9.3/24', 'NotFoundError'],
    ])
    expect(ipam.isUsed('n1', '10.0.1.3/24')).toBe(true)
  })
})
