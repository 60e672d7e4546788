/**
 * Configs between Docker's JSON (`swarm.Config`, `swarm.ConfigSpec`) and the api's objects: as
 * secrets, but returned with their data (base64). Templating is refused.
 *
 * @module
 */
import type { Config, ConfigSpec } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { dockerMeta, type DockerVersion } from './meta.ts'
import { decodeBase64, refusePayloadDrivers } from './secret.ts'
import { annotationsFrom, checkFields, objectAt } from './swarm-json.ts'

/** Docker's `ConfigSpec`. */
export interface DockerConfigSpec {
  Name: string
  Labels: Record<string, string>
  Data: string
}

/** Docker's `Config`. */
export interface DockerConfig {
  ID: string
  Version: DockerVersion
  CreatedAt: string
  UpdatedAt: string
  Spec: DockerConfigSpec
}

/** A config as Docker's JSON (its data base64-encoded). */
export function configToDocker(config: Frozen<Config>): DockerConfig {
  const a = config.spec.annotations
  return {
    ...dockerMeta(config.id, config.meta),
    Spec: { Name: a.name, Labels: { ...(a.labels ?? {}) }, Data: Buffer.from(config.spec.data).toString('base64') },
  }
}

/**
 * The api's config spec from Docker's `ConfigSpec` (the body of `POST /configs/create` and of an
 * update). Refuses unknown fields naming them, and templating.
 */
export function configSpecFromDocker(body: unknown): ConfigSpec {
  const obj = objectAt(body, 'ConfigSpec')
  checkFields(obj, '', ['Name', 'Labels', 'Data', 'Templating'])
  refusePayloadDrivers(obj, false)
  return { annotations: annotationsFrom(obj, ''), data: decodeBase64(obj['Data'], 'Data') }
}
