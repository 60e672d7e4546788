import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ClusterSpec, Config, IpamConfig, Meta, NetworkSpec, Node, NodeSpec } from '@swarmkit-ts/api'
import { configSpecFromDocker, configToDocker } from '../src/translate/config.ts'
import { networkSpecFromDocker, networkToDocker } from '../src/translate/network.ts'
import { nodeSpecFromDocker, nodeToDocker } from '../src/translate/node.ts'
import { secretSpecFromDocker } from '../src/translate/secret.ts'
import { swarmSpecFromDocker, swarmSpecToDocker } from '../src/translate/swarm.ts'

/** What crosses the wire: JSON text. */
const wire = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown

const META: Meta = { version: { index: 7n }, createdAt: 1_700_000_000_000, updatedAt: 1_700_000_001_000 }
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/)
const labels = fc.option(fc.dictionary(name, fc.string({ maxLength: 8 }), { minKeys: 1, maxKeys: 3 }), { nil: undefined })
const positive = fc.integer({ min: 1, max: 1_000_000 })
const withLabels = <T extends { name: string }>(a: T, l: Record<string, string> | undefined): T & { labels?: Record<string, string> } => (l === undefined ? a : { ...a, labels: l })

/** Cluster specs Docker's `swarm.Spec` represents (a present section has a non-zero field). */
const arbClusterSpec: fc.Arbitrary<ClusterSpec> = fc
  .record({
    name,
    labels,
    limit: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    strategy: fc.option(fc.constantFrom('spread' as const, 'binpack' as const), { nil: undefined }),
    raft: fc.option(fc.record({ snapshotInterval: positive, keepOldSnapshots: fc.integer({ min: 0, max: 10 }), logEntriesForSlowFollowers: positive, heartbeatTick: positive, electionTick: positive }), { nil: undefined }),
    heartbeat: fc.option(positive, { nil: undefined }),
    // Up to 100 days: nanoseconds stay exact in a JSON number.
    expiry: fc.option(fc.integer({ min: 3_600_000, max: 100 * 86_400_000 }), { nil: undefined }),
    forceRotate: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    log: fc.option(fc.record({ name, options: labels }), { nil: undefined }),
    autolock: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map((r) => {
    const spec: ClusterSpec = { annotations: withLabels({ name: r.name }, r.labels) }
    const orchestration = { ...(r.limit === undefined ? {} : { taskHistoryRetentionLimit: r.limit }), ...(r.strategy === undefined ? {} : { schedulingStrategy: r.strategy }) }
    if (Object.keys(orchestration).length > 0) spec.orchestration = orchestration
    if (r.raft !== undefined) spec.raft = r.raft
    if (r.heartbeat !== undefined) spec.dispatcher = { heartbeatPeriodMs: r.heartbeat }
    if (r.expiry !== undefined) spec.caConfig = { nodeCertExpiryMs: r.expiry, ...(r.forceRotate === undefined ? {} : { forceRotate: r.forceRotate }) }
    if (r.log !== undefined) spec.taskDefaults = { logDriver: r.log.options === undefined ? { name: r.log.name } : { name: r.log.name, options: r.log.options } }
    if (r.autolock !== undefined) spec.encryptionConfig = { autoLockManagers: r.autolock }
    return spec
  })

describe('the swarm translation', () => {
  it('cluster spec → Docker swarm.Spec → cluster spec is the identity (what docker swarm update sends back)', () => {
    fc.assert(
      fc.property(arbClusterSpec, (spec) => {
        expect(swarmSpecFromDocker(wire(swarmSpecToDocker(spec)), spec)).toEqual(spec)
      }),
    )
  })

  it('zero durations and counts keep the current values; a new limit and autolock replace them', () => {
    const current: ClusterSpec = { annotations: { name: 'default' }, raft: { snapshotInterval: 10_000, electionTick: 10, heartbeatTick: 1 }, dispatcher: { heartbeatPeriodMs: 5000 } }
    const next = swarmSpecFromDocker({ Name: 'default', Orchestration: { TaskHistoryRetentionLimit: 3 }, Raft: { SnapshotInterval: 0, ElectionTick: 0 }, Dispatcher: { HeartbeatPeriod: 0 }, EncryptionConfig: { AutoLockManagers: true } }, current)
    expect(next).toEqual({ ...current, orchestration: { taskHistoryRetentionLimit: 3 }, encryptionConfig: { autoLockManagers: true } })
  })

  it('refuses a duration that is not whole milliseconds, naming it', () => {
    expect(() => swarmSpecFromDocker({ Dispatcher: { HeartbeatPeriod: 1_500 } }, { annotations: { name: 'default' } })).toThrow('Dispatcher.HeartbeatPeriod: 1500ns is not a whole number of milliseconds')
  })
})

const arbNodeSpec: fc.Arbitrary<NodeSpec> = fc
  .record({ name: fc.oneof(fc.constant(''), name), labels, role: fc.constantFrom('worker' as const, 'manager' as const), availability: fc.constantFrom('active' as const, 'pause' as const, 'drain' as const), membership: fc.constantFrom('pending' as const, 'accepted' as const) })
  .map((r) => ({ annotations: withLabels({ name: r.name }, r.labels), desiredRole: r.role, membership: r.membership, availability: r.availability }))

describe('the node translation', () => {
  it('node spec → Docker NodeSpec → node spec is the identity (what docker node update sends back)', () => {
    fc.assert(
      fc.property(arbNodeSpec, (spec) => {
        const node: Node = { id: 'n1', meta: META, spec, status: { state: 'ready' }, role: spec.desiredRole }
        expect(nodeSpecFromDocker(wire(nodeToDocker(node).Spec), spec)).toEqual(spec)
      }),
    )
  })

  it('refuses an unknown role or field, naming it', () => {
    const spec: NodeSpec = { annotations: { name: '' }, desiredRole: 'worker', membership: 'accepted', availability: 'active' }
    expect(() => nodeSpecFromDocker({ Role: 'boss' }, spec)).toThrow('Role: invalid role "boss": must be worker or manager')
    expect(() => nodeSpecFromDocker({ Hostname: 'x' }, spec)).toThrow('Hostname: unknown field')
  })
})

const arbIpam: fc.Arbitrary<IpamConfig> = fc
  .record({ third: fc.integer({ min: 0, max: 255 }), gateway: fc.boolean(), reserved: fc.boolean() })
  .map((r) => ({
    subnet: `10.99.${r.third}.0/24`,
    ...(r.gateway ? { gateway: `10.99.${r.third}.1` } : {}),
    ...(r.reserved ? { reserved: { dns: `10.99.${r.third}.2` } } : {}),
  }))

/** Network specs a `NetworkCreateRequest` represents: overlay, default IPAM. */
const arbNetworkSpec: fc.Arbitrary<NetworkSpec> = fc
  .record({ name, labels, options: labels, configs: fc.array(arbIpam, { maxLength: 2 }), ipv6: fc.boolean(), internal: fc.boolean(), attachable: fc.boolean(), ingress: fc.boolean() })
  .map((r) => {
    const spec: NetworkSpec = { annotations: withLabels({ name: r.name }, r.labels), driverConfig: r.options === undefined ? { name: 'overlay' } : { name: 'overlay', options: r.options } }
    if (r.configs.length > 0) spec.ipam = { configs: r.configs }
    if (r.ipv6) spec.ipv6Enabled = true
    if (r.internal) spec.internal = true
    if (r.attachable) spec.attachable = true
    if (r.ingress) spec.ingress = true
    return spec
  })

describe('the network translation', () => {
  it('network spec → Docker NetworkResource → create request → network spec is the identity', () => {
    fc.assert(
      fc.property(arbNetworkSpec, (spec) => {
        const d = networkToDocker({ id: 'x', meta: META, spec })
        const request = { Name: d.Name, CheckDuplicate: true, Driver: d.Driver, Scope: d.Scope, EnableIPv6: d.EnableIPv6, IPAM: d.IPAM, Internal: d.Internal, Attachable: d.Attachable, Ingress: d.Ingress, Options: d.Options, Labels: d.Labels }
        expect(networkSpecFromDocker(wire(request))).toEqual(spec)
      }),
    )
  })
})

describe('the secret and config translation', () => {
  const payload = fc.record({ name, labels, data: fc.uint8Array({ minLength: 1, maxLength: 64 }) })

  it('secret spec → Docker SecretSpec (base64 Data) → secret spec is the identity', () => {
    fc.assert(
      fc.property(payload, (p) => {
        const body = { Name: p.name, Labels: p.labels ?? {}, Data: Buffer.from(p.data).toString('base64'), Driver: null, Templating: null }
        expect(secretSpecFromDocker(wire(body))).toEqual({ annotations: withLabels({ name: p.name }, p.labels), data: p.data })
      }),
    )
  })

  it('config → Docker Config → config spec is the identity', () => {
    fc.assert(
      fc.property(payload, (p) => {
        const config: Config = { id: 'c', meta: META, spec: { annotations: withLabels({ name: p.name }, p.labels), data: p.data } }
        expect(configSpecFromDocker(wire(configToDocker(config).Spec))).toEqual(config.spec)
      }),
    )
  })
})
