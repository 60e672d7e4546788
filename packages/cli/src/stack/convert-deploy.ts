/**
 * A service's `deploy` section to the parts of a ServiceSpec it sets (docker/cli
 * `compose/convert/service.go`): mode and replicas, update and rollback configs, restart
 * policy, placement, resources (with generic resources), labels and endpoint mode.
 *
 * @module
 */
import type { EndpointMode, GenericResource, Placement, ResourceRequirements, Resources, RestartPolicy, ServiceMode, UpdateConfig } from '@swarmkit-ts/api'
import { asBytes, asDuration, asInt, asMap, asNumber, asOneOf, asSeq, asString, asStringList, checkKeys, get } from './read.ts'
import { child, fail, item, type LMap, type LNode } from './tree.ts'

/** The `deploy` keys of compose file format 3.13. */
const DEPLOY_KEYS = ['mode', 'endpoint_mode', 'replicas', 'labels', 'update_config', 'rollback_config', 'resources', 'restart_policy', 'placement'] as const

/** What `deploy` sets on a ServiceSpec (labels are read by the caller with the other label forms). */
export interface DeployParts {
  mode: ServiceMode
  endpointMode?: EndpointMode
  update?: UpdateConfig
  rollback?: UpdateConfig
  restart?: RestartPolicy
  placement?: Placement
  resources?: ResourceRequirements
}

/** Converts `deploy` (absent: one replica, no other setting). */
export function convertDeploy(deploy: LNode | undefined, path: string): DeployParts {
  if (deploy === undefined) return { mode: { replicated: { replicas: 1 } } }
  const d = asMap(deploy, path)
  checkKeys(d, path, DEPLOY_KEYS)
  const out: DeployParts = { mode: convertMode(d, path) }
  const endpoint = get(d, 'endpoint_mode')
  if (endpoint !== undefined) out.endpointMode = asOneOf(endpoint, child(path, 'endpoint_mode'), ['vip', 'dnsrr'])
  const update = get(d, 'update_config')
  if (update !== undefined) out.update = convertUpdateConfig(update, child(path, 'update_config'))
  const rollback = get(d, 'rollback_config')
  if (rollback !== undefined) out.rollback = convertUpdateConfig(rollback, child(path, 'rollback_config'))
  const restart = get(d, 'restart_policy')
  if (restart !== undefined) out.restart = convertRestartPolicy(restart, child(path, 'restart_policy'))
  const placement = get(d, 'placement')
  if (placement !== undefined) out.placement = convertPlacement(placement, child(path, 'placement'))
  const resources = get(d, 'resources')
  if (resources !== undefined) out.resources = convertResources(resources, child(path, 'resources'))
  return out
}

function convertMode(d: LMap, path: string): ServiceMode {
  const modeNode = get(d, 'mode')
  const mode = modeNode === undefined ? 'replicated' : asOneOf(modeNode, child(path, 'mode'), ['replicated', 'global', 'replicated-job', 'global-job'])
  const replicasNode = get(d, 'replicas')
  const replicas = replicasNode === undefined ? undefined : asInt(replicasNode, child(path, 'replicas'))
  switch (mode) {
    case 'replicated':
      return { replicated: { replicas: replicas ?? 1 } }
    case 'replicated-job':
      return { replicatedJob: { maxConcurrent: replicas ?? 1, totalCompletions: replicas ?? 1 } }
    case 'global':
    case 'global-job':
      if (replicasNode !== undefined) fail(replicasNode, child(path, 'replicas'), `replicas can only be used with replicated or replicated-job mode, not ${mode}`)
      return mode === 'global' ? { global: {} } : { globalJob: {} }
  }
}

const UPDATE_KEYS = ['parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio', 'order'] as const

/** `update_config` / `rollback_config`; parallelism defaults to 1 as docker's. */
export function convertUpdateConfig(node: LNode, path: string): UpdateConfig {
  const m = asMap(node, path)
  checkKeys(m, path, UPDATE_KEYS)
  const at = (k: string): string => child(path, k)
  const out: UpdateConfig = { parallelism: 1 }
  const parallelism = get(m, 'parallelism')
  if (parallelism !== undefined) out.parallelism = asInt(parallelism, at('parallelism'))
  const delay = get(m, 'delay')
  if (delay !== undefined) out.delayMs = asDuration(delay, at('delay'))
  const action = get(m, 'failure_action')
  if (action !== undefined) out.failureAction = asOneOf(action, at('failure_action'), ['continue', 'rollback', 'pause'])
  const monitor = get(m, 'monitor')
  if (monitor !== undefined) out.monitorMs = asDuration(monitor, at('monitor'))
  const ratio = get(m, 'max_failure_ratio')
  if (ratio !== undefined) {
    const r = asNumber(ratio, at('max_failure_ratio'))
    if (r < 0 || r > 1) fail(ratio, at('max_failure_ratio'), 'must be between 0 and 1')
    out.maxFailureRatio = r
  }
  const order = get(m, 'order')
  if (order !== undefined) out.order = asOneOf(order, at('order'), ['stop-first', 'start-first'])
  return out
}

const RESTART_KEYS = ['condition', 'delay', 'max_attempts', 'window'] as const

function convertRestartPolicy(node: LNode, path: string): RestartPolicy {
  const m = asMap(node, path)
  checkKeys(m, path, RESTART_KEYS)
  const out: RestartPolicy = {}
  const condition = get(m, 'condition')
  if (condition !== undefined) out.condition = asOneOf(condition, child(path, 'condition'), ['none', 'on-failure', 'any'])
  const delay = get(m, 'delay')
  if (delay !== undefined) out.delayMs = asDuration(delay, child(path, 'delay'))
  const attempts = get(m, 'max_attempts')
  if (attempts !== undefined) out.maxAttempts = asInt(attempts, child(path, 'max_attempts'))
  const window = get(m, 'window')
  if (window !== undefined) out.windowMs = asDuration(window, child(path, 'window'))
  return out
}

/** The legacy `restart:` key (used when `deploy.restart_policy` is absent). */
export function convertLegacyRestart(node: LNode, path: string): RestartPolicy | undefined {
  const s = asString(node, path)
  if (s === 'no') return undefined
  if (s === 'always' || s === 'unless-stopped') return { condition: 'any' }
  const m = /^on-failure(?::(\d+))?$/.exec(s)
  if (m === null) fail(node, path, 'must be no, always, unless-stopped or on-failure[:max-retries]')
  return m[1] === undefined ? { condition: 'on-failure' } : { condition: 'on-failure', maxAttempts: Number(m[1]) }
}

function convertPlacement(node: LNode, path: string): Placement {
  const m = asMap(node, path)
  checkKeys(m, path, ['constraints', 'preferences', 'max_replicas_per_node'])
  const out: Placement = {}
  const constraints = get(m, 'constraints')
  if (constraints !== undefined) out.constraints = asStringList(constraints, child(path, 'constraints'))
  const preferences = get(m, 'preferences')
  if (preferences !== undefined) {
    const p = child(path, 'preferences')
    out.preferences = asSeq(preferences, p).items.map((x, i) => {
      const pref = asMap(x, item(p, i))
      checkKeys(pref, item(p, i), ['spread'])
      const spread = get(pref, 'spread')
      if (spread === undefined) fail(pref, item(p, i), 'spread is required')
      return { spread: { spreadDescriptor: asString(spread, child(item(p, i), 'spread')) } }
    })
  }
  const max = get(m, 'max_replicas_per_node')
  if (max !== undefined) out.maxReplicas = asInt(max, child(path, 'max_replicas_per_node'))
  return out
}

function convertResources(node: LNode, path: string): ResourceRequirements {
  const m = asMap(node, path)
  checkKeys(m, path, ['limits', 'reservations'])
  const out: ResourceRequirements = {}
  const limits = get(m, 'limits')
  if (limits !== undefined) out.limits = convertResourceSet(limits, child(path, 'limits'), false)
  const reservations = get(m, 'reservations')
  if (reservations !== undefined) out.reservations = convertResourceSet(reservations, child(path, 'reservations'), true)
  return out
}

function convertResourceSet(node: LNode, path: string, reservation: boolean): Resources {
  const m = asMap(node, path)
  checkKeys(m, path, reservation ? ['cpus', 'memory', 'generic_resources'] : ['cpus', 'memory', 'pids'])
  const out: Resources = {}
  const cpus = get(m, 'cpus')
  if (cpus !== undefined) {
    const n = asNumber(cpus, child(path, 'cpus'))
    if (n < 0) fail(cpus, child(path, 'cpus'), 'must not be negative')
    out.nanoCpus = Math.round(n * 1e9)
  }
  const memory = get(m, 'memory')
  if (memory !== undefined) out.memoryBytes = asBytes(memory, child(path, 'memory'))
  const pids = get(m, 'pids')
  if (pids !== undefined) fail(pids, child(path, 'pids'), 'not supported by swarmkit-ts (no pids limit in a task spec resources)')
  const generic = get(m, 'generic_resources')
  if (generic !== undefined) out.generic = convertGeneric(generic, child(path, 'generic_resources'))
  return out
}

function convertGeneric(node: LNode, path: string): GenericResource[] {
  return asSeq(node, path).items.map((x, i) => {
    const p = item(path, i)
    const g = asMap(x, p)
    checkKeys(g, p, ['discrete_resource_spec', 'named_resource_spec'])
    const discrete = get(g, 'discrete_resource_spec')
    const named = get(g, 'named_resource_spec')
    if ((discrete === undefined) === (named === undefined)) fail(g, p, 'must have exactly one of discrete_resource_spec, named_resource_spec')
    const spec = (discrete ?? named) as LNode
    const sp = child(p, discrete !== undefined ? 'discrete_resource_spec' : 'named_resource_spec')
    const s = asMap(spec, sp)
    checkKeys(s, sp, ['kind', 'value'])
    const kindNode = get(s, 'kind')
    const valueNode = get(s, 'value')
    if (kindNode === undefined) fail(s, sp, 'kind is required')
    if (valueNode === undefined) fail(s, sp, 'value is required')
    const kind = asString(kindNode, child(sp, 'kind'))
    return discrete !== undefined ? { kind, discreteValue: asInt(valueNode, child(sp, 'value')) } : { kind, namedValue: asString(valueNode, child(sp, 'value')) }
  })
}
