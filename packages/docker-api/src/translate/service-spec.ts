/**
 * Docker's `ServiceSpec` ⇄ the api's `ServiceSpec`: name and labels, `TaskTemplate`, `Mode`,
 * `UpdateConfig` / `RollbackConfig`, the deprecated top-level `Networks`, and `EndpointSpec`.
 *
 * @module
 */
import {
  InvalidArgumentError,
  type EndpointSpec,
  type PortConfig,
  type PortProtocol,
  type PublishMode,
  type ServiceMode,
  type ServiceSpec,
  type UpdateConfig,
  type UpdateFailureAction,
  type UpdateOrder,
} from '@swarmkit-ts/api'
import type { DockerJson } from './service-container.ts'
import { compact, JsonFields, nonEmptyList, nonEmptyMap, nsOf } from './service-json.ts'
import { networksFromDocker, networksToDocker, taskSpecFromDocker, taskSpecToDocker } from './task-spec.ts'

const FAILURE_ACTIONS: readonly UpdateFailureAction[] = ['pause', 'continue', 'rollback']
const ORDERS: readonly UpdateOrder[] = ['stop-first', 'start-first']
const PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp', 'sctp']
const PUBLISH_MODES: readonly PublishMode[] = ['ingress', 'host']

function oneOf<T extends string>(f: JsonFields, key: string, allowed: readonly T[]): T | undefined {
  const v = f.str(key)
  if (v === undefined) return undefined
  if (!(allowed as readonly string[]).includes(v)) throw new InvalidArgumentError(f.at(key), `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`)
  return v as T
}

function modeFromDocker(f: JsonFields | undefined): ServiceMode {
  if (f === undefined) return { replicated: { replicas: 1 } }
  const replicated = f.obj('Replicated')
  const global = f.obj('Global')
  const job = f.obj('ReplicatedJob')
  const globalJob = f.obj('GlobalJob')
  const given = [replicated, global, job, globalJob].filter((x) => x !== undefined)
  if (given.length > 1) throw new InvalidArgumentError(f.path, 'needs exactly one of Replicated, Global, ReplicatedJob, GlobalJob')
  let mode: ServiceMode
  if (global !== undefined) mode = { global: {} }
  else if (globalJob !== undefined) mode = { globalJob: {} }
  else if (job !== undefined) mode = { replicatedJob: compact({ maxConcurrent: job.int('MaxConcurrent'), totalCompletions: job.int('TotalCompletions') }) }
  else mode = { replicated: { replicas: replicated?.int('Replicas') ?? 1 } }
  for (const x of given) x?.done()
  f.done()
  return mode
}

function modeToDocker(m: ServiceMode): DockerJson {
  if ('replicated' in m) return { Replicated: { Replicas: m.replicated.replicas ?? 1 } }
  if ('global' in m) return { Global: {} }
  if ('replicatedJob' in m) {
    // Always both, defaults filled (as the daemon stores them): the CLI dereferences TotalCompletions.
    const maxConcurrent = m.replicatedJob.maxConcurrent ?? 1
    return { ReplicatedJob: { MaxConcurrent: maxConcurrent, TotalCompletions: m.replicatedJob.totalCompletions ?? maxConcurrent } }
  }
  return { GlobalJob: {} }
}

function updateFromDocker(f: JsonFields | undefined): UpdateConfig | undefined {
  if (f === undefined) return undefined
  const ratio = f.num('MaxFailureRatio')
  if (ratio !== undefined && (ratio < 0 || ratio > 1)) throw new InvalidArgumentError(f.at('MaxFailureRatio'), `must be between 0 and 1, got ${ratio}`)
  const delay = f.durationMs('Delay')
  const monitor = f.durationMs('Monitor')
  const out = compact<UpdateConfig>({
    parallelism: f.int('Parallelism') ?? 0,
    delayMs: delay === 0 ? undefined : delay,
    failureAction: oneOf(f, 'FailureAction', FAILURE_ACTIONS),
    monitorMs: monitor === 0 ? undefined : monitor,
    maxFailureRatio: ratio === 0 ? undefined : ratio,
    order: oneOf(f, 'Order', ORDERS),
  })
  f.done()
  return out
}

function updateToDocker(u: UpdateConfig | undefined): DockerJson | undefined {
  if (u === undefined) return undefined
  // Parallelism, MaxFailureRatio and Order are always present in Docker's JSON; 0 parallelism is "all at once".
  return compact<DockerJson>({
    Parallelism: u.parallelism ?? 1,
    Delay: u.delayMs === undefined ? undefined : nsOf(u.delayMs),
    FailureAction: u.failureAction,
    Monitor: u.monitorMs === undefined ? undefined : nsOf(u.monitorMs),
    MaxFailureRatio: u.maxFailureRatio ?? 0,
    Order: u.order ?? '',
  })
}

/** Reads `Ports` of an endpoint spec (or of an endpoint). */
export function portsFromDocker(list: JsonFields[] | undefined): PortConfig[] | undefined {
  return nonEmptyList(
    list?.map((p) => {
      const targetPort = p.int('TargetPort', 1)
      if (targetPort === undefined) throw new InvalidArgumentError(p.at('TargetPort'), 'is required')
      if (targetPort > 65535) throw new InvalidArgumentError(p.at('TargetPort'), `must be a port number, got ${targetPort}`)
      const published = p.int('PublishedPort')
      if (published !== undefined && published > 65535) throw new InvalidArgumentError(p.at('PublishedPort'), `must be a port number, got ${published}`)
      const out = compact<PortConfig>({
        name: p.str('Name'),
        protocol: oneOf(p, 'Protocol', PROTOCOLS),
        targetPort,
        publishedPort: published === 0 ? undefined : published,
        publishMode: oneOf(p, 'PublishMode', PUBLISH_MODES),
      })
      p.done()
      return out
    }),
  )
}

/** Writes ports as Docker does (protocol and publish mode always named). */
export function portsToDocker(list: readonly PortConfig[] | undefined): DockerJson[] | undefined {
  return list?.map((p) =>
    compact<DockerJson>({ Name: p.name, Protocol: p.protocol ?? 'tcp', TargetPort: p.targetPort, PublishedPort: p.publishedPort, PublishMode: p.publishMode ?? 'ingress' }),
  )
}

function endpointFromDocker(f: JsonFields | undefined): EndpointSpec | undefined {
  if (f === undefined) return undefined
  const out = compact<EndpointSpec>({ mode: oneOf(f, 'Mode', ['vip', 'dnsrr'] as const), ports: portsFromDocker(f.objList('Ports')) })
  f.done()
  return out
}

/** Writes an endpoint spec. */
export function endpointSpecToDocker(e: EndpointSpec | undefined): DockerJson | undefined {
  if (e === undefined) return undefined
  return compact<DockerJson>({ Mode: e.mode, Ports: portsToDocker(e.ports) })
}

/**
 * Reads Docker's `ServiceSpec` (a create or update body). Refuses unknown fields and fields
 * swarmkit-ts cannot honour with an `InvalidArgumentError` naming the path; network targets are
 * kept as given (names or IDs; the caller resolves them).
 */
export function serviceSpecFromDocker(body: unknown): ServiceSpec {
  const f = new JsonFields(body, '')
  const name = f.str('Name') ?? ''
  const labels = nonEmptyMap(f.strMap('Labels'))
  const taskF = f.obj('TaskTemplate')
  const spec = compact<ServiceSpec>({
    annotations: compact({ name, labels }),
    task: taskF === undefined ? { container: { image: '' } } : taskSpecFromDocker(taskF),
    mode: modeFromDocker(f.obj('Mode')),
    update: updateFromDocker(f.obj('UpdateConfig')),
    rollback: updateFromDocker(f.obj('RollbackConfig')),
    networks: networksFromDocker(f.objList('Networks')),
    endpoint: endpointFromDocker(f.obj('EndpointSpec')),
  })
  f.done()
  return spec
}

/** Writes the api's `ServiceSpec` as Docker's. */
export function serviceSpecToDocker(s: ServiceSpec): DockerJson {
  return compact<DockerJson>({
    Name: s.annotations.name,
    Labels: { ...(s.annotations.labels ?? {}) },
    TaskTemplate: taskSpecToDocker(s.task),
    Mode: modeToDocker(s.mode),
    UpdateConfig: updateToDocker(s.update),
    RollbackConfig: updateToDocker(s.rollback),
    Networks: networksToDocker(s.networks),
    EndpointSpec: endpointSpecToDocker(s.endpoint),
  })
}
