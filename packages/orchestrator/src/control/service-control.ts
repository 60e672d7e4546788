/**
 * Writes of services as SwarmKit's control API does them (manager/controlapi/service.go): every
 * spec is validated first, so bad input is refused with the field named and the store
 * unchanged; an update keeps the previous spec for rollback, bumps the spec version and clears
 * the update status; any update of a job starts a new iteration.
 *
 * @module
 */
import {
  FailedPreconditionError,
  NotFoundError,
  SequenceConflictError,
  UpdateState,
  generateId,
  validateServiceSpec,
  validateServiceUpdate,
} from '@swarmkit-ts/api'
import type { Clock, JobSchedule, Random, Service, ServiceSpec } from '@swarmkit-ts/api'
import type { Draft, Frozen, MemoryStore, Tx } from '@swarmkit-ts/store'
import { isJob } from '../common/task.ts'
import { idleJobStatus } from '../jobs/job-schedule.ts'

/** Construction options of {@link ServiceControl}. */
export interface ServiceControlInit {
  readonly store: MemoryStore
  readonly clock: Clock
  readonly random: Random
}

/** Options of {@link ServiceControl.update}. */
export interface ServiceUpdateOptions {
  /**
   * The `meta.version.index` the caller read; the update fails with `SequenceConflictError` when
   * the service changed since (optimistic concurrency, as `docker service update` does).
   */
  readonly version?: bigint
}

/** Creates, updates, rolls back and removes services on a store. */
export class ServiceControl {
  readonly #store: MemoryStore
  readonly #clock: Clock
  readonly #random: Random

  constructor(init: ServiceControlInit) {
    this.#store = init.store
    this.#clock = init.clock
    this.#random = init.random
  }

  /**
   * Creates a service from a valid spec (`InvalidArgumentError` naming the field otherwise;
   * `AlreadyExistsError` when the name is taken). Jobs start at iteration 0: at once, or — with
   * a schedule — at the schedule's first due time (`jobStatus.nextExecution`).
   */
  async create(spec: ServiceSpec): Promise<Frozen<Service>> {
    validateServiceSpec(spec)
    const service: Omit<Service, 'meta'> = { id: generateId(this.#random), spec, specVersion: { index: 0n } }
    if ('replicatedJob' in spec.mode || 'globalJob' in spec.mode) {
      const schedule = specSchedule(spec)
      // A scheduled job waits for its first due time (as a Kubernetes CronJob); others run now.
      service.jobStatus =
        schedule === undefined ? { jobIteration: { index: 0n }, lastExecution: this.#clock.now() } : idleJobStatus(schedule, 0n, this.#clock.now())
    }
    return this.#store.update((tx) => tx.services.create(service))
  }

  /**
   * Replaces the spec of service `id` (`NotFoundError`; `InvalidArgumentError` naming the field
   * for an invalid spec, a rename or a mode change; `SequenceConflictError` when
   * `options.version` is stale). The old spec becomes `previousSpec`, the update status is
   * cleared (a rolling update starts if tasks are out of date), and a job starts a new iteration
   * (older iterations' running tasks are removed) — at once, or with a schedule at its next due
   * time.
   */
  async update(id: string, spec: ServiceSpec, options: ServiceUpdateOptions = {}): Promise<Frozen<Service>> {
    return this.#store.update((tx) => {
      const old = this.#get(tx, id, options.version)
      validateServiceUpdate(old.spec, spec)
      return tx.services.update(id, (s) => {
        s.previousSpec = s.spec
        if (s.specVersion === undefined) delete s.previousSpecVersion
        else s.previousSpecVersion = s.specVersion
        s.spec = spec as Draft<ServiceSpec>
        s.specVersion = { index: old.meta.version.index }
        delete s.updateStatus
        if (s.jobStatus !== undefined) {
          const iteration = s.jobStatus.jobIteration.index + 1n
          const schedule = specSchedule(spec)
          // Every update starts a new iteration (older iterations' running tasks are removed); a
          // scheduled job's new iteration waits for its next due time, with the new schedule.
          s.jobStatus =
            schedule === undefined
              ? { jobIteration: { index: iteration }, lastExecution: this.#clock.now() }
              : idleJobStatus(schedule, iteration, this.#clock.now(), s.jobStatus)
        }
      })
    })
  }

  /**
   * Rolls service `id` back to its previous spec by hand (`docker service rollback`): swaps
   * `spec` and `previousSpec` and sets the update status ROLLBACK_STARTED, "manually requested
   * rollback"; the rollback runs with the service's rollback config. `FailedPreconditionError`
   * when there is no previous spec or the service is a job.
   */
  async rollback(id: string, options: ServiceUpdateOptions = {}): Promise<Frozen<Service>> {
    return this.#store.update((tx) => {
      const old = this.#get(tx, id, options.version)
      if (isJob(old)) throw new FailedPreconditionError(`service ${id} is a job: jobs cannot be rolled back`, { reason: 'job-rollback' })
      if (old.previousSpec === undefined) {
        throw new FailedPreconditionError(`service ${id} does not have a previous spec`, { reason: 'no-previous-spec' })
      }
      const now = this.#clock.now()
      return tx.services.update(id, (s) => {
        const cur = s.spec
        const curVersion = s.specVersion
        s.spec = s.previousSpec ?? cur
        if (s.previousSpecVersion === undefined) delete s.specVersion
        else s.specVersion = s.previousSpecVersion
        s.previousSpec = cur
        if (curVersion === undefined) delete s.previousSpecVersion
        else s.previousSpecVersion = curVersion
        s.updateStatus = { state: UpdateState.ROLLBACK_STARTED, message: 'manually requested rollback', startedAt: now }
      })
    })
  }

  /** Removes service `id` (`NotFoundError`); the orchestrators set its tasks to desired REMOVE. */
  async remove(id: string): Promise<void> {
    await this.#store.update((tx) => {
      this.#get(tx, id, undefined)
      tx.services.delete(id)
    })
  }

  #get(tx: Tx, id: string, version: bigint | undefined): Frozen<Service> {
    const old = tx.services.get(id)
    if (old === undefined) throw new NotFoundError('service', id)
    if (version !== undefined && version !== old.meta.version.index) {
      throw new SequenceConflictError('service', id, { expected: version, actual: old.meta.version.index })
    }
    return old
  }
}

/** The schedule of a job spec, if any. */
function specSchedule(spec: ServiceSpec): JobSchedule | undefined {
  if ('replicatedJob' in spec.mode) return spec.mode.replicatedJob.schedule
  if ('globalJob' in spec.mode) return spec.mode.globalJob.schedule
  return undefined
}
