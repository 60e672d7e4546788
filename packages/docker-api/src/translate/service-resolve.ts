/**
 * Resolving what a Docker request names: a service or task by full ID, exact name or unique ID
 * prefix (Docker's order and messages), and the networks, secrets and configs a service spec
 * references by name or ID (`docker stack deploy` sends network names) to their IDs.
 *
 * @module
 */
import { ErrorName, InvalidArgumentError, type NetworkAttachmentConfig, type ServiceSpec } from '@swarmkit-ts/api'
import type { DockerApiManager } from '../context.ts'
import { lookup } from './swarm-lookup.ts'

/**
 * The object `input` names (full ID, exact name, unique ID prefix; Docker's order and messages):
 * the lookup every swarm route shares.
 */
export const resolveObject = lookup

/** `{ [key]: values }` when there are values, else `{}` (optional list filters of the control API). */
export function optionalList<K extends string>(key: K, values: readonly string[] | undefined): Partial<Record<K, readonly string[]>> {
  return values === undefined ? {} : ({ [key]: values } as Record<K, readonly string[]>)
}

async function networkIds(manager: DockerApiManager, list: readonly NetworkAttachmentConfig[] | undefined, path: string): Promise<NetworkAttachmentConfig[] | undefined> {
  if (list === undefined) return undefined
  return Promise.all(
    list.map(async (n, i) => {
      try {
        const net = await resolveObject('network', manager.networks, n.target)
        return { ...n, target: net.id }
      } catch (err) {
        if (err instanceof Error && err.name === ErrorName.NotFound) throw new InvalidArgumentError(`${path}[${i}].Target`, `network ${n.target} not found`)
        throw err
      }
    }),
  )
}

/**
 * `spec` with its network targets, secret and config references resolved to IDs (and their names
 * filled in), as the daemon does before it creates or updates a service. An unknown reference is
 * an `InvalidArgumentError` naming the field.
 */
export async function resolveServiceReferences(manager: DockerApiManager, spec: ServiceSpec): Promise<ServiceSpec> {
  const container = spec.task.container
  const secrets =
    container?.secrets === undefined
      ? undefined
      : await Promise.all(
          container.secrets.map(async (s, i) => {
            const found = await resolveObject('secret', manager.secrets, s.secretId !== '' ? s.secretId : s.secretName).catch((err: unknown) => {
              if (err instanceof Error && err.name === ErrorName.NotFound) throw new InvalidArgumentError(`TaskTemplate.ContainerSpec.Secrets[${i}]`, `secret ${s.secretName || s.secretId} not found`)
              throw err
            })
            return { ...s, secretId: found.id, secretName: found.spec.annotations.name }
          }),
        )
  const configs =
    container?.configs === undefined
      ? undefined
      : await Promise.all(
          container.configs.map(async (c, i) => {
            const found = await resolveObject('config', manager.configs, c.configId !== '' ? c.configId : c.configName).catch((err: unknown) => {
              if (err instanceof Error && err.name === ErrorName.NotFound) throw new InvalidArgumentError(`TaskTemplate.ContainerSpec.Configs[${i}]`, `config ${c.configName || c.configId} not found`)
              throw err
            })
            return { ...c, configId: found.id, configName: found.spec.annotations.name }
          }),
        )
  const taskNetworks = await networkIds(manager, spec.task.networks, 'TaskTemplate.Networks')
  const networks = await networkIds(manager, spec.networks, 'Networks')
  const out: ServiceSpec = { ...spec, task: { ...spec.task } }
  if (container !== undefined) {
    out.task.container = { ...container, ...(secrets === undefined ? {} : { secrets }), ...(configs === undefined ? {} : { configs }) }
  }
  if (taskNetworks !== undefined) out.task.networks = taskNetworks
  if (networks !== undefined) out.networks = networks
  return out
}
