/**
 * Task spec → runtime spec: what a {@link RuntimeExecutor}'s controller asks the runtime to run
 * for a task. Pure: everything comes from the task, its dependencies and the runtime's
 * capabilities. Follows Docker's swarm executor (moby `daemon/cluster/executor/container`): the
 * same labels, container name, default file targets and generic-resource variables.
 */
import { InvalidArgumentError, NotFoundError, type ConfigReference, type ContainerSpec, type FileTarget, type GenericResource, type HealthConfig, type SecretReference, type Task } from '@swarmkit-ts/api'
import type { ContainerFile, ContainerHealthcheck, ContainerResources, RuntimeCapabilities, RuntimeContainerSpec } from '@swarmkit-ts/engine-adapter'
import type { TaskDependencies } from './controller.ts'

/** The label prefix Docker puts on a task's container; every system label overrides the user's. */
export const SYSTEM_LABEL_PREFIX = 'com.docker.swarm'
/** The label holding the task id; controllers find (and adopt) a task's container by it. */
export const TASK_ID_LABEL = 'com.docker.swarm.task.id'
/** Stop grace period when the spec has none (SwarmKit's default). */
export const DEFAULT_STOP_GRACE_PERIOD_MS = 10_000
/** Where a secret with a relative target goes (Docker's `/run/secrets`). */
export const SECRETS_DIR = '/run/secrets'
/** The prefix of the variables naming a task's assigned generic resources (Docker's). */
export const GENERIC_RESOURCE_ENV_PREFIX = 'DOCKER_RESOURCE'

const CONTAINER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/
const STOP_SIGNALS: ReadonlySet<string> = new Set(['SIGTERM', 'TERM', '15'])

/**
 * The task's name as Docker names its container: the task's annotation name, else
 * `<service name>.<slot>.<task id>` (the node id instead of the slot for a global task, slot 0).
 */
export function taskName(task: Task): string {
  if (task.annotations.name !== '') return task.annotations.name
  const slot = task.slot === 0 ? task.nodeId : String(task.slot)
  return `${task.serviceAnnotations.name}.${slot}.${task.id}`
}

/**
 * The labels of a task's container: the container spec's labels, then the task's annotation
 * labels, then the system labels `com.docker.swarm.{task, task.id, task.name, node.id,
 * service.id, service.name}` (Docker's set: `task` is empty and marks a cluster task; there is
 * no slot label — the slot is part of the task name).
 */
export function taskLabels(task: Task): Record<string, string> {
  const labels: Record<string, string> = { ...(task.spec.container?.labels ?? {}), ...(task.annotations.labels ?? {}) }
  const system: Record<string, string> = {
    task: '',
    'task.id': task.id,
    'task.name': taskName(task),
    'node.id': task.nodeId,
    'service.id': task.serviceId,
    'service.name': task.serviceAnnotations.name,
  }
  for (const [k, v] of Object.entries(system)) labels[`${SYSTEM_LABEL_PREFIX}.${k}`] = v
  return labels
}

/** The task's stop grace period: `spec.container.stopGracePeriodMs`, default 10 s. */
export function stopGracePeriodMs(task: Task): number {
  return task.spec.container?.stopGracePeriodMs ?? DEFAULT_STOP_GRACE_PERIOD_MS
}

/**
 * The environment variables naming a task's assigned generic resources, as Docker sets them:
 * `DOCKER_RESOURCE_<KIND>` (upper case) = the values of that kind joined by commas (named
 * resources' names, discrete resources' counts), in assignment order.
 */
export function genericResourceEnv(resources: readonly GenericResource[]): Record<string, string> {
  const byKind = new Map<string, string[]>()
  for (const r of resources) {
    const value = 'namedValue' in r ? r.namedValue : String(r.discreteValue)
    const list = byKind.get(r.kind) ?? []
    list.push(value)
    byKind.set(r.kind, list)
  }
  const env: Record<string, string> = {}
  for (const [kind, values] of byKind) env[`${GENERIC_RESOURCE_ENV_PREFIX}_${kind}`.toUpperCase()] = values.join(',')
  return env
}

/**
 * Maps a task to the spec its container runs with:
 * image, `command`/`args`, `env` (`KEY=VALUE` entries, then the generic-resource variables),
 * `dir` → `workingDir`, {@link taskLabels}, the container name ({@link taskName}, when it is a
 * valid container name), secrets and configs as `files` (relative targets under `/run/secrets/`
 * and `/` respectively, mode default 0o444, numeric uid/gid), `resources.limits` (memory, CPU),
 * and the healthcheck (`['NONE']` = none).
 *
 * Throws `InvalidArgumentError` naming the field (e.g. `spec.container.user`) for anything the
 * runtime cannot honour — a non-container task, a field this executor does not implement (user,
 * mounts, privileges, sysctls, …, when set to other than its default), a limit or healthcheck the
 * runtime lacks the capability for, an env entry without `=` — and `NotFoundError` (kind `secret`
 * or `config`) when a referenced secret or config is not among `deps`. The task is then REJECTED.
 */
export function taskRuntimeSpec(task: Task, deps: TaskDependencies, capabilities: RuntimeCapabilities): RuntimeContainerSpec {
  const c = task.spec.container
  if (c === undefined) throw new InvalidArgumentError('spec.container', 'the runtime executor runs container tasks only')
  rejectUnsupported(c)
  const spec: { -readonly [K in keyof RuntimeContainerSpec]: RuntimeContainerSpec[K] } = { image: c.image, labels: taskLabels(task) }
  const name = taskName(task)
  if (CONTAINER_NAME.test(name)) spec.name = name
  if (c.command !== undefined && c.command.length > 0) spec.command = c.command
  if (c.args !== undefined && c.args.length > 0) spec.args = c.args
  const env = { ...parseEnv(c.env ?? []), ...genericResourceEnv(task.assignedGenericResources ?? []) }
  if (Object.keys(env).length > 0) spec.env = env
  if (c.dir !== undefined && c.dir !== '') spec.workingDir = c.dir
  const files = [...(c.secrets ?? []).map((ref, i) => secretFile(ref, i, deps)), ...(c.configs ?? []).flatMap((ref, i) => configFile(ref, i, deps))]
  if (files.length > 0) spec.files = files
  const resources = limits(task, capabilities)
  if (resources !== undefined) spec.resources = resources
  const healthcheck = c.healthcheck === undefined ? undefined : mapHealthcheck(c.healthcheck, capabilities)
  if (healthcheck !== undefined) spec.healthcheck = healthcheck
  return spec
}

/** Rejects the container fields this executor cannot honour when they differ from their defaults. */
function rejectUnsupported(c: ContainerSpec): void {
  const set = (v: unknown): boolean => {
    if (v === undefined || v === false || v === '' || v === 0) return false
    if (Array.isArray(v)) return v.length > 0
    if (typeof v === 'object' && v !== null) return Object.values(v).some(set)
    return true
  }
  const fields = ['hostname', 'user', 'groups', 'privileges', 'init', 'tty', 'openStdin', 'readOnly', 'mounts', 'hosts', 'dnsConfig', 'pidsLimit', 'sysctls', 'capabilityAdd', 'capabilityDrop', 'ulimits', 'oomScoreAdj'] as const
  for (const f of fields) if (set(c[f])) throw new InvalidArgumentError(`spec.container.${f}`, 'not supported by the runtime executor')
  if (c.isolation !== undefined && c.isolation !== 'default') throw new InvalidArgumentError('spec.container.isolation', 'only the default isolation is supported')
  if (c.stopSignal !== undefined && c.stopSignal !== '' && !STOP_SIGNALS.has(c.stopSignal.toUpperCase())) {
    throw new InvalidArgumentError('spec.container.stopSignal', 'runtimes stop containers with SIGTERM only')
  }
  if (set(c.pullOptions?.registryAuth)) throw new InvalidArgumentError('spec.container.pullOptions.registryAuth', 'registry credentials are not supported by the runtime executor')
}

/** `KEY=VALUE` entries → a record (the value may contain `=`; a later entry wins). */
function parseEnv(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {}
  entries.forEach((entry, i) => {
    const eq = entry.indexOf('=')
    if (eq <= 0) throw new InvalidArgumentError(`spec.container.env[${i}]`, 'must be KEY=VALUE with a non-empty KEY')
    env[entry.slice(0, eq)] = entry.slice(eq + 1)
  })
  return env
}

function fileOwner(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError(field, 'must be a numeric id')
  return Number(value)
}

function targetFile(file: FileTarget, dir: string, data: Uint8Array, field: string): ContainerFile {
  if (file.name === '') throw new InvalidArgumentError(`${field}.name`, 'must not be empty')
  const target = file.name.startsWith('/') ? file.name : `${dir}/${file.name}`
  const out: { -readonly [K in keyof ContainerFile]: ContainerFile[K] } = { target, data, mode: file.mode ?? 0o444 }
  const uid = fileOwner(file.uid, `${field}.uid`)
  const gid = fileOwner(file.gid, `${field}.gid`)
  if (uid !== undefined) out.uid = uid
  if (gid !== undefined) out.gid = gid
  return out
}

function secretFile(ref: SecretReference, i: number, deps: TaskDependencies): ContainerFile {
  const field = `spec.container.secrets[${i}]`
  const secret = deps.secret(ref.secretId)
  if (secret === undefined) throw new NotFoundError('secret', ref.secretId, { message: `secret ${ref.secretName} (${ref.secretId}) is not assigned to this node` })
  if (secret.spec.driver !== undefined && secret.spec.driver.name !== '') throw new InvalidArgumentError(field, `secret ${ref.secretName} uses driver ${secret.spec.driver.name}, which the runtime executor does not support`)
  if (secret.spec.templating !== undefined && secret.spec.templating.name !== '') throw new InvalidArgumentError(field, `secret ${ref.secretName} is templated, which the runtime executor does not support`)
  return targetFile(ref.file, SECRETS_DIR, secret.spec.data, `${field}.file`)
}

function configFile(ref: ConfigReference, i: number, deps: TaskDependencies): ContainerFile[] {
  const field = `spec.container.configs[${i}]`
  if (ref.runtime !== undefined) throw new InvalidArgumentError(`${field}.runtime`, 'runtime config targets (credential specs) are not supported')
  const config = deps.config(ref.configId)
  if (config === undefined) throw new NotFoundError('config', ref.configId, { message: `config ${ref.configName} (${ref.configId}) is not assigned to this node` })
  if (config.spec.templating !== undefined && config.spec.templating.name !== '') throw new InvalidArgumentError(field, `config ${ref.configName} is templated, which the runtime executor does not support`)
  if (ref.file === undefined) throw new InvalidArgumentError(`${field}.file`, 'a config reference needs a file target')
  return [targetFile(ref.file, '', config.spec.data, `${field}.file`)]
}

function limits(task: Task, capabilities: RuntimeCapabilities): ContainerResources | undefined {
  const r = task.spec.resources
  if (r === undefined) return undefined
  if (r.swapBytes !== undefined) throw new InvalidArgumentError('spec.resources.swapBytes', 'not supported by the runtime executor')
  if (r.memorySwappiness !== undefined) throw new InvalidArgumentError('spec.resources.memorySwappiness', 'not supported by the runtime executor')
  const l = r.limits
  if (l === undefined) return undefined
  if (l.generic !== undefined && l.generic.length > 0) throw new InvalidArgumentError('spec.resources.limits.generic', 'generic resources are reservations, not limits')
  const out: { -readonly [K in keyof ContainerResources]: ContainerResources[K] } = {}
  if (l.memoryBytes !== undefined && l.memoryBytes !== 0) {
    if (!capabilities.memoryLimit) throw new InvalidArgumentError('spec.resources.limits.memoryBytes', 'memory limits are not supported by this runtime')
    out.memoryBytes = l.memoryBytes
  }
  if (l.nanoCpus !== undefined && l.nanoCpus !== 0) {
    if (!capabilities.cpuLimit) throw new InvalidArgumentError('spec.resources.limits.nanoCpus', 'CPU limits are not supported by this runtime')
    out.nanoCpus = l.nanoCpus
  }
  return Object.keys(out).length > 0 ? out : undefined
}

function mapHealthcheck(h: HealthConfig, capabilities: RuntimeCapabilities): ContainerHealthcheck | undefined {
  const test = h.test ?? []
  if (test.length === 0 || test[0] === 'NONE') return undefined
  if (!capabilities.healthcheck) throw new InvalidArgumentError('spec.container.healthcheck', 'health checks are not supported by this runtime')
  if (h.startIntervalMs !== undefined && h.startIntervalMs !== 0) throw new InvalidArgumentError('spec.container.healthcheck.startIntervalMs', 'not supported by the runtime executor')
  const out: { -readonly [K in keyof ContainerHealthcheck]: ContainerHealthcheck[K] } = { test }
  // 0 means "inherit the default" in Docker's healthcheck config.
  if (h.intervalMs !== undefined && h.intervalMs !== 0) out.intervalMs = h.intervalMs
  if (h.timeoutMs !== undefined && h.timeoutMs !== 0) out.timeoutMs = h.timeoutMs
  if (h.retries !== undefined && h.retries !== 0) out.retries = h.retries
  if (h.startPeriodMs !== undefined && h.startPeriodMs !== 0) out.startPeriodMs = h.startPeriodMs
  return out
}
