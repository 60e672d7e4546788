/**
 * `POST /containers/create` → the spec of the service that carries a classic container: a
 * replicated service with 0 replicas until `start` (then 1), labelled
 * {@link CLASSIC_CONTAINER_LABEL}, its restart policy from `HostConfig.RestartPolicy` ("no":
 * condition none, so a task that ends stays in `docker ps -a`).
 *
 * Every field Docker's CLI sends is mapped, accepted at its zero value, or refused naming it
 * (400); nothing is created from a refused body.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { ContainerSpec, HealthConfig, Mount, PortConfig, RestartPolicy, ServiceSpec, TaskSpec, Ulimit } from '@swarmkit-ts/api'
import { classicEnvironment, type ClassicPlacementLookup } from './classic-constraints.ts'
import { booleanAt, checkFields, integerAt, nanosToMs, objectAt, stringAt, stringMapAt, stringsAt, type FieldRule, type JsonObject } from './classic-fields.ts'
import { hostConfigRules, readBinds, readMounts } from './classic-host-config.ts'

/** The label marking a service as a classic container (value `true`). */
export const CLASSIC_CONTAINER_LABEL = 'com.swarmkit-ts.classic.container'
/** Label: remove the container when it ends (`docker run --rm`). */
export const CLASSIC_AUTO_REMOVE_LABEL = 'com.swarmkit-ts.classic.auto-remove'
/** Label: the exit code of a stopped container (its task is gone once scaled to 0). */
export const CLASSIC_EXIT_CODE_LABEL = 'com.swarmkit-ts.classic.exit-code'
/** Label: when a stopped container finished (RFC 3339). */
export const CLASSIC_FINISHED_AT_LABEL = 'com.swarmkit-ts.classic.finished-at'
/** Label: when a stopped container had started (RFC 3339). */
export const CLASSIC_STARTED_AT_LABEL = 'com.swarmkit-ts.classic.started-at'
/** Label: the node a stopped container ran on. */
export const CLASSIC_NODE_LABEL = 'com.swarmkit-ts.classic.node'

const CONFIG_RULES: Readonly<Record<string, FieldRule>> = {
  Hostname: 'mapped',
  Domainname: { zeroOnly: 'a domain name' },
  User: 'mapped',
  AttachStdin: 'mapped',
  AttachStdout: 'ignored',
  AttachStderr: 'ignored',
  Tty: 'mapped',
  OpenStdin: 'mapped',
  StdinOnce: 'ignored',
  Env: 'mapped',
  Cmd: 'mapped',
  Image: 'mapped',
  Volumes: { zeroOnly: 'anonymous volumes (use a bind mount: -v /host/path:/path)' },
  WorkingDir: 'mapped',
  Entrypoint: 'mapped',
  OnBuild: { zeroOnly: 'build triggers' },
  Labels: 'mapped',
  StopSignal: 'mapped',
  StopTimeout: 'mapped',
  Healthcheck: 'mapped',
  ExposedPorts: 'ignored',
  NetworkDisabled: { zeroOnly: 'disabling the network' },
  MacAddress: { zeroOnly: 'a MAC address' },
  ArgsEscaped: { zeroOnly: 'escaped arguments (Windows)' },
  Shell: { zeroOnly: 'a build shell' },
  HostConfig: 'mapped',
  NetworkingConfig: 'mapped',
  Platform: 'ignored',
  // dockerode repeats its query parameters in the body; the query's `name` is the one used.
  name: 'ignored',
}

const HEALTH_RULES: Readonly<Record<string, FieldRule>> = { Test: 'mapped', Interval: 'mapped', Timeout: 'mapped', StartPeriod: 'mapped', StartInterval: 'mapped', Retries: 'mapped' }

const ENDPOINT_RULES: Readonly<Record<string, FieldRule>> = {
  Aliases: 'mapped',
  IPAMConfig: { zeroOnly: 'static addresses' },
  Links: { zeroOnly: 'links' },
  MacAddress: { zeroOnly: 'a MAC address' },
  DriverOpts: { zeroOnly: 'driver options of an endpoint' },
  GwPriority: { zeroOnly: 'a gateway priority' },
  NetworkID: 'ignored',
  EndpointID: 'ignored',
  Gateway: 'ignored',
  IPAddress: 'ignored',
  IPPrefixLen: 'ignored',
  IPv6Gateway: 'ignored',
  GlobalIPv6Address: 'ignored',
  GlobalIPv6PrefixLen: 'ignored',
  DNSNames: 'ignored',
}

/** A classic container's create request, read. */
export interface ClassicCreate {
  /** The service spec carrying the container (0 replicas: created, not started). */
  readonly spec: ServiceSpec
  /** Whether the client asked for a TTY or stdin (refused by the route with 501). */
  readonly interactive: 'tty' | 'stdin' | undefined
}

function healthOf(v: unknown): HealthConfig | undefined {
  const h = objectAt(v, 'Healthcheck')
  checkFields(h, HEALTH_RULES, 'Healthcheck')
  const test = stringsAt(h['Test'], 'Healthcheck.Test')
  const out: HealthConfig = {
    ...(test.length > 0 ? { test } : {}),
    ...optional('intervalMs', nanosToMs(h['Interval'], 'Healthcheck.Interval')),
    ...optional('timeoutMs', nanosToMs(h['Timeout'], 'Healthcheck.Timeout')),
    ...optional('startPeriodMs', nanosToMs(h['StartPeriod'], 'Healthcheck.StartPeriod')),
    ...optional('startIntervalMs', nanosToMs(h['StartInterval'], 'Healthcheck.StartInterval')),
    ...optional('retries', integerAt(h['Retries'], 'Healthcheck.Retries') || undefined),
  }
  return Object.keys(out).length === 0 ? undefined : out
}

function optional<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V }
}

function restartOf(v: unknown): RestartPolicy {
  const p = objectAt(v, 'HostConfig.RestartPolicy')
  checkFields(p, { Name: 'mapped', MaximumRetryCount: 'mapped' }, 'HostConfig.RestartPolicy')
  const name = stringAt(p['Name'], 'HostConfig.RestartPolicy.Name')
  const retries = integerAt(p['MaximumRetryCount'], 'HostConfig.RestartPolicy.MaximumRetryCount')
  if (retries !== 0 && name !== 'on-failure') throw new InvalidArgumentError('HostConfig.RestartPolicy.MaximumRetryCount', `only with the on-failure policy, not ${JSON.stringify(name)}`)
  switch (name) {
    case '':
    case 'no':
      return { condition: 'none' }
    case 'always':
    case 'unless-stopped':
      return { condition: 'any' }
    case 'on-failure':
      return { condition: 'on-failure', ...(retries > 0 ? { maxAttempts: retries } : {}) }
    default:
      throw new InvalidArgumentError('HostConfig.RestartPolicy.Name', `unknown restart policy ${JSON.stringify(name)} (no, always, unless-stopped, on-failure)`)
  }
}

function networksOf(mode: string, networking: JsonObject): TaskSpec['networks'] {
  const endpoints = objectAt(networking['EndpointsConfig'], 'NetworkingConfig.EndpointsConfig')
  checkFields(networking, { EndpointsConfig: 'mapped' }, 'NetworkingConfig')
  const attached: { target: string; aliases?: string[] }[] = []
  const local = (n: string): boolean => n === '' || n === 'default' || n === 'bridge'
  if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) {
    throw new InvalidArgumentError('HostConfig.NetworkMode', `not supported by swarmkit-ts: network mode ${JSON.stringify(mode)} (attach an overlay network, or none)`)
  }
  for (const [name, raw] of Object.entries(endpoints)) {
    const at = `NetworkingConfig.EndpointsConfig.${name}`
    const ep = objectAt(raw, at)
    checkFields(ep, ENDPOINT_RULES, at)
    const aliases = stringsAt(ep['Aliases'], `${at}.Aliases`)
    if (local(name)) {
      if (aliases.length > 0) throw new InvalidArgumentError(`${at}.Aliases`, 'aliases need an overlay network (--network <name>)')
      continue
    }
    attached.push({ target: name, ...(aliases.length > 0 ? { aliases } : {}) })
  }
  if (!local(mode) && !attached.some((a) => a.target === mode)) attached.push({ target: mode })
  return attached.length > 0 ? attached : undefined
}

function portsOf(v: unknown): PortConfig[] {
  const ports: PortConfig[] = []
  for (const [key, bindings] of Object.entries(objectAt(v, 'HostConfig.PortBindings'))) {
    const at = `HostConfig.PortBindings.${key}`
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key)
    if (m === null) throw new InvalidArgumentError(at, 'must be <port>[/tcp|udp|sctp]')
    const targetPort = Number(m[1])
    const protocol = (m[2] ?? 'tcp') as PortConfig['protocol'] & string
    const list = Array.isArray(bindings) ? (bindings as unknown[]) : bindings === null ? [] : undefined
    if (list === undefined) throw new InvalidArgumentError(at, 'must be a list of bindings')
    list.forEach((b, i) => {
      const binding = objectAt(b, `${at}[${i}]`)
      checkFields(binding, { HostIp: { zeroOnly: 'a host IP (a published port listens on every address of its node)' }, HostPort: 'mapped' }, `${at}[${i}]`)
      const hostPort = stringAt(binding['HostPort'], `${at}[${i}].HostPort`)
      if (hostPort !== '' && !/^\d+$/.test(hostPort)) throw new InvalidArgumentError(`${at}[${i}].HostPort`, 'port ranges are not supported by swarmkit-ts: give one port')
      ports.push({ protocol, targetPort, publishMode: 'host', ...(hostPort === '' || hostPort === '0' ? {} : { publishedPort: Number(hostPort) }) })
    })
  }
  return ports
}

function mountsOf(host: JsonObject): Mount[] {
  return [...readBinds(host['Binds']), ...readMounts(host['Mounts'])]
}

/**
 * Reads a create request body into the spec of the container's service named `name`. Classic
 * `constraint:` / `affinity:` environment entries become placement constraints (see
 * classic-constraints.ts) and are not passed to the container.
 */
export function readClassicCreate(raw: unknown, name: string, lookup: ClassicPlacementLookup): ClassicCreate {
  const body = objectAt(raw, '')
  checkFields(body, CONFIG_RULES, '')
  const image = stringAt(body['Image'], 'Image')
  if (image === '') throw new InvalidArgumentError('Image', 'an image is required')
  const host = objectAt(body['HostConfig'], 'HostConfig')
  checkFields(host, hostConfigRules, 'HostConfig')
  const { env, constraints } = classicEnvironment(stringsAt(body['Env'], 'Env'), lookup)

  const entrypoint = stringsAt(body['Entrypoint'], 'Entrypoint')
  const cmd = stringsAt(body['Cmd'], 'Cmd')
  const labels = stringMapAt(body['Labels'], 'Labels')
  const stopTimeout = body['StopTimeout'] === null || body['StopTimeout'] === undefined ? undefined : integerAt(body['StopTimeout'], 'StopTimeout')
  if (stopTimeout !== undefined && stopTimeout < 0) throw new InvalidArgumentError('StopTimeout', 'must be 0 or more seconds')
  const health = healthOf(body['Healthcheck'])
  const mounts = mountsOf(host)
  const ulimits: Ulimit[] = (Array.isArray(host['Ulimits']) ? (host['Ulimits'] as unknown[]) : []).map((u, i) => {
    const o = objectAt(u, `HostConfig.Ulimits[${i}]`)
    checkFields(o, { Name: 'mapped', Soft: 'mapped', Hard: 'mapped' }, `HostConfig.Ulimits[${i}]`)
    return { name: stringAt(o['Name'], `HostConfig.Ulimits[${i}].Name`), soft: integerAt(o['Soft'], `HostConfig.Ulimits[${i}].Soft`), hard: integerAt(o['Hard'], `HostConfig.Ulimits[${i}].Hard`) }
  })
  const extraHosts = stringsAt(host['ExtraHosts'], 'HostConfig.ExtraHosts').map((h, i) => {
    const at = h.indexOf(':')
    if (at <= 0) throw new InvalidArgumentError(`HostConfig.ExtraHosts[${i}]`, `${JSON.stringify(h)} must be host:ip`)
    return `${h.slice(at + 1)} ${h.slice(0, at)}`
  })
  const dns = { nameservers: stringsAt(host['Dns'], 'HostConfig.Dns'), search: stringsAt(host['DnsSearch'], 'HostConfig.DnsSearch'), options: stringsAt(host['DnsOptions'], 'HostConfig.DnsOptions') }
  const swappiness = host['MemorySwappiness'] === null || host['MemorySwappiness'] === undefined ? -1 : integerAt(host['MemorySwappiness'], 'HostConfig.MemorySwappiness')
  const pidsLimit = integerAt(host['PidsLimit'], 'HostConfig.PidsLimit')
  const initRaw = host['Init']
  const logConfig = objectAt(host['LogConfig'], 'HostConfig.LogConfig')
  checkFields(logConfig, { Type: 'mapped', Config: 'mapped' }, 'HostConfig.LogConfig')
  const logType = stringAt(logConfig['Type'], 'HostConfig.LogConfig.Type')
  const logOptions = stringMapAt(logConfig['Config'], 'HostConfig.LogConfig.Config')
  if (logType === '' && Object.keys(logOptions).length > 0) throw new InvalidArgumentError('HostConfig.LogConfig.Config', 'options need a log driver (Type)')

  const container: ContainerSpec = {
    image,
    ...(entrypoint.length > 0 ? { command: entrypoint } : {}),
    ...(cmd.length > 0 ? { args: cmd } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...optional('hostname', stringAt(body['Hostname'], 'Hostname') || undefined),
    ...optional('dir', stringAt(body['WorkingDir'], 'WorkingDir') || undefined),
    ...optional('user', stringAt(body['User'], 'User') || undefined),
    ...optional('stopSignal', stringAt(body['StopSignal'], 'StopSignal') || undefined),
    ...optional('stopGracePeriodMs', stopTimeout === undefined ? undefined : stopTimeout * 1000),
    ...optional('healthcheck', health),
    ...(mounts.length > 0 ? { mounts } : {}),
    ...(ulimits.length > 0 ? { ulimits } : {}),
    ...(extraHosts.length > 0 ? { hosts: extraHosts } : {}),
    ...(dns.nameservers.length + dns.search.length + dns.options.length > 0
      ? { dnsConfig: { ...(dns.nameservers.length > 0 ? { nameservers: dns.nameservers } : {}), ...(dns.search.length > 0 ? { search: dns.search } : {}), ...(dns.options.length > 0 ? { options: dns.options } : {}) } }
      : {}),
    ...optional('groups', nonEmpty(stringsAt(host['GroupAdd'], 'HostConfig.GroupAdd'))),
    ...optional('capabilityAdd', nonEmpty(stringsAt(host['CapAdd'], 'HostConfig.CapAdd'))),
    ...optional('capabilityDrop', nonEmpty(stringsAt(host['CapDrop'], 'HostConfig.CapDrop'))),
    ...optional('readOnly', booleanAt(host['ReadonlyRootfs'], 'HostConfig.ReadonlyRootfs') || undefined),
    ...optional('oomScoreAdj', integerAt(host['OomScoreAdj'], 'HostConfig.OomScoreAdj') || undefined),
    ...optional('pidsLimit', pidsLimit > 0 ? pidsLimit : undefined),
    ...optional('sysctls', nonEmptyMap(stringMapAt(host['Sysctls'], 'HostConfig.Sysctls'))),
    ...optional('init', initRaw === null || initRaw === undefined ? undefined : booleanAt(initRaw, 'HostConfig.Init')),
  }
  const memory = integerAt(host['Memory'], 'HostConfig.Memory')
  const nanoCpus = integerAt(host['NanoCpus'], 'HostConfig.NanoCpus')
  const reservation = integerAt(host['MemoryReservation'], 'HostConfig.MemoryReservation')
  const resources: TaskSpec['resources'] = {
    ...(memory > 0 || nanoCpus > 0 ? { limits: { ...(memory > 0 ? { memoryBytes: memory } : {}), ...(nanoCpus > 0 ? { nanoCpus } : {}) } } : {}),
    ...(reservation > 0 ? { reservations: { memoryBytes: reservation } } : {}),
    ...(swappiness >= 0 ? { memorySwappiness: swappiness } : {}),
  }
  const networks = networksOf(stringAt(host['NetworkMode'], 'HostConfig.NetworkMode'), objectAt(body['NetworkingConfig'], 'NetworkingConfig'))
  const ports = portsOf(host['PortBindings'])
  const autoRemove = booleanAt(host['AutoRemove'], 'HostConfig.AutoRemove')
  const task: TaskSpec = {
    container,
    restart: restartOf(host['RestartPolicy']),
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    ...(constraints.length > 0 ? { placement: { constraints } } : {}),
    ...(networks === undefined ? {} : { networks }),
    ...(logType === '' ? {} : { logDriver: { name: logType, ...(Object.keys(logOptions).length > 0 ? { options: logOptions } : {}) } }),
  }
  const spec: ServiceSpec = {
    annotations: { name, labels: { [CLASSIC_CONTAINER_LABEL]: 'true', ...(autoRemove ? { [CLASSIC_AUTO_REMOVE_LABEL]: 'true' } : {}) } },
    mode: { replicated: { replicas: 0 } },
    task,
    ...(ports.length > 0 ? { endpoint: { ports } } : {}),
  }
  const interactive = booleanAt(body['Tty'], 'Tty') ? 'tty' : booleanAt(body['OpenStdin'], 'OpenStdin') || booleanAt(body['AttachStdin'], 'AttachStdin') ? 'stdin' : undefined
  return { spec, interactive }
}

function nonEmpty(list: string[]): string[] | undefined {
  return list.length > 0 ? list : undefined
}

function nonEmptyMap(map: Record<string, string>): Record<string, string> | undefined {
  return Object.keys(map).length > 0 ? map : undefined
}
