import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { serviceSpecFromDocker, serviceSpecToDocker } from '../src/translate/service-spec.ts'

const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/)
const text = fc.string({ minLength: 1, maxLength: 12 })
const list = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T[]> => fc.array(a, { minLength: 1, maxLength: 3 })
const labels = fc.dictionary(word, fc.string({ maxLength: 8 }), { minKeys: 1, maxKeys: 3 })
const ms = fc.integer({ min: 1, max: 10_000_000 })
const pos = fc.integer({ min: 1, max: 1_000_000 })
const id = fc.stringMatching(/^[a-z0-9]{25}$/)
const some = <T>(r: { [K in keyof T]: fc.Arbitrary<T[K]> }, required: (keyof T)[] = []): fc.Arbitrary<T> =>
  fc.record(r, { requiredKeys: required as never[] }) as unknown as fc.Arbitrary<T>

const fileTarget = some({ name: word, uid: fc.constantFrom('0', '1000'), gid: fc.constantFrom('0', '1000'), mode: fc.integer({ min: 0, max: 0o777 }) }, ['name', 'mode'])
const mount = some(
  {
    type: fc.constantFrom('bind', 'volume', 'tmpfs'),
    target: fc.constantFrom('/data', '/var/lib/x'),
    source: word,
    readOnly: fc.constant(true),
    bindOptions: some({ propagation: fc.constantFrom('rprivate', 'shared'), nonRecursive: fc.constant(true) }),
    volumeOptions: some({ noCopy: fc.constant(true), labels, driverConfig: some({ name: word, options: labels }, ['name']) }),
    tmpfsOptions: some({ sizeBytes: pos, mode: fc.integer({ min: 1, max: 0o777 }) }),
  },
  ['type', 'target'],
)
const resources = some({ nanoCpus: pos, memoryBytes: pos, generic: list(fc.oneof(fc.record({ kind: word, namedValue: word }), fc.record({ kind: word, discreteValue: pos }))) }, ['nanoCpus'])
const container = some(
  {
    image: fc.constantFrom('busybox:latest', 'registry.example:5000/team/app:1.2', 'node'),
    labels,
    command: list(text),
    args: list(text),
    hostname: word,
    env: list(fc.constantFrom('A=1', 'B=two words', 'EMPTY=')),
    dir: fc.constant('/work'),
    user: fc.constantFrom('1000', 'nobody'),
    groups: list(word),
    privileges: some({ credentialSpec: some({ file: word }, ['file']), seLinuxContext: some({ user: word, level: word }, ['user']), noNewPrivileges: fc.constant(true) }, ['noNewPrivileges']),
    init: fc.boolean(),
    tty: fc.constant(true),
    openStdin: fc.constant(true),
    readOnly: fc.constant(true),
    stopSignal: fc.constantFrom('SIGTERM', 'SIGINT'),
    mounts: list(mount),
    stopGracePeriodMs: fc.integer({ min: 0, max: 600_000 }),
    secrets: list(fc.record({ secretId: id, secretName: word, file: fileTarget })),
    configs: list(some({ configId: id, configName: word, file: fileTarget, runtime: fc.constant({}) }, ['configId', 'configName'])),
    hosts: list(fc.constant('10.0.0.1 db')),
    dnsConfig: some({ nameservers: list(fc.constant('1.1.1.1')), search: list(word), options: list(fc.constant('ndots:2')) }, ['nameservers']),
    healthcheck: some({ test: list(text), intervalMs: ms, timeoutMs: ms, retries: pos, startPeriodMs: ms, startIntervalMs: ms }, ['test']),
    isolation: fc.constantFrom('default', 'process'),
    pidsLimit: pos,
    sysctls: labels,
    capabilityAdd: list(fc.constant('CAP_NET_ADMIN')),
    capabilityDrop: list(fc.constant('CAP_MKNOD')),
    ulimits: list(fc.record({ name: fc.constant('nofile'), soft: pos, hard: pos })),
    oomScoreAdj: fc.integer({ min: -1000, max: 1000 }).filter((n) => n !== 0),
  },
  ['image'],
)
const networks = list(some({ target: id, aliases: list(word), driverAttachmentOpts: labels }, ['target']))
const updateConfig = some(
  {
    parallelism: fc.integer({ min: 0, max: 10 }),
    delayMs: ms,
    failureAction: fc.constantFrom('pause', 'continue', 'rollback'),
    monitorMs: ms,
    maxFailureRatio: fc.double({ min: 0.01, max: 1, noNaN: true }),
    order: fc.constantFrom('stop-first', 'start-first'),
  },
  ['parallelism'],
)
const task = some(
  {
    container,
    resources: some({ limits: resources, reservations: resources, swapBytes: pos, memorySwappiness: fc.integer({ min: 0, max: 100 }) }, ['limits']),
    restart: some({ condition: fc.constantFrom('none', 'on-failure', 'any'), delayMs: fc.integer({ min: 0, max: 60_000 }), maxAttempts: fc.nat(10), windowMs: fc.integer({ min: 0, max: 60_000 }) }),
    placement: some({ constraints: list(fc.constant('node.role==manager')), preferences: list(fc.record({ spread: fc.record({ spreadDescriptor: fc.constant('node.labels.zone') }) })), maxReplicas: pos, platforms: list(some({ architecture: fc.constant('amd64'), os: fc.constant('linux') })) }, ['constraints']),
    networks,
    logDriver: some({ name: word, options: labels }, ['name']),
    forceUpdate: pos,
  },
  ['container'],
)
const mode = fc.oneof(
  fc.record({ replicated: fc.record({ replicas: fc.nat(100) }) }),
  fc.constant({ global: {} }),
  // Docker's JSON always has both (the CLI dereferences TotalCompletions): written with their defaults.
  fc.record({ replicatedJob: fc.record({ maxConcurrent: pos, totalCompletions: pos }) }),
  fc.constant({ globalJob: {} }),
)
const spec: fc.Arbitrary<ServiceSpec> = some(
  {
    annotations: some({ name: word, labels }, ['name']),
    task,
    mode,
    update: updateConfig,
    rollback: updateConfig,
    networks,
    endpoint: some({ mode: fc.constantFrom('vip', 'dnsrr'), ports: list(some({ name: word, protocol: fc.constantFrom('tcp', 'udp', 'sctp'), targetPort: fc.integer({ min: 1, max: 65535 }), publishedPort: fc.integer({ min: 1, max: 65535 }), publishMode: fc.constantFrom('ingress', 'host') }, ['protocol', 'targetPort', 'publishMode'])) }),
  },
  ['annotations', 'task', 'mode'],
)

describe('Docker ServiceSpec translation', () => {
  it('api spec → Docker JSON → api spec is the identity for every spec Docker can express', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const wire = JSON.parse(JSON.stringify(serviceSpecToDocker(s))) as unknown
        expect(serviceSpecFromDocker(wire)).toEqual(s)
      }),
      { numRuns: 300 },
    )
  })

  it('reads the zero values the docker CLI sends for "unset" as unset', () => {
    const body = {
      Name: 'web',
      Labels: {},
      TaskTemplate: {
        ContainerSpec: { Image: 'busybox:latest', Labels: null, Args: ['sh'], Init: false, StopGracePeriod: null, DNSConfig: {}, Isolation: 'default' },
        Resources: { Limits: {}, Reservations: {} },
        Placement: {},
        Networks: null,
        ForceUpdate: 0,
        Runtime: 'container',
      },
      Mode: { Replicated: { Replicas: 3 } },
      UpdateConfig: { Parallelism: 1, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'stop-first' },
      RollbackConfig: { Parallelism: 1, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'stop-first' },
      EndpointSpec: { Mode: 'vip' },
    }
    expect(serviceSpecFromDocker(body)).toEqual({
      annotations: { name: 'web' },
      task: { container: { image: 'busybox:latest', args: ['sh'], init: false, isolation: 'default' } },
      mode: { replicated: { replicas: 3 } },
      update: { parallelism: 1, failureAction: 'pause', monitorMs: 5000, order: 'stop-first' },
      rollback: { parallelism: 1, failureAction: 'pause', monitorMs: 5000, order: 'stop-first' },
      endpoint: { mode: 'vip' },
    })
  })

  it('refuses an unknown field naming its path', () => {
    const body = { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox', Foo: 1 } } }
    expect(() => serviceSpecFromDocker(body)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'TaskTemplate.ContainerSpec.Foo', message: 'TaskTemplate.ContainerSpec.Foo: unknown field' }))
  })

  it('refuses what swarmkit-ts cannot run (a plugin task, a sub-millisecond duration) naming the field', () => {
    expect(() => serviceSpecFromDocker({ Name: 'p', TaskTemplate: { PluginSpec: { Name: 'x' }, Runtime: 'plugin' } })).toThrow(
      expect.objectContaining({ field: 'TaskTemplate.Runtime', message: 'TaskTemplate.Runtime: is not supported by swarmkit-ts: only "container" tasks run here, got "plugin"' }),
    )
    expect(() => serviceSpecFromDocker({ Name: 'p', TaskTemplate: { ContainerSpec: { Image: 'busybox', StopGracePeriod: 1500 } } })).toThrow(
      expect.objectContaining({ field: 'TaskTemplate.ContainerSpec.StopGracePeriod' }),
    )
  })

  it('refuses a bad mode: two modes at once, a negative replica count', () => {
    expect(() => serviceSpecFromDocker({ Name: 'm', Mode: { Replicated: { Replicas: 1 }, Global: {} } })).toThrow(
      expect.objectContaining({ field: 'Mode', message: 'Mode: needs exactly one of Replicated, Global, ReplicatedJob, GlobalJob' }),
    )
    expect(() => serviceSpecFromDocker({ Name: 'm', Mode: { Replicated: { Replicas: -1 } } })).toThrow(
      expect.objectContaining({ field: 'Mode.Replicated.Replicas', message: 'Mode.Replicated.Replicas: must be an integer of at least 0, got -1' }),
    )
  })

  it('writes a replicated job with both counts, defaults filled (MaxConcurrent 1, TotalCompletions = MaxConcurrent)', () => {
    const job = (replicatedJob: { maxConcurrent?: number }): unknown =>
      serviceSpecToDocker({ annotations: { name: 'j' }, mode: { replicatedJob }, task: { container: { image: 'busybox' } } })['Mode']
    expect(job({})).toEqual({ ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } })
    expect(job({ maxConcurrent: 3 })).toEqual({ ReplicatedJob: { MaxConcurrent: 3, TotalCompletions: 3 } })
  })

  it('writes Docker durations in ns, ports with their protocol and publish mode, and the container runtime', () => {
    const out = serviceSpecToDocker({
      annotations: { name: 'web' },
      mode: { replicated: { replicas: 2 } },
      task: { container: { image: 'busybox', stopGracePeriodMs: 1500, pidsLimit: 64 }, restart: { delayMs: 5000 } },
      endpoint: { ports: [{ targetPort: 80, publishedPort: 8080 }] },
    })
    expect(out).toEqual({
      Name: 'web',
      Labels: {},
      TaskTemplate: {
        ContainerSpec: { Image: 'busybox', StopGracePeriod: 1_500_000_000 },
        Resources: { Limits: { Pids: 64 } },
        RestartPolicy: { Delay: 5_000_000_000 },
        ForceUpdate: 0,
        Runtime: 'container',
      },
      Mode: { Replicated: { Replicas: 2 } },
      EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] },
    })
  })
})
