import { describe, expect, it } from 'vitest'
import {
  MAX_SECRET_SIZE,
  validateClusterSpec,
  validateConfigSpec,
  validateConfigUpdate,
  validateNetworkSpec,
  validateNodeSpec,
  validateSecretSpec,
  validateSecretUpdate,
  withClusterDefaults,
  type ClusterSpec,
  type ConfigSpec,
  type IpamConfig,
  type NetworkSpec,
  type NodeSpec,
  type SecretSpec,
} from '../src/index.ts'

function expectInvalid(f: () => void, field: string): void {
  expect(f).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
}

/** Casts a deliberately ill-typed value to whatever type its position needs. */
function wrong<T>(value: unknown): T {
  return value as T
}

const bytes = (n: number): Uint8Array => new Uint8Array(n).fill(7)

// ---------------------------------------------------------------- node

describe('validateNodeSpec', () => {
  const node: NodeSpec = { annotations: { name: '' }, desiredRole: 'worker', membership: 'accepted', availability: 'active' }
  const with_ = (patch: Partial<NodeSpec>): NodeSpec => ({ ...node, ...patch })

  it('accepts an unnamed node and a named one', () => {
    expect(() => validateNodeSpec(node)).not.toThrow()
    const named = with_({ annotations: { name: 'worker-1', labels: { zone: 'east' } }, desiredRole: 'manager', membership: 'pending', availability: 'drain' })
    expect(() => validateNodeSpec(named)).not.toThrow()
  })

  const cases: readonly (readonly [string, NodeSpec, string])[] = [
    ['a name that is not a DNS label', with_({ annotations: { name: 'worker 1' } }), 'annotations.name'],
    ['an empty label key', with_({ annotations: { name: '', labels: { '': 'x' } } }), 'annotations.labels'],
    ['an unknown desired role', with_({ desiredRole: wrong('leader') }), 'desiredRole'],
    ['a missing desired role', wrong({ annotations: { name: '' }, membership: 'accepted', availability: 'active' }), 'desiredRole'],
    ['an unknown membership', with_({ membership: wrong('rejected') }), 'membership'],
    ['an unknown availability', with_({ availability: wrong('paused') }), 'availability'],
    ['a spec that is not an object', wrong('node'), ''],
    ['missing annotations', wrong({ desiredRole: 'worker', membership: 'accepted', availability: 'active' }), 'annotations'],
  ]
  for (const [what, spec, field] of cases) {
    it(`rejects ${what} → ${field === '' ? "''" : field}`, () => {
      expectInvalid(() => validateNodeSpec(spec), field)
    })
  }
})

// ---------------------------------------------------------------- secret / config

describe('validateSecretSpec', () => {
  const secret: SecretSpec = { annotations: { name: 'db.password_v-2' }, data: bytes(16) }
  const with_ = (patch: Partial<SecretSpec>): SecretSpec => ({ ...secret, ...patch })

  it('accepts a minimal secret, a 64-character name, the largest payload and templating', () => {
    expect(() => validateSecretSpec(secret)).not.toThrow()
    expect(() => validateSecretSpec(with_({ annotations: { name: 'a'.repeat(64) } }))).not.toThrow()
    expect(() => validateSecretSpec(with_({ data: bytes(MAX_SECRET_SIZE - 1) }))).not.toThrow()
    expect(() => validateSecretSpec(with_({ templating: { name: 'golang' }, annotations: { name: 'x', labels: { a: 'b' } } }))).not.toThrow()
  })

  it('accepts empty data when an external driver holds the secret', () => {
    expect(() => validateSecretSpec(with_({ data: new Uint8Array(0), driver: { name: 'vault', options: { path: 'kv/db' } } }))).not.toThrow()
  })

  const cases: readonly (readonly [string, SecretSpec, string])[] = [
    ['an empty name', with_({ annotations: { name: '' } }), 'annotations.name'],
    ['a 65-character name', with_({ annotations: { name: 'a'.repeat(65) } }), 'annotations.name'],
    ['a name starting with a dot', with_({ annotations: { name: '.hidden' } }), 'annotations.name'],
    ['a name ending with a dash', with_({ annotations: { name: 'key-' } }), 'annotations.name'],
    ['a name with a slash', with_({ annotations: { name: 'a/b' } }), 'annotations.name'],
    ['an empty label key', with_({ annotations: { name: 'key', labels: { '': 'v' } } }), 'annotations.labels'],
    ['data of 500 KiB', with_({ data: bytes(MAX_SECRET_SIZE) }), 'data'],
    ['empty data without a driver', with_({ data: new Uint8Array(0) }), 'data'],
    ['data that is a string', with_({ data: wrong('hunter2') }), 'data'],
    ['an empty templating driver name', with_({ templating: { name: '' } }), 'templating.name'],
    ['an empty secret driver name', with_({ driver: { name: '' } }), 'driver.name'],
    ['a spec that is null', wrong(null), ''],
  ]
  for (const [what, spec, field] of cases) {
    it(`rejects ${what} → ${field === '' ? "''" : field}`, () => {
      expectInvalid(() => validateSecretSpec(spec), field)
    })
  }
})

describe('validateSecretUpdate', () => {
  const old: SecretSpec = { annotations: { name: 'db', labels: { a: '1' } }, data: bytes(8), templating: { name: 'golang' }, driver: { name: 'vault', options: { p: 'x' } } }

  it('accepts a change of labels only', () => {
    expect(() => validateSecretUpdate(old, { ...old, annotations: { name: 'db', labels: { a: '2', b: '3' } }, data: bytes(8) })).not.toThrow()
  })

  const cases: readonly (readonly [string, SecretSpec, string])[] = [
    ['a rename', { ...old, annotations: { name: 'db2' } }, 'annotations.name'],
    ['a change of data', { ...old, data: Uint8Array.from([7, 7, 7, 7, 7, 7, 7, 8]) }, 'data'],
    ['a change of data length', { ...old, data: bytes(9) }, 'data'],
    ['a change of templating', { ...old, templating: { name: 'golang', options: { x: 'y' } } }, 'templating'],
    ['removing the templating', { annotations: old.annotations, data: old.data, driver: { name: 'vault', options: { p: 'x' } } }, 'templating'],
    ['a change of driver', { ...old, driver: { name: 'vault', options: { p: 'y' } } }, 'driver'],
    ['an invalid new spec', { ...old, annotations: { name: '-db' } }, 'annotations.name'],
  ]
  for (const [what, next, field] of cases) {
    it(`rejects ${what} → ${field}`, () => {
      expectInvalid(() => validateSecretUpdate(old, next), field)
    })
  }
})

describe('validateConfigSpec', () => {
  const config: ConfigSpec = { annotations: { name: 'nginx.conf' }, data: bytes(100) }

  it('accepts a config with templating and a payload just under 500 KiB', () => {
    expect(() => validateConfigSpec({ ...config, templating: { name: 'golang' } })).not.toThrow()
    expect(() => validateConfigSpec({ ...config, data: bytes(MAX_SECRET_SIZE - 1) })).not.toThrow()
  })

  const cases: readonly (readonly [string, ConfigSpec, string])[] = [
    ['a name with a space', { ...config, annotations: { name: 'nginx conf' } }, 'annotations.name'],
    ['empty data', { ...config, data: new Uint8Array(0) }, 'data'],
    ['empty data even with a driver', wrong({ ...config, data: new Uint8Array(0), driver: { name: 'vault' } }), 'data'],
    ['data of 500 KiB', { ...config, data: bytes(MAX_SECRET_SIZE) }, 'data'],
    ['missing data', wrong({ annotations: { name: 'c' } }), 'data'],
    ['an empty templating driver name', { ...config, templating: { name: '' } }, 'templating.name'],
  ]
  for (const [what, spec, field] of cases) {
    it(`rejects ${what} → ${field}`, () => {
      expectInvalid(() => validateConfigSpec(spec), field)
    })
  }
})

describe('validateConfigUpdate', () => {
  const old: ConfigSpec = { annotations: { name: 'app.yaml' }, data: bytes(4) }

  it('accepts a change of labels only', () => {
    expect(() => validateConfigUpdate(old, { annotations: { name: 'app.yaml', labels: { v: '2' } }, data: bytes(4) })).not.toThrow()
  })

  const cases: readonly (readonly [string, ConfigSpec, string])[] = [
    ['a rename', { ...old, annotations: { name: 'app.yml' } }, 'annotations.name'],
    ['a change of data', { ...old, data: bytes(5) }, 'data'],
    ['adding templating', { ...old, templating: { name: 'golang' } }, 'templating'],
  ]
  for (const [what, next, field] of cases) {
    it(`rejects ${what} → ${field}`, () => {
      expectInvalid(() => validateConfigUpdate(old, next), field)
    })
  }
})

// ---------------------------------------------------------------- network

describe('validateNetworkSpec', () => {
  const network: NetworkSpec = { annotations: { name: 'backend' } }
  const ipam = (...configs: IpamConfig[]): NetworkSpec => ({ ...network, ipam: { configs } })

  it('accepts a bare network and a rich dual-stack one', () => {
    expect(() => validateNetworkSpec(network)).not.toThrow()
    const rich: NetworkSpec = {
      annotations: { name: 'backend', labels: { env: 'prod' } },
      driverConfig: { name: 'overlay', options: { encrypted: '' } },
      ipv6Enabled: true,
      internal: false,
      attachable: true,
      ipam: {
        driver: { name: 'default' },
        configs: [
          { family: 'ipv4', subnet: '10.10.0.0/16', range: '10.10.8.0/24', gateway: '10.10.0.1' },
          { family: 'ipv6', subnet: 'fd00:10::/64', range: 'fd00:10::/80', gateway: 'fd00:10::1' },
          { family: 'ipv4' },
        ],
      },
    }
    expect(() => validateNetworkSpec(rich)).not.toThrow()
  })

  it('accepts a gateway without subnet, a range equal to the subnet and a non-attachable ingress network', () => {
    expect(() => validateNetworkSpec(ipam({ gateway: '192.168.1.1' }))).not.toThrow()
    expect(() => validateNetworkSpec(ipam({ subnet: '10.0.0.0/24', range: '10.0.0.0/24' }))).not.toThrow()
    expect(() => validateNetworkSpec({ annotations: { name: 'ingress' }, ingress: true, attachable: false })).not.toThrow()
  })

  const cases: readonly (readonly [string, NetworkSpec, string])[] = [
    ['a name that is not a DNS label', { annotations: { name: 'back.end' } }, 'annotations.name'],
    ['a subnet without prefix', ipam({ subnet: '10.0.0.0' }), 'ipam.configs[0].subnet'],
    ['an IPv4 prefix above 32', ipam({ subnet: '10.0.0.0/24' }, { subnet: '10.1.0.0/33' }), 'ipam.configs[1].subnet'],
    ['an IPv6 prefix above 128', ipam({ subnet: 'fd00::/129' }), 'ipam.configs[0].subnet'],
    ['a subnet that is not an address', ipam({ subnet: 'backend/24' }), 'ipam.configs[0].subnet'],
    ['a gateway that is not an address', ipam({ subnet: '10.0.0.0/24', gateway: '10.0.0.256' }), 'ipam.configs[0].gateway'],
    ['a gateway outside the subnet', ipam({ subnet: '10.0.0.0/24', gateway: '10.0.1.1' }), 'ipam.configs[0].gateway'],
    ['an IPv6 gateway in an IPv4 subnet', ipam({ subnet: '10.0.0.0/24', gateway: 'fd00::1' }), 'ipam.configs[0].gateway'],
    ['a range that is not a CIDR', ipam({ subnet: '10.0.0.0/16', range: '10.0.1.0' }), 'ipam.configs[0].range'],
    ['a range outside the subnet', ipam({ subnet: '10.0.0.0/24', range: '10.0.1.0/25' }), 'ipam.configs[0].range'],
    ['a range larger than the subnet', ipam({ subnet: '10.0.0.0/24', range: '10.0.0.0/16' }), 'ipam.configs[0].range'],
    ['a range without a subnet', ipam({ range: '10.0.0.0/24' }), 'ipam.configs[0].range'],
    ['an unknown address family', ipam({ family: wrong('ipx') }), 'ipam.configs[0].family'],
    ['an attachable ingress network', { ...network, ingress: true, attachable: true }, 'attachable'],
    ['an empty driver name', { ...network, driverConfig: { name: '' } }, 'driverConfig.name'],
    ['a string IPAM section', wrong({ ...network, ipam: '10.0.0.0/8' }), 'ipam'],
    ['a null IPAM config', wrong({ ...network, ipam: { configs: [null] } }), 'ipam.configs[0]'],
  ]
  for (const [what, spec, field] of cases) {
    it(`rejects ${what} → ${field}`, () => {
      expectInvalid(() => validateNetworkSpec(spec), field)
    })
  }
})

// ---------------------------------------------------------------- cluster

describe('validateClusterSpec', () => {
  const cluster: ClusterSpec = { annotations: { name: 'default' } }
  const raft = (r: NonNullable<ClusterSpec['raft']>): ClusterSpec => ({ ...cluster, raft: r })

  it('accepts a bare spec, the defaults, keep-all task history and the shortest certificate life', () => {
    expect(() => validateClusterSpec(cluster)).not.toThrow()
    expect(() => validateClusterSpec(withClusterDefaults(cluster))).not.toThrow()
    expect(() => validateClusterSpec({ ...cluster, orchestration: { taskHistoryRetentionLimit: -1 } })).not.toThrow()
    expect(() => validateClusterSpec({ ...cluster, orchestration: { schedulingStrategy: 'binpack' } })).not.toThrow()
    expect(() => validateClusterSpec({ ...cluster, caConfig: { nodeCertExpiryMs: 3_600_000 } })).not.toThrow()
    expect(() => validateClusterSpec(raft({ heartbeatTick: 2, electionTick: 3 }))).not.toThrow()
  })

  const cases: readonly (readonly [string, ClusterSpec, string])[] = [
    ['a fractional task history limit', { ...cluster, orchestration: { taskHistoryRetentionLimit: 1.5 } }, 'orchestration.taskHistoryRetentionLimit'],
    ['an unknown scheduling strategy', { ...cluster, orchestration: { schedulingStrategy: 'random' as 'spread' } }, 'orchestration.schedulingStrategy'],
    ['a negative heartbeat period', { ...cluster, dispatcher: { heartbeatPeriodMs: -1 } }, 'dispatcher.heartbeatPeriodMs'],
    ['a certificate life under 1 hour', { ...cluster, caConfig: { nodeCertExpiryMs: 3_599_999 } }, 'caConfig.nodeCertExpiryMs'],
    ['a heartbeat tick of 0', raft({ heartbeatTick: 0, electionTick: 10 }), 'raft.heartbeatTick'],
    ['an election tick equal to the heartbeat tick', raft({ heartbeatTick: 5, electionTick: 5 }), 'raft.electionTick'],
    ['an election tick of 1 with the default heartbeat tick', raft({ electionTick: 1 }), 'raft.electionTick'],
    ['a heartbeat tick above the default election tick', raft({ heartbeatTick: 10 }), 'raft.electionTick'],
    ['a negative snapshot interval', raft({ snapshotInterval: -1 }), 'raft.snapshotInterval'],
    ['a negative count of old snapshots', raft({ keepOldSnapshots: -1 }), 'raft.keepOldSnapshots'],
    ['a negative count of entries for slow followers', raft({ logEntriesForSlowFollowers: -1 }), 'raft.logEntriesForSlowFollowers'],
    ['an array as raft section', wrong({ ...cluster, raft: [] }), 'raft'],
    ['missing annotations', wrong({}), 'annotations'],
  ]
  for (const [what, spec, field] of cases) {
    it(`rejects ${what} → ${field}`, () => {
      expectInvalid(() => validateClusterSpec(spec), field)
    })
  }
})
