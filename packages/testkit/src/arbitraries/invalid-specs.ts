import fc from 'fast-check'
import { MAX_SECRET_SIZE } from '@swarmkit-ts/api'
import type { ClusterSpec, ConfigSpec, IpamConfig, NetworkSpec, NodeAvailability, NodeMembership, NodeRole, NodeSpec, SecretSpec } from '@swarmkit-ts/api'
import { arbClusterSpec } from './cluster-spec.ts'
import { arbNotNonNegativeInteger, arbNotSafeInteger, arbUnknownEnum, insertAt, type InvalidSpec } from './invalid-common.ts'
import { arbInvalidDnsLabel } from './invalid-service-spec.ts'
import { arbNetworkSpec } from './network-spec.ts'
import { arbNodeSpec } from './node-spec.ts'
import { arbBytes, arbDriver, charsOf } from './primitives.ts'
import { arbConfigSpec, arbSecretSpec } from './secret-config-spec.ts'

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split('')

/** Names a secret or config must reject: empty, over 64 characters, bad characters or a non-alphanumeric end. */
export function arbInvalidSecretName(): fc.Arbitrary<string> {
  return fc.oneof(fc.constant(''), charsOf(ALNUM, 65, 80), fc.constantFrom('.env', 'env.', '-key', 'key_', 'a b', 'a/b', 'clé', 'key!'))
}

/** Data of MAX_SECRET_SIZE bytes or a little more: one byte too many at least. */
function arbOversizedData(): fc.Arbitrary<Uint8Array> {
  return fc.integer({ min: MAX_SECRET_SIZE, max: MAX_SECRET_SIZE + 16 }).map((n) => new Uint8Array(n))
}

/** A secret spec breaking exactly one rule of `validateSecretSpec`. */
export function arbInvalidSecretSpec(): fc.Arbitrary<InvalidSpec<SecretSpec>> {
  type B = InvalidSpec<SecretSpec>
  return fc.oneof(
    fc.tuple(arbSecretSpec(), arbInvalidSecretName()).map(([s, name]): B => ({ spec: { ...s, annotations: { ...s.annotations, name } }, field: 'annotations.name', rule: 'secret-name-invalid' })),
    fc.tuple(arbSecretSpec(), arbOversizedData()).map(([s, data]): B => ({ spec: { ...s, data }, field: 'data', rule: 'secret-data-too-large' })),
    arbSecretSpec().map((s): B => {
      const { driver: _d, ...rest } = s
      return { spec: { ...rest, data: new Uint8Array(0) }, field: 'data', rule: 'secret-data-empty' }
    }),
    arbSecretSpec().map((s): B => ({ spec: { ...s, templating: { ...s.templating, name: '' } }, field: 'templating.name', rule: 'templating-name-empty' })),
    fc.tuple(arbSecretSpec(), arbBytes()).map(([s, data]): B => ({ spec: { ...s, data, driver: { ...s.driver, name: '' } }, field: 'driver.name', rule: 'driver-name-empty' })),
  )
}

/** A config spec breaking exactly one rule of `validateConfigSpec`. */
export function arbInvalidConfigSpec(): fc.Arbitrary<InvalidSpec<ConfigSpec>> {
  type B = InvalidSpec<ConfigSpec>
  return fc.oneof(
    fc.tuple(arbConfigSpec(), arbInvalidSecretName()).map(([s, name]): B => ({ spec: { ...s, annotations: { ...s.annotations, name } }, field: 'annotations.name', rule: 'config-name-invalid' })),
    fc.tuple(arbConfigSpec(), arbOversizedData()).map(([s, data]): B => ({ spec: { ...s, data }, field: 'data', rule: 'config-data-too-large' })),
    arbConfigSpec().map((s): B => ({ spec: { ...s, data: new Uint8Array(0) }, field: 'data', rule: 'config-data-empty' })),
    arbConfigSpec().map((s): B => ({ spec: { ...s, templating: { ...s.templating, name: '' } }, field: 'templating.name', rule: 'templating-name-empty' })),
  )
}

/** A node spec breaking exactly one rule of `validateNodeSpec` (unknown enum values are cast on purpose). */
export function arbInvalidNodeSpec(): fc.Arbitrary<InvalidSpec<NodeSpec>> {
  type B = InvalidSpec<NodeSpec>
  return fc.oneof(
    fc.tuple(arbNodeSpec(), arbInvalidDnsLabel().filter((n) => n !== '')).map(([s, name]): B => ({
      spec: { ...s, annotations: { ...s.annotations, name } },
      field: 'annotations.name',
      rule: 'node-name-not-dns-label',
    })),
    fc.tuple(arbNodeSpec(), arbUnknownEnum()).map(([s, v]): B => ({ spec: { ...s, desiredRole: v as NodeRole }, field: 'desiredRole', rule: 'node-role-unknown' })),
    fc.tuple(arbNodeSpec(), arbUnknownEnum()).map(([s, v]): B => ({ spec: { ...s, membership: v as NodeMembership }, field: 'membership', rule: 'node-membership-unknown' })),
    fc.tuple(arbNodeSpec(), arbUnknownEnum()).map(([s, v]): B => ({ spec: { ...s, availability: v as NodeAvailability }, field: 'availability', rule: 'node-availability-unknown' })),
  )
}

/** An IPAM pool whose subnet, gateway or range is wrong, with the key of the bad field. */
function arbBadIpamConfig(): fc.Arbitrary<{ config: IpamConfig; key: 'subnet' | 'gateway' | 'range' }> {
  const octet = fc.integer({ min: 0, max: 254 })
  return fc.oneof(
    fc
      .constantFrom('10.0.0.0/33', '300.0.0.0/8', 'not-a-cidr', '10.0.0/8', '10.0.0.0/', 'fd00::/129', 'fd00:::/64')
      .map((subnet) => ({ config: { subnet }, key: 'subnet' as const })),
    fc.tuple(octet, fc.nat(255), fc.constantFrom(true, false)).map(([a, x, garbage]) => ({
      config: { subnet: `10.${a}.0.0/16`, gateway: garbage ? '10.0.0.256' : `10.${a + 1}.${x}.1` },
      key: 'gateway' as const,
    })),
    fc.tuple(octet, fc.constantFrom(true, false)).map(([a, wider]) => ({
      config: { subnet: `10.${a}.0.0/16`, range: wider ? '10.0.0.0/8' : `10.${a + 1}.0.0/24` },
      key: 'range' as const,
    })),
  )
}

/** A network spec breaking exactly one rule of `validateNetworkSpec`. */
export function arbInvalidNetworkSpec(): fc.Arbitrary<InvalidSpec<NetworkSpec>> {
  type B = InvalidSpec<NetworkSpec>
  return fc.oneof(
    fc.tuple(arbNetworkSpec(), arbInvalidDnsLabel()).map(([s, name]): B => ({ spec: { ...s, annotations: { ...s.annotations, name } }, field: 'annotations.name', rule: 'network-name-not-dns-label' })),
    fc.tuple(arbNetworkSpec(), fc.nat(), arbBadIpamConfig()).map(([s, at, bad]): B => {
      const { list, index } = insertAt(s.ipam?.configs, at, bad.config)
      return { spec: { ...s, ipam: { ...s.ipam, configs: list } }, field: `ipam.configs[${index}].${bad.key}`, rule: `ipam-${bad.key}-invalid` }
    }),
    arbNetworkSpec().map((s): B => ({ spec: { ...s, ingress: true, attachable: true }, field: 'attachable', rule: 'ingress-attachable' })),
    fc.tuple(arbNetworkSpec(), arbDriver()).map(([s, d]): B => ({ spec: { ...s, driverConfig: { ...(s.driverConfig ?? d), name: '' } }, field: 'driverConfig.name', rule: 'driver-name-empty' })),
  )
}

/** A cluster spec breaking exactly one rule of `validateClusterSpec`. */
export function arbInvalidClusterSpec(): fc.Arbitrary<InvalidSpec<ClusterSpec>> {
  type B = InvalidSpec<ClusterSpec>
  const raftCount = fc.constantFrom('snapshotInterval', 'keepOldSnapshots', 'logEntriesForSlowFollowers')
  return fc.oneof(
    fc.tuple(arbClusterSpec(), arbNotSafeInteger()).map(([s, v]): B => ({
      spec: { ...s, orchestration: { taskHistoryRetentionLimit: v } },
      field: 'orchestration.taskHistoryRetentionLimit',
      rule: 'retention-not-integer',
    })),
    fc.tuple(arbClusterSpec(), arbNotNonNegativeInteger()).map(([s, v]): B => ({
      spec: { ...s, dispatcher: { heartbeatPeriodMs: v } },
      field: 'dispatcher.heartbeatPeriodMs',
      rule: 'heartbeat-period-negative',
    })),
    fc.tuple(arbClusterSpec(), fc.oneof(fc.integer({ min: 0, max: 3_599_999 }), arbNotNonNegativeInteger())).map(([s, v]): B => ({
      spec: { ...s, caConfig: { ...s.caConfig, nodeCertExpiryMs: v } },
      field: 'caConfig.nodeCertExpiryMs',
      rule: 'cert-expiry-below-one-hour',
    })),
    fc.tuple(arbClusterSpec(), fc.oneof(fc.constantFrom(0, -1, 0.5), fc.integer({ min: -100, max: 0 }))).map(([s, heartbeatTick]): B => ({
      spec: { ...s, raft: { ...s.raft, heartbeatTick, electionTick: 10 } },
      field: 'raft.heartbeatTick',
      rule: 'heartbeat-tick-below-one',
    })),
    fc.tuple(arbClusterSpec(), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 50 })).map(([s, heartbeatTick, less]): B => ({
      spec: { ...s, raft: { ...s.raft, heartbeatTick, electionTick: Math.max(heartbeatTick - less, 0) } },
      field: 'raft.electionTick',
      rule: 'election-tick-not-above-heartbeat',
    })),
    fc.tuple(arbClusterSpec(), raftCount, arbNotNonNegativeInteger()).map(([s, key, v]): B => ({
      spec: { ...s, raft: { ...s.raft, [key]: v } },
      field: `raft.${key}`,
      rule: 'raft-count-negative',
    })),
  )
}
