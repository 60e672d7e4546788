/**
 * IPv4 and IPv6 addresses and subnets as `bigint` values: parsing (strict, with the offending
 * field named), canonical formatting (IPv6 in RFC 5952 form), containment and overlap, and the
 * CIDR-style attachment addresses the store records (`'10.0.1.5/24'`).
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

/** An address family. */
export type AddressFamily = 'ipv4' | 'ipv6'

/** An IP address: its family and its value as an unsigned integer (32 or 128 bits). */
export interface IpAddress {
  readonly family: AddressFamily
  readonly value: bigint
}

/** A subnet: its family, its network address `base` (no host bits set) and its prefix length. */
export interface Subnet {
  readonly family: AddressFamily
  readonly base: bigint
  readonly prefix: number
}

/** An address with the prefix length of its subnet, as a task attachment or a VIP records it. */
export interface AttachmentAddress {
  readonly address: IpAddress
  readonly prefix: number
}

/** Number of bits of an address of `family`: 32 or 128. */
export function addressBits(family: AddressFamily): number {
  return family === 'ipv4' ? 32 : 128
}

/** Number of addresses in `subnet` (2^(bits − prefix)). */
export function subnetSize(subnet: Subnet): bigint {
  return 1n << BigInt(addressBits(subnet.family) - subnet.prefix)
}

/** The last address of `subnet` (its broadcast address for IPv4). */
export function subnetLast(subnet: Subnet): bigint {
  return subnet.base + subnetSize(subnet) - 1n
}

/** True when `inner` (an address or a subnet) lies entirely inside `outer`; families must match. */
export function subnetContains(outer: Subnet, inner: IpAddress | Subnet): boolean {
  if (outer.family !== inner.family) return false
  if ('value' in inner) return inner.value >= outer.base && inner.value <= subnetLast(outer)
  return inner.prefix >= outer.prefix && inner.base >= outer.base && subnetLast(inner) <= subnetLast(outer)
}

/** True when the two subnets share at least one address (never across families). */
export function subnetsOverlap(a: Subnet, b: Subnet): boolean {
  return a.family === b.family && a.base <= subnetLast(b) && b.base <= subnetLast(a)
}

/** The smallest subnet of `prefix` bits containing `value` (host bits cleared). */
export function subnetOf(family: AddressFamily, value: bigint, prefix: number): Subnet {
  const hostBits = BigInt(addressBits(family) - prefix)
  return { family, base: (value >> hostBits) << hostBits, prefix }
}

// ---------------------------------------------------------------- parsing

function bad(field: string, text: string, what: string): InvalidArgumentError {
  return new InvalidArgumentError(field, `${JSON.stringify(text)} is not a valid ${what}`)
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  let value = 0n
  for (const part of parts) {
    // Leading zeros are refused, as Go's netip does (they once meant octal).
    if (!DECIMAL_OCTET.test(part)) return undefined
    const n = Number(part)
    if (n > 255) return undefined
    value = (value << 8n) | BigInt(n)
  }
  return value
}

function parseGroups(text: string): bigint[] | undefined {
  if (text === '') return []
  const out: bigint[] = []
  for (const g of text.split(':')) {
    if (!HEX_GROUP.test(g)) return undefined
    out.push(BigInt(`0x${g}`))
  }
  return out
}

function parseIpv6(text: string): bigint | undefined {
  let body = text
  let tail: bigint[] = []
  // An embedded IPv4 address in the last 32 bits (`::ffff:10.0.0.1`).
  const lastColon = body.lastIndexOf(':')
  if (lastColon >= 0 && body.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(body.slice(lastColon + 1))
    if (v4 === undefined) return undefined
    tail = [v4 >> 16n, v4 & 0xffffn]
    body = body.slice(0, lastColon + 1)
    // Keep `::` intact; a single trailing ':' belonged to the IPv4 part.
    if (!body.endsWith('::')) body = body.slice(0, -1)
  }
  const halves = body.split('::')
  if (halves.length > 2) return undefined
  let groups: bigint[]
  if (halves.length === 2) {
    const head = parseGroups(halves[0] ?? '')
    const rest = parseGroups(halves[1] ?? '')
    if (head === undefined || rest === undefined) return undefined
    const missing = 8 - head.length - rest.length - tail.length
    // `::` stands for at least one zero group.
    if (missing < 1) return undefined
    groups = [...head, ...new Array<bigint>(missing).fill(0n), ...rest, ...tail]
  } else {
    const all = parseGroups(body)
    if (all === undefined) return undefined
    groups = [...all, ...tail]
  }
  if (groups.length !== 8) return undefined
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n)
}

/** Parses an IPv4 or IPv6 address (no prefix, no zone); `InvalidArgumentError(field)` otherwise. */
export function parseAddress(text: string, field: string): IpAddress {
  if (typeof text === 'string') {
    if (text.includes(':')) {
      const value = parseIpv6(text)
      if (value !== undefined) return { family: 'ipv6', value }
    } else {
      const value = parseIpv4(text)
      if (value !== undefined) return { family: 'ipv4', value }
    }
  }
  throw bad(field, String(text), 'IPv4 or IPv6 address')
}

function splitPrefix(text: string, field: string, what: string): { address: IpAddress; prefix: number } {
  const slash = typeof text === 'string' ? text.indexOf('/') : -1
  if (slash < 0) throw bad(field, String(text), what)
  const prefixText = text.slice(slash + 1)
  let address: IpAddress
  try {
    address = parseAddress(text.slice(0, slash), field)
  } catch {
    throw bad(field, text, what)
  }
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > addressBits(address.family)) throw bad(field, text, what)
  return { address, prefix: Number(prefixText) }
}

/**
 * Parses a CIDR subnet (`'10.0.1.0/24'`, `'fd00::/64'`). `InvalidArgumentError(field)` when the
 * text is not a CIDR or has host bits set (`'10.0.1.1/24'`: a subnet is named by its network address).
 */
export function parseSubnet(text: string, field: string): Subnet {
  const { address, prefix } = splitPrefix(text, field, 'CIDR subnet')
  const subnet = subnetOf(address.family, address.value, prefix)
  if (subnet.base !== address.value) {
    throw new InvalidArgumentError(field, `${text} has host bits set: the subnet is ${formatSubnet(subnet)}`)
  }
  return subnet
}

/** Parses a CIDR-style attachment address (`'10.0.1.5/24'`); `InvalidArgumentError(field)` otherwise. */
export function parseAttachmentAddress(text: string, field = 'address'): AttachmentAddress {
  return splitPrefix(text, field, 'address with a prefix length (like 10.0.1.5/24)')
}

// ---------------------------------------------------------------- formatting

/** Formats an address: dotted decimal, or IPv6 in RFC 5952 canonical form (IPv4-mapped as `::ffff:a.b.c.d`). */
export function formatAddress(a: IpAddress): string {
  if (a.family === 'ipv4') return formatIpv4(a.value)
  const groups: number[] = []
  for (let i = 7; i >= 0; i--) groups.push(Number((a.value >> BigInt(i * 16)) & 0xffffn))
  if (a.value >> 32n === 0xffffn) return `::ffff:${formatIpv4(a.value & 0xffffffffn)}`
  // RFC 5952 §4.2: compress the longest run of two or more zero groups (the first on a tie).
  let bestStart = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':')
  if (bestStart < 0) return hex(groups)
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`
}

function formatIpv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.')
}

/** Formats a subnet as CIDR (`'10.0.1.0/24'`). */
export function formatSubnet(s: Subnet): string {
  return `${formatAddress({ family: s.family, value: s.base })}/${s.prefix}`
}

/** Formats an attachment address (`'10.0.1.5/24'`): the address with its subnet's prefix length. */
export function formatAttachmentAddress(addr: IpAddress, prefix: number): string {
  return `${formatAddress(addr)}/${prefix}`
}

/** Compares two addresses: by family (IPv4 first), then by value. */
export function compareAddresses(a: IpAddress, b: IpAddress): number {
  if (a.family !== b.family) return a.family === 'ipv4' ? -1 : 1
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0
}
