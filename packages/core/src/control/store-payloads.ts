/**
 * Secrets and configs of {@link StoreControlApi} (SwarmKit's controlapi/secret.go, config.go):
 * created once, updated in their labels only, removed only while no service references them.
 * Secrets are handed out without their data.
 *
 * @module
 */
import { FailedPreconditionError, NotFoundError, SequenceConflictError, generateId, validateConfigSpec, validateConfigUpdate, validateSecretSpec, validateSecretUpdate } from '@swarmkit-ts/api'
import type { Config, ConfigSpec, Random, Secret, SecretSpec } from '@swarmkit-ts/api'
import type { Frozen, MemoryStore, ReadTx } from '@swarmkit-ts/store'
import type { CommonFilters, ConfigsApi, SecretsApi, VersionOptions } from './control-api.ts'
import { readBack, settle } from './settle.ts'
import { byName, matchesCommon, validateCommonFilters } from './filters.ts'
import { redactSecret } from './redact.ts'
import { requireId, versionOf } from './store-services.ts'

/** The refusal to remove `kind` `name` while `services` (names) reference it, or undefined when none do. */
export function payloadInUse(kind: 'secret' | 'config', name: string, services: readonly string[]): FailedPreconditionError | undefined {
  if (services.length === 0) return undefined
  const sorted = [...services].sort()
  return new FailedPreconditionError(`${kind} '${name}' is in use by the following service${sorted.length > 1 ? 's' : ''}: ${sorted.join(', ')}`, {
    reason: 'in-use',
  })
}

/**
 * The spec an update asks for: empty `data` means "unchanged" (what a caller that read the
 * object from this API sends back: secrets come without data), as SwarmKit's update takes no data.
 */
function keepData<S extends SecretSpec | ConfigSpec>(old: Frozen<S>, next: S): S {
  if (typeof next !== 'object' || next === null) return next
  return next.data instanceof Uint8Array && next.data.byteLength === 0 ? { ...next, data: old.data } : next
}

function checkVersion(kind: string, obj: { readonly id: string; readonly meta: { readonly version: { readonly index: bigint } } }, version: bigint | undefined): void {
  if (version !== undefined && version !== obj.meta.version.index) {
    throw new SequenceConflictError(kind, obj.id, { expected: version, actual: obj.meta.version.index })
  }
}

function lookupSecret(tx: ReadTx, idOrName: string): Frozen<Secret> | undefined {
  return tx.secrets.get(idOrName) ?? tx.secrets.find({ name: idOrName })[0]
}

function lookupConfig(tx: ReadTx, idOrName: string): Frozen<Config> | undefined {
  return tx.configs.get(idOrName) ?? tx.configs.find({ name: idOrName })[0]
}

/** The secrets of a store-backed control API (returned without data). */
export class StoreSecrets implements SecretsApi {
  readonly #store: MemoryStore
  readonly #random: Random

  constructor(store: MemoryStore, random: Random) {
    this.#store = store
    this.#random = random
  }

  async create(spec: SecretSpec): Promise<Frozen<Secret>> {
    validateSecretSpec(spec)
    const written = await this.#store.update((tx) => tx.secrets.create({ id: generateId(this.#random), spec }))
    return redactSecret(readBack(() => this.#store.view((tx) => tx.secrets.get(written.id)), written))
  }

  get(idOrName: string): Promise<Frozen<Secret>> {
    return settle(() => {
      const id = requireId(idOrName, 'id')
      const s = this.#store.view((tx) => lookupSecret(tx, id))
      if (s === undefined) throw new NotFoundError('secret', id)
      return redactSecret(s)
    })
  }

  list(filters?: CommonFilters): Promise<readonly Frozen<Secret>[]> {
    return settle(() => {
      validateCommonFilters(filters)
      const all = this.#store.view((tx) => tx.secrets.find())
      return byName(all.filter((s) => matchesCommon(filters, s.id, s.spec.annotations.name, s.spec.annotations))).map(redactSecret)
    })
  }

  async update(id: string, spec: SecretSpec, options?: VersionOptions): Promise<Frozen<Secret>> {
    const version = versionOf(options)
    const key = requireId(id, 'id')
    const updated = await this.#store.update((tx) => {
      const cur = lookupSecret(tx, key)
      if (cur === undefined) throw new NotFoundError('secret', key)
      checkVersion('secret', cur, version)
      const next = keepData(cur.spec, spec)
      validateSecretUpdate(cur.spec, next)
      return tx.secrets.update({ ...cur, spec: next })
    })
    return redactSecret(readBack(() => this.#store.view((tx) => tx.secrets.get(updated.id)), updated))
  }

  async remove(id: string): Promise<void> {
    const key = requireId(id, 'id')
    await this.#store.update((tx) => {
      const cur = lookupSecret(tx, key)
      if (cur === undefined) throw new NotFoundError('secret', key)
      const refusal = payloadInUse('secret', cur.spec.annotations.name, tx.services.find({ secret: cur.id }).map((s) => s.spec.annotations.name))
      if (refusal !== undefined) throw refusal
      tx.secrets.delete(cur.id)
    })
  }
}

/** The configs of a store-backed control API. */
export class StoreConfigs implements ConfigsApi {
  readonly #store: MemoryStore
  readonly #random: Random

  constructor(store: MemoryStore, random: Random) {
    this.#store = store
    this.#random = random
  }

  async create(spec: ConfigSpec): Promise<Frozen<Config>> {
    validateConfigSpec(spec)
    const written = await this.#store.update((tx) => tx.configs.create({ id: generateId(this.#random), spec }))
    return readBack(() => this.#store.view((tx) => tx.configs.get(written.id)), written)
  }

  get(idOrName: string): Promise<Frozen<Config>> {
    return settle(() => {
      const id = requireId(idOrName, 'id')
      const c = this.#store.view((tx) => lookupConfig(tx, id))
      if (c === undefined) throw new NotFoundError('config', id)
      return c
    })
  }

  list(filters?: CommonFilters): Promise<readonly Frozen<Config>[]> {
    return settle(() => {
      validateCommonFilters(filters)
      const all = this.#store.view((tx) => tx.configs.find())
      return byName(all.filter((c) => matchesCommon(filters, c.id, c.spec.annotations.name, c.spec.annotations)))
    })
  }

  async update(id: string, spec: ConfigSpec, options?: VersionOptions): Promise<Frozen<Config>> {
    const version = versionOf(options)
    const key = requireId(id, 'id')
    const updated = await this.#store.update((tx) => {
      const cur = lookupConfig(tx, key)
      if (cur === undefined) throw new NotFoundError('config', key)
      checkVersion('config', cur, version)
      const next = keepData(cur.spec, spec)
      validateConfigUpdate(cur.spec, next)
      return tx.configs.update({ ...cur, spec: next })
    })
    return readBack(() => this.#store.view((tx) => tx.configs.get(updated.id)), updated)
  }

  async remove(id: string): Promise<void> {
    const key = requireId(id, 'id')
    await this.#store.update((tx) => {
      const cur = lookupConfig(tx, key)
      if (cur === undefined) throw new NotFoundError('config', key)
      const refusal = payloadInUse('config', cur.spec.annotations.name, tx.services.find({ config: cur.id }).map((s) => s.spec.annotations.name))
      if (refusal !== undefined) throw refusal
      tx.configs.delete(cur.id)
    })
  }
}
