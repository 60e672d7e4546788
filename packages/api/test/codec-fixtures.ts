/** Hand-built example objects and specs for the codec tests: rich ones and minimal ones of every kind. */
import {
  TaskState,
  type Annotations,
  type Cluster,
  type ContainerSpec,
  type Meta,
  type Node,
  type ObjectKind,
  type ObjectKinds,
  type ServiceSpec,
  type SpecKind,
  type SpecKinds,
  type Task,
  type TaskSpec,
} from '../src/index.ts'

export const id = (c: string): string => c.repeat(25)
export const u8 = (...xs: number[]): Uint8Array => new Uint8Array(xs)
export const meta = (index: bigint): Meta => ({ version: { index }, createdAt: 1_700_000_000_000, updatedAt: 1_700_000_000_500 })
export const annotations: Annotations = {
  name: 'web',
  labels: { tier: 'front', '': 'empty key', 'ünï': '😀 \uFEFFbom', __proto__x: 'y' },
  indices: [{ key: 'k', val: '' }],
}

export const container: ContainerSpec = {
  image: 'nginx:1.25',
  labels: { a: 'b' },
  command: ['nginx'],
  args: ['-g', 'daemon off;'],
  hostname: 'web',
  env: ['A=1', ''],
  dir: '/srv',
  user: 'www',
  groups: ['adm'],
  privileges: {
    credentialSpec: { file: 'spec.json', registry: 'r', config: '' },
    seLinuxContext: { disable: false, user: 'u', role: 'r', type: 't', level: 'l' },
    seccomp: { mode: 'custom', profile: u8(1, 2, 3) },
    appArmor: { mode: 'disabled' },
    noNewPrivileges: true,
  },
  init: false,
  tty: true,
  openStdin: false,
  readOnly: true,
  stopSignal: 'SIGTERM',
  mounts: [
    { type: 'bind', source: '/a', target: '/b', readOnly: true, bindOptions: { propagation: 'rprivate', nonRecursive: true } },
    { type: 'volume', target: '/data', volumeOptions: { noCopy: false, labels: { a: 'b' }, driverConfig: { name: 'local', options: { o: 'p' } }, subpath: 'x' } },
    { type: 'tmpfs', target: '/tmp', tmpfsOptions: { sizeBytes: 0, mode: 0o1777, options: 'noexec' } },
    { type: 'npipe', source: '', target: 'p' },
    { type: 'cluster', target: 'c', readOnly: false },
  ],
  stopGracePeriodMs: 10_000,
  pullOptions: { registryAuth: 'token' },
  secrets: [{ secretId: id('s'), secretName: 'pw', file: { name: 'pw', uid: '0', gid: '0', mode: 0o400 } }],
  configs: [
    { configId: id('c'), configName: 'cfg', file: { name: 'cfg' } },
    { configId: id('c'), configName: 'cfg', runtime: {} },
  ],
  hosts: ['10.0.0.1 db'],
  dnsConfig: { nameservers: ['8.8.8.8'], search: ['example.com'], options: ['ndots:2'] },
  healthcheck: { test: ['CMD', 'true'], intervalMs: 0, timeoutMs: 1000, retries: 3, startPeriodMs: 0, startIntervalMs: 5000 },
  isolation: 'hyperv',
  pidsLimit: -1,
  sysctls: { 'net.core.somaxconn': '1024' },
  capabilityAdd: ['CAP_NET_ADMIN'],
  capabilityDrop: ['CAP_MKNOD'],
  ulimits: [{ name: 'nofile', soft: 1024, hard: 0 }],
  oomScoreAdj: -500,
}

export const taskSpec: TaskSpec = {
  container,
  resources: {
    limits: { nanoCpus: 2e9, memoryBytes: 2 ** 40, generic: [{ kind: 'gpu', namedValue: 'uuid' }, { kind: 'ssd', discreteValue: 0 }] },
    reservations: { nanoCpus: 0 },
    swapBytes: -1,
    memorySwappiness: 0,
  },
  restart: { condition: 'on-failure', delayMs: 5000, maxAttempts: 0, windowMs: 0 },
  placement: {
    constraints: ['node.role == manager'],
    preferences: [{ spread: { spreadDescriptor: 'node.labels.zone' } }],
    platforms: [{ architecture: 'amd64', os: 'linux' }, {}],
    maxReplicas: 2,
    strategy: 'binpack',
  },
  logDriver: { name: 'json-file', options: { 'max-size': '10m' } },
  networks: [{ target: 'overlay', aliases: ['web'], addresses: ['10.0.0.5/24'], driverAttachmentOpts: { a: 'b' } }],
  forceUpdate: 0,
  resourceReferences: [{ resourceId: id('r'), resourceType: 'secret' }],
}

export const serviceSpec: ServiceSpec = {
  annotations,
  task: taskSpec,
  mode: { replicated: { replicas: 3 } },
  update: { parallelism: 1, delayMs: 0, failureAction: 'rollback', monitorMs: 5000, maxFailureRatio: 0.25, order: 'start-first' },
  rollback: { failureAction: 'continue', maxFailureRatio: 0, order: 'stop-first' },
  networks: [{ target: 'legacy' }],
  endpoint: {
    mode: 'dnsrr',
    ports: [
      { name: 'http', protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' },
      { protocol: 'sctp', targetPort: 0, publishedPort: 0 },
      { targetPort: 53, protocol: 'udp', publishMode: 'ingress' },
    ],
  },
}

export const SPECS: { [K in SpecKind]: SpecKinds[K] } = {
  service: serviceSpec,
  node: { annotations: { name: 'node-1' }, desiredRole: 'manager', membership: 'accepted', availability: 'drain' },
  network: {
    annotations: { name: 'net' },
    driverConfig: { name: 'overlay' },
    ipv6Enabled: true,
    internal: false,
    ipam: {
      driver: { name: 'default' },
      configs: [{ family: 'ipv4', subnet: '10.0.0.0/24', range: '10.0.0.0/25', gateway: '10.0.0.1', reserved: { '10.0.0.2': 'x' } }, { family: 'ipv6' }],
    },
    attachable: true,
    ingress: false,
    configFrom: 'cfg-net',
  },
  cluster: {
    annotations: { name: 'default' },
    orchestration: { taskHistoryRetentionLimit: 5, schedulingStrategy: 'spread' },
    raft: { snapshotInterval: 10_000, keepOldSnapshots: 0, logEntriesForSlowFollowers: 500, heartbeatTick: 1, electionTick: 10 },
    dispatcher: { heartbeatPeriodMs: 5000 },
    caConfig: {
      nodeCertExpiryMs: 90 * 24 * 3_600_000,
      externalCas: [{ protocol: 'cfssl', url: 'https://ca', options: { k: 'v' }, caCert: 'PEM' }],
      signingCaCert: 'C',
      signingCaKey: 'K',
      forceRotate: 1,
    },
    taskDefaults: { logDriver: { name: 'journald' } },
    encryptionConfig: { autoLockManagers: false },
  },
  secret: { annotations: { name: 'pw' }, data: u8(0, 255, 1), templating: { name: 'golang' }, driver: { name: 'vault', options: { path: 'x' } } },
  config: { annotations: { name: 'cfg' }, data: new TextEncoder().encode('hello'), templating: { name: 'golang' } },
}

export const node: Node = {
  id: id('n'),
  meta: meta(42n),
  spec: SPECS.node,
  description: {
    hostname: 'h1',
    platform: { architecture: 'arm64', os: 'linux' },
    resources: { nanoCpus: 4e9, memoryBytes: 8 * 2 ** 30, generic: [{ kind: 'gpu', discreteValue: 2 }] },
    engine: { engineVersion: '24.0', labels: { a: 'b' }, plugins: [{ type: 'Network', name: 'overlay' }] },
    tlsInfo: { trustRoot: u8(1), certIssuerSubject: u8(), certIssuerPublicKey: u8(3, 4) },
    fips: false,
  },
  status: { state: 'ready', message: '', addr: '10.0.0.2' },
  managerStatus: { raftId: 2n ** 63n + 1n, addr: '10.0.0.2:4242', leader: true, reachability: 'reachable' },
  certificate: { role: 'manager', csr: u8(9), status: { state: 'issued', err: '' }, certificate: u8(8), cn: id('n') },
  role: 'manager',
  attachments: [{ networkId: id('i'), addresses: ['10.255.0.2/16'] }],
  vxlanUdpPort: 4789,
}

export const task: Task = {
  id: id('t'),
  meta: meta(43n),
  spec: taskSpec,
  specVersion: { index: 41n },
  serviceId: id('v'),
  slot: 1,
  nodeId: '',
  annotations: { name: 'web.1' },
  serviceAnnotations: { name: 'web' },
  status: {
    timestamp: 1_700_000_000_123,
    state: TaskState.RUNNING,
    message: 'started',
    err: '',
    containerStatus: { containerId: 'abc', pid: 1234, exitCode: -1 },
    portStatus: { ports: [] },
    appliedBy: id('m'),
    appliedAt: 0,
  },
  desiredState: TaskState.RUNNING,
  networks: [{ networkId: id('i'), aliases: ['web'], driverAttachmentOpts: { k: 'v' } }],
  endpoint: { spec: {}, ports: [{ targetPort: 80 }] },
  logDriver: { name: 'x' },
  assignedGenericResources: [{ kind: 'gpu', namedValue: '' }],
  jobIteration: { index: 3n },
}

export const cluster: Cluster = {
  id: id('c'),
  meta: meta(1n),
  spec: SPECS.cluster,
  rootCa: {
    caKey: u8(1),
    caCert: u8(2),
    caCertHash: 'sha256:ab',
    joinTokens: { worker: 'SWMTKN-1-w', manager: 'SWMTKN-1-m' },
    rootRotation: { caCert: u8(3), caKey: u8(), crossSignedCaCert: u8(5) },
    lastForcedRotation: 0,
  },
  networkBootstrapKeys: [{ subsystem: 'networking:gossip', algorithm: 'aes_128_gcm', key: u8(7, 7), lamportTime: 2n ** 64n - 1n }],
  encryptionKeyLamportClock: 0n,
  blacklistedCertificates: { [id('x')]: { expiry: 1 }, [id('y')]: {} },
  unlockKeys: [{ subsystem: 'manager', key: u8(6) }],
  fips: true,
  defaultAddressPool: ['10.0.0.0/8'],
  subnetSize: 24,
  vxlanUdpPort: 0,
}

export const FULL: { [K in ObjectKind]: ObjectKinds[K] } = {
  node,
  service: {
    id: id('v'),
    meta: meta(44n),
    spec: serviceSpec,
    specVersion: { index: 41n },
    previousSpec: { ...serviceSpec, mode: { global: {} } },
    previousSpecVersion: { index: 0n },
    endpoint: {
      spec: { mode: 'vip' },
      ports: [{ targetPort: 80, publishedPort: 30000, protocol: 'tcp', publishMode: 'ingress' }],
      virtualIps: [{ networkId: id('i'), addr: '10.255.0.5/16' }],
    },
    updateStatus: { state: 'rollback_started', startedAt: 1, completedAt: 0, message: 'm' },
    jobStatus: { jobIteration: { index: 7n }, lastExecution: 1_700_000_000_000, nextExecution: 1_700_000_600_000, skippedExecutions: 2, lastSkippedExecution: 1_699_999_400_000 },
    pendingDelete: false,
  },
  task,
  network: {
    id: id('i'),
    meta: meta(45n),
    spec: SPECS.network,
    driverState: { name: 'overlay', options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' } },
    ipam: { driver: { name: 'default' }, configs: [{ family: 'ipv4', subnet: '10.0.1.0/24', gateway: '10.0.1.1' }, {}] },
    pendingDelete: true,
  },
  cluster,
  secret: { id: id('s'), meta: meta(46n), spec: SPECS.secret, internal: false },
  config: { id: id('f'), meta: meta(47n), spec: SPECS.config },
  extension: { id: id('e'), meta: meta(48n), annotations: { name: 'ext' }, description: '' },
  resource: { id: id('r'), meta: meta(49n), annotations: { name: 'res' }, kind: 'ext', payload: { typeUrl: 'type.example/x', value: u8() } },
}

const bare = { id: '', meta: meta(0n) }
export const MINIMAL: { [K in ObjectKind]: ObjectKinds[K] } = {
  node: { ...bare, spec: { annotations: { name: '' }, desiredRole: 'worker', membership: 'pending', availability: 'active' }, status: { state: 'unknown' }, role: 'worker' },
  service: { ...bare, spec: { annotations: { name: '' }, task: {}, mode: { globalJob: {} } } },
  task: {
    ...bare,
    spec: {},
    serviceId: '',
    slot: 0,
    nodeId: '',
    annotations: { name: '' },
    serviceAnnotations: { name: '' },
    status: { timestamp: 0, state: TaskState.NEW },
    desiredState: TaskState.NEW,
  },
  network: { ...bare, spec: { annotations: { name: '' } } },
  cluster: { ...bare, spec: { annotations: { name: '' } }, rootCa: { caCert: u8(), caCertHash: '', joinTokens: { worker: '', manager: '' } } },
  secret: { ...bare, spec: { annotations: { name: '' }, data: u8() } },
  config: { ...bare, spec: { annotations: { name: '' }, data: u8() } },
  extension: { ...bare, annotations: { name: '' } },
  resource: { ...bare, annotations: { name: '' }, kind: '' },
}
