/**
 * Placement constraints: `<key> <op> <value>` expressions that restrict which nodes may run a
 * service's tasks, e.g. `node.role == manager` or `node.labels.zone != east`.
 *
 * Grammar (SwarmKit's, with stricter checks at parse time):
 * - The expression is split at the first occurrence of `==` or `!=`; whitespace around the key,
 *   the operator and the value is optional and trimmed. No other operator exists.
 * - Keys are case-insensitive: `node.id`, `node.hostname`, `node.ip`, `node.role`,
 *   `node.platform.os`, `node.platform.arch`, `node.labels.<name>`, `engine.labels.<name>`.
 *   A label name is one or more of `[A-Za-z0-9_.-]` and keeps its case (label lookup is exact).
 * - A value is one or more of `[A-Za-z0-9]`, `- _ . : / * ( ) ? + [ ] \ ^ $ |`, and inner spaces
 *   or tabs (SwarmKit's value alphabet). It can never contain `=`, `!`, `<`, `>` or `~`, so an
 *   expression holds exactly one operator.
 * - `node.role` takes `manager` or `worker`; `node.ip` takes an IPv4/IPv6 address or CIDR.
 *
 * Values are compared case-insensitively, label values included (as SwarmKit does); only the
 * label name is looked up exactly. A missing attribute or label fails `==` and satisfies `!=`.
 */
import { InvalidArgumentError } from './errors.ts'
import type { Node } from './objects.ts'

/** Comparison operators of a placement constraint. */
export const ConstraintOperator = { EQ: '==', NE: '!=' } as const
/** Comparison operator of a placement constraint. */
export type ConstraintOperator = (typeof ConstraintOperator)[keyof typeof ConstraintOperator]

/** A parsed placement constraint. */
export interface Constraint {
  /** The key as written, e.g. `node.labels.zone`. */
  key: string
  operator: ConstraintOperator
  /** The expected value as written (trimmed). */
  value: string
}

/** The constraint keys that name a fixed node attribute (lower case; keys match case-insensitively). */
export const CONSTRAINT_KEYS = [
  'node.id',
  'node.hostname',
  'node.ip',
  'node.role',
  'node.platform.os',
  'node.platform.arch',
] as const

/** Key prefixes followed by a label name: node labels (from the node spec) and engine labels. */
export const CONSTRAINT_LABEL_PREFIXES = ['node.labels.', 'engine.labels.'] as const

const LABEL_NAME = /^[A-Za-z0-9_.-]+$/
const VALUE = /^[A-Za-z0-9\-_.:/*()?+[\]\\^$|]([A-Za-z0-9\-_.:/*()?+[\]\\^$| \t]*[A-Za-z0-9\-_.:/*()?+[\]\\^$|])?$/
const OPERATOR_CHARS = /[=!<>~]/

/** Parses one expression; throws `InvalidArgumentError` naming `field`. */
export function parseConstraint(expression: string, field = 'constraint'): Constraint {
  const fail = (what: string): never => {
    throw new InvalidArgumentError(field, `${what} in constraint ${JSON.stringify(expression)}`)
  }
  if (expression.trim() === '') fail('empty expression')
  const eq = expression.indexOf('==')
  const ne = expression.indexOf('!=')
  const at = eq < 0 ? ne : ne < 0 ? eq : Math.min(eq, ne)
  if (at < 0) {
    fail(OPERATOR_CHARS.test(expression) ? 'unsupported operator (use == or !=)' : 'missing operator (== or !=)')
  }
  const operator = expression.slice(at, at + 2) as ConstraintOperator
  const key = expression.slice(0, at).trim()
  const value = expression.slice(at + 2).trim()
  if (key === '') fail('missing key')
  if (OPERATOR_CHARS.test(key)) fail(`unsupported operator after key ${JSON.stringify(key)} (use == or !=)`)
  if (value === '') fail('missing value')
  if (OPERATOR_CHARS.test(value.charAt(0))) fail(`unsupported operator ${JSON.stringify(operator + value.charAt(0))} (use == or !=)`)
  if (value.includes('==') || value.includes('!=')) fail('more than one operator')
  if (!VALUE.test(value)) fail(`value ${JSON.stringify(value)} has characters outside [A-Za-z0-9-_.:/*()?+[]\\^$|] and inner spaces`)

  const lower = key.toLowerCase()
  const prefix = CONSTRAINT_LABEL_PREFIXES.find((p) => lower.startsWith(p))
  if (prefix !== undefined) {
    const name = key.slice(prefix.length)
    if (name === '') fail(`missing label name after ${JSON.stringify(prefix)}`)
    if (!LABEL_NAME.test(name)) fail(`label name ${JSON.stringify(name)} has characters outside [A-Za-z0-9_.-]`)
  } else if (!(CONSTRAINT_KEYS as readonly string[]).includes(lower)) {
    fail(`unknown key ${JSON.stringify(key)} (expected one of ${CONSTRAINT_KEYS.join(', ')}, node.labels.<name>, engine.labels.<name>)`)
  } else if (lower === 'node.role' && !['manager', 'worker'].includes(value.toLowerCase())) {
    fail(`node.role must be manager or worker, not ${JSON.stringify(value)}`)
  } else if (lower === 'node.ip' && parseIpOrCidr(value) === undefined) {
    fail(`node.ip must be an IP address or CIDR, not ${JSON.stringify(value)}`)
  }
  return { key, operator, value }
}

/** Parses a list of expressions; a bad one throws `InvalidArgumentError` naming `${field}[i]`. */
export function parseConstraints(expressions: readonly string[], field = 'constraints'): Constraint[] {
  return expressions.map((e, i) => parseConstraint(e, `${field}[${i}]`))
}

/** Formats a constraint as `key op value`; `parseConstraint(formatConstraint(c))` gives back `c`. */
export function formatConstraint(constraint: Constraint): string {
  return `${constraint.key} ${constraint.operator} ${constraint.value}`
}

/**
 * Whether `node` satisfies every constraint. A constraint with an unknown key or a malformed
 * `node.ip` value (only possible when built by hand, not by {@link parseConstraint}) never holds.
 */
export function matchConstraints(constraints: readonly Constraint[], node: Node): boolean {
  return constraints.every((c) => matchOne(c, node))
}

function matchOne(c: Constraint, node: Node): boolean {
  const holds = (equal: boolean): boolean => (c.operator === ConstraintOperator.EQ ? equal : !equal)
  const folded = (actual: string | undefined): boolean => holds(actual !== undefined && actual.toLowerCase() === c.value.toLowerCase())
  const lower = c.key.toLowerCase()
  const d = node.description
  switch (lower) {
    case 'node.id':
      return folded(node.id)
    case 'node.hostname':
      return folded(d?.hostname)
    case 'node.role':
      return folded(node.role)
    case 'node.platform.os':
      return folded(d?.platform?.os)
    case 'node.platform.arch': {
      const arch = d?.platform?.architecture
      return holds(arch !== undefined && normaliseArch(arch) === normaliseArch(c.value))
    }
    case 'node.ip': {
      const want = parseIpOrCidr(c.value)
      if (want === undefined) return false
      const ip = node.status.addr === undefined ? undefined : parseIp(hostOf(node.status.addr))
      return holds(ip !== undefined && prefixEqual(want.ip, ip, want.bits))
    }
  }
  if (lower.startsWith('node.labels.')) return folded(ownLabel(node.spec.annotations.labels, c.key.slice('node.labels.'.length)))
  if (lower.startsWith('engine.labels.')) return folded(ownLabel(d?.engine?.labels, c.key.slice('engine.labels.'.length)))
  return false
}

/** A label's value, looking only at the map's own keys (never `constructor`, `valueOf`, … from the prototype). */
function ownLabel(labels: Readonly<Record<string, string>> | undefined, name: string): string | undefined {
  return labels !== undefined && Object.hasOwn(labels, name) ? labels[name] : undefined
}

/** Maps the kernel's architecture names to Go's, as SwarmKit's platform filter does. */
function normaliseArch(arch: string): string {
  const a = arch.toLowerCase()
  return a === 'x86_64' ? 'amd64' : a === 'aarch64' ? 'arm64' : a
}

/** The host part of `host`, `host:port`, `[v6]:port` or a bare IPv6 address, without a zone. */
function hostOf(addr: string): string {
  let host = addr
  if (addr.startsWith('[')) {
    const end = addr.indexOf(']')
    host = end < 0 ? addr : addr.slice(1, end)
  } else if (addr.includes(':') && addr.indexOf(':') === addr.lastIndexOf(':')) {
    host = addr.slice(0, addr.indexOf(':'))
  }
  const zone = host.indexOf('%')
  return zone < 0 ? host : host.slice(0, zone)
}

/** An address as 16 bytes (IPv4 as IPv4-mapped IPv6, so `1.2.3.4` equals `::ffff:1.2.3.4`). */
type Ip16 = number[]

/** Parses an address (`bits` 128) or a CIDR (`bits` = prefix length in the 16-byte form). */
function parseIpOrCidr(s: string): { ip: Ip16; bits: number } | undefined {
  const slash = s.indexOf('/')
  if (slash < 0) {
    const ip = parseIp(s)
    return ip === undefined ? undefined : { ip, bits: 128 }
  }
  const addr = s.slice(0, slash)
  const len = s.slice(slash + 1)
  const ip = parseIp(addr)
  if (ip === undefined || !/^(0|[1-9][0-9]{0,2})$/.test(len)) return undefined
  const v4 = !addr.includes(':')
  const bits = Number(len) + (v4 ? 96 : 0)
  return Number(len) > (v4 ? 32 : 128) ? undefined : { ip, bits }
}

function parseIp(s: string): Ip16 | undefined {
  if (!s.includes(':')) {
    const v4 = parseIpv4(s)
    return v4 === undefined ? undefined : [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]
  }
  const halves = s.split('::')
  if (halves.length > 2) return undefined
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')))
  const words: number[][] = []
  for (const part of groups) {
    const out: number[] = []
    for (const [i, g] of part.entries()) {
      const isLast = part === groups[groups.length - 1] && i === part.length - 1
      const v4 = isLast && g.includes('.') ? parseIpv4(g) : undefined
      if (v4 !== undefined) out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!)
      else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16))
      else return undefined
    }
    words.push(out)
  }
  const head = words[0] ?? []
  const tail = words[1] ?? []
  const total = head.length + tail.length
  if (words.length === 2 ? total > 7 : total !== 8) return undefined
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...tail]
  return all.flatMap((w) => [w >> 8, w & 0xff])
}

function parseIpv4(s: string): number[] | undefined {
  const parts = s.split('.')
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p))) return undefined
  const bytes = parts.map(Number)
  return bytes.every((b) => b <= 255) ? bytes : undefined
}

/** Whether the first `bits` bits of `a` and `b` agree. */
function prefixEqual(a: Ip16, b: Ip16, bits: number): boolean {
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if (((a[i] ?? 0) & mask) !== ((b[i] ?? 0) & mask)) return false
  }
  return true
}
