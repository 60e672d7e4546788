import { InvalidArgumentError } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  formatAddress,
  formatAttachmentAddress,
  formatSubnet,
  parseAddress,
  parseAttachmentAddress,
  parseSubnet,
  subnetContains,
  subnetsOverlap,
} from '../src/ipam/index.ts'

function invalid(fn: () => unknown): InvalidArgumentError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError)
    return err as InvalidArgumentError
  }
  throw new Error('expected an InvalidArgumentError')
}

describe('addresses', () => {
  test('IPv4 addresses parse to their 32-bit value and format back', () => {
    expect(parseAddress('10.0.1.5', 'f')).toEqual({ family: 'ipv4', value: 0x0a000105n })
    expect(parseAddress('255.255.255.255', 'f')).toEqual({ family: 'ipv4', value: 0xffffffffn })
    expect(formatAddress({ family: 'ipv4', value: 0x0a000105n })).toBe('10.0.1.5')
  })

  test('IPv6 addresses format in RFC 5952 canonical form', () => {
    const cases: [string, string][] = [
      ['::', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['FD00:0:0:0:0:0:0:5', 'fd00::5'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
      ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], // the longest run wins
      ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
      ['::ffff:a00:1', '::ffff:10.0.0.1'],
      ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ]
    for (const [text, canonical] of cases) expect(formatAddress(parseAddress(text, 'f'))).toBe(canonical)
  })

  test('malformed addresses are refused naming the field', () => {
    for (const text of ['', '10.0.1', '10.0.1.256', '010.0.0.1', '10.0.0.1 ', '1:2:3:4:5:6:7:8:9', '1::2::3', ':::', 'fe80::1%eth0', '1:2:3:4:5:6:7::8:9', 'g::1', '::1.2.3']) {
      const err = invalid(() => parseAddress(text, 'ipam.configs[0].gateway'))
      expect(err.field).toBe('ipam.configs[0].gateway')
      expect(err.message).toBe(`ipam.configs[0].gateway: ${JSON.stringify(text)} is not a valid IPv4 or IPv6 address`)
    }
  })

  test('formatting then parsing any address gives it back', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (v6, v4) => {
        expect(parseAddress(formatAddress({ family: 'ipv6', value: v6 }), 'f')).toEqual({ family: 'ipv6', value: v6 })
        expect(parseAddress(formatAddress({ family: 'ipv4', value: v4 }), 'f')).toEqual({ family: 'ipv4', value: v4 })
      }),
      { numRuns: 500 },
    )
  })
})

describe('subnets', () => {
  test('a CIDR parses to its base and prefix and formats back', () => {
    expect(parseSubnet('10.0.1.0/24', 'f')).toEqual({ family: 'ipv4', base: 0x0a000100n, prefix: 24 })
    expect(formatSubnet(parseSubnet('fd00:0::/64', 'f'))).toBe('fd00::/64')
    expect(parseSubnet('0.0.0.0/0', 'f')).toEqual({ family: 'ipv4', base: 0n, prefix: 0 })
  })

  test('a subnet with host bits set is refused, naming the subnet it meant', () => {
    const err = invalid(() => parseSubnet('10.0.1.1/24', 'ipam.configs[0].subnet'))
    expect(err.field).toBe('ipam.configs[0].subnet')
    expect(err.message).toBe('ipam.configs[0].subnet: 10.0.1.1/24 has host bits set: the subnet is 10.0.1.0/24')
  })

  test('malformed CIDRs are refused naming the field', () => {
    for (const text of ['10.0.1.0', '10.0.1.0/33', 'fd00::/129', '10.0.1.0/', '10.0.1.0/024', 'x/24']) {
      const err = invalid(() => parseSubnet(text, 'defaultAddressPool[0]'))
      expect(err.message).toBe(`defaultAddressPool[0]: ${JSON.stringify(text)} is not a valid CIDR subnet`)
    }
  })

  test('containment holds for addresses and subnets of the same family only', () => {
    const s = parseSubnet('10.0.0.0/16', 'f')
    expect(subnetContains(s, parseAddress('10.0.255.255', 'f'))).toBe(true)
    expect(subnetContains(s, parseAddress('10.1.0.0', 'f'))).toBe(false)
    expect(subnetContains(s, parseSubnet('10.0.4.0/24', 'f'))).toBe(true)
    expect(subnetContains(s, parseSubnet('10.0.0.0/8', 'f'))).toBe(false)
    expect(subnetContains(parseSubnet('::/0', 'f'), parseAddress('10.0.0.1', 'f'))).toBe(false)
  })

  test('subnets overlap when they share an address', () => {
    const p = (t: string): ReturnType<typeof parseSubnet> => parseSubnet(t, 'f')
    expect(subnetsOverlap(p('10.0.0.0/8'), p('10.3.0.0/16'))).toBe(true)
    expect(subnetsOverlap(p('10.0.1.0/24'), p('10.0.2.0/24'))).toBe(false)
    expect(subnetsOverlap(p('10.0.1.0/24'), p('10.0.1.128/25'))).toBe(true)
    expect(subnetsOverlap(p('fd00::/64'), p('fd00::/8'))).toBe(true)
    expect(subnetsOverlap(p('0.0.0.0/0'), p('::/0'))).toBe(false)
  })
})

describe('attachment addresses', () => {
  test('an attachment address is the address with its subnet prefix', () => {
    expect(parseAttachmentAddress('10.0.1.5/24')).toEqual({ address: { family: 'ipv4', value: 0x0a000105n }, prefix: 24 })
    expect(formatAttachmentAddress({ family: 'ipv6', value: 5n }, 64)).toBe('::5/64')
  })

  test('an attachment address without a prefix is refused naming the field', () => {
    const err = invalid(() => parseAttachmentAddress('10.0.1.5', 'networks[0].addresses[0]'))
    expect(err.message).toBe('networks[0].addresses[0]: "10.0.1.5" is not a valid address with a prefix length (like 10.0.1.5/24)')
  })
})
