/**
 * The scheduler's store loop (SwarmKit's manager/scheduler driver): it keeps a {@link NodeSet}
 * up to date from task and node events, collects PENDING tasks, and after a quiet
 * {@link SCHEDULER_DEBOUNCE_MS} (at most {@link SCHEDULER_MAX_LATENCY_MS} after the first) places
 * them group by group — a group being the tasks of one service and spec version — writing the
 * decisions in store batches. The placement itself is the pure core in `placement.ts`.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Cluster, Network, SchedulingStrategy, Task, Timer } from '@swarmkit-ts/api'
import type { Frozen, ObjectEvent, ReadTx } from '@swarmkit-ts/store'
import type { Component, OrchestratorContext } from '../common/context.ts'
import { StoreLoop } from '../common/store-loop.ts'
import { pickCluster } from '../common/writes.ts'
import { NodeSet } from './node-info.ts'
import { clusterStrategy, placeTasks } from './scheduler-placement.ts'
import { planPass } from './scheduler-groups.ts'
import { ASSIGNED_MESSAGE, PREASSIGNED_MESSAGE, writeDecisions } from './scheduler-writes.ts'
import type { Decision } from './scheduler-writes.ts'

/** Quiet time after a commit before pending tasks are placed (SwarmKit: 50 ms). */
export const SCHEDULER_DEBOUNCE_MS = 50
/** Longest wait from the first pending change to placement (SwarmKit: 1 s). */
export const SCHEDULER_MAX_LATENCY_MS = 1000

/** Whether a PENDING task waits for the scheduler to choose its node. */
function unassigned(task: Frozen<Task>): boolean {
  return task.status.state === TaskState.PENDING && task.nodeId === ''
}

/** Whether `next` differs from `prev` in what placement depends on (not in status err or time). */
function placementChanged(prev: Frozen<Task>, next: Frozen<Task>): boolean {
  return (
    prev.desiredState !== next.desiredState ||
    prev.nodeId !== next.nodeId ||
    prev.spec !== next.spec ||
    prev.specVersion?.index !== next.specVersion?.index ||
    prev.endpoint !== next.endpoint
  )
}

/**
 * The scheduler (SwarmKit's manager/scheduler). Input: tasks observed PENDING (allocated) with
 * no node; each is placed once and moved to ASSIGNED with its `nodeId` (and the generic
 * resources it took in `assignedGenericResources`). A task that fits no node stays PENDING with
 * `status.err` explaining why, and is tried again after later node or task events. A PENDING task
 * created with a node (global services) is only checked against that node's filters. A PENDING
 * task desired SHUTDOWN is not placed: it goes to observed SHUTDOWN at once.
 */
export class Scheduler implements Component {
  readonly #ctx: OrchestratorContext
  readonly #loop: StoreLoop<'task' | 'node' | 'cluster' | 'network'>
  /** The allocated driver of each network (SwarmKit's plugin filter checks it on the node). */
  readonly #networkDrivers = new Map<string, string>()
  readonly #networkDriver = (id: string): string | undefined => this.#networkDrivers.get(id)
  #nodes = new NodeSet()
  /** Unassigned PENDING tasks, as last seen. */
  readonly #pending = new Map<string, Frozen<Task>>()
  /** PENDING tasks created with a node, as last seen. */
  readonly #preassigned = new Map<string, Frozen<Task>>()
  /** The cluster-wide strategy (a task's `placement.strategy` overrides it). */
  #strategy: SchedulingStrategy | undefined
  /** A change since the last pass may let a task be placed. */
  #work = false
  #timer: Timer | undefined
  #debounceStarted = 0
  /** The pass in progress (or the last one): passes run one at a time. */
  #pass: Promise<void> = Promise.resolve()
  #stopped = false

  constructor(ctx: OrchestratorContext) {
    this.#ctx = ctx
    this.#loop = new StoreLoop(ctx, 'scheduler', ['task', 'node', 'cluster', 'network'], {
      resync: (tx) => this.#resync(tx),
      event: (ev) => this.#event(ev),
      tick: () => this.#tick(),
    })
  }

  /** Reads the nodes and tasks from the store and starts placing. */
  start(): void {
    this.#loop.start()
  }

  /** Stops; resolves once nothing of it runs any more (a write in progress finishes first). */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#cancelTimer()
    await this.#loop.stop()
    await this.#pass
  }

  #resync(tx: ReadTx): void {
    const tasks = tx.tasks.find()
    this.#nodes = NodeSet.from(tx.nodes.find(), tasks)
    this.#pending.clear()
    this.#preassigned.clear()
    for (const t of tasks) this.#track(t)
    this.#setCluster(pickCluster(tx.clusters.find()))
    this.#networkDrivers.clear()
    for (const n of tx.networks.find()) this.#setNetwork(n)
    this.#work = true
  }

  /** Files a PENDING task under pending or pre-assigned; returns whether it is new or changed. */
  #track(task: Frozen<Task>): boolean {
    if (task.status.state !== TaskState.PENDING) {
      this.#pending.delete(task.id)
      this.#preassigned.delete(task.id)
      return false
    }
    const map = unassigned(task) ? this.#pending : this.#preassigned
    const prev = map.get(task.id)
    map.set(task.id, task)
    return prev === undefined || placementChanged(prev, task)
  }

  #event(ev: ObjectEvent<'task' | 'node' | 'cluster' | 'network'>): void {
    switch (ev.kind) {
      case 'network':
        if (ev.action === 'delete') this.#networkDrivers.delete(ev.object.id)
        else this.#setNetwork(ev.object)
        return
      case 'cluster':
        if (ev.action !== 'delete') this.#setCluster(ev.object)
        return
      case 'node':
        if (ev.action === 'delete') this.#nodes.removeNode(ev.object.id)
        else {
          this.#nodes.updateNode(ev.object)
          this.#work = true
        }
        return
      case 'task':
        this.#taskEvent(ev)
    }
  }

  #taskEvent(ev: ObjectEvent<'task'>): void {
    const task: Frozen<Task> = ev.object
    if (ev.action === 'delete') {
      this.#pending.delete(task.id)
      this.#preassigned.delete(task.id)
      if (this.#nodes.nodeOf(task.id) !== undefined) {
        this.#nodes.removeTask(task.id)
        this.#work = true // resources freed
      }
      return
    }
    if (task.status.state < TaskState.PENDING) return
    if (this.#track(task)) this.#work = true
    const old = ev.action === 'update' ? ev.oldObject : undefined
    const heldOn = this.#nodes.nodeOf(task.id)
    // Our own ASSIGNED write: the decision's reservation already is this holding.
    const reserved = heldOn === task.nodeId && old?.status.state === TaskState.PENDING && task.status.state === TaskState.ASSIGNED && old.desiredState === task.desiredState
    if (!reserved) {
      this.#nodes.applyTask(task)
      if (heldOn !== undefined && this.#nodes.nodeOf(task.id) === undefined) this.#work = true // resources freed
    }
    // SwarmKit counts a failure when a task becomes FAILED or REJECTED on its node.
    const failed = task.status.state === TaskState.FAILED || task.status.state === TaskState.REJECTED
    if (failed && task.nodeId !== '' && old !== undefined && old.status.state !== task.status.state) {
      this.#nodes.recordFailure(task.serviceId, task.nodeId, this.#ctx.clock.now())
    }
  }

  #setNetwork(network: Frozen<Network>): void {
    const driver = network.driverState?.name
    if (driver === undefined || driver === '') this.#networkDrivers.delete(network.id)
    else this.#networkDrivers.set(network.id, driver)
  }

  #setCluster(cluster: Frozen<Cluster> | undefined): void {
    this.#strategy = clusterStrategy(cluster)
  }

  /** After each commit: with placeable work, (re)arm the debounce timer, capped at the max latency. */
  #tick(): void {
    if (!this.#work || this.#stopped) return
    if (this.#pending.size === 0 && this.#preassigned.size === 0) {
      this.#work = false
      return
    }
    const now = this.#ctx.clock.now()
    if (this.#timer === undefined) this.#debounceStarted = now
    else this.#timer.cancel()
    const due = Math.min(now + SCHEDULER_DEBOUNCE_MS, this.#debounceStarted + SCHEDULER_MAX_LATENCY_MS)
    this.#timer = this.#ctx.clock.setTimeout(() => {
      this.#timer = undefined
      this.#pass = this.#pass
        .then(() => this.#schedule())
        .catch((err: unknown) => {
          // Logged; reservations it may have left are dropped by rebuilding from a fresh view
          // (events still queued re-apply idempotently), and the next change tries again.
          this.#ctx.logger.error('scheduler: a pass failed', { error: String(err) })
          if (!this.#stopped) this.#ctx.store.view((tx) => this.#resync(tx))
        })
    }, Math.max(0, due - now))
  }

  #cancelTimer(): void {
    this.#timer?.cancel()
    this.#timer = undefined
  }

  /** One pass: decide for every pending task (pre-assigned first), write, settle conflicts. */
  async #schedule(): Promise<void> {
    if (this.#stopped) return
    this.#work = false
    const now = this.#ctx.clock.now()
    const decisions: Decision[] = []
    const plan = planPass(this.#preassigned.values(), this.#pending.values())
    for (const task of plan.shutdown) decisions.push({ kind: 'shutdown', task })
    const place = (tasks: readonly Frozen<Task>[], message: string): void => {
      const r = placeTasks(this.#nodes, tasks, this.#strategy, now, this.#networkDriver)
      for (const p of r.placed) decisions.push({ kind: 'assign', task: p.task, nodeId: p.nodeId, generic: p.generic, message })
      for (const u of r.unplaced) if (u.explanation !== u.task.status.err) decisions.push({ kind: 'explain', task: u.task, err: u.explanation })
    }
    for (const t of plan.preassigned) place([t], PREASSIGNED_MESSAGE)
    for (const tasks of plan.groups) place(tasks, ASSIGNED_MESSAGE)
    if (decisions.length === 0) return
    const outcome = await writeDecisions(this.#ctx, decisions, now)
    for (const d of outcome.applied) {
      if (d.kind !== 'explain') {
        this.#pending.delete(d.task.id)
        this.#preassigned.delete(d.task.id)
      }
    }
    for (const d of [...outcome.conflicts, ...outcome.gone]) this.#release(d)
    if (outcome.conflicts.length > 0) {
      // Decide again once the changes that beat us have arrived as events.
      this.#work = true
      this.#tick()
    }
  }

  /** Gives back a reservation that was not written, unless an event has since placed the task. */
  #release(d: Decision): void {
    if (d.kind !== 'assign') return
    const id = d.task.id
    if ((this.#pending.has(id) || this.#preassigned.has(id)) && this.#nodes.nodeOf(id) === d.nodeId) this.#nodes.removeTask(id)
  }
}
