import fc from 'fast-check'
import type { IpamConfig, IpamOptions, NetworkSpec } from '@swarmkit-ts/api'
import { arbAnnotations, arbDriver, arbLabels, arbWord, items, rec } from './primitives.ts'

function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`
}

/** An IPv4 pool: a canonical subnet (/8–/28), maybe with a gateway and a range inside it. */
function arbIpv4Pool(): fc.Arbitrary<IpamConfig> {
  return fc
    .tuple(fc.nat(0xffffffff), fc.integer({ min: 8, max: 28 }), fc.nat(), fc.nat(), fc.nat(), fc.boolean(), fc.boolean(), fc.boolean())
    .map(([n, bits, g, rb, rm, withGateway, withRange, withFamily]) => {
      const hostBits = 32 - bits
      const net = (n & ((0xffffffff << hostBits) >>> 0)) >>> 0
      const size = 2 ** hostBits
      const config: IpamConfig = { subnet: `${ipv4(net)}/${bits}` }
      if (withFamily) config.family = 'ipv4'
      if (withGateway) config.gateway = ipv4(net + 1 + (g % (size - 2)))
      if (withRange) {
        const rangeBits = bits + (rb % (hostBits + 1))
        const offset = (rm % 2 ** (rangeBits - bits)) * 2 ** (32 - rangeBits)
        config.range = `${ipv4(net + offset)}/${rangeBits}`
      }
      return config
    })
}

/** An IPv6 pool under fd00::/8: a /64 subnet, maybe with a gateway and a /80 range inside it. */
function arbIpv6Pool(): fc.Arbitrary<IpamConfig> {
  const group = fc.integer({ min: 1, max: 0xffff }).map((x) => x.toString(16))
  return fc
    .tuple(group, group, fc.integer({ min: 0, max: 0xffff }), fc.boolean(), fc.boolean())
    .map(([a, b, c, withGateway, withRange]) => {
      const prefix = `fd00:${a}:${b}:`
      const config: IpamConfig = { family: 'ipv6', subnet: `${prefix}:/64` }
      if (withGateway) config.gateway = `${prefix}:1`
      if (withRange) config.range = c === 0 ? `${prefix}:/80` : `${prefix}0:${c.toString(16)}::/80`
      return config
    })
}

/** A valid IPAM pool without reserved addresses: a subnet, maybe a gateway and a range inside it (IPv4 or IPv6). */
export function arbIpamPool(): fc.Arbitrary<IpamConfig> {
  return fc.oneof({ arbitrary: arbIpv4Pool(), weight: 3 }, { arbitrary: arbIpv6Pool(), weight: 1 })
}

/** A valid {@link IpamConfig} (see {@link arbIpamPool}), possibly with reserved addresses. */
export function arbIpamConfig(): fc.Arbitrary<IpamConfig> {
  return fc
    .tuple(arbIpamPool(), fc.option(arbLabels(), { nil: undefined }))
    .map(([pool, reserved]) => (reserved === undefined ? pool : { ...pool, reserved }))
}

/** A valid {@link NetworkSpec}: an ingress network is never attachable. */
export function arbNetworkSpec(): fc.Arbitrary<NetworkSpec> {
  const ipam = rec<IpamOptions>({ driver: arbDriver(), configs: items(arbIpamConfig()) }, [])
  return rec<NetworkSpec>(
    {
      annotations: arbAnnotations(),
      driverConfig: arbDriver(),
      ipv6Enabled: fc.boolean(),
      internal: fc.boolean(),
      ipam,
      attachable: fc.boolean(),
      ingress: fc.boolean(),
      configFrom: arbWord(),
    },
    ['annotations'],
  ).map((spec) => {
    if (spec.ingress !== true || spec.attachable !== true) return spec
    const { attachable: _attachable, ...rest } = spec
    return rest
  })
}
