/**
 * `stack deploy` against a manager's control API: validates every spec first, checks the external objects, prunes (with
 * `--prune`), creates secrets, configs and networks, then creates or updates services — each
 * change written as docker writes it (`Creating service web_api`, `Updating service web_api (id: …)`).
 *
 * @module
 */
import { InvalidArgumentError, NotFoundError, validateConfigSpec, validateNetworkSpec, validateSecretSpec, validateServiceSpec } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import type { ControlApi } from '@swarmkit-ts/core'
import type { StackSpec } from './convert-stack.ts'
import { planNetworks, planPayloads, planServices, type StackAction } from './diff.ts'
import { NAMESPACE_LABEL } from './names.ts'

/** Options of {@link deployStack}. */
export interface DeployStackOptions {
  /** Remove the stack's services the files no longer name. */
  readonly prune?: boolean
  /** Told each change as it is made (one line, docker's wording). */
  readonly log?: (line: string) => void
}

/** What a deploy did, in order. */
export interface DeployResult {
  /** The changes made, in the order they were made. */
  readonly actions: readonly StackAction[]
}

/**
 * Checks every object of `stack` as the control API will, before anything is written, so that a
 * spec the cluster would refuse (a bad constraint, an oversized secret) fails the deploy whole
 * rather than half-way. The error names the compose object: `services.web: task.placement…`.
 */
export function validateStack(stack: StackSpec): void {
  const check = (kind: string, key: string, validate: () => void): void => {
    try {
      validate()
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(`${kind}.${key}`, err.message, { cause: err })
      throw err
    }
  }
  for (const s of stack.services) {
    // Ids are only known once the secrets and configs exist: a placeholder stands in for them.
    const c = s.spec.task.container
    const ids = new Map([...(c?.secrets ?? []).map((r) => r.secretName), ...(c?.configs ?? []).map((r) => r.configName)].map((n) => [n, 'unresolved']))
    check('services', s.key, () => validateServiceSpec(resolveReferences(s.spec, ids, ids)))
  }
  for (const n of stack.networks) check('networks', n.key, () => validateNetworkSpec(n.spec))
  for (const x of stack.secrets) check('secrets', x.key, () => validateSecretSpec(x.spec))
  for (const x of stack.configs) check('configs', x.key, () => validateConfigSpec(x.spec))
}

/** Deploys `stack` (see the module doc); resolves with the changes made. */
export async function deployStack(control: ControlApi, stack: StackSpec, options: DeployStackOptions = {}): Promise<DeployResult> {
  const log = options.log ?? ((): void => {})
  validateStack(stack)
  const labels = { [NAMESPACE_LABEL]: stack.namespace }
  await requireExternal(() => control.networks.list({ names: [...stack.externalNetworks] }), stack.externalNetworks, 'network')
  await requireExternal(() => control.secrets.list({ names: [...stack.externalSecrets] }), stack.externalSecrets, 'secret')
  await requireExternal(() => control.configs.list({ names: [...stack.externalConfigs] }), stack.externalConfigs, 'config')

  const done: StackAction[] = []
  const apply = async (action: StackAction): Promise<void> => {
    switch (action.kind) {
      case 'remove-service':
        log(`Removing service ${action.name}`)
        await control.services.remove(action.id)
        break
      case 'create-secret':
        log(`Creating secret ${action.name}`)
        await control.secrets.create(action.spec)
        break
      case 'update-secret':
        log(`Updating secret ${action.name}`)
        await control.secrets.update(action.id, action.spec, { version: action.version })
        break
      case 'create-config':
        log(`Creating config ${action.name}`)
        await control.configs.create(action.spec)
        break
      case 'update-config':
        log(`Updating config ${action.name}`)
        await control.configs.update(action.id, action.spec, { version: action.version })
        break
      case 'create-network':
        log(`Creating network ${action.name}`)
        await control.networks.create(action.spec)
        break
      case 'create-service':
        log(`Creating service ${action.name}`)
        await named(`failed to create service ${action.name}`, control.services.create(action.spec))
        break
      case 'update-service':
        log(`Updating service ${action.name} (id: ${action.id})`)
        await named(`failed to update service ${action.name}`, control.services.update(action.id, action.spec, { version: action.version }))
        break
    }
    done.push(action)
  }

  const existingServices = await control.services.list({ labels })
  const serviceNames = new Set(stack.services.map((s) => s.name))
  if (options.prune === true) {
    for (const a of planServices([], existingServices.filter((s) => !serviceNames.has(s.spec.annotations.name)), true)) await apply(a)
  }
  for (const a of planPayloads('secret', stack.secrets, await control.secrets.list({ names: stack.secrets.map((s) => s.name) }))) await apply(a)
  for (const a of planPayloads('config', stack.configs, await control.configs.list({ names: stack.configs.map((s) => s.name) }))) await apply(a)
  for (const a of planNetworks(stack.networks, await control.networks.list({ names: stack.networks.map((n) => n.name) }))) await apply(a)

  const secretNames = new Set(stack.services.flatMap((s) => (s.spec.task.container?.secrets ?? []).map((r) => r.secretName)))
  const configNames = new Set(stack.services.flatMap((s) => (s.spec.task.container?.configs ?? []).map((r) => r.configName)))
  const secretIds = new Map((secretNames.size === 0 ? [] : await control.secrets.list({ names: [...secretNames] })).map((s) => [s.spec.annotations.name, s.id]))
  const configIds = new Map((configNames.size === 0 ? [] : await control.configs.list({ names: [...configNames] })).map((c) => [c.spec.annotations.name, c.id]))
  const desired = stack.services.map((s) => ({ ...s, spec: resolveReferences(s.spec, secretIds, configIds) }))
  const current = existingServices.filter((s) => serviceNames.has(s.spec.annotations.name))
  for (const a of planServices(desired, current, false)) await apply(a)
  return { actions: done }
}

/** Awaits `p`; a failure keeps its class and typed context, its message prefixed with `what` (docker's wording). */
async function named<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p
  } catch (err) {
    if (err instanceof Error) err.message = `${what}: ${err.message}`
    throw err
  }
}

async function requireExternal(list: () => Promise<readonly { spec: { annotations: { name: string } } }[]>, names: readonly string[], kind: string): Promise<void> {
  if (names.length === 0) return
  const have = new Set((await list()).map((o) => o.spec.annotations.name))
  for (const name of names) {
    if (!have.has(name)) throw new NotFoundError(kind, name, { message: `${kind} ${name} is declared as external, but could not be found: create it before deploying the stack` })
  }
}

/** `spec` with the ids of the secrets and configs it names (by name). */
export function resolveReferences(spec: ServiceSpec, secretIds: ReadonlyMap<string, string>, configIds: ReadonlyMap<string, string>): ServiceSpec {
  const c = spec.task.container
  if (c === undefined) return spec
  const container = { ...c }
  if (c.secrets !== undefined) container.secrets = c.secrets.map((r) => ({ ...r, secretId: secretIds.get(r.secretName) ?? r.secretId }))
  if (c.configs !== undefined) container.configs = c.configs.map((r) => ({ ...r, configId: configIds.get(r.configName) ?? r.configId }))
  return { ...spec, task: { ...spec.task, container } }
}
