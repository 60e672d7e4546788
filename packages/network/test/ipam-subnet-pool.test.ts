import { InvalidArgumentError, ResourceExhaustedError } from '@swarmkit-ts/api'
import { describe, expect, test } from 'vitest'
import { DEFAULT_ADDRESS_POOL, DEFAULT_SUBNET_SIZE, SubnetPool, formatSubnet, parseSubnet, validateAddressPools } from '../src/ipam/index.ts'
import { caught } from './ipam-fixtures.ts'

const net = (t: string): ReturnType<typeof parseSubnet> => parseSubnet(t, 'f')

describe('SubnetPool', () => {
  test('defaults are SwarmKit and libnetwork ones: 10.0.0.0/8 in /24', () => {
    expect(DEFAULT_ADDRESS_POOL).toEqual(['10.0.0.0/8'])
    expect(DEFAULT_SUBNET_SIZE).toBe(24)
    const pool = new SubnetPool()
    expect(['a', 'b', 'c'].map((o) => formatSubnet(pool.allocate(o)))).toEqual(['10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24'])
  })

  test('allocation takes the lowest free subnet, going around reserved ones of any size', () => {
    const pool = new SubnetPool()
    pool.reserve(net('10.0.0.0/23'), 'user', 'f')
    pool.reserve(net('10.0.3.128/25'), 'user2', 'f')
    expect(formatSubnet(pool.allocate('a'))).toBe('10.0.2.0/24')
    expect(formatSubnet(pool.allocate('b'))).toBe('10.0.4.0/24')
    pool.release('user')
    expect(formatSubnet(pool.allocate('c'))).toBe('10.0.0.0/24')
    expect(pool.owners()).toEqual(['a', 'b', 'c', 'user2'])
  })

  test('a reserved subnet overlapping one in use is refused naming the field and the owner', () => {
    const pool = new SubnetPool()
    pool.allocate('id1', 'ipv4', 'web-net')
    const err = caught(() => pool.reserve(net('10.0.0.128/25'), 'id2', 'ipam.configs[0].subnet', 'db-net'))
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('ipam.configs[0].subnet')
    expect((err as InvalidArgumentError).message).toBe('ipam.configs[0].subnet: 10.0.0.128/25 overlaps network "web-net" (10.0.0.0/24)')
  })

  test('configured pools are used in order, with the configured size', () => {
    const pool = new SubnetPool({ pools: ['192.168.0.0/23', '172.16.0.0/16'], subnetSize: 24 })
    expect(['a', 'b', 'c'].map((o) => formatSubnet(pool.allocate(o)))).toEqual(['192.168.0.0/24', '192.168.1.0/24', '172.16.0.0/24'])
  })

  test('exhaustion is a ResourceExhaustedError naming the pools', () => {
    const pool = new SubnetPool({ pools: ['192.168.0.0/24'], subnetSize: 25 })
    pool.allocate('a')
    pool.allocate('b')
    const err = caught(() => pool.allocate('c'))
    expect(err).toBeInstanceOf(ResourceExhaustedError)
    expect((err as ResourceExhaustedError).resource).toBe('subnets of 192.168.0.0/24 in /25')
  })

  test('IPv6 subnets come from fd00::/8 in /64 unless IPv6 pools are configured', () => {
    const pool = new SubnetPool()
    expect(formatSubnet(pool.allocate('a', 'ipv6'))).toBe('fd00::/64')
    expect(formatSubnet(pool.allocate('b', 'ipv6'))).toBe('fd00:0:0:1::/64')
    const custom = new SubnetPool({ ipv6Pools: ['2001:db8::/48'], ipv6SubnetSize: 56 })
    expect(formatSubnet(custom.allocate('a', 'ipv6'))).toBe('2001:db8::/56')
  })

  test('release frees every subnet of an owner', () => {
    const pool = new SubnetPool()
    pool.allocate('a')
    pool.allocate('a', 'ipv6')
    expect(pool.release('a')).toBe(2)
    expect(pool.owners()).toEqual([])
  })
})

describe('validateAddressPools', () => {
  test('a pool that is not a CIDR names defaultAddressPool[i]', () => {
    const err = caught(() => new SubnetPool({ pools: ['10.0.0.0/8', '10.20.0.0'] }))
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('defaultAddressPool[1]')
  })

  test('a subnet size above 29 for an IPv4 pool names subnetSize', () => {
    const err = caught(() => new SubnetPool({ pools: ['10.0.0.0/8'], subnetSize: 30 }))
    expect((err as InvalidArgumentError).field).toBe('subnetSize')
    expect((err as InvalidArgumentError).message).toBe('subnetSize: subnet size 30 is out of range: at most 29 for IPv4 pools')
  })

  test('a subnet size smaller than a pool prefix names that pool', () => {
    const err = caught(() => validateAddressPools(['10.0.0.0/8', '192.168.0.0/16'], 12))
    expect((err as InvalidArgumentError).field).toBe('defaultAddressPool[1]')
    expect((err as InvalidArgumentError).message).toBe('defaultAddressPool[1]: subnet size 12 is too small for pool 192.168.0.0/16')
  })

  test('a non-integer subnet size is refused', () => {
    expect(() => validateAddressPools(['10.0.0.0/8'], 24.5)).toThrow('subnetSize: 24.5 is not a valid subnet size')
  })

  test('a subnet size of 0 means the default', () => {
    expect(formatSubnet(new SubnetPool({ subnetSize: 0 }).allocate('a'))).toBe('10.0.0.0/24')
  })
})
