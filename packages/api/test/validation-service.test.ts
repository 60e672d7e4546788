import { describe, expect, it } from 'vitest'
import {
  validateServiceSpec,
  validateServiceUpdate,
  withServiceDefaults,
  type ContainerSpec,
  type EndpointSpec,
  type ServiceSpec,
  type TaskSpec,
  type UpdateConfig,
} from '../src/index.ts'

function expectInvalid(f: () => void, field: string): void {
  expect(f).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
}

/** Casts a deliberately ill-typed value to a spec. */
function bad(value: unknown): ServiceSpec {
  return value as ServiceSpec
}

/** Casts a deliberately ill-typed value to whatever type its position needs. */
function wrong<T>(value: unknown): T {
  return value as T
}

const minimal: ServiceSpec = { annotations: { name: 'web' }, task: { container: { image: 'nginx:1.27' } }, mode: { replicated: {} } }
const svc = (patch: Partial<ServiceSpec>): ServiceSpec => ({ ...minimal, ...patch })
const task = (patch: Partial<TaskSpec>): ServiceSpec => svc({ task: { ...minimal.task, ...patch } })
const container = (patch: Partial<ContainerSpec>): ServiceSpec => task({ container: { image: 'nginx:1.27', ...patch } })
const endpoint = (e: EndpointSpec): ServiceSpec => svc({ endpoint: e })
const update = (u: UpdateConfig): ServiceSpec => svc({ update: u })

const rich: ServiceSpec = {
  annotations: { name: 'shop_frontend-2', labels: { team: 'web', 'com.example.tier': 'front' } },
  mode: { replicated: { replicas: 3 } },
  task: {
    container: {
      image: 'registry.example.com/shop/frontend@sha256:0123456789abcdef',
      command: ['node'],
      args: ['server.js'],
      env: ['PORT=8080'],
      stopGracePeriodMs: 30_000,
      healthcheck: { test: ['CMD', 'curl', '-f', 'http://localhost/'], intervalMs: 5000, timeoutMs: 1000, retries: 3, startPeriodMs: 0, startIntervalMs: 500 },
      mounts: [
        { type: 'bind', source: '/srv/data', target: '/data', readOnly: true },
        { type: 'volume', source: 'cache', target: '/cache', volumeOptions: { driverConfig: { name: 'local' } } },
        { type: 'tmpfs', target: '/tmp', tmpfsOptions: { sizeBytes: 1 << 20, mode: 0o1777 } },
      ],
      secrets: [{ secretId: 'sid', secretName: 'db-password', file: { name: 'db', uid: '0', gid: '0', mode: 0o400 } }],
      configs: [
        { configId: 'cid', configName: 'nginx.conf', file: { name: '/etc/nginx/nginx.conf', mode: 0o444 } },
        { configId: 'cid2', configName: 'cred-spec', runtime: {} },
      ],
      ulimits: [{ name: 'nofile', soft: 1024, hard: 4096 }],
      pidsLimit: 100,
    },
    resources: {
      limits: { nanoCpus: 2_000_000_000, memoryBytes: 512 * 1024 * 1024 },
      reservations: { nanoCpus: 1_000_000, memoryBytes: 4_194_304, generic: [{ kind: 'gpu', namedValue: 'GPU-1' }, { kind: 'ssd', discreteValue: 2 }] },
      swapBytes: 0,
      memorySwappiness: 60,
    },
    restart: { condition: 'on-failure', delayMs: 1000, maxAttempts: 5, windowMs: 60_000 },
    placement: {
      constraints: ['node.role == manager', 'node.labels.zone != east'],
      preferences: [{ spread: { spreadDescriptor: 'node.labels.zone' } }, { spread: { spreadDescriptor: 'engine.labels.rack' } }],
      platforms: [{ architecture: 'amd64', os: 'linux' }],
      maxReplicas: 2,
      strategy: 'binpack',
    },
    networks: [{ target: 'backend', aliases: ['shop'] }],
    logDriver: { name: 'json-file', options: { 'max-size': '10m' } },
    forceUpdate: 1,
  },
  update: { parallelism: 2, delayMs: 10_000, failureAction: 'rollback', monitorMs: 5000, maxFailureRatio: 0.25, order: 'start-first' },
  rollback: { parallelism: 0, delayMs: 0, failureAction: 'continue', monitorMs: 0, maxFailureRatio: 1, order: 'stop-first' },
  endpoint: {
    mode: 'vip',
    ports: [
      { name: 'http', protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'ingress' },
      { protocol: 'udp', targetPort: 80, publishedPort: 8080 },
      { targetPort: 443 },
      { targetPort: 9100, publishMode: 'host' },
    ],
  },
}

describe('validateServiceSpec accepts', () => {
  it('a minimal spec', () => {
    expect(() => validateServiceSpec(minimal)).not.toThrow()
  })

  it('a rich spec using every section', () => {
    expect(() => validateServiceSpec(rich)).not.toThrow()
  })

  it('specs with defaults filled in', () => {
    expect(() => validateServiceSpec(withServiceDefaults(minimal))).not.toThrow()
    expect(() => validateServiceSpec(withServiceDefaults(rich))).not.toThrow()
  })

  it('each mode kind', () => {
    for (const mode of [{ replicated: { replicas: 0 } }, { global: {} }, { replicatedJob: { maxConcurrent: 2, totalCompletions: 10 } }, { globalJob: {} }]) {
      expect(() => validateServiceSpec(svc({ mode }))).not.toThrow()
    }
  })

  it('attachment and generic runtimes', () => {
    expect(() => validateServiceSpec(svc({ task: { attachment: { containerId: 'c1' } } }))).not.toThrow()
    expect(() => validateServiceSpec(svc({ task: { generic: { kind: 'vm', payload: new Uint8Array([1]) } } }))).not.toThrow()
  })

  it('a 63-character name and names with inner dashes and underscores', () => {
    for (const name of ['a'.repeat(63), 'a', 'a-b', 'a__b', 'A1-_-2']) {
      expect(() => validateServiceSpec(svc({ annotations: { name } }))).not.toThrow()
    }
  })

  it('zero CPU and memory, and the smallest non-zero amounts', () => {
    const resources = { limits: { nanoCpus: 0, memoryBytes: 0 }, reservations: { nanoCpus: 1_000_000, memoryBytes: 4 * 1024 * 1024 } }
    expect(() => validateServiceSpec(task({ resources }))).not.toThrow()
  })

  it('dnsrr with host-mode ports, ports left at 0, and one port on two protocols', () => {
    const e: EndpointSpec = {
      mode: 'dnsrr',
      ports: [
        { targetPort: 80, publishMode: 'host' },
        { targetPort: 81, publishMode: 'host' },
        { targetPort: 53, publishedPort: 53, publishMode: 'host' },
        { targetPort: 53, publishedPort: 53, protocol: 'udp', publishMode: 'host' },
      ],
    }
    expect(() => validateServiceSpec(endpoint(e))).not.toThrow()
  })

  it('empty collections', () => {
    const spec = svc({
      annotations: { name: 'web', labels: {} },
      task: { container: { image: 'x', mounts: [], secrets: [] }, placement: { constraints: [], preferences: [] }, networks: [] },
      endpoint: { ports: [] },
    })
    expect(() => validateServiceSpec(spec)).not.toThrow()
  })
})

type Case = readonly [what: string, spec: ServiceSpec, field: string]

const long = 'a'.repeat(64)

const cases: readonly Case[] = [
  // 1. annotations
  ['a missing name', svc({ annotations: wrong({}) }), 'annotations.name'],
  ['an empty name', svc({ annotations: { name: '' } }), 'annotations.name'],
  ['a 64-character name', svc({ annotations: { name: long } }), 'annotations.name'],
  ['a name with a dot', svc({ annotations: { name: 'web.app' } }), 'annotations.name'],
  ['a name starting with a dash', svc({ annotations: { name: '-web' } }), 'annotations.name'],
  ['a name ending with an underscore', svc({ annotations: { name: 'web_' } }), 'annotations.name'],
  ['an empty label key', svc({ annotations: { name: 'web', labels: { '': 'x' } } }), 'annotations.labels'],
  // 2. mode
  ['a mode with two kinds', svc({ mode: wrong({ replicated: {}, global: {} }) }), 'mode'],
  ['a mode with no kind', svc({ mode: wrong({}) }), 'mode'],
  ['negative replicas', svc({ mode: { replicated: { replicas: -1 } } }), 'mode.replicated.replicas'],
  ['fractional replicas', svc({ mode: { replicated: { replicas: 1.5 } } }), 'mode.replicated.replicas'],
  ['replicas beyond the safe integers', svc({ mode: { replicated: { replicas: 2 ** 53 } } }), 'mode.replicated.replicas'],
  ['a negative job maxConcurrent', svc({ mode: { replicatedJob: { maxConcurrent: -1 } } }), 'mode.replicatedJob.maxConcurrent'],
  ['a negative job totalCompletions', svc({ mode: { replicatedJob: { totalCompletions: -2 } } }), 'mode.replicatedJob.totalCompletions'],
  // 3. runtime
  ['a task with two runtimes', task({ generic: { kind: 'vm' } }), 'task'],
  ['a task with no runtime', svc({ task: {} }), 'task'],
  ['an empty image', container({ image: '' }), 'task.container.image'],
  ['an image with whitespace', container({ image: 'nginx latest' }), 'task.container.image'],
  ['an empty generic kind', svc({ task: { generic: { kind: '' } } }), 'task.generic.kind'],
  ['an empty attachment container id', svc({ task: { attachment: { containerId: '' } } }), 'task.attachment.containerId'],
  // 4. resources
  ['limits below 0.001 CPU', task({ resources: { limits: { nanoCpus: 999_999 } } }), 'task.resources.limits.nanoCpus'],
  ['negative reserved CPU', task({ resources: { reservations: { nanoCpus: -1_000_000 } } }), 'task.resources.reservations.nanoCpus'],
  ['a memory limit below 4 MiB', task({ resources: { limits: { memoryBytes: 4_194_303 } } }), 'task.resources.limits.memoryBytes'],
  ['negative reserved memory', task({ resources: { reservations: { memoryBytes: -4_194_304 } } }), 'task.resources.reservations.memoryBytes'],
  ['negative swap', task({ resources: { swapBytes: -1 } }), 'task.resources.swapBytes'],
  ['a swappiness above 100', task({ resources: { memorySwappiness: 101 } }), 'task.resources.memorySwappiness'],
  ['a negative swappiness', task({ resources: { memorySwappiness: -1 } }), 'task.resources.memorySwappiness'],
  [
    'a generic resource with an empty kind',
    task({ resources: { reservations: { generic: [{ kind: 'gpu', discreteValue: 1 }, { kind: '', discreteValue: 1 }] } } }),
    'task.resources.reservations.generic[1].kind',
  ],
  [
    'a negative discrete generic resource',
    task({ resources: { limits: { generic: [{ kind: 'gpu', discreteValue: -1 }] } } }),
    'task.resources.limits.generic[0].discreteValue',
  ],
  // 5. restart
  ['an unknown restart condition', task({ restart: { condition: wrong('always') } }), 'task.restart.condition'],
  ['a negative restart delay', task({ restart: { delayMs: -1 } }), 'task.restart.delayMs'],
  ['a fractional restart delay', task({ restart: { delayMs: 0.5 } }), 'task.restart.delayMs'],
  ['a negative restart window', task({ restart: { windowMs: -5 } }), 'task.restart.windowMs'],
  ['negative restart attempts', task({ restart: { maxAttempts: -1 } }), 'task.restart.maxAttempts'],
  // 6. placement
  ['a constraint without operator', task({ placement: { constraints: ['node.role == manager', 'node.role'] } }), 'task.placement.constraints[1]'],
  [
    'a spread descriptor outside node/engine labels',
    task({ placement: { preferences: [{ spread: { spreadDescriptor: 'node.hostname' } }] } }),
    'task.placement.preferences[0].spread.spreadDescriptor',
  ],
  [
    'a spread descriptor without a label key',
    task({ placement: { preferences: [{ spread: { spreadDescriptor: 'node.labels.zone' } }, { spread: { spreadDescriptor: 'engine.labels.' } }] } }),
    'task.placement.preferences[1].spread.spreadDescriptor',
  ],
  ['negative maxReplicas', task({ placement: { maxReplicas: -1 } }), 'task.placement.maxReplicas'],
  ['an unknown scheduling strategy', task({ placement: { strategy: 'random' as 'spread' } }), 'task.placement.strategy'],
  // 7. container
  ['a negative stop grace period', container({ stopGracePeriodMs: -1 }), 'task.container.stopGracePeriodMs'],
  ['a negative healthcheck interval', container({ healthcheck: { intervalMs: -1 } }), 'task.container.healthcheck.intervalMs'],
  ['a negative healthcheck timeout', container({ healthcheck: { timeoutMs: -1 } }), 'task.container.healthcheck.timeoutMs'],
  ['a negative healthcheck start period', container({ healthcheck: { startPeriodMs: -1 } }), 'task.container.healthcheck.startPeriodMs'],
  ['a negative healthcheck start interval', container({ healthcheck: { startIntervalMs: -1 } }), 'task.container.healthcheck.startIntervalMs'],
  ['negative healthcheck retries', container({ healthcheck: { retries: -1 } }), 'task.container.healthcheck.retries'],
  ['an empty mount target', container({ mounts: [{ type: 'volume', target: '' }] }), 'task.container.mounts[0].target'],
  ['a relative mount target', container({ mounts: [{ type: 'tmpfs', target: '/tmp' }, { type: 'volume', target: 'data' }] }), 'task.container.mounts[1].target'],
  ['an unknown mount type', container({ mounts: [{ type: wrong('nfs'), target: '/data' }] }), 'task.container.mounts[0].type'],
  ['a bind mount without source', container({ mounts: [{ type: 'bind', target: '/data' }] }), 'task.container.mounts[0].source'],
  ['an empty secret id', container({ secrets: [{ secretId: '', secretName: 's', file: { name: 's' } }] }), 'task.container.secrets[0].secretId'],
  ['an empty secret name', container({ secrets: [{ secretId: 'i', secretName: '', file: { name: 's' } }] }), 'task.container.secrets[0].secretName'],
  ['an empty secret file name', container({ secrets: [{ secretId: 'i', secretName: 's', file: { name: '' } }] }), 'task.container.secrets[0].file.name'],
  ['a secret file mode above 0o7777', container({ secrets: [{ secretId: 'i', secretName: 's', file: { name: 's', mode: 0o10000 } }] }), 'task.container.secrets[0].file.mode'],
  ['an empty config id', container({ configs: [{ configId: '', configName: 'c', file: { name: 'c' } }] }), 'task.container.configs[0].configId'],
  ['an empty config name', container({ configs: [{ configId: 'i', configName: '', file: { name: 'c' } }] }), 'task.container.configs[0].configName'],
  ['a config with both file and runtime targets', container({ configs: [{ configId: 'i', configName: 'c', file: { name: 'c' }, runtime: {} }] }), 'task.container.configs[0]'],
  ['a config with no target', container({ configs: [{ configId: 'i', configName: 'c' }] }), 'task.container.configs[0]'],
  ['a negative config file mode', container({ configs: [{ configId: 'i', configName: 'c', file: { name: 'c', mode: -1 } }] }), 'task.container.configs[0].file.mode'],
  ['an empty network target', task({ networks: [{ target: 'backend' }, { target: '' }] }), 'task.networks[1].target'],
  // 8. update / rollback
  ['negative update parallelism', update({ parallelism: -1 }), 'update.parallelism'],
  ['a negative update delay', update({ delayMs: -1 }), 'update.delayMs'],
  ['a negative update monitor', update({ monitorMs: -1 }), 'update.monitorMs'],
  ['a failure ratio above 1', update({ maxFailureRatio: 1.5 }), 'update.maxFailureRatio'],
  ['a negative failure ratio', update({ maxFailureRatio: -0.1 }), 'update.maxFailureRatio'],
  ['a NaN failure ratio', update({ maxFailureRatio: Number.NaN }), 'update.maxFailureRatio'],
  ['an unknown failure action', update({ failureAction: wrong('retry') }), 'update.failureAction'],
  ['an unknown update order', update({ order: wrong('random') }), 'update.order'],
  ['negative rollback parallelism', svc({ rollback: { parallelism: -1 } }), 'rollback.parallelism'],
  ['an infinite rollback failure ratio', svc({ rollback: { maxFailureRatio: Number.POSITIVE_INFINITY } }), 'rollback.maxFailureRatio'],
  // 9. jobs
  ['a replicated job with an update config', svc({ mode: { replicatedJob: {} }, update: { parallelism: 1 } }), 'update'],
  ['a global job with a rollback config', svc({ mode: { globalJob: {} }, rollback: {} }), 'rollback'],
  // 10. endpoint
  ['an unknown endpoint mode', endpoint({ mode: wrong('round-robin') }), 'endpoint.mode'],
  ['target port 0', endpoint({ ports: [{ targetPort: 0 }] }), 'endpoint.ports[0].targetPort'],
  ['target port 65536', endpoint({ ports: [{ targetPort: 80 }, { targetPort: 65536 }] }), 'endpoint.ports[1].targetPort'],
  ['a missing target port', endpoint({ ports: [wrong({ publishedPort: 80 })] }), 'endpoint.ports[0].targetPort'],
  ['published port 65536', endpoint({ ports: [{ targetPort: 80, publishedPort: 65536 }] }), 'endpoint.ports[0].publishedPort'],
  ['a negative published port', endpoint({ ports: [{ targetPort: 80, publishedPort: -1 }] }), 'endpoint.ports[0].publishedPort'],
  ['an unknown protocol', endpoint({ ports: [{ targetPort: 80, protocol: wrong('icmp') }] }), 'endpoint.ports[0].protocol'],
  ['an unknown publish mode', endpoint({ ports: [{ targetPort: 80, publishMode: wrong('overlay') }] }), 'endpoint.ports[0].publishMode'],
  ['dnsrr with an ingress port', endpoint({ mode: 'dnsrr', ports: [{ targetPort: 80, publishMode: 'ingress' }] }), 'endpoint.mode'],
  ['dnsrr with a port in the default (ingress) mode', endpoint({ mode: 'dnsrr', ports: [{ targetPort: 80, publishMode: 'host' }, { targetPort: 81 }] }), 'endpoint.mode'],
  [
    'a duplicate published port (default protocol tcp)',
    endpoint({ ports: [{ targetPort: 80, publishedPort: 8080, protocol: 'tcp' }, { targetPort: 81, publishedPort: 8080, protocol: 'udp' }, { targetPort: 82, publishedPort: 8080 }] }),
    'endpoint.ports[2].publishedPort',
  ],
]

describe('validateServiceSpec', () => {
  for (const [what, spec, field] of cases) {
    it(`rejects ${what} → ${field}`, () => {
      expectInvalid(() => validateServiceSpec(spec), field)
    })
  }
})

describe('validateServiceSpec checks in rule order and stops at the first problem', () => {
  it('reports the name before the mode', () => {
    expectInvalid(() => validateServiceSpec(svc({ annotations: { name: '' }, mode: { replicated: { replicas: -1 } } })), 'annotations.name')
  })

  it('reports resources before the endpoint', () => {
    const spec = svc({ task: { container: { image: 'x' }, resources: { limits: { memoryBytes: 1 } } }, endpoint: { ports: [{ targetPort: 0 }] } })
    expectInvalid(() => validateServiceSpec(spec), 'task.resources.limits.memoryBytes')
  })

  it('reports an invalid update config of a job before the job rule', () => {
    expectInvalid(() => validateServiceSpec(svc({ mode: { globalJob: {} }, update: { parallelism: -1 } })), 'update.parallelism')
  })
})

describe('validateServiceSpec on wrong shapes throws InvalidArgumentError, never TypeError', () => {
  const shapes: readonly (readonly [string, unknown, string])[] = [
    ['a string spec', 'web', ''],
    ['null', null, ''],
    ['string annotations', { ...minimal, annotations: 'web' }, 'annotations'],
    ['a numeric name', { ...minimal, annotations: { name: 42 } }, 'annotations.name'],
    ['string labels', { ...minimal, annotations: { name: 'web', labels: 'a=b' } }, 'annotations.labels'],
    ['a string mode', { ...minimal, mode: 'replicated' }, 'mode'],
    ['a misspelled mode kind', { ...minimal, mode: { replicated: {}, Global: {} } }, 'mode'],
    ['a string replicated body', { ...minimal, mode: { replicated: '3' } }, 'mode.replicated'],
    ['string replicas', { ...minimal, mode: { replicated: { replicas: '3' } } }, 'mode.replicated.replicas'],
    ['a missing task', { annotations: { name: 'web' }, mode: { global: {} } }, 'task'],
    ['a string container', { ...minimal, task: { container: 'nginx' } }, 'task.container'],
    ['a missing image', { ...minimal, task: { container: {} } }, 'task.container.image'],
    ['numeric resources', { ...minimal, task: { ...minimal.task, resources: 5 } }, 'task.resources'],
    ['a string CPU limit', { ...minimal, task: { ...minimal.task, resources: { limits: { nanoCpus: '1e9' } } } }, 'task.resources.limits.nanoCpus'],
    ['a string constraint list', { ...minimal, task: { ...minimal.task, placement: { constraints: 'node.role==manager' } } }, 'task.placement.constraints'],
    ['a numeric constraint', { ...minimal, task: { ...minimal.task, placement: { constraints: [5] } } }, 'task.placement.constraints[0]'],
    ['a preference without spread', { ...minimal, task: { ...minimal.task, placement: { preferences: [{}] } } }, 'task.placement.preferences[0].spread'],
    ['a null mount', { ...minimal, task: { container: { image: 'x', mounts: [null] } } }, 'task.container.mounts[0]'],
    ['a secret without file', { ...minimal, task: { container: { image: 'x', secrets: [{ secretId: 'i', secretName: 's' }] } } }, 'task.container.secrets[0].file'],
    ['an array as update config', { ...minimal, update: [] }, 'update'],
    ['a string failure ratio', { ...minimal, update: { maxFailureRatio: '0.5' } }, 'update.maxFailureRatio'],
    ['an object as port list', { ...minimal, endpoint: { ports: {} } }, 'endpoint.ports'],
    ['a null port', { ...minimal, endpoint: { ports: [null] } }, 'endpoint.ports[0]'],
  ]
  for (const [what, spec, field] of shapes) {
    it(`rejects ${what} → ${field === '' ? "'' (the whole spec)" : field}`, () => {
      expectInvalid(() => validateServiceSpec(bad(spec)), field)
    })
  }
})

describe('validateServiceUpdate', () => {
  it('accepts a change of replicas, image and update config', () => {
    const next: ServiceSpec = { ...rich, mode: { replicated: { replicas: 10 } }, update: { parallelism: 5 }, task: { ...rich.task, container: { image: 'shop:3' } } }
    expect(() => validateServiceUpdate(rich, next)).not.toThrow()
  })

  it('accepts a change of job completions', () => {
    const old = svc({ mode: { replicatedJob: { totalCompletions: 1 } } })
    expect(() => validateServiceUpdate(old, svc({ mode: { replicatedJob: { totalCompletions: 5 } } }))).not.toThrow()
  })

  it('rejects a rename → annotations.name', () => {
    expectInvalid(() => validateServiceUpdate(minimal, svc({ annotations: { name: 'web2' } })), 'annotations.name')
  })

  it('rejects replicated → global → mode', () => {
    expectInvalid(() => validateServiceUpdate(minimal, svc({ mode: { global: {} } })), 'mode')
  })

  it('rejects replicatedJob → replicated → mode', () => {
    expectInvalid(() => validateServiceUpdate(svc({ mode: { replicatedJob: {} } }), minimal), 'mode')
  })

  it('validates the new spec first', () => {
    expectInvalid(() => validateServiceUpdate(minimal, svc({ annotations: { name: 'web2' }, mode: { replicated: { replicas: -1 } } })), 'mode.replicated.replicas')
    expectInvalid(() => validateServiceUpdate(minimal, svc({ annotations: { name: '-' } })), 'annotations.name')
  })

  it('rejects a malformed old spec without a TypeError', () => {
    expectInvalid(() => validateServiceUpdate(bad('web'), minimal), 'annotations.name')
    expectInvalid(() => validateServiceUpdate(bad({ annotations: { name: 'web' }, mode: 'global' }), minimal), 'mode')
  })
})
