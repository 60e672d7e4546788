/**
 * The replicated orchestrator (SwarmKit's manager/orchestrator/replicated): N tasks in slots
 * 1..N per replicated service. Task-level events (a task that ended, a node that went down,
 * was drained or deleted) feed a restart set; service-level events (create, update, delete)
 * feed the services to reconcile. Each commit's tick handles the restarts first, then the
 * services.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Node, Service } from '@swarmkit-ts/api'
import type { Frozen, ObjectEvent, ReadTx } from '@swarmkit-ts/store'
import type { Component, OrchestratorContext } from '../common/context.ts'
import { StoreLoop } from '../common/store-loop.ts'
import { isInvalidNode, modeKind, newTask } from '../common/task.ts'
import type { RestartSupervisor } from '../restart/restart-supervisor.ts'
import { applyTaskInit, planTaskInit, restartTasks, setDesiredState } from '../restart/task-init.ts'
import type { TaskInitPlan } from '../restart/task-init.ts'
import type { UpdateSupervisor } from '../update/update-supervisor.ts'
import { groupSlots, reconcileReplicated } from './reconcile.ts'

type Kind = 'task' | 'node' | 'service' | 'cluster'

/** Tasks created per transaction (a change set holds at most 200 actions). */
const CREATES_PER_TX = 200

/** Whether the service is a replicated (not job) service. */
export function isReplicatedService(service: Frozen<Service>): boolean {
  return modeKind(service) === 'replicated'
}

/** The replicated orchestrator (SwarmKit's manager/orchestrator/replicated): N tasks in slots 1..N per replicated service. */
export class ReplicatedOrchestrator implements Component {
  readonly #ctx: OrchestratorContext
  readonly #restarts: RestartSupervisor
  readonly #updates: UpdateSupervisor
  readonly #loop: StoreLoop<Kind>
  /** Replicated services by id, the nodes that exist, and those that cannot keep tasks, as of the events seen. */
  readonly #services = new Set<string>()
  readonly #nodes = new Set<string>()
  readonly #invalidNodes = new Set<string>()
  /** Work for the next tick. */
  #restartSet = new Set<string>()
  #nodesToClear = new Set<string>()
  #toReconcile = new Set<string>()
  #deleted = new Set<string>()
  #init: TaskInitPlan | undefined
  #initialized = false

  constructor(ctx: OrchestratorContext, restarts: RestartSupervisor, updates: UpdateSupervisor) {
    this.#ctx = ctx
    this.#restarts = restarts
    this.#updates = updates
    this.#loop = new StoreLoop<Kind>(ctx, 'replicated orchestrator', ['task', 'node', 'service', 'cluster'], {
      resync: (tx) => this.#resync(tx),
      event: (ev) => this.#event(ev),
      tick: () => this.#tick(),
    }, {
      // Replicated tasks have slots from 1 and no job iteration (a filter on the event alone).
      where: (ev) => ev.kind !== 'task' || (ev.object.slot >= 1 && ev.object.jobIteration === undefined),
    })
  }

  /** Reads its state from the store (repairing what a previous leader left halfway) and starts reacting to changes. */
  start(): void {
    this.#loop.start()
  }

  /** Stops; resolves once nothing of it runs any more. */
  async stop(): Promise<void> {
    await this.#loop.stop()
  }

  #resync(tx: ReadTx): void {
    this.#services.clear()
    this.#nodes.clear()
    this.#invalidNodes.clear()
    for (const s of tx.services.find()) {
      if (!isReplicatedService(s)) continue
      this.#services.add(s.id)
      this.#toReconcile.add(s.id)
    }
    for (const n of tx.nodes.find()) {
      this.#nodes.add(n.id)
      if (isInvalidNode(n)) this.#invalidNodes.add(n.id)
    }
    // A service deleted while no orchestrator ran (or while the watch overflowed) left its tasks
    // behind. Its mode is unknown now, so every orchestrator sets them to REMOVE (idempotent).
    for (const t of tx.tasks.find()) {
      if (t.serviceId !== '' && t.desiredState < TaskState.REMOVE && tx.services.get(t.serviceId) === undefined) this.#deleted.add(t.serviceId)
    }
    if (!this.#initialized) {
      // Only at start: the history is rebuilt once, and pending delays belong to this run.
      this.#initialized = true
      this.#init = planTaskInit(tx, { isRelatedService: isReplicatedService }, this.#ctx.clock.now())
      return
    }
    // After a watch overflow: any task event may have been missed.
    for (const t of tx.tasks.find()) {
      if (t.desiredState > TaskState.RUNNING || !this.#services.has(t.serviceId)) continue
      if (t.status.state > TaskState.RUNNING || (t.nodeId !== '' && this.#nodeInvalid(t.nodeId))) {
        this.#restartSet.add(t.id)
      }
    }
  }

  #event(ev: ObjectEvent<Kind>): void {
    switch (ev.kind) {
      case 'task': {
        const t = ev.object
        if (ev.action === 'delete') {
          if (t.desiredState <= TaskState.RUNNING && this.#services.has(t.serviceId)) this.#toReconcile.add(t.serviceId)
          this.#restarts.cancel(t.id)
          return
        }
        if (t.desiredState > TaskState.RUNNING || !this.#services.has(t.serviceId)) return
        if (t.status.state > TaskState.RUNNING || (t.nodeId !== '' && this.#nodeInvalid(t.nodeId))) this.#restartSet.add(t.id)
        return
      }
      case 'node': {
        const n = ev.object
        this.#nodeEvent(ev.action === 'delete' ? undefined : n, n.id)
        return
      }
      case 'service': {
        const s = ev.object
        if (ev.action === 'delete') {
          if (!this.#services.delete(s.id)) return
          this.#toReconcile.delete(s.id)
          this.#deleted.add(s.id)
          return
        }
        if (isReplicatedService(s)) {
          this.#services.add(s.id)
          this.#toReconcile.add(s.id)
        } else {
          this.#services.delete(s.id)
          this.#toReconcile.delete(s.id)
        }
        return
      }
      case 'cluster':
        return
    }
  }

  #nodeEvent(node: Frozen<Node> | undefined, id: string): void {
    if (node === undefined) this.#nodes.delete(id)
    else this.#nodes.add(id)
    if (node !== undefined && !isInvalidNode(node)) {
      this.#invalidNodes.delete(id)
      return
    }
    this.#invalidNodes.add(id)
    this.#nodesToClear.add(id)
  }

  /** Whether the node is missing, down or drained. */
  #nodeInvalid(id: string): boolean {
    return this.#invalidNodes.has(id) || !this.#nodes.has(id)
  }

  async #tick(): Promise<void> {
    const init = this.#init
    if (init !== undefined) {
      this.#init = undefined
      await applyTaskInit(this.#ctx, this.#restarts, init, isReplicatedService)
    }
    if (this.#nodesToClear.size > 0) {
      const nodes = this.#nodesToClear
      this.#nodesToClear = new Set()
      this.#ctx.store.view((tx) => {
        for (const id of nodes) {
          for (const t of tx.tasks.find({ nodeId: id })) {
            if (t.desiredState <= TaskState.RUNNING && this.#services.has(t.serviceId)) this.#restartSet.add(t.id)
          }
        }
      })
    }
    if (this.#restartSet.size > 0) {
      const ids = this.#restartSet
      this.#restartSet = new Set()
      await restartTasks(this.#ctx, this.#restarts, ids, isReplicatedService)
    }
    if (this.#deleted.size > 0) {
      const deleted = this.#deleted
      this.#deleted = new Set()
      for (const id of deleted) await this.#removeService(id)
    }
    if (this.#toReconcile.size > 0) {
      const services = this.#toReconcile
      this.#toReconcile = new Set()
      for (const id of services) {
        if (this.#loop.stopping) return
        await this.#reconcile(id)
      }
    }
  }

  /** A deleted service: every task of it to desired REMOVE, its history forgotten, its update cancelled. */
  async #removeService(serviceId: string): Promise<void> {
    const ids = this.#ctx.store.view((tx) => tx.tasks.find({ serviceId }).map((t) => t.id))
    await setDesiredState(this.#ctx, ids, TaskState.REMOVE)
    this.#restarts.clearServiceHistory(serviceId)
    void this.#updates.cancel(serviceId)
  }

  /** Brings service `serviceId` to its replica count, then hands its kept slots to the update supervisor. */
  async #reconcile(serviceId: string): Promise<void> {
    const found = this.#ctx.store.view((tx) => {
      const service = tx.services.get(serviceId)
      if (service === undefined || !isReplicatedService(service)) return undefined
      return { service, cluster: tx.clusters.find()[0], tasks: tx.tasks.find({ serviceId }) }
    })
    if (found === undefined) return
    const { service, cluster, tasks } = found
    const mode = service.spec.mode
    const replicas = 'replicated' in mode ? (mode.replicated.replicas ?? 1) : 0
    const { runnable } = groupSlots(tasks, (slot) => this.#restarts.updatableTasksInSlot(slot, service))
    const actions = reconcileReplicated(replicas, runnable)
    if (actions.create.length > 0) {
      await this.#ctx.store.batch((b) => {
        for (let i = 0; i < actions.create.length; i += CREATES_PER_TX) {
          const chunk = actions.create.slice(i, i + CREATES_PER_TX)
          b.update((tx) => {
            for (const slot of chunk) tx.tasks.create(newTask(cluster, service, slot, '', this.#ctx))
          })
        }
      })
    }
    await setDesiredState(this.#ctx, actions.remove, TaskState.REMOVE)
    if (this.#loop.stopping) return
    this.#updates.update(cluster, service, actions.keep)
  }
}
