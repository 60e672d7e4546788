/**
 * SwarmKit's guarantees as pure checks over one store (the leader's, normally): each returns the
 * violations it finds. {@link checkResources} holds at any time; the others only once the cluster
 * has converged (nothing left to do for the orchestrators, the scheduler and the agents).
 *
 * @module
 */
import { NodeState, TaskState, UpdateState } from '@swarmkit-ts/api'
import type { Node, Service, Task, TaskSpec } from '@swarmkit-ts/api'
import { isTaskDirty, nodeMatchesConstraints } from '@swarmkit-ts/orchestrator'
import type { Frozen, MemoryStore } from '@swarmkit-ts/store'
import { ClusterInvariant, type ClusterViolation } from './violations.ts'

/** What the checks read: one consistent view of a store. */
export interface StoreSnapshot {
  readonly nodes: readonly Frozen<Node>[]
  readonly services: readonly Frozen<Service>[]
  readonly tasks: readonly Frozen<Task>[]
}

/** Options of {@link checkStoreInvariants}. */
export interface StoreInvariantOptions {
  /**
   * Whether the cluster has converged (healed, every node up, time given to settle): then every
   * check applies; otherwise only those that hold at any time (resources). @default true
   */
  readonly converged?: boolean
}

/** Reads the nodes, services and tasks of `store` in one view. */
export function storeSnapshot(store: MemoryStore): StoreSnapshot {
  return store.view((tx) => ({ nodes: tx.nodes.find(), services: tx.services.find(), tasks: tx.tasks.find() }))
}

/** Whether the task runs and is meant to (observed and desired RUNNING). */
export function isRunningTask(t: Frozen<Task>): boolean {
  return t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING
}

/** Whether the task holds its node's resources (as the scheduler counts: assigned and not yet stopped). */
function holdsNode(t: Frozen<Task>): boolean {
  return t.nodeId !== '' && t.status.state >= TaskState.ASSIGNED && t.status.state <= TaskState.RUNNING
}

function reservation(spec: Frozen<TaskSpec>): { cpu: number; mem: number } {
  const r = spec.resources?.reservations
  return { cpu: r?.nanoCpus ?? 0, mem: r?.memoryBytes ?? 0 }
}

function serviceName(s: Frozen<Service>): string {
  return s.spec.annotations.name
}

/** What each node has left after the reservations of the tasks holding it. */
function freeResources(snap: StoreSnapshot): Map<string, { cpu: number; mem: number }> {
  const free = new Map<string, { cpu: number; mem: number }>()
  for (const n of snap.nodes) free.set(n.id, { cpu: n.description?.resources?.nanoCpus ?? 0, mem: n.description?.resources?.memoryBytes ?? 0 })
  for (const t of snap.tasks) {
    const f = free.get(t.nodeId)
    if (f === undefined || !holdsNode(t)) continue
    const r = reservation(t.spec)
    f.cpu -= r.cpu
    f.mem -= r.mem
  }
  return free
}

/** No node holds tasks whose reservations exceed its resources (holds at any time). */
export function checkResources(snap: StoreSnapshot): ClusterViolation[] {
  const out: ClusterViolation[] = []
  for (const [nodeId, f] of freeResources(snap)) {
    if (f.cpu < 0 || f.mem < 0) out.push({ invariant: ClusterInvariant.RESOURCES, message: `node ${nodeId} is over its resources by ${Math.max(0, -f.cpu)} nano CPUs and ${Math.max(0, -f.mem)} bytes` })
  }
  return out
}

/** Whether the node may get new tasks of `service`: up, active, matching its constraints. */
function eligible(node: Frozen<Node>, service: Frozen<Service>): boolean {
  return node.status.state === NodeState.READY && node.spec.availability === 'active' && nodeMatchesConstraints(service.spec.task, node)
}

/** Whether `node` has room for one more task of `service` (resources and max replicas per node). */
function hasRoom(node: Frozen<Node>, service: Frozen<Service>, snap: StoreSnapshot, free: Map<string, { cpu: number; mem: number }>): boolean {
  if (!eligible(node, service)) return false
  const f = free.get(node.id)
  const r = reservation(service.spec.task)
  if (f === undefined || f.cpu < r.cpu || f.mem < r.mem) return false
  const max = service.spec.task.placement?.maxReplicas ?? 0
  if (max === 0) return true
  const here = snap.tasks.filter((t) => t.serviceId === service.id && t.nodeId === node.id && holdsNode(t) && t.desiredState <= TaskState.COMPLETE).length
  return here < max
}

/**
 * Whether the service has a task waiting for its node (desired RUNNING, not yet assigned) that
 * has no room on any node it may take (its pre-assigned node for a global task). A rolling
 * update with `start-first` waits so, as in SwarmKit, with its old tasks still running — the
 * slot or node then legitimately runs more than one task.
 */
function waitingForRoom(svc: Frozen<Service>, snap: StoreSnapshot, free: Map<string, { cpu: number; mem: number }>): boolean {
  return snap.tasks.some(
    (t) =>
      t.serviceId === svc.id &&
      t.desiredState === TaskState.RUNNING &&
      t.status.state < TaskState.ASSIGNED &&
      !snap.nodes.some((n) => (t.nodeId === '' || t.nodeId === n.id) && hasRoom(n, svc, snap, free)),
  )
}

/** Whether the service restarts its tasks forever (condition any, no attempt limit): only then must every replica run. */
function restartsForever(service: Frozen<Service>): boolean {
  const p = service.spec.task.restart
  return (p?.condition ?? 'any') === 'any' && (p?.maxAttempts ?? 0) === 0
}

/**
 * Every replicated service runs at most its replica count of tasks (observed and desired
 * RUNNING), one per slot, and exactly that many unless no eligible node has room for another
 * (constraints, availability, resources, max replicas per node) or the restart policy gives up.
 * Not checked while a task of the service waits for room (a `start-first` update that cannot
 * place its new task keeps the old ones running).
 */
export function checkReplicas(snap: StoreSnapshot): ClusterViolation[] {
  const out: ClusterViolation[] = []
  const free = freeResources(snap)
  for (const svc of snap.services) {
    if (!('replicated' in svc.spec.mode) || svc.pendingDelete === true) continue
    const want = svc.spec.mode.replicated.replicas ?? 1
    const running = snap.tasks.filter((t) => t.serviceId === svc.id && isRunningTask(t))
    if (waitingForRoom(svc, snap, free)) continue
    const slots = new Map<number, number>()
    for (const t of running) slots.set(t.slot, (slots.get(t.slot) ?? 0) + 1)
    for (const [slot, n] of slots) if (n > 1) out.push({ invariant: ClusterInvariant.REPLICAS, message: `service ${serviceName(svc)}: slot ${slot} runs ${n} tasks` })
    if (running.length > want) out.push({ invariant: ClusterInvariant.REPLICAS, message: `service ${serviceName(svc)}: ${running.length} tasks RUNNING, want ${want}` })
    else if (running.length < want && restartsForever(svc)) {
      const room = snap.nodes.filter((n) => hasRoom(n, svc, snap, free)).map((n) => n.id)
      if (room.length > 0) out.push({ invariant: ClusterInvariant.REPLICAS, message: `service ${serviceName(svc)}: ${running.length} tasks RUNNING, want ${want} (nodes with room: ${room.join(', ')})` })
    }
  }
  return out
}

/**
 * Every global service runs one task (observed and desired RUNNING) on each eligible node with
 * room for it, and never more than one on a node (unless a task of it waits for room, as a
 * `start-first` update does with the old tasks still running).
 */
export function checkGlobal(snap: StoreSnapshot): ClusterViolation[] {
  const out: ClusterViolation[] = []
  const free = freeResources(snap)
  for (const svc of snap.services) {
    if (!('global' in svc.spec.mode) || svc.pendingDelete === true) continue
    const running = snap.tasks.filter((t) => t.serviceId === svc.id && isRunningTask(t))
    const waiting = waitingForRoom(svc, snap, free)
    for (const node of snap.nodes) {
      const here = running.filter((t) => t.nodeId === node.id).length
      if (here > 1 && !waiting) out.push({ invariant: ClusterInvariant.GLOBAL, message: `service ${serviceName(svc)}: ${here} tasks RUNNING on node ${node.id}` })
      else if (here === 0 && restartsForever(svc) && hasRoom(node, svc, snap, free)) out.push({ invariant: ClusterInvariant.GLOBAL, message: `service ${serviceName(svc)}: no task RUNNING on eligible node ${node.id}` })
    }
  }
  return out
}

/**
 * No task is meant to run (desired RUNNING) on a drained or down node, nor on a node that is
 * gone, nor for a service that is gone.
 */
export function checkPlacement(snap: StoreSnapshot): ClusterViolation[] {
  const out: ClusterViolation[] = []
  const nodes = new Map(snap.nodes.map((n) => [n.id, n]))
  const services = new Set(snap.services.map((s) => s.id))
  for (const t of snap.tasks) {
    if (t.desiredState !== TaskState.RUNNING) continue
    const where = `task ${t.id} (service ${t.serviceAnnotations.name ?? t.serviceId}, slot ${t.slot})`
    if (!services.has(t.serviceId)) out.push({ invariant: ClusterInvariant.PLACEMENT, message: `${where} is meant to run though its service is gone` })
    if (t.nodeId === '') continue
    const node = nodes.get(t.nodeId)
    if (node === undefined) out.push({ invariant: ClusterInvariant.PLACEMENT, message: `${where} is meant to run on node ${t.nodeId}, which is gone` })
    else if (node.spec.availability === 'drain') out.push({ invariant: ClusterInvariant.PLACEMENT, message: `${where} is meant to run on drained node ${node.id}` })
    else if (node.status.state === NodeState.DOWN) out.push({ invariant: ClusterInvariant.PLACEMENT, message: `${where} is meant to run on down node ${node.id}` })
  }
  return out
}

const ENDED_BY_POLICY: Readonly<Record<string, 'update' | 'rollback'>> = { [UpdateState.PAUSED]: 'update', [UpdateState.ROLLBACK_PAUSED]: 'rollback' }

/**
 * Every rolling update ended: none is still UPDATING or ROLLBACK_STARTED (unless its new task
 * fits on no node: it waits for room, as in SwarmKit); a PAUSED update (or
 * rollback) is one whose failure action is `pause`; and unless paused, every running task of the
 * service runs its current spec (none is left dirty), but for a global service's task on a
 * paused node, which SwarmKit leaves as it is.
 */
export function checkUpdates(snap: StoreSnapshot): ClusterViolation[] {
  const out: ClusterViolation[] = []
  const nodes = new Map(snap.nodes.map((n) => [n.id, n]))
  const free = freeResources(snap)
  for (const svc of snap.services) {
    if (svc.pendingDelete === true) continue
    const state = svc.updateStatus?.state
    if (state === UpdateState.UPDATING || state === UpdateState.ROLLBACK_STARTED) {
      // An update whose new task fits on no node waits for room, as in SwarmKit (start-first with max replicas per node, say).
      if (waitingForRoom(svc, snap, free)) continue
      out.push({ invariant: ClusterInvariant.UPDATE, message: `service ${serviceName(svc)}: update still ${state} after converging` })
      continue
    }
    const pausedBy = state === undefined ? undefined : ENDED_BY_POLICY[state]
    if (pausedBy !== undefined) {
      const action = (pausedBy === 'update' ? svc.spec.update : svc.spec.rollback)?.failureAction ?? 'pause'
      if (action !== 'pause') out.push({ invariant: ClusterInvariant.UPDATE, message: `service ${serviceName(svc)}: ${state} though its ${pausedBy} failure action is ${action}` })
      continue
    }
    const global = 'global' in svc.spec.mode
    for (const t of snap.tasks) {
      if (t.serviceId !== svc.id || !isRunningTask(t)) continue
      // SwarmKit's global orchestrator neither adds nor updates tasks on a paused node.
      if (global && nodes.get(t.nodeId)?.spec.availability === 'pause') continue
      if (isTaskDirty(svc, t, nodes.get(t.nodeId))) out.push({ invariant: ClusterInvariant.UPDATE, message: `service ${serviceName(svc)}: task ${t.id} (slot ${t.slot}) runs an old spec though the update is ${state ?? 'not started'}` })
    }
  }
  return out
}

/**
 * Every store check: the resources check always; with `converged` (the default) also
 * replicas, global services, placement on drained or down nodes and rolling updates.
 */
export function checkStoreInvariants(store: MemoryStore | StoreSnapshot, options: StoreInvariantOptions = {}): ClusterViolation[] {
  const snap = 'view' in store ? storeSnapshot(store) : store
  const out = checkResources(snap)
  if (options.converged === false) return out
  return [...out, ...checkReplicas(snap), ...checkGlobal(snap), ...checkPlacement(snap), ...checkUpdates(snap)]
}
