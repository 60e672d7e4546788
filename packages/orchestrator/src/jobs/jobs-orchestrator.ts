/**
 * The jobs orchestrator (SwarmKit's manager/orchestrator/jobs): replicated and global jobs,
 * their iterations, and — beyond SwarmKit — their cron schedules. The decisions are the pure
 * functions of `job-reconcile.ts` and `job-schedule.ts`; this file is the driver: it follows
 * service and task events (not node events, as in SwarmKit), reconciles the job services that
 * changed on each commit's tick, and keeps one timer per scheduled job on the injected clock.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Cluster, Node, Service, Task, Timer } from '@swarmkit-ts/api'
import type { Frozen, ObjectEvent, ReadTx, Tx } from '@swarmkit-ts/store'
import type { Component, OrchestratorContext } from '../common/context.ts'
import { StoreLoop } from '../common/store-loop.ts'
import { applyWrites, logBatchFailures, pickCluster, setDesired } from '../common/writes.ts'
import type { Write } from '../common/writes.ts'
import { isInvalidNode, isJob, modeKind, newTask } from '../common/task.ts'
import type { RestartSupervisor } from '../restart/restart-supervisor.ts'
import { applyTaskInit, planTaskInit } from '../restart/task-init.ts'
import type { TaskInitPlan } from '../restart/task-init.ts'
import { currentIteration, planGlobalJob, planReplicatedJob } from './job-reconcile.ts'
import { decideDue, effectiveNextExecution, jobSchedule } from './job-schedule.ts'

/** The longest a schedule timer waits at once (Node's timer limit); it re-arms when it wakes early. */
export const MAX_TIMER_MS = 2_147_483_647
/** How long after a failed write of a scheduled run it is tried again. */
export const FIRE_RETRY_MS = 1_000

type Kinds = 'service' | 'task' | 'node'

/**
 * The jobs orchestrator. Each tick (a commit, or a schedule timer firing), in order: removes the
 * tasks of deleted job services, handles the due schedules, then reconciles the job services
 * whose service or tasks changed. Ticks and timer firings run one at a time.
 */
export class JobsOrchestrator implements Component {
  readonly #ctx: OrchestratorContext
  readonly #restarts: RestartSupervisor
  readonly #loop: StoreLoop<Kinds>
  /** Job services, by id. */
  readonly #services = new Map<string, Frozen<Service>>()
  /** Job services to reconcile. */
  #dirty = new Set<string>()
  /** Deleted job services whose tasks are to be removed. */
  #deleted = new Set<string>()
  /** Scheduled jobs whose due time has come. */
  #due = new Set<string>()
  /** The schedule timer of each scheduled job, with the time it is set for. */
  readonly #timers = new Map<string, { readonly at: number; readonly timer: Timer }>()
  /** Nodes that went down, were drained or removed since the last round. */
  #lostNodes = new Set<string>()
  /** Unfinished job tasks found on such nodes at start. */
  #lostTasks = new Set<string>()
  /** At start only: what a previous run left halfway (delayed starts to resume, restart history). */
  #init: TaskInitPlan | undefined
  #initialized = false
  /** The work in progress: ticks and timer firings chain here, one at a time. */
  #serial: Promise<void> = Promise.resolve()

  constructor(ctx: OrchestratorContext, restarts: RestartSupervisor) {
    this.#ctx = ctx
    this.#restarts = restarts
    this.#loop = new StoreLoop<Kinds>(ctx, 'jobs orchestrator', ['service', 'task', 'node'], {
      resync: (tx) => this.#resync(tx),
      event: (ev) => this.#event(ev),
      tick: () => this.#run(),
    }, {
      // Job tasks carry their iteration (a filter on the event alone).
      where: (ev) => ev.kind !== 'task' || ev.object.jobIteration !== undefined,
    })
  }

  /** Reads the job services from the store, arms their schedules and starts reacting to changes. */
  start(): void {
    this.#loop.start()
  }

  /** Cancels the schedule timers and stops; resolves once nothing of it runs any more. */
  async stop(): Promise<void> {
    await this.#loop.stop()
    // A round started by a timer may still be writing; no timer is set once stopping.
    await this.#serial
    for (const { timer } of this.#timers.values()) timer.cancel()
    this.#timers.clear()
  }

  #resync(tx: ReadTx): void {
    this.#services.clear()
    this.#deleted.clear()
    this.#due.clear()
    for (const { timer } of this.#timers.values()) timer.cancel()
    this.#timers.clear()
    for (const s of tx.services.find()) if (isJob(s)) this.#services.set(s.id, s)
    this.#dirty = new Set(this.#services.keys())
    for (const t of tx.tasks.find()) {
      if (t.nodeId !== '' && this.#services.has(t.serviceId) && isUnfinished(t) && isInvalidNode(tx.nodes.get(t.nodeId))) this.#lostTasks.add(t.id)
    }
    if (!this.#initialized) {
      // A replacement in its restart delay (desired READY) when the previous run stopped is
      // started by this one; the restart history is rebuilt (SwarmKit's taskinit).
      this.#initialized = true
      this.#init = planTaskInit(tx, { isRelatedService: isJob }, this.#ctx.clock.now())
    }
    for (const s of this.#services.values()) this.#arm(s)
  }

  #event(ev: ObjectEvent<Kinds>): void {
    if (ev.kind === 'task') {
      if (this.#services.has(ev.object.serviceId)) this.#dirty.add(ev.object.serviceId)
      return
    }
    if (ev.kind === 'node') {
      // Not for placement (a node joining gets no task before the next iteration, as in
      // SwarmKit), only to replace the unfinished tasks of a node that went down, was drained
      // or removed: SwarmKit leaves them until the dispatcher orphans them a day later.
      if (ev.action === 'delete' || isInvalidNode(ev.object)) this.#lostNodes.add(ev.object.id)
      return
    }
    const s = ev.object
    if (!isJob(s)) return
    if (ev.action === 'delete') {
      this.#services.delete(s.id)
      this.#dirty.delete(s.id)
      this.#due.delete(s.id)
      this.#disarm(s.id)
      this.#deleted.add(s.id)
    } else {
      this.#services.set(s.id, s)
      this.#dirty.add(s.id)
      this.#arm(s)
    }
  }

  /** Sets the schedule timer of `service` for its next due time (or marks it due now). */
  #arm(service: Frozen<Service>): void {
    const schedule = jobSchedule(service)
    const next = schedule === undefined ? undefined : effectiveNextExecution(service, schedule)
    if (next === undefined) {
      this.#disarm(service.id)
      return
    }
    const now = this.#ctx.clock.now()
    if (next <= now) {
      this.#disarm(service.id)
      this.#due.add(service.id)
      return
    }
    if (this.#timers.get(service.id)?.at === next) return
    this.#setTimer(service.id, next)
  }

  /** (Re)sets the timer of job `id` to mark it due at `at` (waking at most {@link MAX_TIMER_MS} from now). */
  #setTimer(id: string, at: number): void {
    this.#disarm(id)
    if (this.#loop.stopping) return
    const timer = this.#ctx.clock.setTimeout(
      () => {
        if (this.#timers.get(id)?.timer !== timer) return
        this.#timers.delete(id)
        this.#due.add(id)
        void this.#run()
      },
      Math.min(at - this.#ctx.clock.now(), MAX_TIMER_MS),
    )
    this.#timers.set(id, { at, timer })
  }

  #disarm(id: string): void {
    this.#timers.get(id)?.timer.cancel()
    this.#timers.delete(id)
  }

  /** Chains one round of work after the one in progress. */
  #run(): Promise<void> {
    const round = this.#serial.then(() => this.#round())
    this.#serial = round.catch((err: unknown) => {
      if (!this.#loop.stopping) this.#ctx.logger.error('jobs orchestrator: a round failed', { error: String(err) })
    })
    return this.#serial
  }

  async #round(): Promise<void> {
    if (this.#loop.stopping) return
    const init = this.#init
    if (init !== undefined) {
      this.#init = undefined
      await applyTaskInit(this.#ctx, this.#restarts, init, isJob)
    }
    await this.#applyDeletions()
    if (this.#loop.stopping) return
    await this.#replaceLost()
    if (this.#loop.stopping) return
    await this.#fireDue()
    if (this.#loop.stopping) return
    await this.#reconcile()
  }

  /** Sets every task of the deleted job services to desired REMOVE. */
  async #applyDeletions(): Promise<void> {
    if (this.#deleted.size === 0) return
    const ids = [...this.#deleted].sort()
    this.#deleted.clear()
    const writes: Write[] = []
    this.#ctx.store.view((tx) => {
      for (const id of ids) for (const t of tx.tasks.find({ serviceId: id })) if (t.desiredState < TaskState.REMOVE) writes.push(setDesired(t.id, TaskState.REMOVE))
    })
    for (const id of ids) this.#restarts.clearServiceHistory(id)
    await applyWrites(this.#ctx, writes, 'jobs orchestrator')
  }

  /**
   * The unfinished tasks on nodes that went down, were drained or removed: a replicated job's are
   * restarted (their slot runs elsewhere, under the restart policy); a global job's are shut down
   * (the node is no longer eligible).
   */
  async #replaceLost(): Promise<void> {
    if (this.#lostNodes.size === 0 && this.#lostTasks.size === 0) return
    const nodes = [...this.#lostNodes]
    const ids = new Set(this.#lostTasks)
    this.#lostNodes.clear()
    this.#lostTasks.clear()
    const restarts: { readonly service: Frozen<Service>; readonly taskId: string }[] = []
    const writes: Write[] = []
    this.#ctx.store.view((tx) => {
      for (const n of nodes) for (const t of tx.tasks.find({ nodeId: n })) ids.add(t.id)
      for (const id of [...ids].sort()) {
        const t = tx.tasks.get(id)
        const service = t === undefined ? undefined : tx.services.get(t.serviceId)
        if (t === undefined || service === undefined || !isJob(service) || !isUnfinished(t)) continue
        if (!isInvalidNode(tx.nodes.get(t.nodeId))) continue
        if (modeKind(service) === 'replicatedJob') restarts.push({ service, taskId: t.id })
        else writes.push(setDesired(t.id, TaskState.SHUTDOWN))
      }
    })
    await applyWrites(this.#ctx, writes, 'jobs orchestrator')
    if (this.#loop.stopping || restarts.length === 0) return
    const result = await this.#ctx.store.batch((b) => {
      for (const r of restarts) b.update((tx) => this.#restartOne(tx, r.service, r.taskId))
    })
    logBatchFailures(this.#ctx, 'jobs orchestrator', result.failures)
  }

  /** Handles the due scheduled jobs: one transaction each, reading the service and its tasks. */
  async #fireDue(): Promise<void> {
    if (this.#due.size === 0) return
    const ids = [...this.#due].sort()
    this.#due.clear()
    for (const id of ids) {
      if (this.#loop.stopping) return
      let unchanged: Frozen<Service> | undefined
      try {
        unchanged = await this.#ctx.store.update((tx) => this.#fireOne(tx, id))
      } catch (err) {
        // The due time is still recorded as next: try again shortly.
        this.#ctx.logger.error('jobs orchestrator: writing a scheduled run failed', { service: id, error: String(err) })
        if (!this.#loop.stopping) this.#setTimer(id, this.#ctx.clock.now() + FIRE_RETRY_MS)
        continue
      }
      // Nothing was due (a timer capped at MAX_TIMER_MS woke early): wait again. A written
      // service re-arms through its update event.
      if (unchanged !== undefined) this.#arm(unchanged)
    }
  }

  /** Inside `tx`: runs or skips the due time of job `id`; returns the service when nothing was due. */
  #fireOne(tx: Tx, id: string): Frozen<Service> | undefined {
    const service = tx.services.get(id)
    if (service === undefined || !isJob(service)) return undefined
    const { outcome, status } = decideDue(service, tx.tasks.find({ serviceId: id }), this.#ctx.clock.now())
    if (status === undefined) return service
    tx.services.update(id, (d) => void (d.jobStatus = status))
    if (outcome === 'run') {
      this.#ctx.logger.info('jobs orchestrator: started a scheduled iteration', { service: id, iteration: String(status.jobIteration.index), dueAt: status.lastExecution ?? 0 })
    } else {
      this.#ctx.logger.info('jobs orchestrator: skipped a scheduled run, the previous iteration is still running', { service: id, dueAt: status.lastSkippedExecution ?? 0 })
    }
    return undefined
  }

  /** Reconciles the job services whose service or tasks changed. */
  async #reconcile(): Promise<void> {
    if (this.#dirty.size === 0) return
    const ids = [...this.#dirty].sort()
    this.#dirty.clear()
    const writes: Write[] = []
    const restarts: { readonly service: Frozen<Service>; readonly taskId: string }[] = []
    this.#ctx.store.view((tx) => {
      const cluster = pickCluster(tx.clusters.find())
      let nodes: readonly Frozen<Node>[] | undefined
      for (const id of ids) {
        const service = tx.services.get(id)
        if (service === undefined || !isJob(service)) continue
        const tasks = tx.tasks.find({ serviceId: id })
        const iteration = currentIteration(service)
        if (modeKind(service) === 'replicatedJob') {
          const plan = planReplicatedJob(service, tasks)
          for (const slot of plan.create) writes.push(this.#create(cluster, service, slot, '', iteration))
          for (const taskId of plan.restart) restarts.push({ service, taskId })
          for (const taskId of plan.remove) writes.push(setDesired(taskId, TaskState.REMOVE))
        } else {
          const plan = planGlobalJob(service, tasks, (nodes ??= tx.nodes.find()))
          for (const nodeId of plan.create) writes.push(this.#create(cluster, service, 0, nodeId, iteration))
          for (const taskId of plan.restart) restarts.push({ service, taskId })
          for (const taskId of plan.shutdown) writes.push(setDesired(taskId, TaskState.SHUTDOWN))
          for (const taskId of plan.remove) writes.push(setDesired(taskId, TaskState.REMOVE))
        }
      }
    })
    await applyWrites(this.#ctx, writes, 'jobs orchestrator')
    if (this.#loop.stopping || restarts.length === 0) return
    // One transaction per restart, as the restart supervisor writes several objects per restart.
    const result = await this.#ctx.store.batch((b) => {
      for (const r of restarts) b.update((tx) => this.#restartOne(tx, r.service, r.taskId))
    })
    logBatchFailures(this.#ctx, 'jobs orchestrator', result.failures)
  }

  #restartOne(tx: Tx, service: Frozen<Service>, taskId: string): void {
    const t: Frozen<Task> | undefined = tx.tasks.get(taskId)
    if (t === undefined || t.desiredState > TaskState.COMPLETE) return
    const current = tx.services.get(service.id)
    if (current === undefined) return
    this.#restarts.restart(tx, pickCluster(tx.clusters.find()), current, t)
  }

  /** Creates a task of `service` (desired COMPLETE, at `iteration`), unless the service moved on meanwhile. */
  #create(cluster: Frozen<Cluster> | undefined, service: Frozen<Service>, slot: number, nodeId: string, iteration: bigint): Write {
    const task = { ...newTask(cluster, service, slot, nodeId, this.#ctx), desiredState: TaskState.COMPLETE, jobIteration: { index: iteration } }
    return (tx) => {
      const cur = tx.services.get(service.id)
      if (cur !== undefined && currentIteration(cur) === iteration) tx.tasks.create(task)
    }
  }

}

/** Whether a job task may still run: desired up to COMPLETE and not yet stopped. */
function isUnfinished(t: Frozen<Task>): boolean {
  return t.desiredState <= TaskState.COMPLETE && t.status.state <= TaskState.RUNNING
}
