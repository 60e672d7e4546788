/**
 * Secrets between Docker's JSON (`swarm.Secret`, `swarm.SecretSpec`) and the api's objects. A
 * secret is never returned with its data; its `Data` arrives base64-encoded. Secret drivers and
 * templating are refused: the agents cannot honour them.
 *
 * @module
 */
import { InvalidArgumentError, type Secret, type SecretSpec } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { dockerMeta, type DockerVersion } from './meta.ts'
import { annotationsFrom, checkFields, objectAt, optString, type JsonObject } from './swarm-json.ts'

/** Docker's `SecretSpec` as returned (no `Data`). */
export interface DockerSecretSpec {
  Name: string
  Labels: Record<string, string>
}

/** Docker's `Secret`. */
export interface DockerSecret {
  ID: string
  Version: DockerVersion
  CreatedAt: string
  UpdatedAt: string
  Spec: DockerSecretSpec
}

/** A secret as Docker's JSON (without its data). */
export function secretToDocker(secret: Frozen<Secret>): DockerSecret {
  const a = secret.spec.annotations
  return { ...dockerMeta(secret.id, secret.meta), Spec: { Name: a.name, Labels: { ...(a.labels ?? {}) } } }
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Standard padded base64 (as Go's `[]byte` JSON), strictly; 400 naming `path` otherwise. */
export function decodeBase64(v: unknown, path: string): Uint8Array {
  const s = optString(v, path) ?? ''
  if (!STRICT_BASE64.test(s)) throw new InvalidArgumentError(path, 'is not valid base64')
  return new Uint8Array(Buffer.from(s, 'base64'))
}

/** Refuses `Driver` and `Templating` (a driver plugin or a template engine) when given. */
export function refusePayloadDrivers(obj: JsonObject, withDriver: boolean): void {
  for (const key of withDriver ? ['Driver', 'Templating'] : ['Templating']) {
    const d = objectAt(obj[key], key)
    checkFields(d, key, ['Name', 'Options'])
    const name = optString(d['Name'], `${key}.Name`) ?? ''
    if (name !== '') {
      const what = key === 'Driver' ? 'secret driver plugins' : 'templated payloads'
      throw new InvalidArgumentError(key, `is not supported by swarmkit-ts: the agents do not run ${what}`)
    }
  }
}

/**
 * The api's secret spec from Docker's `SecretSpec` (the body of `POST /secrets/create` and of an
 * update, where empty `Data` means "unchanged"). Refuses unknown fields naming them.
 */
export function secretSpecFromDocker(body: unknown): SecretSpec {
  const obj = objectAt(body, 'SecretSpec')
  checkFields(obj, '', ['Name', 'Labels', 'Data', 'Driver', 'Templating'])
  refusePayloadDrivers(obj, true)
  return { annotations: annotationsFrom(obj, ''), data: decodeBase64(obj['Data'], 'Data') }
}
