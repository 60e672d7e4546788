/**
 * Services and tasks of {@link StoreControlApi}: writes through orchestrator's `ServiceControl`
 * (SwarmKit's semantics), plus the checks SwarmKit's controlapi adds — the secrets, configs and
 * networks a spec references must exist — and scaling.
 *
 * @module
 */
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, SequenceConflictError, validateServiceSpec } from '@swarmkit-ts/api'
import type { ServiceSpec, Service, Task } from '@swarmkit-ts/api'
import { lookupNetwork } from '@swarmkit-ts/network'
import type { ServiceControl } from '@swarmkit-ts/orchestrator'
import type { Frozen, MemoryStore, ReadTx } from '@swarmkit-ts/store'
import type { ServiceFilters, ServicesApi, TaskFilters, TasksApi, VersionOptions } from './control-api.ts'
import { readBack, settle } from './settle.ts'
import { byName, byServiceSlot, matchesService, matchesTask, validateServiceFilters, validateTaskFilters } from './filters.ts'

/** How often `scale` without a version retries after a concurrent change of the same service. */
const SCALE_ATTEMPTS = 5

/** The service `idOrName` names in `tx`: by id first, then by exact (case-insensitive) name. */
export function lookupService(tx: ReadTx, idOrName: string): Frozen<Service> | undefined {
  return tx.services.get(idOrName) ?? tx.services.find({ name: idOrName })[0]
}

/** Checks that `id` is a non-empty string (`InvalidArgumentError` naming `field`). */
export function requireId(id: unknown, field: string): string {
  if (typeof id !== 'string' || id === '') throw new InvalidArgumentError(field, 'must be a non-empty string')
  return id
}

/** Checks `options.version` (`InvalidArgumentError` on `version` unless absent or a non-negative bigint). */
export function versionOf(options: VersionOptions | undefined): bigint | undefined {
  const v = options?.version
  if (v === undefined) return undefined
  if (typeof v !== 'bigint' || v < 0n) throw new InvalidArgumentError('version', 'must be a non-negative bigint')
  return v
}

/**
 * The first reference of `spec` to a secret, config or network that does not exist in `tx`, as
 * an `InvalidArgumentError` naming the field, or undefined when all exist.
 */
export function missingReference(tx: ReadTx, spec: ServiceSpec): InvalidArgumentError | undefined {
  const container = spec.task.container
  for (const [i, ref] of (container?.secrets ?? []).entries()) {
    const s = tx.secrets.get(ref.secretId)
    if (s === undefined || s.spec.annotations.name !== ref.secretName) {
      return new InvalidArgumentError(`task.container.secrets[${i}]`, `secret not found: ${ref.secretName} (${ref.secretId})`)
    }
  }
  for (const [i, ref] of (container?.configs ?? []).entries()) {
    const c = tx.configs.get(ref.configId)
    if (c === undefined || c.spec.annotations.name !== ref.configName) {
      return new InvalidArgumentError(`task.container.configs[${i}]`, `config not found: ${ref.configName} (${ref.configId})`)
    }
  }
  const nets: [string, readonly { target: string }[] | undefined][] = [
    ['task.networks', spec.task.networks],
    ['networks', spec.networks],
  ]
  for (const [field, list] of nets) {
    for (const [i, n] of (list ?? []).entries()) {
      if (lookupNetwork(tx, n.target) === undefined) return new InvalidArgumentError(`${field}[${i}].target`, `network ${n.target} not found`)
    }
  }
  return undefined
}

/** The services of a store-backed control API. */
export class StoreServices implements ServicesApi {
  readonly #store: MemoryStore
  readonly #control: ServiceControl

  constructor(store: MemoryStore, control: ServiceControl) {
    this.#store = store
    this.#control = control
  }

  async create(spec: ServiceSpec): Promise<Frozen<Service>> {
    validateServiceSpec(spec)
    const missing = this.#store.view((tx) => missingReference(tx, spec))
    if (missing !== undefined) throw missing
    return this.#stored(await this.#control.create(spec))
  }

  get(idOrName: string): Promise<Frozen<Service>> {
    return settle(() => {
      return this.#resolve(requireId(idOrName, 'id'))
    })
  }

  list(filters?: ServiceFilters): Promise<readonly Frozen<Service>[]> {
    return settle(() => {
      validateServiceFilters(filters)
      return byName(this.#store.view((tx) => tx.services.find()).filter((s) => matchesService(filters, s)))
    })
  }

  async update(id: string, spec: ServiceSpec, options?: VersionOptions): Promise<Frozen<Service>> {
    const version = versionOf(options)
    const current = this.#resolve(requireId(id, 'id'))
    validateServiceSpec(spec)
    const missing = this.#store.view((tx) => missingReference(tx, spec))
    if (missing !== undefined) throw missing
    return this.#stored(await this.#control.update(current.id, spec, version === undefined ? {} : { version }))
  }

  async scale(id: string, replicas: number, options?: VersionOptions): Promise<Frozen<Service>> {
    if (typeof replicas !== 'number' || !Number.isSafeInteger(replicas) || replicas < 0) {
      throw new InvalidArgumentError('replicas', 'must be a non-negative integer')
    }
    const version = versionOf(options)
    requireId(id, 'id')
    for (let attempt = 1; ; attempt++) {
      const current = this.#resolve(id)
      if (!('replicated' in current.spec.mode)) {
        throw new FailedPreconditionError(`service ${current.spec.annotations.name} is not a replicated service: it cannot be scaled`, { reason: 'not-replicated' })
      }
      const spec = { ...current.spec, mode: { replicated: { replicas } } } as ServiceSpec
      try {
        // Without a caller's version, base the write on the version just read: a concurrent
        // change of the service is never overwritten, only retried on.
        return this.#stored(await this.#control.update(current.id, spec, { version: version ?? current.meta.version.index }))
      } catch (err) {
        if (version !== undefined || !(err instanceof SequenceConflictError) || attempt >= SCALE_ATTEMPTS) throw err
      }
    }
  }

  async rollback(id: string, options?: VersionOptions): Promise<Frozen<Service>> {
    const version = versionOf(options)
    const current = this.#resolve(requireId(id, 'id'))
    return this.#stored(await this.#control.rollback(current.id, version === undefined ? {} : { version }))
  }

  async remove(id: string): Promise<void> {
    const current = this.#resolve(requireId(id, 'id'))
    await this.#control.remove(current.id)
  }

  #stored(written: Frozen<Service>): Frozen<Service> {
    return readBack(() => this.#store.view((tx) => tx.services.get(written.id)), written)
  }

  #resolve(idOrName: string): Frozen<Service> {
    const s = this.#store.view((tx) => lookupService(tx, idOrName))
    if (s === undefined) throw new NotFoundError('service', idOrName)
    return s
  }
}

/** The tasks of a store-backed control API (read only). */
export class StoreTasks implements TasksApi {
  readonly #store: MemoryStore

  constructor(store: MemoryStore) {
    this.#store = store
  }

  get(id: string): Promise<Frozen<Task>> {
    return settle(() => {
      const t = this.#store.view((tx) => tx.tasks.get(requireId(id, 'id')))
      if (t === undefined) throw new NotFoundError('task', id)
      return t
    })
  }

  list(filters?: TaskFilters): Promise<readonly Frozen<Task>[]> {
    return settle(() => {
      validateTaskFilters(filters)
      const candidates = this.#store.view((tx) => {
        // One index narrows the scan when a single service or node is asked for.
        if (filters?.serviceIds?.length === 1) return tx.tasks.find({ serviceId: filters.serviceIds[0] ?? '' })
        if (filters?.nodeIds?.length === 1) return tx.tasks.find({ nodeId: filters.nodeIds[0] ?? '' })
        return tx.tasks.find()
      })
      return byServiceSlot(candidates.filter((t) => matchesTask(filters, t)))
    })
  }
}
