import fc from 'fast-check'
import type { ContainerSpec, Service, ServiceSpec, TaskSpec } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { classicEnvironment, type ClassicPlacementLookup } from '../src/translate/classic-constraints.ts'
import { containerConfig, hostConfig } from '../src/translate/classic-container.ts'
import { CLASSIC_AUTO_REMOVE_LABEL, CLASSIC_CONTAINER_LABEL, readClassicCreate } from '../src/translate/classic-create.ts'

const NODE = 'n0d3n0d3n0d3n0d3n0d3n0d31'
const lookup: ClassicPlacementLookup = {
  isNodeId: (id) => id === NODE,
  nodeOfContainer: (name) => (name === 'db' ? NODE : undefined),
  nodesOfImage: (image) => (image === 'redis' ? [NODE] : []),
}

const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/)
const path = word.map((w) => `/${w}`)
const opt = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined })
const list = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T[] | undefined> => opt(fc.array(arb, { minLength: 1, maxLength: 3 }))
const ms = fc.integer({ min: 1, max: 600_000 })

/** Container specs whose every field has a Docker create field (and back). */
const containerArb: fc.Arbitrary<ContainerSpec> = fc
  .record({
    image: fc.constantFrom('busybox', 'node:20', 'registry.local:5000/app:1'),
    command: list(word),
    args: list(word),
    env: list(fc.tuple(word, word).map(([k, v]) => `${k.toUpperCase()}=${v}`)),
    labels: opt(fc.dictionary(word, word, { minKeys: 1, maxKeys: 3 })),
    hostname: opt(word),
    dir: opt(path),
    user: opt(word),
    stopSignal: opt(fc.constantFrom('SIGINT', 'SIGTERM', 'SIGQUIT')),
    stopGracePeriodMs: opt(fc.integer({ min: 0, max: 120 }).map((s) => s * 1000)),
    healthcheck: opt(fc.record({ test: fc.constant(['CMD', 'true']), intervalMs: ms, timeoutMs: ms, retries: fc.integer({ min: 1, max: 9 }) }, { requiredKeys: ['test'] })),
    binds: list(fc.record({ source: path, target: path, ro: fc.boolean() })),
    others: list(fc.oneof(fc.record({ type: fc.constant('volume' as const), source: word, target: path }), fc.record({ type: fc.constant('tmpfs' as const), target: path }))),
    ulimits: list(fc.record({ name: fc.constantFrom('nofile', 'nproc'), soft: fc.nat(4096), hard: fc.nat(8192) })),
    hosts: list(fc.tuple(fc.ipV4(), word).map(([ip, h]) => `${ip} ${h}`)),
    nameservers: list(fc.ipV4()),
    groups: list(word),
    capabilityAdd: list(fc.constantFrom('NET_ADMIN', 'SYS_TIME')),
    capabilityDrop: list(fc.constantFrom('MKNOD', 'CHOWN')),
    readOnly: opt(fc.constant(true)),
    oomScoreAdj: opt(fc.integer({ min: 1, max: 1000 })),
    pidsLimit: opt(fc.integer({ min: 1, max: 1000 })),
    sysctls: opt(fc.dictionary(fc.constantFrom('net.core.somaxconn', 'net.ipv4.ip_forward'), fc.constantFrom('0', '1'), { minKeys: 1 })),
    init: opt(fc.boolean()),
  })
  .map(({ binds, others, nameservers, ...c }) => {
    const mounts = [...(binds ?? []).map((b) => ({ type: 'bind' as const, source: b.source, target: b.target, ...(b.ro ? { readOnly: true } : {}) })), ...(others ?? [])]
    const spec: Record<string, unknown> = { ...c, ...(mounts.length > 0 ? { mounts } : {}), ...(nameservers === undefined ? {} : { dnsConfig: { nameservers } }) }
    for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k]
    return spec as unknown as ContainerSpec
  })

const taskArb: fc.Arbitrary<TaskSpec> = fc
  .record({
    container: containerArb,
    restart: fc.oneof(fc.constant({ condition: 'none' as const }), fc.constant({ condition: 'any' as const }), fc.record({ condition: fc.constant('on-failure' as const), maxAttempts: opt(fc.integer({ min: 1, max: 5 })) })),
    memory: opt(fc.integer({ min: 1, max: 2 ** 34 })),
    nanoCpus: opt(fc.integer({ min: 1, max: 4e9 })),
    reservation: opt(fc.integer({ min: 1, max: 2 ** 30 })),
    swappiness: opt(fc.integer({ min: 0, max: 100 })),
    network: opt(word),
    logDriver: opt(fc.record({ name: fc.constantFrom('json-file', 'syslog'), options: opt(fc.dictionary(word, word, { minKeys: 1, maxKeys: 2 })) })),
  })
  .map(({ container, restart, memory, nanoCpus, reservation, swappiness, network, logDriver }) => {
    const limits = { ...(memory === undefined ? {} : { memoryBytes: memory }), ...(nanoCpus === undefined ? {} : { nanoCpus }) }
    const resources = {
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      ...(reservation === undefined ? {} : { reservations: { memoryBytes: reservation } }),
      ...(swappiness === undefined ? {} : { memorySwappiness: swappiness }),
    }
    const r = restart.condition === 'on-failure' && restart.maxAttempts === undefined ? { condition: 'on-failure' as const } : restart
    return {
      container,
      restart: r,
      ...(Object.keys(resources).length > 0 ? { resources } : {}),
      ...(network === undefined ? {} : { networks: [{ target: `net${network}` }] }),
      ...(logDriver === undefined ? {} : { logDriver: logDriver.options === undefined ? { name: logDriver.name } : logDriver }),
    } as TaskSpec
  })

const serviceSpecArb: fc.Arbitrary<ServiceSpec> = fc
  .record({
    task: taskArb,
    autoRemove: fc.boolean(),
    ports: opt(fc.uniqueArray(fc.record({ targetPort: fc.integer({ min: 1, max: 65535 }), protocol: fc.constantFrom('tcp' as const, 'udp' as const), publishedPort: opt(fc.integer({ min: 1, max: 65535 })) }), { minLength: 1, maxLength: 3, selector: (p) => `${p.targetPort}/${p.protocol}` })),
  })
  .map(({ task, autoRemove, ports }) => ({
    annotations: { name: 'web', labels: { [CLASSIC_CONTAINER_LABEL]: 'true', ...(autoRemove ? { [CLASSIC_AUTO_REMOVE_LABEL]: 'true' } : {}) } },
    mode: { replicated: { replicas: 0 } },
    task,
    ...(ports === undefined ? {} : { endpoint: { ports: ports.map((p) => ({ protocol: p.protocol, targetPort: p.targetPort, publishMode: 'host' as const, ...(p.publishedPort === undefined ? {} : { publishedPort: p.publishedPort }) })) } }),
  }))

function asService(spec: ServiceSpec): Service {
  return { id: 'svc0svc0svc0svc0svc0svc01', meta: { version: { index: 1n }, createdAt: 0, updatedAt: 0 }, spec }
}

describe('classic container translation', () => {
  it('spec → inspect Config + HostConfig → create request → spec is the identity for every representable spec', () => {
    fc.assert(
      fc.property(serviceSpecArb, (spec) => {
        const service = asService(spec)
        const body = { ...containerConfig(service), HostConfig: hostConfig(service) }
        expect(readClassicCreate(JSON.parse(JSON.stringify(body)), 'web', lookup).spec).toEqual(spec)
      }),
      { numRuns: 300 },
    )
  })

  it('maps classic environment entries to placement constraints and keeps the rest for the container', () => {
    const env = ['A=1', 'constraint:node==worker-1', `constraint:node==${NODE}`, 'constraint:zone!=east', 'constraint:node.role==manager', 'affinity:container==db', 'affinity:image!=redis', 'B=2']
    expect(classicEnvironment(env, lookup)).toEqual({
      env: ['A=1', 'B=2'],
      // affinity:container==db names db's node, already constrained: kept once.
      constraints: ['node.hostname==worker-1', `node.id==${NODE}`, 'node.labels.zone!=east', 'node.role==manager', `node.id!=${NODE}`],
    })
  })

  it('refuses globs and unknown affinities, naming the entry', () => {
    expect(() => classicEnvironment(['constraint:node==worker-*'], lookup)).toThrow('Env[0]: globs are not supported by swarmkit-ts: "constraint:node==worker-*" (name one value)')
    expect(() => classicEnvironment(['X=1', 'affinity:volume==data'], lookup)).toThrow('Env[1]: unknown affinity "volume" in "affinity:volume": use affinity:container or affinity:image')
  })
})
