/**
 * The flags of `service create` and `service update` and how they make or change a `ServiceSpec`
 * (Docker's names: `--replicas`, `--env`, `--update-parallelism`, `--limit-memory`, …; `update`
 * takes Docker's `--x-add` / `--x-rm` pairs for lists).
 *
 * @module
 */
import { Option, type Command } from 'commander'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { NetworkAttachmentConfig, ResourceRequirements, ServiceMode, ServiceSpec, UpdateConfig } from '@swarmkit-ts/api'
import type { ControlClient } from '@swarmkit-ts/core'
import { parseMount, parsePublish, resolveConfigs, resolveSecrets } from './service-refs.ts'
import { collect, parseBytes, parseChoice, parseCpus, parseDuration, parseInteger, parseKeyValue, parseLabels, parseRatio } from './values.ts'

/** The update and rollback flags (`--update-delay` → `updateDelay`). */
export type UpdateFlagName = `${'update' | 'rollback'}${'Parallelism' | 'Delay' | 'FailureAction' | 'Monitor' | 'Order' | 'MaxFailureRatio'}`

/** Raw values of the flags both commands share (strings as typed; lists for repeatable flags). */
export type ServiceFlags = BaseServiceFlags & { readonly [K in UpdateFlagName]?: string }

interface BaseServiceFlags {
  readonly name?: string
  readonly replicas?: string
  readonly mode?: string
  readonly workdir?: string
  readonly user?: string
  readonly hostname?: string
  readonly stopGracePeriod?: string
  readonly endpointMode?: string
  readonly restartCondition?: string
  readonly restartMaxAttempts?: string
  readonly restartDelay?: string
  readonly restartWindow?: string
  readonly limitCpu?: string
  readonly limitMemory?: string
  readonly reserveCpu?: string
  readonly reserveMemory?: string
  readonly maxReplicas?: string
  readonly env?: readonly string[]
  readonly label?: readonly string[]
  readonly containerLabel?: readonly string[]
  readonly constraint?: readonly string[]
  readonly publish?: readonly string[]
  readonly mount?: readonly string[]
  readonly secret?: readonly string[]
  readonly config?: readonly string[]
  readonly network?: readonly string[]
}

/** The list flags: `create` takes `--env`, `update` takes `--env-add` and `--env-rm`. */
const LISTS = [
  ['env', 'e', 'set an environment variable (KEY=value)'],
  ['label', 'l', 'set a service label (key=value)'],
  ['container-label', undefined, 'set a container label (key=value)'],
  ['constraint', undefined, 'a placement constraint (node.role==manager)'],
  ['publish', 'p', 'publish a port ([published:]target[/protocol], or published=,target=,protocol=,mode=)'],
  ['mount', undefined, 'attach a mount (type=bind,source=,target=,readonly)'],
  ['secret', undefined, 'give the service a secret (name, or source=,target=,mode=)'],
  ['config', undefined, 'give the service a config (name, or source=,target=,mode=)'],
  ['network', undefined, 'attach a network (name or id)'],
] as const

/** Adds the flags of create (`update: false`) or update (`update: true`) to `cmd`. */
export function addServiceFlags(cmd: Command, update: boolean): Command {
  if (!update) cmd.option('--name <name>', 'the service name')
  cmd
    .option('--replicas <n>', 'number of tasks')
    .option('--workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user>', 'username or UID')
    .option('--hostname <name>', 'container hostname')
    .option('--stop-grace-period <duration>', 'time to wait before killing a container (10s)')
    .addOption(new Option('--endpoint-mode <mode>', 'endpoint mode').choices(['vip', 'dnsrr']))
    .option('--restart-condition <cond>', 'restart when: none, on-failure or any')
    .option('--restart-max-attempts <n>', 'maximum restarts before giving up')
    .option('--restart-delay <duration>', 'delay between restart attempts')
    .option('--restart-window <duration>', 'window used to evaluate the restart policy')
    .option('--limit-cpu <cpus>', 'limit CPUs (0.5)')
    .option('--limit-memory <bytes>', 'limit memory (512m)')
    .option('--reserve-cpu <cpus>', 'reserve CPUs')
    .option('--reserve-memory <bytes>', 'reserve memory')
    .option('--max-replicas <n>', 'maximum tasks per node (0: unlimited)')
  for (const kind of ['update', 'rollback'] as const) {
    cmd
      .option(`--${kind}-parallelism <n>`, `tasks ${kind === 'update' ? 'updated' : 'rolled back'} at once (0: all)`)
      .option(`--${kind}-delay <duration>`, `delay between ${kind}s`)
      .option(`--${kind}-failure-action <action>`, `on failure: pause, continue${kind === 'update' ? ' or rollback' : ''}`)
      .option(`--${kind}-monitor <duration>`, 'time to watch each new task for failure')
      .option(`--${kind}-order <order>`, 'stop-first or start-first')
      .option(`--${kind}-max-failure-ratio <ratio>`, 'failure rate tolerated (0–1)')
  }
  if (!update) cmd.option('--mode <mode>', 'replicated, global, replicated-job or global-job', 'replicated')
  for (const [name, short, help] of LISTS) {
    if (update) {
      cmd.option(`--${name}-add <value>`, `add: ${help}`, collect)
      cmd.option(`--${name}-rm <value>`, `remove (by key, name or target)`, collect)
    } else {
      cmd.option(short === undefined ? `--${name} <value>` : `-${short}, --${name} <value>`, help, collect)
    }
  }
  return cmd
}

/** A service mode from `--mode` and `--replicas`. */
export function serviceMode(flags: ServiceFlags): ServiceMode {
  const replicas = flags.replicas === undefined ? undefined : parseInteger('--replicas', flags.replicas)
  const mode = parseChoice('--mode', flags.mode ?? 'replicated', ['replicated', 'global', 'replicated-job', 'global-job'] as const)
  if (replicas !== undefined && (mode === 'global' || mode === 'global-job')) throw new InvalidArgumentError('--replicas', `cannot be used with --mode ${mode}`)
  switch (mode) {
    case 'replicated':
      return { replicated: { replicas: replicas ?? 1 } }
    case 'global':
      return { global: {} }
    case 'replicated-job':
      return { replicatedJob: { maxConcurrent: replicas ?? 1, totalCompletions: replicas ?? 1 } }
    case 'global-job':
      return { globalJob: {} }
  }
}

function updateConfig(flags: ServiceFlags, kind: 'update' | 'rollback', current: UpdateConfig | undefined): UpdateConfig | undefined {
  const raw = (k: 'Parallelism' | 'Delay' | 'FailureAction' | 'Monitor' | 'Order' | 'MaxFailureRatio'): string | undefined => flags[`${kind}${k}`]
  const flag = (suffix: string): string => `--${kind}-${suffix}`
  const out: UpdateConfig = { ...current }
  const before = JSON.stringify(out)
  const parallelism = raw('Parallelism')
  if (parallelism !== undefined) out.parallelism = parseInteger(flag('parallelism'), parallelism)
  const delay = raw('Delay')
  if (delay !== undefined) out.delayMs = parseDuration(flag('delay'), delay)
  const monitor = raw('Monitor')
  if (monitor !== undefined) out.monitorMs = parseDuration(flag('monitor'), monitor)
  const ratio = raw('MaxFailureRatio')
  if (ratio !== undefined) out.maxFailureRatio = parseRatio(flag('max-failure-ratio'), ratio)
  const action = raw('FailureAction')
  const actions = kind === 'update' ? (['pause', 'continue', 'rollback'] as const) : (['pause', 'continue'] as const)
  if (action !== undefined) out.failureAction = parseChoice(flag('failure-action'), action, actions)
  const order = raw('Order')
  if (order !== undefined) out.order = parseChoice(flag('order'), order, ['stop-first', 'start-first'] as const)
  return JSON.stringify(out) === before ? current : out
}

function resources(flags: ServiceFlags, current: ResourceRequirements | undefined): ResourceRequirements | undefined {
  if (flags.limitCpu === undefined && flags.limitMemory === undefined && flags.reserveCpu === undefined && flags.reserveMemory === undefined) return current
  const limits = { ...current?.limits }
  const reservations = { ...current?.reservations }
  if (flags.limitCpu !== undefined) limits.nanoCpus = parseCpus('--limit-cpu', flags.limitCpu)
  if (flags.limitMemory !== undefined) limits.memoryBytes = parseBytes('--limit-memory', flags.limitMemory)
  if (flags.reserveCpu !== undefined) reservations.nanoCpus = parseCpus('--reserve-cpu', flags.reserveCpu)
  if (flags.reserveMemory !== undefined) reservations.memoryBytes = parseBytes('--reserve-memory', flags.reserveMemory)
  return { ...current, limits, reservations }
}

/** Applies the scalar flags (everything but the lists) to a mutable copy of a spec. */
export function applyScalarFlags(spec: ServiceSpec, flags: ServiceFlags): void {
  const container = spec.task.container
  if (container === undefined) throw new InvalidArgumentError('task.container', 'the service has no container spec')
  if (flags.workdir !== undefined) container.dir = flags.workdir
  if (flags.user !== undefined) container.user = flags.user
  if (flags.hostname !== undefined) container.hostname = flags.hostname
  if (flags.stopGracePeriod !== undefined) container.stopGracePeriodMs = parseDuration('--stop-grace-period', flags.stopGracePeriod)
  if (flags.endpointMode !== undefined) spec.endpoint = { ...spec.endpoint, mode: parseChoice('--endpoint-mode', flags.endpointMode, ['vip', 'dnsrr'] as const) }
  const restart = { ...spec.task.restart }
  if (flags.restartCondition !== undefined) restart.condition = parseChoice('--restart-condition', flags.restartCondition, ['none', 'on-failure', 'any'] as const)
  if (flags.restartMaxAttempts !== undefined) restart.maxAttempts = parseInteger('--restart-max-attempts', flags.restartMaxAttempts)
  if (flags.restartDelay !== undefined) restart.delayMs = parseDuration('--restart-delay', flags.restartDelay)
  if (flags.restartWindow !== undefined) restart.windowMs = parseDuration('--restart-window', flags.restartWindow)
  if (Object.keys(restart).length > 0) spec.task.restart = restart
  const res = resources(flags, spec.task.resources)
  if (res !== undefined) spec.task.resources = res
  if (flags.maxReplicas !== undefined) spec.task.placement = { ...spec.task.placement, maxReplicas: parseInteger('--max-replicas', flags.maxReplicas) }
  const update = updateConfig(flags, 'update', spec.update)
  if (update !== undefined) spec.update = update
  const rollback = updateConfig(flags, 'rollback', spec.rollback)
  if (rollback !== undefined) spec.rollback = rollback
}

async function networks(control: ControlClient, values: readonly string[]): Promise<NetworkAttachmentConfig[]> {
  const out: NetworkAttachmentConfig[] = []
  for (const v of values) out.push({ target: (await control.networks.get(v)).id })
  return out
}

/**
 * `--env` entries as Docker reads them: `KEY=value` as given; a bare `KEY` takes the value of
 * `KEY` in the CLI's environment, and is dropped when it has none.
 */
export function envEntries(flag: string, values: readonly string[], env: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = []
  for (const v of values) {
    const [key] = parseKeyValue(flag, v)
    if (v.includes('=')) out.push(v)
    else if (env[key] !== undefined) out.push(`${key}=${env[key]}`)
  }
  return out
}

/** The spec `service create <image> [command…]` asks for (`env`: the CLI's environment, for bare `--env KEY`). */
export async function createSpec(control: ControlClient, image: string, command: readonly string[], flags: ServiceFlags, env: Readonly<Record<string, string | undefined>> = {}): Promise<ServiceSpec> {
  if (image === '') throw new InvalidArgumentError('<image>', 'must not be empty')
  const spec: ServiceSpec = {
    annotations: { name: flags.name ?? '', labels: parseLabels('--label', flags.label ?? []) },
    mode: serviceMode(flags),
    task: {
      container: {
        image,
        ...(command.length === 0 ? {} : { command: [...command] }),
        env: envEntries('--env', flags.env ?? [], env),
        labels: parseLabels('--container-label', flags.containerLabel ?? []),
        mounts: (flags.mount ?? []).map((m) => parseMount('--mount', m)),
        secrets: await resolveSecrets(control, '--secret', flags.secret ?? []),
        configs: await resolveConfigs(control, '--config', flags.config ?? []),
      },
      placement: { constraints: [...(flags.constraint ?? [])] },
      networks: await networks(control, flags.network ?? []),
    },
    endpoint: { ports: (flags.publish ?? []).map((p) => parsePublish('--publish', p)) },
  }
  if (spec.annotations.name === '') throw new InvalidArgumentError('--name', 'a service needs a name (--name)')
  applyScalarFlags(spec, flags)
  return spec
}

export { applyListFlags, type ServiceUpdateFlags } from './service-update-spec.ts'
