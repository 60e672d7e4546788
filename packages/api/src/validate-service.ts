/**
 * Validation of service specs (SwarmKit's manager/controlapi/service.go), in the order and with
 * the field paths of the shared rules: the first problem found throws
 * `InvalidArgumentError` naming its dotted field path. Input of the wrong shape (a string
 * where an object belongs, a missing object) is rejected the same way, never with a TypeError.
 */
import { Cron } from 'croner'
import { parseConstraint } from './constraint.ts'
import { SchedulingStrategy } from './specs.ts'
import type { ServiceModeKind, ServiceSpec } from './specs.ts'
import {
  checkAnnotations,
  fieldPath as at,
  indexPath,
  invalid,
  isFields,
  oneOf,
  optionalArray,
  optionalBoolean,
  optionalDriver,
  optionalDuration,
  optionalEnum,
  optionalInteger,
  optionalObject,
  optionalString,
  optionalStringMap,
  requireDnsLabel,
  requireEnum,
  requireInteger,
  requireNonEmptyString,
  requireObject,
  type Fields,
} from './validate-util.ts'

/** Smallest non-zero CPU amount: 0.001 CPU. */
const MIN_NANO_CPUS = 1_000_000
/** Smallest non-zero memory amount: 4 MiB. */
const MIN_MEMORY_BYTES = 4 * 1024 * 1024
const MAX_FILE_MODE = 0o7777
const MAX_PORT = 65535

const MODE_KINDS = ['replicated', 'global', 'replicatedJob', 'globalJob'] as const satisfies readonly ServiceModeKind[]
const RUNTIME_KINDS = ['container', 'attachment', 'generic'] as const
const RESTART_CONDITIONS = ['none', 'on-failure', 'any'] as const
const FAILURE_ACTIONS = ['pause', 'continue', 'rollback'] as const
const UPDATE_ORDERS = ['stop-first', 'start-first'] as const
const MOUNT_TYPES = ['bind', 'volume', 'tmpfs', 'npipe', 'cluster'] as const
const ENDPOINT_MODES = ['vip', 'dnsrr'] as const
const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const
const PUBLISH_MODES = ['ingress', 'host'] as const
const SPREAD_PREFIXES = ['node.labels.', 'engine.labels.'] as const

/**
 * Checks a service spec; throws `InvalidArgumentError` for the first problem, naming its
 * field path relative to the spec (e.g. `task.resources.limits.memoryBytes`).
 */
export function validateServiceSpec(spec: ServiceSpec): void {
  const s = requireObject(spec, '')
  checkAnnotations(s['annotations'], 'annotations', requireDnsLabel)
  const kind = checkMode(s['mode'])
  const task = requireObject(s['task'], 'task')
  const runtime = checkRuntime(task)
  checkResourceRequirements(task['resources'], 'task.resources')
  checkRestartPolicy(task['restart'], 'task.restart')
  checkPlacement(task['placement'], 'task.placement')
  if (runtime === 'container') checkContainer(requireObject(task['container'], 'task.container'), 'task.container')
  checkNetworkAttachments(task['networks'], 'task.networks')
  checkNetworkAttachments(s['networks'], 'networks')
  optionalDriver(task['logDriver'], 'task.logDriver')
  optionalInteger(task['forceUpdate'], 'task.forceUpdate', { min: 0 })
  checkUpdateConfig(s['update'], 'update')
  checkUpdateConfig(s['rollback'], 'rollback')
  if (kind === 'replicatedJob' || kind === 'globalJob') {
    if (s['update'] !== undefined) invalid('update', 'jobs have no rolling updates: update must not be set')
    if (s['rollback'] !== undefined) invalid('rollback', 'jobs have no rolling updates: rollback must not be set')
  }
  checkEndpoint(s['endpoint'], 'endpoint')
}

/**
 * Checks an update of a service from `old` to `next`: `next` must be valid, keep the name
 * (field `annotations.name`) and keep the mode kind (field `mode`); replica counts may change.
 */
export function validateServiceUpdate(old: ServiceSpec, next: ServiceSpec): void {
  validateServiceSpec(next)
  const o: unknown = old
  const oldAnnotations = isFields(o) ? o['annotations'] : undefined
  const oldName = isFields(oldAnnotations) ? oldAnnotations['name'] : undefined
  if (oldName !== next.annotations.name) invalid('annotations.name', 'renaming a service is not supported')
  const oldMode = isFields(o) ? o['mode'] : undefined
  const oldKind = isFields(oldMode) ? MODE_KINDS.find((k) => oldMode[k] !== undefined) : undefined
  if (oldKind !== modeKind(next)) invalid('mode', 'service mode change is not allowed')
}

function modeKind(spec: ServiceSpec): ServiceModeKind {
  return oneOf(requireObject(spec.mode, 'mode'), 'mode', MODE_KINDS, true)
}

// ---------------------------------------------------------------- mode and runtime (rules 2, 3)

function checkMode(v: unknown): ServiceModeKind {
  const mode = requireObject(v, 'mode')
  const kind = oneOf(mode, 'mode', MODE_KINDS, true)
  const body = requireObject(mode[kind], at('mode', kind))
  if (kind === 'replicated') optionalInteger(body['replicas'], 'mode.replicated.replicas', { min: 0 })
  if (kind === 'replicatedJob') {
    optionalInteger(body['maxConcurrent'], 'mode.replicatedJob.maxConcurrent', { min: 0 })
    optionalInteger(body['totalCompletions'], 'mode.replicatedJob.totalCompletions', { min: 0 })
  }
  if (kind === 'replicatedJob' || kind === 'globalJob') checkJobSchedule(body['schedule'], at(at('mode', kind), 'schedule'))
  return kind
}

/**
 * A job schedule: `cron` must parse (croner's syntax) and match some time, `timeZone` must be
 * an IANA zone the runtime knows. Croner only parses here: no timer is started.
 */
function checkJobSchedule(v: unknown, field: string): void {
  const schedule = optionalObject(v, field)
  if (schedule === undefined) return
  const cronField = at(field, 'cron')
  const expr = requireNonEmptyString(schedule['cron'], cronField)
  let cron: Cron
  try {
    cron = new Cron(expr, { paused: true })
  } catch (err) {
    invalid(cronField, `${JSON.stringify(expr)} is not a valid cron expression: ${err instanceof Error ? err.message : String(err)}`)
  }
  const zoneField = at(field, 'timeZone')
  const zone = optionalString(schedule['timeZone'], zoneField)
  if (zone !== undefined) {
    let known = false
    try {
      known = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone !== ''
    } catch {
      known = false
    }
    if (!known || !/^[A-Za-z]/.test(zone)) invalid(zoneField, `${JSON.stringify(zone)} is not an IANA time zone (e.g. "Europe/Paris")`)
  }
  if (cron.nextRun(new Date(0)) === null) invalid(cronField, `${JSON.stringify(expr)} matches no time`)
}

function checkRuntime(task: Fields): (typeof RUNTIME_KINDS)[number] {
  const kind = oneOf(task, 'task', RUNTIME_KINDS)
  const body = requireObject(task[kind], at('task', kind))
  switch (kind) {
    case 'container': {
      const image = requireNonEmptyString(body['image'], 'task.container.image')
      if (/\s/.test(image)) invalid('task.container.image', `image reference ${JSON.stringify(image)} must not contain whitespace`)
      break
    }
    case 'attachment':
      requireNonEmptyString(body['containerId'], 'task.attachment.containerId')
      break
    case 'generic':
      requireNonEmptyString(body['kind'], 'task.generic.kind')
      if (body['payload'] !== undefined && !(body['payload'] instanceof Uint8Array)) {
        invalid('task.generic.payload', 'must be a Uint8Array')
      }
      break
  }
  return kind
}

// ---------------------------------------------------------------- resources (rule 4)

function checkResourceRequirements(v: unknown, field: string): void {
  const r = optionalObject(v, field)
  if (r === undefined) return
  checkResources(r['limits'], at(field, 'limits'))
  checkResources(r['reservations'], at(field, 'reservations'))
  optionalInteger(r['swapBytes'], at(field, 'swapBytes'), { min: 0 })
  optionalInteger(r['memorySwappiness'], at(field, 'memorySwappiness'), { min: 0, max: 100 })
}

function checkResources(v: unknown, field: string): void {
  const r = optionalObject(v, field)
  if (r === undefined) return
  const cpus = optionalInteger(r['nanoCpus'], at(field, 'nanoCpus'), { min: 0 })
  if (cpus !== undefined && cpus !== 0 && cpus < MIN_NANO_CPUS) {
    invalid(at(field, 'nanoCpus'), `must be 0 or at least ${MIN_NANO_CPUS} (0.001 CPU), got ${cpus}`)
  }
  const memory = optionalInteger(r['memoryBytes'], at(field, 'memoryBytes'), { min: 0 })
  if (memory !== undefined && memory !== 0 && memory < MIN_MEMORY_BYTES) {
    invalid(at(field, 'memoryBytes'), `must be 0 or at least ${MIN_MEMORY_BYTES} (4 MiB), got ${memory}`)
  }
  const generic = optionalArray(r['generic'], at(field, 'generic')) ?? []
  generic.forEach((g, i) => {
    const f = indexPath(at(field, 'generic'), i)
    const res = requireObject(g, f)
    requireNonEmptyString(res['kind'], at(f, 'kind'))
    const value = oneOf(res, f, ['namedValue', 'discreteValue'])
    if (value === 'discreteValue') optionalInteger(res['discreteValue'], at(f, 'discreteValue'), { min: 0 })
    else optionalString(res['namedValue'], at(f, 'namedValue'))
  })
}

// ---------------------------------------------------------------- restart and placement (rules 5, 6)

function checkRestartPolicy(v: unknown, field: string): void {
  const r = optionalObject(v, field)
  if (r === undefined) return
  optionalEnum(r['condition'], at(field, 'condition'), RESTART_CONDITIONS)
  optionalDuration(r['delayMs'], at(field, 'delayMs'))
  optionalDuration(r['windowMs'], at(field, 'windowMs'))
  optionalInteger(r['maxAttempts'], at(field, 'maxAttempts'), { min: 0 })
}

function checkPlacement(v: unknown, field: string): void {
  const p = optionalObject(v, field)
  if (p === undefined) return
  const constraints = optionalArray(p['constraints'], at(field, 'constraints')) ?? []
  constraints.forEach((c, i) => {
    const f = indexPath(at(field, 'constraints'), i)
    if (typeof c !== 'string') invalid(f, 'must be a string')
    parseConstraint(c, f)
  })
  const preferences = optionalArray(p['preferences'], at(field, 'preferences')) ?? []
  preferences.forEach((pref, i) => {
    const f = indexPath(at(field, 'preferences'), i)
    const spread = requireObject(requireObject(pref, f)['spread'], at(f, 'spread'))
    const df = at(f, 'spread.spreadDescriptor')
    const descriptor = requireNonEmptyString(spread['spreadDescriptor'], df)
    const prefix = SPREAD_PREFIXES.find((x) => descriptor.startsWith(x))
    if (prefix === undefined || descriptor.length === prefix.length) {
      invalid(df, `${JSON.stringify(descriptor)} must be node.labels.<key> or engine.labels.<key>`)
    }
  })
  const platforms = optionalArray(p['platforms'], at(field, 'platforms')) ?? []
  platforms.forEach((x, i) => {
    const f = indexPath(at(field, 'platforms'), i)
    const platform = requireObject(x, f)
    optionalString(platform['architecture'], at(f, 'architecture'))
    optionalString(platform['os'], at(f, 'os'))
  })
  optionalInteger(p['maxReplicas'], at(field, 'maxReplicas'), { min: 0 })
  optionalEnum(p['strategy'], at(field, 'strategy'), Object.values(SchedulingStrategy))
}

// ---------------------------------------------------------------- container (rule 7)

function checkContainer(c: Fields, field: string): void {
  optionalDuration(c['stopGracePeriodMs'], at(field, 'stopGracePeriodMs'))
  const hc = optionalObject(c['healthcheck'], at(field, 'healthcheck'))
  if (hc !== undefined) {
    const f = at(field, 'healthcheck')
    checkStrings(hc['test'], at(f, 'test'))
    for (const k of ['intervalMs', 'timeoutMs', 'startPeriodMs', 'startIntervalMs'] as const) optionalDuration(hc[k], at(f, k))
    optionalInteger(hc['retries'], at(f, 'retries'), { min: 0 })
  }
  const mounts = optionalArray(c['mounts'], at(field, 'mounts')) ?? []
  mounts.forEach((m, i) => checkMount(m, indexPath(at(field, 'mounts'), i)))
  const secrets = optionalArray(c['secrets'], at(field, 'secrets')) ?? []
  secrets.forEach((x, i) => {
    const f = indexPath(at(field, 'secrets'), i)
    const ref = requireObject(x, f)
    requireNonEmptyString(ref['secretId'], at(f, 'secretId'))
    requireNonEmptyString(ref['secretName'], at(f, 'secretName'))
    checkFileTarget(ref['file'], at(f, 'file'))
  })
  const configs = optionalArray(c['configs'], at(field, 'configs')) ?? []
  configs.forEach((x, i) => {
    const f = indexPath(at(field, 'configs'), i)
    const ref = requireObject(x, f)
    requireNonEmptyString(ref['configId'], at(f, 'configId'))
    requireNonEmptyString(ref['configName'], at(f, 'configName'))
    if (oneOf(ref, f, ['file', 'runtime']) === 'file') checkFileTarget(ref['file'], at(f, 'file'))
    else requireObject(ref['runtime'], at(f, 'runtime'))
  })
  optionalInteger(c['pidsLimit'], at(field, 'pidsLimit'))
  optionalInteger(c['oomScoreAdj'], at(field, 'oomScoreAdj'))
  const ulimits = optionalArray(c['ulimits'], at(field, 'ulimits')) ?? []
  ulimits.forEach((x, i) => {
    const f = indexPath(at(field, 'ulimits'), i)
    const u = requireObject(x, f)
    requireNonEmptyString(u['name'], at(f, 'name'))
    requireInteger(u['soft'], at(f, 'soft'))
    requireInteger(u['hard'], at(f, 'hard'))
  })
  optionalStringMap(c['labels'], at(field, 'labels'))
  for (const k of ['command', 'args', 'env', 'groups', 'hosts', 'capabilityAdd', 'capabilityDrop'] as const) checkStrings(c[k], at(field, k))
}

function checkMount(v: unknown, field: string): void {
  const m = requireObject(v, field)
  const target = requireNonEmptyString(m['target'], at(field, 'target'))
  if (!target.startsWith('/')) invalid(at(field, 'target'), `${JSON.stringify(target)} must be an absolute path`)
  const type = requireEnum(m['type'], at(field, 'type'), MOUNT_TYPES)
  if (type === 'bind') requireNonEmptyString(m['source'], at(field, 'source'))
  else optionalString(m['source'], at(field, 'source'))
  optionalBoolean(m['readOnly'], at(field, 'readOnly'))
  const tmpfs = optionalObject(m['tmpfsOptions'], at(field, 'tmpfsOptions'))
  if (tmpfs !== undefined) {
    optionalInteger(tmpfs['sizeBytes'], at(field, 'tmpfsOptions.sizeBytes'), { min: 0 })
    optionalInteger(tmpfs['mode'], at(field, 'tmpfsOptions.mode'), { min: 0, max: MAX_FILE_MODE })
  }
  const volume = optionalObject(m['volumeOptions'], at(field, 'volumeOptions'))
  if (volume !== undefined) optionalDriver(volume['driverConfig'], at(field, 'volumeOptions.driverConfig'))
}

function checkFileTarget(v: unknown, field: string): void {
  const file = requireObject(v, field)
  requireNonEmptyString(file['name'], at(field, 'name'))
  optionalString(file['uid'], at(field, 'uid'))
  optionalString(file['gid'], at(field, 'gid'))
  optionalInteger(file['mode'], at(field, 'mode'), { min: 0, max: MAX_FILE_MODE })
}

function checkStrings(v: unknown, field: string): void {
  const list = optionalArray(v, field) ?? []
  list.forEach((s, i) => {
    if (typeof s !== 'string') invalid(indexPath(field, i), 'must be a string')
  })
}

function checkNetworkAttachments(v: unknown, field: string): void {
  const list = optionalArray(v, field) ?? []
  list.forEach((x, i) => {
    const f = indexPath(field, i)
    const n = requireObject(x, f)
    requireNonEmptyString(n['target'], at(f, 'target'))
    checkStrings(n['aliases'], at(f, 'aliases'))
    checkStrings(n['addresses'], at(f, 'addresses'))
  })
}

// ---------------------------------------------------------------- update / rollback (rule 8)

function checkUpdateConfig(v: unknown, field: string): void {
  const u = optionalObject(v, field)
  if (u === undefined) return
  optionalInteger(u['parallelism'], at(field, 'parallelism'), { min: 0 })
  optionalDuration(u['delayMs'], at(field, 'delayMs'))
  optionalDuration(u['monitorMs'], at(field, 'monitorMs'))
  const ratio = u['maxFailureRatio']
  if (ratio !== undefined && (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1)) {
    invalid(at(field, 'maxFailureRatio'), 'must be a number between 0 and 1')
  }
  optionalEnum(u['failureAction'], at(field, 'failureAction'), FAILURE_ACTIONS)
  optionalEnum(u['order'], at(field, 'order'), UPDATE_ORDERS)
}

// ---------------------------------------------------------------- endpoint (rule 10)

function checkEndpoint(v: unknown, field: string): void {
  const e = optionalObject(v, field)
  if (e === undefined) return
  const mode = optionalEnum(e['mode'], at(field, 'mode'), ENDPOINT_MODES) ?? 'vip'
  const list = optionalArray(e['ports'], at(field, 'ports')) ?? []
  const ports = list.map((x, i) => {
    const f = indexPath(at(field, 'ports'), i)
    const p = requireObject(x, f)
    requireInteger(p['targetPort'], at(f, 'targetPort'), { min: 1, max: MAX_PORT })
    const published = optionalInteger(p['publishedPort'], at(f, 'publishedPort'), { min: 0, max: MAX_PORT }) ?? 0
    const protocol = optionalEnum(p['protocol'], at(f, 'protocol'), PROTOCOLS) ?? 'tcp'
    const publishMode = optionalEnum(p['publishMode'], at(f, 'publishMode'), PUBLISH_MODES) ?? 'ingress'
    optionalString(p['name'], at(f, 'name'))
    return { published, protocol, publishMode }
  })
  if (mode === 'dnsrr' && ports.some((p) => p.publishMode === 'ingress')) {
    invalid(at(field, 'mode'), 'ports published in ingress mode cannot be used with dnsrr mode')
  }
  const seen = new Set<string>()
  ports.forEach((p, j) => {
    if (p.published === 0) return
    const key = `${p.published}/${p.protocol}`
    if (seen.has(key)) invalid(at(indexPath(at(field, 'ports'), j), 'publishedPort'), `duplicate published port ${key}`)
    seen.add(key)
  })
}
