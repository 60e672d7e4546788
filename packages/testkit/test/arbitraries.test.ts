import { isId, MAX_SECRET_SIZE, OBJECT_KINDS, parseConstraint } from '@swarmkit-ts/api'
import type { PortConfig, ServiceSpec } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  arbAnnotations,
  arbClusterSpec,
  arbConfigSpec,
  arbConstraint,
  arbContainerSpec,
  arbDnsLabel,
  arbEndpointSpec,
  arbId,
  arbMeta,
  arbNetworkSpec,
  arbNodeSpec,
  arbObject,
  arbRaftMemberId,
  arbResources,
  arbSecretName,
  arbSecretSpec,
  arbServiceMode,
  arbServiceSpec,
  arbStoreEvent,
  arbTaskSpec,
  arbUint64,
  arbUpdateConfig,
} from '../src/index.ts'
import { assertCanonical } from './support/canonical.ts'

const RUNS = { numRuns: 200, seed: 1 }
const DNS_LABEL = /^[a-zA-Z0-9](?:[-_]*[a-zA-Z0-9]+)*$/
const SECRET_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/

function noDuplicatePublishedPorts(ports: readonly PortConfig[]): boolean {
  const keys = ports.filter((p) => (p.publishedPort ?? 0) !== 0).map((p) => `${p.publishedPort}/${p.protocol ?? 'tcp'}`)
  return new Set(keys).size === keys.length
}

function isJob(spec: ServiceSpec): boolean {
  return 'replicatedJob' in spec.mode || 'globalJob' in spec.mode
}

describe('the canonical check', () => {
  it('rejects what canonical values must not contain', () => {
    expect(() => assertCanonical({ a: undefined })).toThrow('$.a: undefined-valued key')
    expect(() => assertCanonical({ a: { b: [] } })).toThrow('$.a.b: empty array')
    expect(() => assertCanonical({ labels: {} })).toThrow('$.labels: empty map')
    expect(() => assertCanonical({ a: Object.create(null) as object })).toThrow('$.a: not a plain object')
    expect(() => assertCanonical({ n: 0.5 })).toThrow('$.n: bad number 0.5')
    expect(() => assertCanonical({ v: 1n << 64n })).toThrow('$.v: bigint out of uint64 range')
    expect(() => assertCanonical({ s: '\uD800' })).toThrow('$.s: lone surrogate')
    expect(() => assertCanonical({ global: {}, maxFailureRatio: 0.25, data: new Uint8Array(0), labels: { a: 'b' } })).not.toThrow()
  })
})

describe('arbitraries produce canonical values', () => {
  const specs = {
    arbAnnotations,
    arbResources,
    arbContainerSpec,
    arbTaskSpec,
    arbServiceMode: () => arbServiceMode(),
    arbUpdateConfig,
    arbEndpointSpec,
    arbServiceSpec: () => arbServiceSpec(),
    arbNodeSpec,
    arbNetworkSpec,
    arbSecretSpec,
    arbConfigSpec,
    arbClusterSpec,
    arbMeta,
  }
  for (const [name, make] of Object.entries(specs)) {
    it(`${name}: no undefined keys, no empty collections, plain objects, safe numbers`, () => {
      fc.assert(fc.property(make() as fc.Arbitrary<unknown>, (v) => assertCanonical(v)), RUNS)
    })
  }
  for (const kind of OBJECT_KINDS) {
    it(`arbObject('${kind}') is canonical and has an ID`, () => {
      fc.assert(
        fc.property(arbObject(kind), (o) => {
          assertCanonical(o)
          expect(isId(o.id)).toBe(true)
        }),
        { numRuns: 100, seed: 2 },
      )
    })
  }
  it('arbStoreEvent is canonical; an update carries an old object with the same ID', () => {
    fc.assert(
      fc.property(arbStoreEvent(), (e) => {
        assertCanonical(e)
        if (e.action === 'update' && e.oldObject !== undefined) expect(e.oldObject.id).toBe(e.object.id)
      }),
      RUNS,
    )
  })
})

describe('arbitraries respect the rules they promise', () => {
  it('names: DNS labels of 1–63 characters and secret names of 1–64, both boundaries reached', () => {
    const labels = fc.sample(arbDnsLabel(), { numRuns: 500, seed: 3 })
    for (const l of labels) expect(l.length <= 63 && DNS_LABEL.test(l)).toBe(true)
    expect(labels.some((l) => l.length === 63)).toBe(true)
    expect(labels.some((l) => l.length === 1)).toBe(true)
    const names = fc.sample(arbSecretName(), { numRuns: 500, seed: 3 })
    for (const n of names) expect(n.length <= 64 && SECRET_NAME.test(n)).toBe(true)
    expect(names.some((n) => n.length === 64)).toBe(true)
    expect(names.some((n) => n.includes('.'))).toBe(true)
  })

  it('IDs are 25 base36 characters', () => {
    for (const id of fc.sample(arbId(), { numRuns: 200, seed: 4 })) expect(isId(id)).toBe(true)
  })

  it('uint64 values cover the extremes; Raft member IDs are never 0', () => {
    const values = new Set(fc.sample(arbUint64(), { numRuns: 500, seed: 5 }))
    for (const v of [0n, (1n << 63n) + 1n, (1n << 64n) - 1n]) expect(values.has(v)).toBe(true)
    expect([...values].some((v) => v > 1n << 53n && v < (1n << 63n) - 1n)).toBe(true)
    for (const id of fc.sample(arbRaftMemberId(), { numRuns: 300, seed: 5 })) expect(id >= 1n && id < 1n << 64n).toBe(true)
    const versions = fc.sample(arbMeta(), { numRuns: 300, seed: 6 })
    expect(versions.some((m) => m.version.index === (1n << 64n) - 1n)).toBe(true)
    for (const m of versions) expect(m.updatedAt).toBeGreaterThanOrEqual(m.createdAt)
  })

  it('constraints parse with the api parser', () => {
    fc.assert(
      fc.property(arbConstraint(), (c) => {
        parseConstraint(c)
      }),
      { numRuns: 500, seed: 7 },
    )
  })

  it('service specs: jobs have no update/rollback, dnsrr only host ports, no duplicate published ports', () => {
    fc.assert(
      fc.property(arbServiceSpec(), (s) => {
        if (isJob(s)) expect(s.update === undefined && s.rollback === undefined).toBe(true)
        const ports = s.endpoint?.ports ?? []
        if (s.endpoint?.mode === 'dnsrr') expect(ports.every((p) => p.publishMode === 'host')).toBe(true)
        expect(noDuplicatePublishedPorts(ports)).toBe(true)
        const runtimes = ['container', 'attachment', 'generic'].filter((k) => k in s.task)
        expect(runtimes.length).toBe(1)
      }),
      { numRuns: 500, seed: 8 },
    )
  })

  it('service specs can be restricted to some modes', () => {
    for (const s of fc.sample(arbServiceSpec({ modes: ['global'] }), { numRuns: 50, seed: 9 })) expect(s.mode).toEqual({ global: {} })
  })

  it('resources: non-zero CPU ≥ 0.001 and non-zero memory ≥ 4 MiB', () => {
    fc.assert(
      fc.property(arbResources(), (r) => {
        if (r.nanoCpus !== undefined && r.nanoCpus !== 0) expect(r.nanoCpus).toBeGreaterThanOrEqual(1_000_000)
        if (r.memoryBytes !== undefined && r.memoryBytes !== 0) expect(r.memoryBytes).toBeGreaterThanOrEqual(4 * 1024 * 1024)
      }),
      RUNS,
    )
  })

  it('secret data is 1 byte to < 500 KiB, or empty only with a driver; networks are never ingress and attachable', () => {
    fc.assert(
      fc.property(arbSecretSpec(), arbConfigSpec(), arbNetworkSpec(), (s, c, n) => {
        expect(s.data.length).toBeLessThan(MAX_SECRET_SIZE)
        if (s.driver === undefined) expect(s.data.length).toBeGreaterThan(0)
        expect(c.data.length).toBeGreaterThan(0)
        expect(n.ingress === true && n.attachable === true).toBe(false)
      }),
      RUNS,
    )
  })

  it('cluster raft ticks come in pairs with electionTick > heartbeatTick ≥ 1', () => {
    fc.assert(
      fc.property(arbClusterSpec(), (c) => {
        const r = c.raft
        expect(r?.heartbeatTick === undefined).toBe(r?.electionTick === undefined)
        if (r?.heartbeatTick !== undefined) expect(r.electionTick).toBeGreaterThan(r.heartbeatTick)
      }),
      RUNS,
    )
  })
})
