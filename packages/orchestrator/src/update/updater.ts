/**
 * One rolling update of one service (SwarmKit's `Updater`): replaces the tasks of the dirty slots
 * with tasks of the service's spec, `parallelism` slots at a time, `delay` apart, watching the
 * new tasks for `monitor` after they run and applying the failure action when too many fail.
 *
 * @module
 */
import { DEFAULT_UPDATE_CONFIG, NodeAvailability, NodeState, TaskState, UpdateFailureAction, UpdateOrder, UpdateState } from '@swarmkit-ts/api'
import type { Cluster, Node, Service, Task, UpdateConfig } from '@swarmkit-ts/api'
import type { Frozen, ReadTx, Tx } from '@swarmkit-ts/store'
import type { OrchestratorContext } from '../common/context.ts'
import { specEqual } from '../common/equality.ts'
import { isGlobalMode, newTask, nodeMatchesConstraints, updateConfig } from '../common/task.ts'
import type { Slot } from '../common/task.ts'
import type { RestartSupervisor } from '../restart/restart-supervisor.ts'
import { Latch } from './latch.ts'
import { TaskObserver } from './task-observer.ts'
import {
  dirtySlots,
  failureOutcome,
  failureRatioExceeded,
  finalMonitorMs,
  isInProgress,
  isPaused,
  isUpdateFailure,
  slotAction,
} from './update-plan.ts'
import type { FailureOutcome, NodeLookup } from './update-plan.ts'
import { UpdateStatusWriter, sameSpecVersion } from './update-status-writer.ts'

/** Construction options of {@link Updater}. */
export interface UpdaterInit {
  /** The store and effects of the orchestrator run. */
  readonly ctx: OrchestratorContext
  /** Starts each replacement once its predecessor stopped (`delayStart`). */
  readonly restarts: RestartSupervisor
  /** The cluster, for the default log driver of new tasks (may be absent in tests). */
  readonly cluster: Frozen<Cluster> | undefined
  /** The service to update to, as it was when the update was asked for. */
  readonly service: Frozen<Service>
}

/**
 * The slots as they are now (the orchestrator's view may be stale by the time an update runs):
 * for each given slot, the service's tasks with desired ≤ RUNNING now in it (same slot number;
 * same node for global services); a slot with none keeps its given tasks that still exist (a
 * stopped task that will not be restarted is handed over so that the update replaces it).
 */
function refreshSlots(tx: ReadTx, service: Frozen<Service>, slots: readonly Slot[]): Slot[] {
  const global = isGlobalMode(service)
  const keyOf = (t: Frozen<Task>): string => (global ? t.nodeId : String(t.slot))
  const live = new Map<string, Frozen<Task>[]>()
  for (const slot of slots) {
    const first = slot[0]
    if (first !== undefined) live.set(keyOf(first), [])
  }
  for (const t of tx.tasks.find({ serviceId: service.id })) {
    if (t.desiredState <= TaskState.RUNNING) live.get(keyOf(t))?.push(t)
  }
  const out: Slot[] = []
  for (const slot of slots) {
    const first = slot[0]
    if (first === undefined) continue
    const now = live.get(keyOf(first)) ?? []
    live.delete(keyOf(first))
    if (now.length > 0) out.push(now)
    else {
      const kept = slot.flatMap((t) => tx.tasks.get(t.id) ?? [])
      if (kept.length > 0) out.push(kept)
    }
  }
  return out
}

/** One rolling update (see the module doc). Run it once; `cancel()` stops it. */
export class Updater {
  /** The service this update brings the tasks to. */
  readonly service: Frozen<Service>
  readonly #ctx: OrchestratorContext
  readonly #restarts: RestartSupervisor
  readonly #cluster: Frozen<Cluster> | undefined
  readonly #status: UpdateStatusWriter
  readonly #cancel = new Latch()
  /** Fired when the update must dispatch no more slots: cancelled, or the failure action fired. */
  readonly #halt = new Latch()
  readonly #failed = new Set<string>()
  #config: Required<UpdateConfig> = { ...DEFAULT_UPDATE_CONFIG }
  #rollingBack = false
  #dirty = 0
  #observer: TaskObserver | undefined
  #outcomeWrite: Promise<void> = Promise.resolve()
  #done: Promise<void> | undefined
  #completing = false

  constructor(init: UpdaterInit) {
    this.#ctx = init.ctx
    this.#restarts = init.restarts
    this.#cluster = init.cluster
    this.service = init.service
    this.#status = new UpdateStatusWriter(init.ctx.store, init.service, init.ctx.logger)
  }

  /** Whether `cancel()` was called. */
  get cancelled(): boolean {
    return this.#cancel.fired
  }

  /**
   * Whether the update has dispatched its last slot and is writing (or wrote) its completion: it
   * will look at no slot again, so slots that became dirty meanwhile (a second task in a slot,
   * created by a racing write) need a new updater.
   */
  get completing(): boolean {
    return this.#completing
  }

  /** Whether this update works towards `service` as it is now: the same spec at the same spec version. */
  targets(service: Frozen<Service>): boolean {
    return sameSpecVersion(service.specVersion, this.service.specVersion) && specEqual(service.spec, this.service.spec)
  }

  /**
   * Runs the update over `slots` once `after` (the cancellation of the update it replaces) has
   * settled; resolves when it completed, paused, rolled back or was cancelled.
   */
  run(slots: readonly Slot[], after: Promise<void> = Promise.resolve()): Promise<void> {
    this.#done ??= (async () => {
      await after
      if (this.cancelled) return
      try {
        await this.#run(slots)
      } catch (err) {
        this.#ctx.logger.error(`updater: update of service ${this.service.id} failed`, { error: String(err) })
      } finally {
        await this.#observer?.close()
        await this.#outcomeWrite
      }
    })()
    return this.#done
  }

  /** Cancels the update; resolves once nothing of it runs any more. Idempotent. */
  cancel(): Promise<void> {
    this.#cancel.fire()
    this.#halt.fire()
    return this.#done ?? Promise.resolve()
  }

  async #run(given: readonly Slot[]): Promise<void> {
    const service = this.service
    const status = service.updateStatus
    // A paused update is never resumed automatically; a new spec clears the status.
    if (isPaused(status)) return
    const ctx = this.#ctx
    const dirty = ctx.store.view((tx) => dirtySlots(service, refreshSlots(tx, service, given), nodeLookup(tx)))
    if (dirty.length === 0) {
      this.#completing = true
      if (isInProgress(status)) await this.#status.complete(ctx.clock.now())
      return
    }
    if (status === undefined) await this.#status.start(ctx.clock.now())
    this.#rollingBack = status?.state === UpdateState.ROLLBACK_STARTED
    this.#config = updateConfig(service, this.#rollingBack)
    this.#dirty = dirty.length
    this.#observer = new TaskObserver(ctx, service.id, (task, runningAt) => this.#onEnded(task, runningAt))
    this.#observer.start()

    const parallelism = this.#config.parallelism === 0 ? dirty.length : Math.min(this.#config.parallelism, dirty.length)
    let next = 0
    const worker = async (): Promise<void> => {
      for (let slot = dirty[next++]; slot !== undefined && !this.#halt.fired; slot = dirty[next++]) {
        try {
          await this.#updateSlot(slot)
        } catch (err) {
          ctx.logger.error(`updater: update of a slot of service ${service.id} failed`, { error: String(err) })
        }
        if (this.#config.delayMs > 0) await this.#halt.sleep(ctx.clock, this.#config.delayMs)
      }
    }
    await Promise.all(Array.from({ length: parallelism }, worker))
    if (this.#halt.fired) return
    // Keep watching for failures a while longer before declaring the update complete.
    await this.#halt.sleep(ctx.clock, finalMonitorMs(this.#config))
    if (this.#halt.fired) return
    // Monitoring is over: a failure observed from now on no longer counts.
    this.#halt.fire()
    this.#completing = true
    await this.#status.complete(ctx.clock.now())
  }

  async #updateSlot(slot: Slot): Promise<void> {
    const action = this.#ctx.store.view((tx) => slotAction(this.service, slot, nodeLookup(tx)))
    if (action.kind === 'replace') return this.#replace(slot)
    const existing = action.task
    const others = this.#ctx.store.view((tx) => this.#slotNow(tx, slot, existing.id))
    if (others.length === 0 && existing.desiredState === TaskState.RUNNING) return
    const old = await this.#ctx.store.update((tx) => this.#shutDown(tx, this.#slotNow(tx, slot, existing.id)))
    if (existing.desiredState !== TaskState.RUNNING) {
      await this.#cancel.race(this.#restarts.delayStart(old, existing.id, 0, true))
    }
  }

  async #replace(slot: Slot): Promise<void> {
    const first = slot[0]
    if (first === undefined) return
    const service = this.service
    const task = isGlobalMode(service)
      ? newTask(this.#cluster, service, 0, first.nodeId, this.#ctx)
      : newTask(this.#cluster, service, first.slot, '', this.#ctx)
    task.desiredState = TaskState.READY
    const startFirst = this.#config.order === UpdateOrder.START_FIRST
    this.#observer?.track(task.id)
    const created = await this.#ctx.store.update((tx) => {
      // The service deleted or at a newer spec: this update is over, create nothing.
      if (this.#status.owned(tx) === undefined) return undefined
      // A global slot whose node was paused, lost or relabelled out of the service's constraints
      // meanwhile gets no update: a task created there could never be scheduled, and the update
      // would wait for it forever. A paused node keeps what it runs; the global orchestrator
      // shuts down the tasks of a node that no longer matches.
      if (isGlobalMode(service) && !takesGlobalTask(service, tx.nodes.get(first.nodeId))) return 'skip' as const
      tx.tasks.create(task)
      return { old: startFirst ? undefined : this.#shutDown(tx, this.#slotNow(tx, slot, task.id)) }
    })
    if (created === undefined) {
      this.#halt.fire()
      return
    }
    if (created === 'skip') return
    const started = startFirst
      ? this.#restarts.delayStart(undefined, task.id, 0, false)
      : this.#restarts.delayStart(created.old, task.id, 0, true)
    if (!(await this.#cancel.race(started))) return startFirst ? this.#undoStart(task.id) : undefined
    const reached = await this.#observer?.waitRunning(task.id, this.#cancel)
    if (startFirst && reached === TaskState.RUNNING) {
      await this.#ctx.store.update((tx) => this.#shutDown(tx, this.#slotNow(tx, slot, task.id)))
    } else if (startFirst && this.#cancel.fired) {
      await this.#undoStart(task.id)
    }
  }

  /**
   * A start-first step cut short by the update's cancellation (a newer update, the service
   * removed, leadership lost) is undone: its new task is shut down, so the slot keeps the task it
   * was to replace — left alongside it, the slot would run two tasks until an updater came back
   * to it, and a newer update that pauses never does. Runs before `cancel()` settles, so the
   * newer updater starts after it. A failed write (no longer the leader) is left to the next
   * leader's reconciliation.
   */
  async #undoStart(taskId: string): Promise<void> {
    try {
      await this.#ctx.store.update((tx) => {
        const t = tx.tasks.get(taskId)
        if (t !== undefined) this.#shutDown(tx, [t])
      })
    } catch (err) {
      this.#ctx.logger.debug(`updater: could not shut down task ${taskId} of a cancelled start-first step`, { error: String(err) })
    }
  }

  /**
   * The tasks of `slot` as they are in `tx`, except task `keep`: the given ones plus any other
   * task of the same slot (same node for global services) created since — a restart
   * replacement waiting out its delay must be shut down with the task it replaces.
   */
  #slotNow(tx: ReadTx, slot: Slot, keep: string): Frozen<Task>[] {
    const first = slot[0]
    if (first === undefined) return []
    const service = this.service
    const peers = isGlobalMode(service)
      ? tx.tasks.find({ nodeId: first.nodeId }).filter((t) => t.serviceId === service.id)
      : tx.tasks.find({ serviceId: service.id, slot: first.slot })
    const out = new Map<string, Frozen<Task>>()
    for (const t of slot) if (t.id !== keep) out.set(t.id, t)
    for (const t of peers) if (t.id !== keep && t.desiredState <= TaskState.RUNNING) out.set(t.id, t)
    return [...out.values()]
  }

  /**
   * Inside `tx`: sets desired SHUTDOWN on the tasks of `tasks` still desired ≤ RUNNING. Returns
   * the task a replacement should wait for: the first one shut down, else the first one still
   * observed ≤ RUNNING (already told to stop, not stopped yet), else undefined.
   */
  #shutDown(tx: Tx, tasks: readonly Frozen<Task>[]): Frozen<Task> | undefined {
    let stopped: Frozen<Task> | undefined
    let stopping: Frozen<Task> | undefined
    for (const t of tasks) {
      const cur = tx.tasks.get(t.id)
      if (cur === undefined) continue
      if (cur.desiredState <= TaskState.RUNNING) {
        tx.tasks.update(cur.id, (d) => {
          d.desiredState = TaskState.SHUTDOWN
        })
        stopped ??= cur
      } else if (cur.status.state <= TaskState.RUNNING) {
        stopping ??= cur
      }
    }
    return stopped ?? stopping
  }

  #onEnded(task: Frozen<Task>, runningAt: number | undefined): void {
    const config = this.#config
    if (config.failureAction === UpdateFailureAction.CONTINUE || this.#halt.fired || this.#failed.has(task.id)) return
    if (!isUpdateFailure(task.status.state, runningAt, this.#ctx.clock.now(), config.monitorMs)) return
    this.#failed.add(task.id)
    if (!failureRatioExceeded(this.#failed.size, this.#dirty, config.maxFailureRatio)) return
    const outcome = failureOutcome(config.failureAction, this.#rollingBack, task.id)
    if (outcome.kind === 'continue') return
    this.#halt.fire()
    this.#outcomeWrite = this.#writeOutcome(outcome)
  }

  async #writeOutcome(outcome: Exclude<FailureOutcome, { kind: 'continue' }>): Promise<void> {
    if (outcome.kind === 'pause') await this.#status.pause(outcome.message)
    else await this.#status.rollback(outcome.message)
  }
}

/**
 * Whether `node` can take a new task of global service `service`: it exists, is ACTIVE, not
 * DOWN, and satisfies the service's placement constraints.
 */
function takesGlobalTask(service: Frozen<Service>, node: Frozen<Node> | undefined): boolean {
  return (
    node !== undefined &&
    node.spec.availability === NodeAvailability.ACTIVE &&
    node.status.state !== NodeState.DOWN &&
    nodeMatchesConstraints(service.spec.task, node)
  )
}

/** Node lookup on a read transaction. */
function nodeLookup(tx: ReadTx): NodeLookup {
  return (id) => tx.nodes.get(id)
}
