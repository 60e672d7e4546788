/**
 * The global orchestrator (SwarmKit's manager/orchestrator/global): one task per eligible node
 * per global service. The decisions are the pure functions of `global-reconcile.ts`; this file
 * is the driver — it keeps the valid nodes and the global services in memory, follows the
 * store's events, and writes the decisions on each commit's tick.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Cluster, Node, Service } from '@swarmkit-ts/api'
import type { Frozen, ObjectEvent, ReadTx, Tx } from '@swarmkit-ts/store'
import type { Component, OrchestratorContext } from '../common/context.ts'
import { StoreLoop } from '../common/store-loop.ts'
import { applyWrites, logBatchFailures, pickCluster, setDesired } from '../common/writes.ts'
import type { Write } from '../common/writes.ts'
import { isInvalidNode, isTaskDirty, modeKind, newTask } from '../common/task.ts'
import type { Slot } from '../common/task.ts'
import type { RestartSupervisor } from '../restart/restart-supervisor.ts'
import { applyTaskInit, planTaskInit } from '../restart/task-init.ts'
import type { TaskInitPlan } from '../restart/task-init.ts'
import type { UpdateSupervisor } from '../update/update-supervisor.ts'
import { decideGlobalRestart, isRunnable, needsShutdown, planGlobalNode, planGlobalService, withoutManagerStops } from './global-reconcile.ts'
import type { UpdatableTasks } from './global-reconcile.ts'


type Kinds = 'node' | 'service' | 'task' | 'cluster'

/** Whether `service` is run by the global orchestrator (mode global; global jobs belong to the jobs orchestrator). */
export function isGlobalService(service: Frozen<Service>): boolean {
  return modeKind(service) === 'global'
}

/**
 * The global orchestrator. Events are recorded as they arrive; each commit's tick then, in
 * order: applies service and node deletions, handles the restart set, reconciles the services
 * that changed, and reconciles the nodes that changed — each step's writes applied before the
 * next step reads, so a service and a node created in one commit get one task, not two.
 */
export class GlobalOrchestrator implements Component {
  readonly #ctx: OrchestratorContext
  readonly #restarts: RestartSupervisor
  readonly #updates: UpdateSupervisor
  readonly #loop: StoreLoop<Kinds>
  /** Valid nodes (not DOWN, not drained), by id. */
  readonly #nodes = new Map<string, Frozen<Node>>()
  /** Global services, by id. */
  readonly #services = new Map<string, Frozen<Service>>()
  #cluster: Frozen<Cluster> | undefined
  /** Tasks that ended or stand on an invalid node: to restart or shut down. */
  #restartSet = new Set<string>()
  /** Services to reconcile. */
  #dirtyServices = new Set<string>()
  /** Nodes to reconcile (the node as last seen). */
  #dirtyNodes = new Map<string, Frozen<Node>>()
  /** Deleted nodes whose global tasks are to be shut down. */
  #deletedNodes = new Set<string>()
  /** Deleted global services whose tasks are to be removed. */
  #deletedServices = new Set<string>()
  /** The start-of-term repair still to apply (history, shutdowns, resumed delayed starts); once per start. */
  #init: TaskInitPlan | undefined
  #started = false
  readonly #updatable: UpdatableTasks

  constructor(ctx: OrchestratorContext, restarts: RestartSupervisor, updates: UpdateSupervisor) {
    this.#ctx = ctx
    this.#restarts = restarts
    this.#updates = updates
    this.#updatable = withoutManagerStops((slot, service) => restarts.updatableTasksInSlot(slot, service))
    this.#loop = new StoreLoop<Kinds>(ctx, 'global orchestrator', ['node', 'service', 'task', 'cluster'], {
      resync: (tx) => this.#resync(tx),
      event: (ev) => this.#event(ev),
      tick: () => this.#tick(),
    }, {
      // Global tasks have slot 0 and no job iteration (a filter on the event alone).
      where: (ev) => ev.kind !== 'task' || (ev.object.slot === 0 && ev.object.jobIteration === undefined),
    })
  }

  /** Reads the nodes, the global services and the cluster from the store and starts reacting to changes. */
  start(): void {
    this.#loop.start()
  }

  /** Stops; resolves once nothing of it runs any more (a write in flight is awaited). */
  async stop(): Promise<void> {
    await this.#loop.stop()
  }

  #resync(tx: ReadTx): void {
    this.#nodes.clear()
    this.#services.clear()
    this.#dirtyNodes.clear()
    // Tasks on deleted nodes are shut down by the reconciliation of every service below.
    this.#deletedNodes.clear()
    this.#restartSet = new Set()
    this.#cluster = pickCluster(tx.clusters.find())
    for (const n of tx.nodes.find()) this.#updateNode(n)
    for (const s of tx.services.find()) if (isGlobalService(s)) this.#services.set(s.id, s)
    this.#dirtyServices = new Set(this.#services.keys())
    // A global service deleted while no orchestrator ran (or while the watch overflowed) left
    // its tasks (slot 0, on a node) behind: they are removed like those of a service deleted now.
    for (const t of tx.tasks.find()) {
      if (t.slot === 0 && t.nodeId !== '' && t.desiredState < TaskState.REMOVE && tx.services.get(t.serviceId) === undefined) {
        this.#deletedServices.add(t.serviceId)
      }
    }
    // SwarmKit's taskinit.CheckTasks: tasks that ended or lost their node while no orchestrator
    // ran join the restart set (SwarmKit's global `FixTask`); at start only, the restart history
    // is rebuilt and delayed starts resume (after an overflow resync they are still in memory).
    const plan = planTaskInit(tx, { isRelatedService: isGlobalService }, this.#ctx.clock.now())
    for (const id of plan.restart) this.#restartSet.add(id)
    if (!this.#started) this.#init = { ...plan, restart: [] }
    this.#started = true
  }

  #updateNode(node: Frozen<Node>): void {
    if (isInvalidNode(node)) this.#nodes.delete(node.id)
    else this.#nodes.set(node.id, node)
  }

  #event(ev: ObjectEvent<Kinds>): void {
    switch (ev.kind) {
      case 'cluster':
        if (ev.action === 'delete') {
          if (this.#cluster?.id === ev.object.id) this.#cluster = undefined
        } else if (this.#cluster === undefined || this.#cluster.id === ev.object.id) {
          this.#cluster = ev.object
        }
        return
      case 'node':
        if (ev.action === 'delete') {
          this.#nodes.delete(ev.object.id)
          this.#dirtyNodes.delete(ev.object.id)
          this.#deletedNodes.add(ev.object.id)
        } else {
          this.#updateNode(ev.object)
          this.#deletedNodes.delete(ev.object.id)
          this.#dirtyNodes.set(ev.object.id, ev.object)
        }
        return
      case 'service': {
        const s = ev.object
        if (!isGlobalService(s)) return
        if (ev.action === 'delete') {
          this.#services.delete(s.id)
          this.#dirtyServices.delete(s.id)
          this.#deletedServices.add(s.id)
        } else {
          this.#services.set(s.id, s)
          this.#dirtyServices.add(s.id)
        }
        return
      }
      case 'task': {
        const t = ev.object
        if (ev.action !== 'update' || !this.#services.has(t.serviceId) || !isRunnable(t)) return
        if (t.status.state > TaskState.RUNNING || !this.#nodes.has(t.nodeId)) this.#restartSet.add(t.id)
        return
      }
    }
  }

  async #tick(): Promise<void> {
    const init = this.#init
    if (init !== undefined) {
      this.#init = undefined
      await applyTaskInit(this.#ctx, this.#restarts, init, isGlobalService)
      if (this.#loop.stopping) return
    }
    await this.#applyDeletions()
    if (this.#loop.stopping) return
    await this.#tickRestarts()
    if (this.#loop.stopping) return
    await this.#reconcileServices()
    if (this.#loop.stopping) return
    await this.#reconcileNodes()
  }

  async #applyDeletions(): Promise<void> {
    if (this.#deletedServices.size === 0 && this.#deletedNodes.size === 0) return
    const services = [...this.#deletedServices]
    const nodes = [...this.#deletedNodes]
    this.#deletedServices.clear()
    this.#deletedNodes.clear()
    const writes: Write[] = []
    this.#ctx.store.view((tx) => {
      for (const id of services) {
        for (const t of tx.tasks.find({ serviceId: id })) if (t.desiredState < TaskState.REMOVE) writes.push(setDesired(t.id, TaskState.REMOVE))
      }
      for (const id of nodes) {
        // Tasks of services deleted in this same tick are already set to REMOVE above.
        for (const t of tx.tasks.find({ nodeId: id })) if (this.#services.has(t.serviceId) && needsShutdown(t)) writes.push(shutdown(t.id))
      }
    })
    for (const id of services) {
      this.#restarts.clearServiceHistory(id)
      this.#updates.cancel(id).catch((err: unknown) => this.#ctx.logger.error('global orchestrator: cancelling an update failed', { service: id, error: String(err) }))
    }
    await applyWrites(this.#ctx, writes, 'global orchestrator')
  }

  async #tickRestarts(): Promise<void> {
    if (this.#restartSet.size === 0) return
    const ids = [...this.#restartSet]
    this.#restartSet = new Set()
    // One transaction per task, as the restart supervisor writes several objects per restart.
    const result = await this.#ctx.store.batch((b) => {
      for (const id of ids) {
        try {
          b.update((tx) => this.#restartOne(tx, id))
        } catch (err) {
          this.#ctx.logger.error('global orchestrator: restarting a task failed', { task: id, error: String(err) })
        }
      }
    })
    logBatchFailures(this.#ctx, 'global orchestrator', result.failures)
  }

  #restartOne(tx: Tx, id: string): void {
    const t = tx.tasks.get(id)
    if (t === undefined) return
    const service = this.#services.has(t.serviceId) ? tx.services.get(t.serviceId) : undefined
    switch (decideGlobalRestart(t, service, this.#nodes.get(t.nodeId))) {
      case 'skip':
        return
      case 'shutdown':
        tx.tasks.update(id, (d) => void (d.desiredState = TaskState.SHUTDOWN))
        return
      case 'restart':
        this.#restarts.restart(tx, this.#cluster, service as Frozen<Service>, t)
        return
    }
  }

  async #reconcileServices(): Promise<void> {
    if (this.#dirtyServices.size === 0) return
    const ids = [...this.#dirtyServices]
    this.#dirtyServices.clear()
    const writes: Write[] = []
    const updates: { service: Frozen<Service>; slots: readonly Slot[] }[] = []
    this.#ctx.store.view((tx) => {
      for (const id of ids) {
        const service = this.#services.get(id)
        if (service === undefined) continue
        const plan = planGlobalService(service, this.#nodes.values(), tx.tasks.find({ serviceId: id }), this.#updatable)
        for (const nodeId of plan.create) writes.push(this.#create(service, nodeId))
        for (const taskId of plan.shutdown) writes.push(shutdown(taskId))
        // Even with no slot: an update or rollback in progress must still be able to complete
        // (the last eligible node may be gone).
        updates.push({ service, slots: plan.slots })
      }
    })
    await applyWrites(this.#ctx, writes, 'global orchestrator')
    if (this.#loop.stopping) return
    // After the creations are applied, as SwarmKit does: the supervisor gets the nodes that had tasks.
    for (const u of updates) this.#updates.update(this.#cluster, u.service, u.slots)
  }

  async #reconcileNodes(): Promise<void> {
    if (this.#dirtyNodes.size === 0) return
    const nodes = [...this.#dirtyNodes.values()]
    this.#dirtyNodes.clear()
    const writes: Write[] = []
    this.#ctx.store.view((tx) => {
      for (const node of nodes) {
        const valid = this.#nodes.get(node.id)
        const plan = planGlobalNode(valid ?? node, valid !== undefined, this.#services, tx.tasks.find({ nodeId: node.id }), this.#updatable)
        for (const serviceId of plan.create) writes.push(this.#create(this.#services.get(serviceId) as Frozen<Service>, node.id))
        for (const taskId of plan.shutdown) writes.push(shutdown(taskId))
      }
    })
    await applyWrites(this.#ctx, writes, 'global orchestrator')
  }

  /** Creates the task of `service` on `nodeId`, unless the service is gone by then. */
  #create(service: Frozen<Service>, nodeId: string): Write {
    const task = newTask(this.#cluster, service, 0, nodeId, this.#ctx)
    return (tx) => {
      const current = tx.services.get(service.id)
      if (current === undefined) return
      // The plan was made on an earlier view: if the node got an up-to-date task meanwhile (a
      // rolling update's replacement), it needs no other.
      const node = tx.nodes.get(nodeId)
      const covered = tx.tasks
        .find({ nodeId })
        .some((t) => t.serviceId === service.id && t.desiredState <= TaskState.RUNNING && !isTaskDirty(current, t, node))
      if (!covered) tx.tasks.create(task)
    }
  }

}

/** Sets task `id`'s desired state to SHUTDOWN if it is below. */
function shutdown(id: string): Write {
  return setDesired(id, TaskState.SHUTDOWN)
}
