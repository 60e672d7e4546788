import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CONSTRAINT_KEYS,
  formatConstraint,
  matchConstraints,
  parseConstraint,
  parseConstraints,
  type Constraint,
  type Node,
} from '../src/index.ts'

interface NodeInit {
  id?: string
  hostname?: string
  addr?: string
  role?: Node['role']
  os?: string
  arch?: string
  labels?: Record<string, string>
  engineLabels?: Record<string, string>
  noDescription?: boolean
}

/** A node fixture with only the fields constraints look at. */
function node(init: NodeInit = {}): Node {
  const n: Node = {
    id: init.id ?? 'n1abc',
    meta: { version: { index: 1n }, createdAt: 0, updatedAt: 0 },
    spec: {
      annotations: { name: 'n1', ...(init.labels === undefined ? {} : { labels: init.labels }) },
      desiredRole: init.role ?? 'worker',
      membership: 'accepted',
      availability: 'active',
    },
    status: { state: 'ready', ...(init.addr === undefined ? {} : { addr: init.addr }) },
    role: init.role ?? 'worker',
  }
  if (init.noDescription !== true) {
    n.description = {
      ...(init.hostname === undefined ? {} : { hostname: init.hostname }),
      platform: {
        ...(init.os === undefined ? {} : { os: init.os }),
        ...(init.arch === undefined ? {} : { architecture: init.arch }),
      },
      ...(init.engineLabels === undefined ? {} : { engine: { labels: init.engineLabels } }),
    }
  }
  return n
}

const c = (key: string, operator: '==' | '!=', value: string): Constraint => ({ key, operator, value })

describe('parseConstraint accepts', () => {
  const accepted: [string, Constraint][] = [
    ['node.id==abc123', c('node.id', '==', 'abc123')],
    ['node.id != abc123', c('node.id', '!=', 'abc123')],
    ['  node.hostname   ==   web-1.example.com  ', c('node.hostname', '==', 'web-1.example.com')],
    ['node.role == manager', c('node.role', '==', 'manager')],
    ['Node.Role==WORKER', c('Node.Role', '==', 'WORKER')],
    ['node.platform.os == linux', c('node.platform.os', '==', 'linux')],
    ['node.platform.arch != x86_64', c('node.platform.arch', '!=', 'x86_64')],
    ['node.ip == 10.0.0.1', c('node.ip', '==', '10.0.0.1')],
    ['node.ip != 192.168.0.0/16', c('node.ip', '!=', '192.168.0.0/16')],
    ['node.ip == 2001:db8::1', c('node.ip', '==', '2001:db8::1')],
    ['node.ip == 2001:db8::/32', c('node.ip', '==', '2001:db8::/32')],
    ['node.ip == ::ffff:10.0.0.1', c('node.ip', '==', '::ffff:10.0.0.1')],
    ['node.ip == 0.0.0.0/0', c('node.ip', '==', '0.0.0.0/0')],
    ['node.labels.zone == east', c('node.labels.zone', '==', 'east')],
    ['NODE.LABELS.Zone==East', c('NODE.LABELS.Zone', '==', 'East')],
    ['node.labels.com.example.tier_1-a != Gold', c('node.labels.com.example.tier_1-a', '!=', 'Gold')],
    ['engine.labels.storage == ssd', c('engine.labels.storage', '==', 'ssd')],
    ['engine.labels.path == /var/lib:rw', c('engine.labels.path', '==', '/var/lib:rw')],
    ['node.labels.name == my value', c('node.labels.name', '==', 'my value')],
    ['node.labels.glob == a*(b)?+[c]\\^$|d', c('node.labels.glob', '==', 'a*(b)?+[c]\\^$|d')],
    ['node.labels.a!=b', c('node.labels.a', '!=', 'b')],
  ]
  it.each(accepted)('%j', (expression, expected) => {
    expect(parseConstraint(expression)).toEqual(expected)
  })

  it('parses a list, keeping order', () => {
    expect(parseConstraints(['node.role==manager', 'node.labels.zone!=east'])).toEqual([
      c('node.role', '==', 'manager'),
      c('node.labels.zone', '!=', 'east'),
    ])
    expect(parseConstraints([])).toEqual([])
  })

  it('exposes the fixed keys', () => {
    expect(CONSTRAINT_KEYS).toEqual(['node.id', 'node.hostname', 'node.ip', 'node.role', 'node.platform.os', 'node.platform.arch'])
  })
})

describe('parseConstraint rejects', () => {
  const rejected: [string, string][] = [
    ['', 'empty expression'],
    ['   ', 'empty expression'],
    ['node.role manager', 'missing operator'],
    ['node.role = manager', 'unsupported operator'],
    ['node.role < manager', 'unsupported operator'],
    ['node.role >= manager', 'unsupported operator'],
    ['node.role ~= manager', 'unsupported operator'],
    ['node.role <== manager', 'unsupported operator'],
    ['node.role !== manager', 'unsupported operator'],
    ['node.role === manager', 'unsupported operator'],
    ['node.labels.a == b == c', 'more than one operator'],
    ['node.labels.a == b != c', 'more than one operator'],
    ['== manager', 'missing key'],
    ['node.role ==', 'missing value'],
    ['node.role ==   ', 'missing value'],
    ['node.name == x', 'unknown key "node.name"'],
    ['node == x', 'unknown key "node"'],
    ['labels.zone == x', 'unknown key "labels.zone"'],
    ['node.platform == linux', 'unknown key "node.platform"'],
    ['node.labels. == x', 'missing label name'],
    ['engine.labels. == x', 'missing label name'],
    ['node.labels.a b == x', 'label name "a b"'],
    ['node.labels.a/b == x', 'label name "a/b"'],
    ['node.labels.zone == a=b', 'value "a=b"'],
    ['node.labels.zone == "east"', 'value "\\"east\\""'],
    ['node.labels.zone == a,b', 'value "a,b"'],
    ['node.labels.zone == a@b', 'value "a@b"'],
    ['node.labels.zone == a\nb', 'value "a\\nb"'],
    ['node.labels.zone == é', 'value "é"'],
    ['node.role == leader', 'node.role must be manager or worker'],
    ['node.ip == host.example', 'node.ip must be an IP address or CIDR'],
    ['node.ip == 10.0.0.256', 'node.ip must be an IP address or CIDR'],
    ['node.ip == 10.0.0', 'node.ip must be an IP address or CIDR'],
    ['node.ip == 010.0.0.1', 'node.ip must be an IP address or CIDR'],
    ['node.ip == 10.0.0.0/33', 'node.ip must be an IP address or CIDR'],
    ['node.ip == 10.0.0.0/', 'node.ip must be an IP address or CIDR'],
    ['node.ip == 10.0.0.0/08', 'node.ip must be an IP address or CIDR'],
    ['node.ip == 2001:db8::/129', 'node.ip must be an IP address or CIDR'],
    ['node.ip == 1::2::3', 'node.ip must be an IP address or CIDR'],
    ['node.ip == 1:2:3:4:5:6:7', 'node.ip must be an IP address or CIDR'],
    ['node.ip == 1:2:3:4:5:6:7:8:9', 'node.ip must be an IP address or CIDR'],
    ['node.ip == 1:2:3:4::5:6:7:8', 'node.ip must be an IP address or CIDR'],
    ['node.ip == 12345::', 'node.ip must be an IP address or CIDR'],
    ['node.ip == 1.2.3.4::', 'node.ip must be an IP address or CIDR'],
  ]
  it.each(rejected)('%j (%s)', (expression, what) => {
    expect(() => parseConstraint(expression, 'spec.task.placement.constraints[3]')).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: 'spec.task.placement.constraints[3]' }),
    )
    expect(() => parseConstraint(expression)).toThrow(expect.objectContaining({ field: 'constraint' }))
    let message = ''
    try {
      parseConstraint(expression)
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toContain(what)
    expect(message).toContain(JSON.stringify(expression))
  })

  it('names the index of the bad expression in a list', () => {
    expect(() => parseConstraints(['node.role==manager', 'node.foo==x'], 'placement.constraints')).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: 'placement.constraints[1]' }),
    )
    expect(() => parseConstraints(['bad'])).toThrow(expect.objectContaining({ field: 'constraints[0]' }))
  })

  it('gives a full message', () => {
    expect(() => parseConstraint('node.role == leader', 'f')).toThrow(
      'f: node.role must be manager or worker, not "leader" in constraint "node.role == leader"',
    )
  })
})

describe('matchConstraints', () => {
  const full = node({
    id: 'abcDEF123',
    hostname: 'Web-1',
    addr: '10.1.2.3:2377',
    role: 'manager',
    os: 'linux',
    arch: 'x86_64',
    labels: { zone: 'East', 'com.example.tier': 'gold', empty: '' },
    engineLabels: { storage: 'SSD' },
  })
  const bare = node({ noDescription: true })
  const bareWithEmptyDescription = node()
  const v6 = node({ addr: '[2001:db8:0:1::5]:2377' })
  const v6NoPort = node({ addr: '2001:db8:0:1::5' })
  const v4NoPort = node({ addr: '192.168.7.9' })
  const mapped = node({ addr: '::ffff:192.168.7.9' })
  const zoned = node({ addr: '[fe80::1%eth0]:2377' })
  const badAddr = node({ addr: 'not-an-ip:2377' })
  const arm = node({ arch: 'aarch64', os: 'Windows' })

  const cases: [string, string, Node, boolean][] = [
    // node.id: case-insensitive
    ['node.id == abcDEF123', 'id', full, true],
    ['node.id == ABCdef123', 'id', full, true],
    ['node.id != abcdef123', 'id', full, false],
    ['node.id == other', 'id', full, false],
    ['node.id != other', 'id', full, true],
    // node.hostname
    ['node.hostname == web-1', 'hostname', full, true],
    ['node.hostname != WEB-1', 'hostname', full, false],
    ['node.hostname == web-2', 'hostname', full, false],
    ['node.hostname == web-1', 'no hostname', bare, false],
    ['node.hostname != web-1', 'no hostname', bare, true],
    ['node.hostname != web-1', 'no hostname', bareWithEmptyDescription, true],
    // node.role: the reconciled role
    ['node.role == manager', 'role', full, true],
    ['node.role == MANAGER', 'role', full, true],
    ['node.role != manager', 'role', full, false],
    ['node.role == worker', 'role', full, false],
    ['node.role == worker', 'role', bare, true],
    ['node.role != Worker', 'role', bare, false],
    // node.platform.os / arch
    ['node.platform.os == linux', 'os', full, true],
    ['node.platform.os == Linux', 'os', full, true],
    ['node.platform.os != linux', 'os', full, false],
    ['node.platform.os == windows', 'os', arm, true],
    ['node.platform.os == linux', 'no os', bare, false],
    ['node.platform.os != linux', 'no os', bare, true],
    ['node.platform.os == linux', 'no os', bareWithEmptyDescription, false],
    ['node.platform.arch == amd64', 'arch x86_64 = amd64', full, true],
    ['node.platform.arch == X86_64', 'arch x86_64 = amd64', full, true],
    ['node.platform.arch != amd64', 'arch x86_64 = amd64', full, false],
    ['node.platform.arch == arm64', 'arch', full, false],
    ['node.platform.arch == arm64', 'arch aarch64 = arm64', arm, true],
    ['node.platform.arch == AArch64', 'arch aarch64 = arm64', arm, true],
    ['node.platform.arch != arm64', 'arch aarch64 = arm64', arm, false],
    ['node.platform.arch == amd64', 'no arch', bare, false],
    ['node.platform.arch != amd64', 'no arch', bare, true],
    // node.ip: v4 with port
    ['node.ip == 10.1.2.3', 'ip', full, true],
    ['node.ip != 10.1.2.3', 'ip', full, false],
    ['node.ip == 10.1.2.4', 'ip', full, false],
    ['node.ip == 10.1.0.0/16', 'ip', full, true],
    ['node.ip == 10.1.2.3/32', 'ip', full, true],
    ['node.ip == 10.1.2.128/25', 'ip', full, false],
    ['node.ip != 10.1.0.0/16', 'ip', full, false],
    ['node.ip != 10.2.0.0/16', 'ip', full, true],
    ['node.ip == 0.0.0.0/0', 'ip', full, true],
    ['node.ip == 8.0.0.0/7', 'ip', full, false],
    ['node.ip == 10.1.2.0/23', 'ip', full, true],
    ['node.ip == 2001:db8::/32', 'ip v4 vs v6 net', full, false],
    ['node.ip == ::ffff:0:0/96', 'ip v4 vs ::/0', full, true],
    // v4 without port, and v4-mapped v6 equal to v4
    ['node.ip == 192.168.7.9', 'ip', v4NoPort, true],
    ['node.ip == ::ffff:192.168.7.9', 'ip', v4NoPort, true],
    ['node.ip == 192.168.7.9', 'ip', mapped, true],
    ['node.ip == 192.168.0.0/16', 'ip', mapped, true],
    // v6 with and without port
    ['node.ip == 2001:db8:0:1::5', 'ip6', v6, true],
    ['node.ip == 2001:DB8:0:1:0:0:0:5', 'ip6', v6, true],
    ['node.ip != 2001:db8:0:1::5', 'ip6', v6, false],
    ['node.ip == 2001:db8:0:1::6', 'ip6', v6, false],
    ['node.ip == 2001:db8::/32', 'ip6', v6, true],
    ['node.ip == 2001:db8:0:1::/64', 'ip6', v6, true],
    ['node.ip == 2001:db8:0:2::/64', 'ip6', v6, false],
    ['node.ip != 2001:db8:0:2::/64', 'ip6', v6, true],
    ['node.ip == 2001:db8:0:1::4/127', 'ip6', v6, true],
    ['node.ip == 2001:db8:0:1::6/127', 'ip6', v6, false],
    ['node.ip == 10.0.0.0/8', 'ip6', v6, false],
    ['node.ip == 2001:db8:0:1::5', 'ip6', v6NoPort, true],
    ['node.ip == 2001:db8::/32', 'ip6', v6NoPort, true],
    ['node.ip == fe80::1', 'ip6 zone', zoned, true],
    ['node.ip == fe80::/10', 'ip6 zone', zoned, true],
    // no usable address
    ['node.ip == 10.0.0.1', 'no addr', bare, false],
    ['node.ip != 10.0.0.1', 'no addr', bare, true],
    ['node.ip != 0.0.0.0/0', 'no addr', bare, true],
    ['node.ip == 0.0.0.0/0', 'bad addr', badAddr, false],
    ['node.ip != 0.0.0.0/0', 'bad addr', badAddr, true],
    // node labels: key prefix and value case-insensitive, label name exact (as SwarmKit)
    ['node.labels.zone == East', 'label', full, true],
    ['NODE.Labels.zone == East', 'label', full, true],
    ['node.labels.zone == east', 'label', full, true],
    ['node.labels.zone != east', 'label', full, false],
    ['node.labels.zone != East', 'label', full, false],
    ['node.labels.Zone == East', 'label', full, false],
    ['node.labels.com.example.tier == gold', 'label', full, true],
    ['node.labels.rack == r1', 'missing label', full, false],
    ['node.labels.rack != r1', 'missing label', full, true],
    ['node.labels.empty == x', 'empty label', full, false],
    ['node.labels.empty != x', 'empty label', full, true],
    ['node.labels.zone == East', 'no labels', bare, false],
    ['node.labels.zone != East', 'no labels', bare, true],
    ['node.labels.storage == SSD', 'engine label not a node label', full, false],
    // engine labels
    ['engine.labels.storage == SSD', 'engine label', full, true],
    ['Engine.Labels.storage == SSD', 'engine label', full, true],
    ['engine.labels.storage == ssd', 'engine label', full, true],
    ['engine.labels.storage != ssd', 'engine label', full, false],
    ['engine.labels.storage != SSD', 'engine label', full, false],
    ['engine.labels.zone == East', 'node label not an engine label', full, false],
    ['engine.labels.storage == SSD', 'no engine labels', bare, false],
    ['engine.labels.storage != SSD', 'no engine labels', bare, true],
    ['engine.labels.storage != SSD', 'no engine labels', bareWithEmptyDescription, true],
  ]
  it.each(cases)('%j on %s', (expression, _label, n, expected) => {
    expect(matchConstraints([parseConstraint(expression)], n)).toBe(expected)
  })

  it('requires every constraint to hold', () => {
    const all = parseConstraints(['node.role == manager', 'node.labels.zone == East', 'node.ip == 10.0.0.0/8'])
    expect(matchConstraints(all, full)).toBe(true)
    expect(matchConstraints([...all, parseConstraint('engine.labels.storage != SSD')], full)).toBe(false)
    expect(matchConstraints([], bare)).toBe(true)
  })

  // Regression (fast-check counterexamples): prototype keys are not labels.
  it.each([
    ['node.labels.valueOf == A', false],
    ['node.labels.constructor != .', true],
    ['engine.labels.toString == x', false],
    ['node.labels.__proto__ != x', true],
  ])('%j ignores Object.prototype on a node without that label', (expression, expected) => {
    expect(matchConstraints([parseConstraint(expression)], node({ labels: {}, engineLabels: {} }))).toBe(expected)
  })

  it('never matches hand-built constraints with an unknown key or a malformed ip', () => {
    expect(matchConstraints([c('node.name', '!=', 'x')], full)).toBe(false)
    expect(matchConstraints([c('node.ip', '!=', 'nope')], full)).toBe(false)
  })
})

describe('properties', () => {
  const labelName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/)
  const labelValue = fc.stringMatching(/^[A-Za-z0-9\-_.:/*]{1,12}$/)

  it('node.labels.k == v matches iff the node has label k with value v ignoring case; != is its negation', () => {
    fc.assert(
      fc.property(
        fc.dictionary(labelName, fc.oneof(labelValue, fc.constant('')), { maxKeys: 5 }),
        labelName,
        labelValue,
        (labels, k, v) => {
          const n = node({ labels })
          const has = Object.hasOwn(labels, k) && labels[k]?.toLowerCase() === v.toLowerCase()
          expect(matchConstraints([parseConstraint(`node.labels.${k} == ${v}`)], n)).toBe(has)
          expect(matchConstraints([parseConstraint(`node.labels.${k}!=${v}`)], n)).toBe(!has)
          // a constraint built from a label the node has always matches
          for (const [key, value] of Object.entries(labels)) {
            if (value !== '') expect(matchConstraints([parseConstraint(`node.labels.${key}==${value}`)], n)).toBe(true)
          }
        },
      ),
    )
  })

  it('parse(format(c)) round-trips valid constraints', () => {
    const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'))
    const ipv6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((w) => w.map((x) => x.toString(16)).join(':'))
    const word = fc.stringMatching(/^[A-Za-z0-9\-_.:/*()?+[\]\\^$|]([A-Za-z0-9\-_.:/*()?+[\]\\^$| ]{0,10}[A-Za-z0-9_.])?$/)
    const constraint = fc.oneof(
      fc.record({ key: fc.constantFrom('node.id', 'Node.Hostname', 'node.platform.os', 'NODE.PLATFORM.ARCH'), value: word }),
      fc.record({ key: fc.constantFrom('node.role', 'Node.Role'), value: fc.constantFrom('manager', 'Worker', 'MANAGER') }),
      fc.record({
        key: fc.constant('node.ip'),
        value: fc.oneof(
          ipv4,
          ipv6,
          fc.tuple(ipv4, fc.nat(32)).map(([a, n]) => `${a}/${n}`),
          fc.tuple(ipv6, fc.nat(128)).map(([a, n]) => `${a}/${n}`),
        ),
      }),
      fc.record({
        key: fc.tuple(fc.constantFrom('node.labels.', 'engine.labels.', 'Node.Labels.'), labelName).map(([p, n]) => p + n),
        value: word,
      }),
    )
    fc.assert(
      fc.property(constraint, fc.constantFrom<'==' | '!='>('==', '!='), ({ key, value }, operator) => {
        const parsed: Constraint = { key, operator, value }
        expect(parseConstraint(formatConstraint(parsed))).toEqual(parsed)
        expect(parseConstraint(`${key}${operator}${value}`)).toEqual(parsed)
      }),
    )
  })
})
