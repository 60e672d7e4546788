/**
 * The writes of a rolling update's status (SwarmKit's startUpdate, pauseUpdate, rollbackUpdate
 * and completeUpdate). Each re-reads the service first and writes nothing when the service is
 * gone, when its status was cleared, or when its spec version is no longer the updater's: a
 * newer spec took over, and this updater's word is stale.
 *
 * @module
 */
import { FailedPreconditionError, UpdateState } from '@swarmkit-ts/api'
import type { Logger, Service, Version } from '@swarmkit-ts/api'
import type { Draft, Frozen, MemoryStore, Tx } from '@swarmkit-ts/store'
import { completedStatus, isInProgress, pausedStatus, startedStatus } from './update-plan.ts'

/** Whether two optional spec versions are the same (both absent counts as the same). */
export function sameSpecVersion(a: Frozen<Version> | undefined, b: Frozen<Version> | undefined): boolean {
  return a?.index === b?.index
}

/** Writes the update status of one service on behalf of the updater of `target`. */
export class UpdateStatusWriter {
  readonly #store: MemoryStore
  readonly #target: Frozen<Service>
  readonly #logger: Logger

  constructor(store: MemoryStore, target: Frozen<Service>, logger: Logger) {
    this.#store = store
    this.#target = target
    this.#logger = logger
  }

  /** The stored service if the updater still owns it (same spec version), else undefined. */
  owned(tx: Tx): Frozen<Service> | undefined {
    const cur = tx.services.get(this.#target.id)
    return cur !== undefined && sameSpecVersion(cur.specVersion, this.#target.specVersion) ? cur : undefined
  }

  /** UPDATING, "update in progress", unless the service already has a status. */
  start(now: number): Promise<void> {
    return this.#write('mark the update in progress', (cur) => {
      if (cur.updateStatus !== undefined) return undefined
      return (s) => {
        s.updateStatus = startedStatus(now)
      }
    })
  }

  /** PAUSED (ROLLBACK_PAUSED for a rollback) with `message`. */
  pause(message: string): Promise<void> {
    return this.#write('pause the update', (cur) => {
      const status = cur.updateStatus
      if (status === undefined) return undefined
      return (s) => {
        s.updateStatus = pausedStatus(status, message)
      }
    })
  }

  /**
   * Rolls the service back: spec and spec version from the previous ones (which are cleared),
   * status ROLLBACK_STARTED with `message` (its start time kept). Logs a failed precondition
   * when there is no previous spec.
   */
  rollback(message: string): Promise<void> {
    return this.#write('roll the update back', (cur) => {
      const status = cur.updateStatus
      if (status === undefined) return undefined
      const previous = cur.previousSpec
      if (previous === undefined) {
        throw new FailedPreconditionError(`cannot roll back service ${cur.id}: no previous spec is available`, { reason: 'no-previous-spec' })
      }
      return (s) => {
        s.updateStatus = { ...status, state: UpdateState.ROLLBACK_STARTED, message }
        s.spec = previous as Draft<Service>['spec']
        if (cur.previousSpecVersion === undefined) delete s.specVersion
        else s.specVersion = { index: cur.previousSpecVersion.index }
        delete s.previousSpec
        delete s.previousSpecVersion
      }
    })
  }

  /** COMPLETED, "update completed" (ROLLBACK_COMPLETED, "rollback completed"), if an update is in progress. */
  complete(now: number): Promise<void> {
    return this.#write('mark the update completed', (cur) => {
      const status = cur.updateStatus
      if (status === undefined || !isInProgress(status)) return undefined
      return (s) => {
        s.updateStatus = completedStatus(status, now)
      }
    })
  }

  async #write(what: string, plan: (cur: Frozen<Service>) => ((draft: Draft<Service>) => void) | undefined): Promise<void> {
    try {
      await this.#store.update((tx) => {
        const cur = this.owned(tx)
        if (cur === undefined) return
        const recipe = plan(cur)
        if (recipe !== undefined) tx.services.update(cur.id, recipe)
      })
    } catch (err) {
      this.#logger.error(`updater: failed to ${what} of service ${this.#target.id}`, { error: String(err) })
    }
  }
}
