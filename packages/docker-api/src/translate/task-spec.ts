/**
 * Docker's `TaskTemplate` ⇄ the api's `TaskSpec`: the container, resources, restart policy,
 * placement, networks, log driver, force-update counter and runtime.
 *
 * @module
 */
import {
  InvalidArgumentError,
  type GenericResource,
  type NetworkAttachmentConfig,
  type Placement,
  type ResourceRequirements,
  type Resources,
  type RestartCondition,
  type RestartPolicy,
  type TaskSpec,
} from '@swarmkit-ts/api'
import { containerSpecFromDocker, containerSpecToDocker, driverFromDocker, driverToDocker, type DockerJson } from './service-container.ts'
import type { JsonFields} from './service-json.ts';
import { compact, nonEmptyList, nonEmptyMap, nsOf, unsupportedField } from './service-json.ts'

const CONDITIONS: readonly RestartCondition[] = ['none', 'on-failure', 'any']

const positive = (n: number | undefined): number | undefined => (n === undefined || n === 0 ? undefined : n)

function genericFromDocker(list: JsonFields[] | undefined): GenericResource[] | undefined {
  return nonEmptyList(
    list?.map((g) => {
      const named = g.obj('NamedResourceSpec')
      const discrete = g.obj('DiscreteResourceSpec')
      g.done()
      if ((named === undefined) === (discrete === undefined)) throw new InvalidArgumentError(g.path, 'needs exactly one of NamedResourceSpec, DiscreteResourceSpec')
      const spec = (named ?? discrete) as JsonFields
      const kind = spec.str('Kind')
      if (kind === undefined) throw new InvalidArgumentError(spec.at('Kind'), 'is required')
      let out: GenericResource
      if (named !== undefined) out = { kind, namedValue: named.str('Value') ?? '' }
      else out = { kind, discreteValue: spec.int('Value') ?? 0 }
      spec.done()
      return out
    }),
  )
}

function genericToDocker(list: readonly GenericResource[] | undefined): DockerJson[] | undefined {
  return list?.map((g) =>
    'namedValue' in g ? { NamedResourceSpec: { Kind: g.kind, Value: g.namedValue } } : { DiscreteResourceSpec: { Kind: g.kind, Value: g.discreteValue } },
  )
}

function resourcesFromDocker(f: JsonFields | undefined): Resources | undefined {
  if (f === undefined) return undefined
  const out = compact<Resources>({ nanoCpus: positive(f.int('NanoCPUs')), memoryBytes: positive(f.int('MemoryBytes')), generic: genericFromDocker(f.objList('GenericResources')) })
  return Object.keys(out).length === 0 ? undefined : out
}

function resourcesToDocker(r: Resources | undefined): DockerJson | undefined {
  if (r === undefined) return undefined
  return compact<DockerJson>({ NanoCPUs: r.nanoCpus, MemoryBytes: r.memoryBytes, GenericResources: genericToDocker(r.generic) })
}

/** Reads `Resources`; `Limits.Pids` is the container's pids limit in the api's model (returned apart). */
export function resourcesFromDockerRequirements(f: JsonFields | undefined): { resources?: ResourceRequirements; pidsLimit?: number } {
  if (f === undefined) return {}
  const limitsF = f.obj('Limits')
  const pidsLimit = positive(limitsF?.int('Pids'))
  const limits = resourcesFromDocker(limitsF)
  const reservationsF = f.obj('Reservations')
  const reservations = resourcesFromDocker(reservationsF)
  limitsF?.done()
  reservationsF?.done()
  const resources = compact<ResourceRequirements>({ limits, reservations, swapBytes: f.int('SwapBytes'), memorySwappiness: f.int('MemorySwappiness') })
  f.done()
  return compact({ resources: Object.keys(resources).length === 0 ? undefined : resources, pidsLimit })
}

/** Writes `Resources` (with the container's pids limit as `Limits.Pids`). */
export function resourcesToDockerRequirements(r: ResourceRequirements | undefined, pidsLimit: number | undefined): DockerJson | undefined {
  if (r === undefined && pidsLimit === undefined) return undefined
  const limits = resourcesToDocker(r?.limits)
  return compact<DockerJson>({
    Limits: limits === undefined && pidsLimit === undefined ? undefined : compact<DockerJson>({ ...limits, Pids: pidsLimit }),
    Reservations: resourcesToDocker(r?.reservations),
    SwapBytes: r?.swapBytes,
    MemorySwappiness: r?.memorySwappiness,
  })
}

function restartFromDocker(f: JsonFields | undefined): RestartPolicy | undefined {
  if (f === undefined) return undefined
  const condition = f.str('Condition')
  if (condition !== undefined && !(CONDITIONS as readonly string[]).includes(condition)) {
    throw new InvalidArgumentError(f.at('Condition'), `must be one of ${CONDITIONS.join(', ')}, got ${JSON.stringify(condition)}`)
  }
  const out = compact<RestartPolicy>({ condition: condition as RestartCondition | undefined, delayMs: f.durationMs('Delay'), maxAttempts: f.int('MaxAttempts'), windowMs: f.durationMs('Window') })
  f.done()
  return out
}

function restartToDocker(r: RestartPolicy | undefined): DockerJson | undefined {
  if (r === undefined) return undefined
  return compact<DockerJson>({ Condition: r.condition, Delay: r.delayMs === undefined ? undefined : nsOf(r.delayMs), MaxAttempts: r.maxAttempts, Window: r.windowMs === undefined ? undefined : nsOf(r.windowMs) })
}

/** Reads `Placement`. */
export function placementFromDocker(f: JsonFields | undefined): Placement | undefined {
  if (f === undefined) return undefined
  const preferences = f.objList('Preferences')?.map((p) => {
    const spread = p.obj('Spread')
    p.done()
    const descriptor = spread?.str('SpreadDescriptor')
    spread?.done()
    if (descriptor === undefined) throw new InvalidArgumentError(p.at('Spread'), 'is required: a preference spreads over a node label (SpreadDescriptor)')
    return { spread: { spreadDescriptor: descriptor } }
  })
  const platforms = f.objList('Platforms')?.map((p) => {
    const out = compact({ architecture: p.str('Architecture'), os: p.str('OS') })
    p.done()
    return out
  })
  const out = compact<Placement>({
    constraints: nonEmptyList(f.strList('Constraints')),
    preferences: nonEmptyList(preferences),
    maxReplicas: positive(f.int('MaxReplicas')),
    platforms: nonEmptyList(platforms),
  })
  f.done()
  return Object.keys(out).length === 0 ? undefined : out
}

/** Writes `Placement` (the api's `strategy`, beyond Docker, is not part of Docker's JSON). */
export function placementToDocker(p: Placement | undefined): DockerJson | undefined {
  if (p === undefined) return undefined
  return compact<DockerJson>({
    Constraints: p.constraints === undefined ? undefined : [...p.constraints],
    Preferences: p.preferences?.map((x) => ({ Spread: { SpreadDescriptor: x.spread.spreadDescriptor } })),
    MaxReplicas: p.maxReplicas,
    Platforms: p.platforms?.map((x) => compact<DockerJson>({ Architecture: x.architecture, OS: x.os })),
  })
}

/** Reads a list of `NetworkAttachmentConfig` (targets as given: a name or an ID, resolved by the caller). */
export function networksFromDocker(list: JsonFields[] | undefined): NetworkAttachmentConfig[] | undefined {
  return nonEmptyList(
    list?.map((n) => {
      const target = n.str('Target')
      if (target === undefined) throw new InvalidArgumentError(n.at('Target'), 'is required (a network name or ID)')
      const out = compact<NetworkAttachmentConfig>({ target, aliases: nonEmptyList(n.strList('Aliases')), driverAttachmentOpts: nonEmptyMap(n.strMap('DriverOpts')) })
      n.done()
      return out
    }),
  )
}

/** Writes a list of `NetworkAttachmentConfig`. */
export function networksToDocker(list: readonly NetworkAttachmentConfig[] | undefined): DockerJson[] | undefined {
  return list?.map((n) => compact<DockerJson>({ Target: n.target, Aliases: n.aliases === undefined ? undefined : [...n.aliases], DriverOpts: n.driverAttachmentOpts === undefined ? undefined : { ...n.driverAttachmentOpts } }))
}

/** Reads Docker's `TaskTemplate` at `f.path`. */
export function taskSpecFromDocker(f: JsonFields): TaskSpec {
  const runtime = f.str('Runtime')
  if (runtime !== undefined && runtime !== 'container') throw unsupportedField(f.at('Runtime'), `only "container" tasks run here, got ${JSON.stringify(runtime)}`)
  f.refuse('PluginSpec', 'plugins are not managed by swarmkit-ts')
  f.refuse('NetworkAttachmentSpec', 'network attachment tasks are created by the cluster itself')
  const containerF = f.obj('ContainerSpec')
  const { resources, pidsLimit } = resourcesFromDockerRequirements(f.obj('Resources'))
  const container = containerF === undefined ? { image: '' } : containerSpecFromDocker(containerF)
  const out = compact<TaskSpec>({
    container: pidsLimit === undefined ? container : { ...container, pidsLimit },
    resources,
    restart: restartFromDocker(f.obj('RestartPolicy')),
    placement: placementFromDocker(f.obj('Placement')),
    networks: networksFromDocker(f.objList('Networks')),
    logDriver: driverFromDocker(f.obj('LogDriver')),
    forceUpdate: positive(f.int('ForceUpdate')),
  })
  f.done()
  return out
}

/** Writes the api's `TaskSpec` as Docker's `TaskTemplate` (a container task; others have no Docker form). */
export function taskSpecToDocker(t: TaskSpec): DockerJson {
  const { pidsLimit, ...container } = t.container ?? { image: '' }
  return compact<DockerJson>({
    ContainerSpec: containerSpecToDocker(container),
    Resources: resourcesToDockerRequirements(t.resources, pidsLimit),
    RestartPolicy: restartToDocker(t.restart),
    Placement: placementToDocker(t.placement),
    Networks: networksToDocker(t.networks),
    LogDriver: driverToDocker(t.logDriver),
    ForceUpdate: t.forceUpdate ?? 0,
    Runtime: 'container',
  })
}
