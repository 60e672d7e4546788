import { InvalidArgumentError, ResourceExhaustedError } from '@swarmkit-ts/api'
import type { Cluster, NetworkSpec } from '@swarmkit-ts/api'
import { describe, expect, test } from 'vitest'
import { VXLAN_ID_MAX, VXLAN_ID_OPTION, allocateNetworkIpam, networkDriverName } from '../src/ipam/index.ts'
import { network } from './ipam-fixtures.ts'

const spec = (extra: Partial<NetworkSpec> = {}): NetworkSpec => ({ annotations: { name: 'web-net' }, ...extra })

function invalid(fn: () => unknown): InvalidArgumentError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError)
    return err as InvalidArgumentError
  }
  throw new Error('expected an InvalidArgumentError')
}

function cluster(defaultAddressPool: readonly string[], subnetSize: number): Cluster {
  return {
    id: 'c',
    meta: { version: { index: 1n }, createdAt: 0, updatedAt: 0 },
    spec: { annotations: { name: 'default' } },
    rootCa: { caCert: new Uint8Array(), caCertHash: '', joinTokens: { worker: '', manager: '' } },
    defaultAddressPool,
    subnetSize,
  }
}

describe('allocateNetworkIpam', () => {
  test('a network without configs gets the lowest free /24 of 10.0.0.0/8, gateway .1, and VXLAN id 4096', () => {
    expect(allocateNetworkIpam(spec(), [], undefined)).toEqual({
      ipam: { driver: { name: 'default' }, configs: [{ family: 'ipv4', subnet: '10.0.0.0/24', gateway: '10.0.0.1' }] },
      driverState: { name: 'overlay', options: { [VXLAN_ID_OPTION]: '4096' } },
    })
  })

  test("subnets and VXLAN ids skip every existing network's", () => {
    const existing = [
      network('a', 'a', [{ subnet: '10.0.0.0/24' }], { name: 'overlay', options: { [VXLAN_ID_OPTION]: '4096' } }),
      network('b', 'b', [{ subnet: '10.0.1.0/24' }], { name: 'overlay', options: { [VXLAN_ID_OPTION]: '4098' } }),
      network('c', 'c', [{ subnet: '10.0.2.0/23' }]),
    ]
    const got = allocateNetworkIpam(spec(), existing, undefined)
    expect(got.ipam.configs).toEqual([{ family: 'ipv4', subnet: '10.0.4.0/24', gateway: '10.0.4.1' }])
    expect(got.driverState.options?.[VXLAN_ID_OPTION]).toBe('4097')
  })

  test("the cluster's default address pool and subnet size are used", () => {
    const got = allocateNetworkIpam(spec(), [], cluster(['192.168.64.0/20'], 26))
    expect(got.ipam.configs).toEqual([{ family: 'ipv4', subnet: '192.168.64.0/26', gateway: '192.168.64.1' }])
  })

  test('a user subnet, gateway and range are kept; pool subnets go around the user subnet', () => {
    const got = allocateNetworkIpam(
      spec({ ipam: { configs: [{ subnet: '10.0.0.0/24', gateway: '10.0.0.254', range: '10.0.0.128/25' }, {}] } }),
      [],
      undefined,
    )
    expect(got.ipam.configs).toEqual([
      { family: 'ipv4', subnet: '10.0.0.0/24', gateway: '10.0.0.254', range: '10.0.0.128/25' },
      { family: 'ipv4', subnet: '10.0.1.0/24', gateway: '10.0.1.1' },
    ])
    // One VXLAN id per IPv4 subnet, as libnetwork's overlay driver.
    expect(got.driverState.options?.[VXLAN_ID_OPTION]).toBe('4096,4097')
  })

  test('without a gateway, the gateway is the first address the range hands out', () => {
    const got = allocateNetworkIpam(spec({ ipam: { configs: [{ subnet: '10.9.0.0/24', range: '10.9.0.64/26' }] } }), [], undefined)
    expect(got.ipam.configs).toEqual([{ family: 'ipv4', subnet: '10.9.0.0/24', gateway: '10.9.0.64', range: '10.9.0.64/26' }])
  })

  test("a user subnet overlapping another network's is refused naming the field and the network", () => {
    const err = invalid(() => allocateNetworkIpam(spec({ ipam: { configs: [{ subnet: '10.0.1.0/24' }] } }), [network('a', 'db-net', [{ subnet: '10.0.0.0/16' }])], undefined))
    expect(err.field).toBe('ipam.configs[0].subnet')
    expect(err.message).toBe('ipam.configs[0].subnet: 10.0.1.0/24 overlaps network "db-net" (10.0.0.0/16)')
  })

  test('two configs of one spec that overlap are refused at the second', () => {
    const err = invalid(() => allocateNetworkIpam(spec({ ipam: { configs: [{ subnet: '10.5.0.0/16' }, { subnet: '10.5.3.0/24' }] } }), [], undefined))
    expect(err.message).toBe('ipam.configs[1].subnet: 10.5.3.0/24 overlaps network "web-net" (10.5.0.0/16)')
  })

  test.each([
    [{ subnet: '10.0.1.1/24' }, 'ipam.configs[0].subnet', 'ipam.configs[0].subnet: 10.0.1.1/24 has host bits set: the subnet is 10.0.1.0/24'],
    [{ family: 'ipv6', subnet: '10.0.1.0/24' }, 'ipam.configs[0].subnet', 'ipam.configs[0].subnet: 10.0.1.0/24 is not an ipv6 subnet'],
    [{ gateway: '10.0.1.1' }, 'ipam.configs[0].gateway', 'ipam.configs[0].gateway: a gateway needs a subnet to lie in'],
    [{ subnet: '10.0.1.0/24', gateway: '10.0.2.1' }, 'ipam.configs[0].gateway', 'ipam.configs[0].gateway: 10.0.2.1 is not inside subnet 10.0.1.0/24'],
    [{ subnet: '10.0.1.0/24', gateway: 'fd00::1' }, 'ipam.configs[0].gateway', 'ipam.configs[0].gateway: fd00::1 is not inside subnet 10.0.1.0/24'],
    [{ subnet: '10.0.1.0/24', gateway: '10.0.1.0' }, 'ipam.configs[0].gateway', 'ipam.configs[0].gateway: 10.0.1.0 is the network address of 10.0.1.0/24'],
    [{ subnet: '10.0.1.0/24', gateway: '10.0.1.255' }, 'ipam.configs[0].gateway', 'ipam.configs[0].gateway: 10.0.1.255 is the broadcast address of 10.0.1.0/24'],
    [{ subnet: '10.0.1.0/24', range: '10.0.0.0/23' }, 'ipam.configs[0].range', 'ipam.configs[0].range: 10.0.0.0/23 is not inside subnet 10.0.1.0/24'],
    [{ range: '10.0.0.0/25' }, 'ipam.configs[0].range', 'ipam.configs[0].range: a range needs a subnet to lie in'],
    [{ subnet: 'fd00::/64' }, 'ipam.configs[0].subnet', 'ipam.configs[0].subnet: an IPv6 pool needs the network to have ipv6Enabled'],
    [{ family: 'ipv6' }, 'ipam.configs[0].family', 'ipam.configs[0].family: an IPv6 pool needs the network to have ipv6Enabled'],
  ] as const)('config %j is refused naming %s', (config, field, message) => {
    const err = invalid(() => allocateNetworkIpam(spec({ ipam: { configs: [config] } }), [], undefined))
    expect(err.field).toBe(field)
    expect(err.message).toBe(message)
  })

  test('ipv6Enabled without configs gives a dual-stack network (IPv6 from fd00::/8 in /64)', () => {
    const got = allocateNetworkIpam(spec({ ipv6Enabled: true }), [], undefined)
    expect(got.ipam.configs).toEqual([
      { family: 'ipv4', subnet: '10.0.0.0/24', gateway: '10.0.0.1' },
      { family: 'ipv6', subnet: 'fd00::/64', gateway: 'fd00::1' },
    ])
  })

  test('a user IPv6 subnet is accepted with ipv6Enabled and validated for overlap', () => {
    const ok = allocateNetworkIpam(spec({ ipv6Enabled: true, ipam: { configs: [{ subnet: '2001:db8:1::/64' }] } }), [], undefined)
    expect(ok.ipam.configs).toEqual([{ family: 'ipv6', subnet: '2001:db8:1::/64', gateway: '2001:db8:1::1' }])
    const err = invalid(() =>
      allocateNetworkIpam(spec({ ipv6Enabled: true, ipam: { configs: [{ subnet: '2001:db8::/32' }] } }), [network('a', 'v6', [{ family: 'ipv6', subnet: '2001:db8:1::/64' }])], undefined),
    )
    expect(err.message).toBe('ipam.configs[0].subnet: 2001:db8::/32 overlaps network "v6" (2001:db8:1::/64)')
  })

  test('subnet exhaustion is a ResourceExhaustedError', () => {
    const c = cluster(['192.168.0.0/24'], 24)
    expect(() => allocateNetworkIpam(spec(), [network('a', 'a', [{ subnet: '192.168.0.0/24' }])], c)).toThrow(ResourceExhaustedError)
  })

  test('an IPAM driver other than the built-in one is refused naming ipam.driver.name', () => {
    expect(allocateNetworkIpam(spec({ ipam: { driver: { name: 'Default' } } }), [], undefined).ipam.driver).toEqual({ name: 'Default' })
    const err = invalid(() => allocateNetworkIpam(spec({ ipam: { driver: { name: 'infoblox' } } }), [], undefined))
    expect(err.field).toBe('ipam.driver.name')
    expect(err.message).toBe('ipam.driver.name: IPAM driver "infoblox" is not supported: only the built-in "default" driver is')
  })

  test('an ingress network must use the overlay driver', () => {
    const err = invalid(() => allocateNetworkIpam(spec({ ingress: true, driverConfig: { name: 'bridge' } }), [], undefined))
    expect(err.field).toBe('driverConfig.name')
    expect(err.message).toBe('driverConfig.name: only the overlay driver is supported for the ingress network')
  })

  test('a non-overlay driver gets no VXLAN id and keeps its options', () => {
    const got = allocateNetworkIpam(spec({ driverConfig: { name: 'macvlan', options: { parent: 'eth0' } } }), [], undefined)
    expect(got.driverState).toEqual({ name: 'macvlan', options: { parent: 'eth0' } })
    expect(networkDriverName(spec())).toBe('overlay')
  })

  test('a user VXLAN id is kept when free, refused naming the option when taken or out of range', () => {
    const withId = (id: string): NetworkSpec => spec({ driverConfig: { name: 'overlay', options: { [VXLAN_ID_OPTION]: id, foo: 'bar' } } })
    expect(allocateNetworkIpam(withId('5000'), [], undefined).driverState).toEqual({ name: 'overlay', options: { [VXLAN_ID_OPTION]: '5000', foo: 'bar' } })
    const taken = [network('a', 'a', [{ subnet: '10.0.0.0/24' }], { name: 'overlay', options: { [VXLAN_ID_OPTION]: '5000' } })]
    const err = invalid(() => allocateNetworkIpam(withId('5000'), taken, undefined))
    expect(err.field).toBe(`driverConfig.options["${VXLAN_ID_OPTION}"]`)
    expect(err.message).toBe(`driverConfig.options["${VXLAN_ID_OPTION}"]: VXLAN id 5000 is already in use by another network`)
    expect(invalid(() => allocateNetworkIpam(withId('12'), [], undefined)).message).toBe(
      `driverConfig.options["${VXLAN_ID_OPTION}"]: "12" is not a VXLAN id (4096-${VXLAN_ID_MAX})`,
    )
  })

  test('a subnet recorded with host bits set still counts, as its network', () => {
    const got = allocateNetworkIpam(spec(), [network('a', 'a', [{ subnet: '10.0.0.7/23' }])], undefined)
    expect(got.ipam.configs).toEqual([{ family: 'ipv4', subnet: '10.0.2.0/24', gateway: '10.0.2.1' }])
  })

  test('VXLAN id exhaustion is a ResourceExhaustedError naming the range', () => {
    const existing = [network('a', 'a', [{ subnet: '10.0.0.0/24' }], { name: 'overlay', options: { [VXLAN_ID_OPTION]: '4096,4097' } })]
    const vxlanIds = { min: 4096, max: 4098 }
    expect(allocateNetworkIpam(spec(), existing, undefined, { vxlanIds }).driverState.options?.[VXLAN_ID_OPTION]).toBe('4098')
    const full = [...existing, network('b', 'b', [{ subnet: '10.0.1.0/24' }], { name: 'overlay', options: { [VXLAN_ID_OPTION]: '4098' } })]
    let err: unknown
    try {
      allocateNetworkIpam(spec(), full, undefined, { vxlanIds })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ResourceExhaustedError)
    expect((err as ResourceExhaustedError).resource).toBe('VXLAN ids (4096-4098)')
  })

  test('the same inputs give the same allocation', () => {
    const existing = [network('a', 'a', [{ subnet: '10.0.0.0/24' }]), network('b', 'b', [{ subnet: '10.0.2.0/24' }])]
    const s = spec({ ipv6Enabled: true })
    expect(allocateNetworkIpam(s, existing, undefined)).toEqual(allocateNetworkIpam(s, existing, undefined))
  })
})
