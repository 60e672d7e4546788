/**
 * The restart supervisor (SwarmKit's manager/orchestrator/restart): decides whether a task that
 * ended is replaced, creates the replacement, and starts it after the restart delay once its
 * predecessor has stopped.
 *
 * @module
 */
import { FailedPreconditionError, NodeAvailability, NodeState, TaskState, UpdateState, sleep } from '@swarmkit-ts/api'
import type { Cluster, Service, Task } from '@swarmkit-ts/api'
import { WatchQueueOverflowError } from '@swarmkit-ts/store'
import type { Frozen, Tx, Watch } from '@swarmkit-ts/store'
import { LOOP_QUEUE_LIMIT } from '../common/store-loop.ts'
import type { Component, OrchestratorContext } from '../common/context.ts'
import { isGlobalMode, isJob, newTask, restartPolicy, runState } from '../common/task.ts'
import type { Slot } from '../common/task.ts'
import { conditionAllowsRestart, historyAllowsRestart, pruneWindow, restartHistoryKey, taskStatusTime } from './restart-policy.ts'
import type { RestartHistory } from './restart-policy.ts'

/** How long a delayed start waits at most for its predecessor to stop (SwarmKit's `TaskTimeout`), counted from `delayStart`. */
export const TASK_TIMEOUT_MS = 60_000

/** A delayed start in progress. */
interface PendingStart {
  readonly taskId: string
  readonly abort: AbortController
  /** The predecessor being waited for (task id and its node), when waiting. */
  readonly watched: { readonly taskId: string; readonly nodeId: string } | undefined
  /** Set once the predecessor was seen stopped (or its node down or gone). */
  stopped: boolean
  /** Wakes the wait for the predecessor. */
  wake: (() => void) | undefined
  /** A restart of this task asked for while it was still in its delay: run it once the delay ends. */
  waiter: { readonly cluster: Frozen<Cluster> | undefined } | undefined
}

/** Replaces failed tasks; one per orchestrator run, shared by the replicated, global and jobs orchestrators. */
export class RestartSupervisor implements Component {
  readonly #ctx: OrchestratorContext
  readonly #delays = new Map<string, PendingStart>()
  /** Replacements created by `restart()` whose delayed start is pending. */
  readonly #replacements = new Set<string>()
  /** Pending starts by the predecessor task they wait for, and by that task's node. */
  readonly #byOldTask = new Map<string, Set<PendingStart>>()
  readonly #byNode = new Map<string, Set<PendingStart>>()
  /** Restart history: service id → slot key → history. */
  readonly #history = new Map<string, Map<string, RestartHistory>>()
  /** Everything in flight (delays, their writes, waiting restarts, the watch loop). */
  readonly #inFlight = new Set<Promise<void>>()
  readonly #abort = new AbortController()
  #watch: Watch<'task' | 'node'> | undefined
  #started = false

  constructor(ctx: OrchestratorContext) {
    this.#ctx = ctx
  }

  /** Starts watching task and node updates (for delayed starts waiting on their predecessor). */
  start(): void {
    if (this.#started) throw new FailedPreconditionError('the restart supervisor was already started')
    this.#started = true
    void this.#track(this.#watchLoop())
  }

  /** Cancels every pending delayed start and resolves once nothing of the supervisor runs any more. */
  async stop(): Promise<void> {
    this.#abort.abort()
    this.#watch?.close()
    for (const p of this.#delays.values()) p.abort.abort()
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  /**
   * Inside `tx`: sets `task`'s desired state to SHUTDOWN and, when the restart policy allows
   * (see {@link RestartSupervisor.shouldRestart}), creates its replacement — same slot
   * (replicated, replicated job) or same node (global, global job) — with desired READY, and
   * schedules its delayed start ({@link RestartSupervisor.delayStart}). A task still in its own
   * restart delay is restarted only when that delay ends (no tight restart loops).
   */
  restart(tx: Tx, cluster: Frozen<Cluster> | undefined, service: Frozen<Service>, task: Frozen<Task>): void {
    const pending = this.#delays.get(task.id)
    if (pending !== undefined) {
      pending.waiter ??= { cluster }
      return
    }
    if (task.desiredState > TaskState.COMPLETE) {
      this.#ctx.logger.warn('restart called on a task that was already shut down', { taskId: task.id })
      return
    }
    const old = tx.tasks.update(task.id, (d) => {
      d.desiredState = TaskState.SHUTDOWN
    })
    if (!this.shouldRestart(old, service)) return

    const global = isGlobalMode(service)
    const replacement = newTask(cluster, service, global ? 0 : old.slot, global ? old.nodeId : '', this.#ctx)
    replacement.desiredState = TaskState.READY
    const iteration = service.jobStatus?.jobIteration ?? old.jobIteration
    const draft = isJob(service) && iteration !== undefined ? { ...replacement, jobIteration: { index: iteration.index } } : replacement

    const node = old.nodeId === '' ? undefined : tx.nodes.get(old.nodeId)
    // No delay on a drained node; no wait when the old task is already dead or its node down.
    const delayMs = node?.spec.availability === NodeAvailability.DRAIN ? 0 : restartPolicy(old.spec).delayMs
    const waitStop = !(node?.status.state === NodeState.DOWN || old.status.state > TaskState.RUNNING)

    const created = tx.tasks.create(draft)
    this.recordRestartHistory(restartHistoryKey(created, global), created)
    void this.delayStart(old, created.id, delayMs, waitStop)
    this.#replacements.add(created.id)
  }

  /**
   * Whether `task` should be replaced under its restart policy: condition, max attempts within
   * the window, counted per (service, slot) or (service, node), history reset on a new spec
   * version.
   */
  shouldRestart(task: Frozen<Task>, service: Frozen<Service>): boolean {
    if (!conditionAllowsRestart(task, isJob(service))) return false
    const policy = restartPolicy(task.spec)
    if (policy.maxAttempts === 0) return true
    const history = this.#history.get(task.serviceId)?.get(restartHistoryKey(task, isGlobalMode(service)))
    if (history === undefined || policy.windowMs === 0) return historyAllowsRestart(task, history)
    if (task.specVersion !== undefined && task.specVersion.index !== history.specVersion) return true
    // Restarts older than the window never count again: forget them.
    history.timestamps = pruneWindow(history.timestamps, taskStatusTime(task), policy.windowMs)
    return historyAllowsRestart(task, history, history.timestamps)
  }

  /**
   * The tasks of `slot` the update supervisor should get (SwarmKit's `UpdatableTasksInSlot`):
   * those with desired state ≤ RUNNING; or else, when the slot's newest task stopped and is not
   * to be restarted, that task (so a rolling update still replaces it) — except during a
   * rollback. An empty result means the slot is dead. A task desired REMOVE never holds its slot:
   * its slot was scaled away, so a later scale-up fills the slot again (with restart condition
   * none, such a task would otherwise keep the slot until the reaper deletes it).
   */
  updatableTasksInSlot(slot: Slot, service: Frozen<Service>): Slot {
    const live = slot.filter((t) => t.desiredState <= TaskState.RUNNING)
    if (live.length > 0 || slot.length === 0) return live
    if (service.updateStatus?.state === UpdateState.ROLLBACK_STARTED) return []
    const kept = slot.filter((t) => t.desiredState < TaskState.REMOVE)
    if (kept.length === 0) return []
    let newest = kept[0] as Frozen<Task>
    for (const t of kept) if (taskStatusTime(t) > taskStatusTime(newest)) newest = t
    return this.shouldRestart(newest, service) ? [] : [newest]
  }

  /**
   * Records that `task` replaced a restarted one in slot `key` of its service (see
   * `restartHistoryKey`), at the task's creation time. Only when the task's policy limits
   * attempts; a task of another spec version starts the slot's history over.
   */
  recordRestartHistory(key: string, task: Frozen<Task>): void {
    const policy = restartPolicy(task.spec)
    if (policy.maxAttempts === 0) return
    let slots = this.#history.get(task.serviceId)
    if (slots === undefined) this.#history.set(task.serviceId, (slots = new Map<string, RestartHistory>()))
    let h = slots.get(key)
    if (h === undefined) slots.set(key, (h = { specVersion: undefined, totalRestarts: 0, timestamps: [] }))
    if (task.specVersion !== undefined && task.specVersion.index !== h.specVersion) {
      h.specVersion = task.specVersion.index
      h.totalRestarts = 0
      h.timestamps = []
    }
    h.totalRestarts++
    if (policy.windowMs !== 0) h.timestamps.push(task.meta.createdAt)
  }

  /**
   * Moves task `newTaskId` to its run state (desired RUNNING; COMPLETE for job tasks) after
   * `delayMs` and — when `waitStop` — once `oldTask` has stopped (observed > RUNNING), its node
   * is down, or one minute has passed. Resolves when the start was written or cancelled.
   */
  delayStart(oldTask: Frozen<Task> | undefined, newTaskId: string, delayMs: number, waitStop: boolean): Promise<void> {
    if (this.#abort.signal.aborted) return Promise.resolve()
    this.#delays.get(newTaskId)?.abort.abort()
    const waitForTask = waitStop && oldTask !== undefined && oldTask.status.state <= TaskState.RUNNING
    const p: PendingStart = {
      taskId: newTaskId,
      abort: new AbortController(),
      watched: waitForTask ? { taskId: oldTask.id, nodeId: oldTask.nodeId } : undefined,
      stopped: false,
      wake: undefined,
      waiter: undefined,
    }
    this.#delays.set(newTaskId, p)
    if (p.watched !== undefined) {
      addTo(this.#byOldTask, p.watched.taskId, p)
      if (p.watched.nodeId !== '') addTo(this.#byNode, p.watched.nodeId, p)
    }
    return this.#track(this.#runDelay(p, delayMs))
  }

  /** Whether task `taskId` has a delayed start pending. */
  isDelayed(taskId: string): boolean {
    return this.#delays.has(taskId)
  }

  /** Cancels the delayed start of task `taskId`, if any. */
  cancel(taskId: string): void {
    this.#delays.get(taskId)?.abort.abort()
  }

  /** Forgets the restart history of service `serviceId` (it was deleted). */
  clearServiceHistory(serviceId: string): void {
    this.#history.delete(serviceId)
  }

  /**
   * Inside `tx`: moves task `taskId` out of its delay now — desired RUNNING, or COMPLETE for a
   * job task — unless it is gone or already at RUNNING or beyond.
   */
  startNow(tx: Tx, taskId: string): void {
    const t = tx.tasks.get(taskId)
    if (t === undefined || t.desiredState >= TaskState.RUNNING) return
    const service = tx.services.get(t.serviceId)
    const target = service !== undefined ? runState(service) : t.jobIteration !== undefined ? TaskState.COMPLETE : TaskState.RUNNING
    tx.tasks.update(taskId, (d) => {
      d.desiredState = target
    })
  }

  async #runDelay(p: PendingStart, delayMs: number): Promise<void> {
    const startedAt = this.#ctx.clock.now()
    const signal = p.abort.signal
    try {
      if (delayMs > 0) await sleep(this.#ctx.clock, delayMs, { signal })
      if (p.watched !== undefined && !p.stopped && !this.#predecessorStopped(p.watched)) {
        await this.#waitStopped(p, startedAt + TASK_TIMEOUT_MS - this.#ctx.clock.now())
      }
      if (!signal.aborted) {
        await this.#ctx.store.update((tx) => {
          if (this.#replacements.has(p.taskId) && this.#slotTaken(tx, p.taskId)) this.#drop(tx, p.taskId)
          else this.startNow(tx, p.taskId)
        })
      }
    } catch (err) {
      if (!signal.aborted) this.#ctx.logger.error('moving a task out of its restart delay failed', { taskId: p.taskId, error: String(err) })
    } finally {
      this.#forget(p)
    }
    const waiter = p.waiter
    if (waiter !== undefined && !this.#abort.signal.aborted) await this.#restartAfterDelay(p.taskId, waiter.cluster)
  }

  /** Resolves when the predecessor was seen stopped, after `ms`, or on cancellation. */
  #waitStopped(p: PendingStart, ms: number): Promise<void> {
    if (ms <= 0 || p.abort.signal.aborted) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        timer.cancel()
        p.abort.signal.removeEventListener('abort', finish)
        p.wake = undefined
        resolve()
      }
      const timer = this.#ctx.clock.setTimeout(finish, ms)
      p.abort.signal.addEventListener('abort', finish, { once: true })
      p.wake = finish
    })
  }

  /** The restart that was asked for while `taskId` was in its delay. */
  async #restartAfterDelay(taskId: string, cluster: Frozen<Cluster> | undefined): Promise<void> {
    try {
      await this.#ctx.store.update((tx) => {
        const t = tx.tasks.get(taskId)
        // Up to COMPLETE: the delay just ended has moved a job task to desired COMPLETE.
        if (t === undefined || t.desiredState > TaskState.COMPLETE) return
        const service = tx.services.get(t.serviceId)
        if (service === undefined) return
        this.restart(tx, tx.clusters.find()[0] ?? cluster, service, t)
      })
    } catch (err) {
      this.#ctx.logger.error('restarting a task after its restart delay failed', { taskId, error: String(err) })
    }
  }

  /**
   * Whether another task of the same slot (same node for global services) already has desired
   * RUNNING: a rolling update replaced the slot while this replacement waited out its delay, so
   * starting it would run the slot twice. Job slots are never shared.
   */
  #slotTaken(tx: Tx, taskId: string): boolean {
    const t = tx.tasks.get(taskId)
    const service = t === undefined ? undefined : tx.services.get(t.serviceId)
    if (t === undefined || service === undefined || isJob(service)) return false
    const peers = isGlobalMode(service) ? tx.tasks.find({ nodeId: t.nodeId }) : tx.tasks.find({ serviceId: t.serviceId, slot: t.slot })
    return peers.some((o) => o.id !== t.id && o.serviceId === t.serviceId && o.desiredState === TaskState.RUNNING)
  }

  /** Inside `tx`: a redundant replacement is shut down instead of started. */
  #drop(tx: Tx, taskId: string): void {
    const t = tx.tasks.get(taskId)
    if (t === undefined || t.desiredState >= TaskState.RUNNING) return
    this.#ctx.logger.debug('a restart replacement is not started: its slot already runs a newer task', { taskId })
    tx.tasks.update(taskId, (d) => {
      d.desiredState = TaskState.SHUTDOWN
    })
  }

  #forget(p: PendingStart): void {
    if (this.#delays.get(p.taskId) === p) {
      this.#delays.delete(p.taskId)
      this.#replacements.delete(p.taskId)
    }
    if (p.watched !== undefined) {
      removeFrom(this.#byOldTask, p.watched.taskId, p)
      removeFrom(this.#byNode, p.watched.nodeId, p)
    }
  }

  /** Whether the predecessor has stopped by the store's current state (task > RUNNING or gone; node DOWN or gone). */
  #predecessorStopped(w: NonNullable<PendingStart['watched']>): boolean {
    return this.#ctx.store.view((tx) => {
      const t = tx.tasks.get(w.taskId)
      if (t === undefined || t.status.state > TaskState.RUNNING) return true
      if (w.nodeId === '') return false
      const n = tx.nodes.get(w.nodeId)
      return n === undefined || n.status.state === NodeState.DOWN
    })
  }

  #markStopped(set: ReadonlySet<PendingStart> | undefined): void {
    if (set === undefined) return
    for (const p of [...set]) {
      p.stopped = true
      p.wake?.()
    }
  }

  /** One watch for every pending start: predecessor task updates and deletes, node updates and deletes. */
  async #watchLoop(): Promise<void> {
    const signal = this.#abort.signal
    while (!signal.aborted) {
      const watch = this.#ctx.store.watch(
        {
          kinds: ['task', 'node'],
          actions: ['update', 'delete'],
          where: (ev) => (ev.kind === 'task' ? this.#byOldTask.has(ev.object.id) : this.#byNode.has(ev.object.id)),
        },
        { signal, queueLimit: LOOP_QUEUE_LIMIT },
      )
      this.#watch = watch
      try {
        for await (const ev of watch) {
          if (ev.action === 'commit') continue
          if (ev.kind === 'task') {
            if (ev.action === 'delete' || ev.object.status.state > TaskState.RUNNING) this.#markStopped(this.#byOldTask.get(ev.object.id))
          } else if (ev.action === 'delete' || ev.object.status.state === NodeState.DOWN) {
            this.#markStopped(this.#byNode.get(ev.object.id))
          }
        }
        return
      } catch (err) {
        if (signal.aborted) return
        if (!(err instanceof WatchQueueOverflowError)) {
          this.#ctx.logger.error('restart supervisor: watch failed', { error: String(err) })
          return
        }
        // Fell behind: judge every waiting start from the store as it is now.
        for (const p of this.#delays.values()) {
          if (p.watched !== undefined && this.#predecessorStopped(p.watched)) this.#markStopped(new Set([p]))
        }
      }
    }
  }

  #track(promise: Promise<void>): Promise<void> {
    this.#inFlight.add(promise)
    const done = (): void => void this.#inFlight.delete(promise)
    promise.then(done, done)
    return promise
  }
}

function addTo<V>(map: Map<string, Set<V>>, key: string, value: V): void {
  let set = map.get(key)
  if (set === undefined) map.set(key, (set = new Set()))
  set.add(value)
}

function removeFrom<V>(map: Map<string, Set<V>>, key: string, value: V): void {
  const set = map.get(key)
  if (set === undefined) return
  set.delete(value)
  if (set.size === 0) map.delete(key)
}
