/**
 * The scheduler's view of the cluster: one {@link NodeInfo} per node with what is still
 * available on it (CPU, memory, generic resources), its tasks per service, its host ports in use
 * and the recent task failures per service; a {@link NodeSet} keeps them all, updated
 * incrementally from store events.
 *
 * A task *holds* a node (counts in its NodeInfo) while it has a `nodeId` and its observed state
 * lies in ASSIGNED..RUNNING: from the scheduler's decision until the agent reports it stopped.
 * Its reservations, generic resources and host ports are taken for all that time (a task being
 * shut down still occupies them); it counts among the node's tasks (for ranking and max replicas)
 * only while desired ≤ COMPLETE, as in SwarmKit.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { GenericResource, Node, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { LoadOrder } from './load-order.ts'
import type { NodeScope } from './load-order.ts'

/** How long a task failure counts against its node (SwarmKit: 5 min). */
export const FAILURE_WINDOW_MS = 5 * 60_000
/** Failures of one service within the window that make a node rank last (SwarmKit: 5). */
export const MAX_FAILURES = 5

/** Whether the task holds resources on its node: it has one and is ASSIGNED..RUNNING. */
export function holdsNode(task: Frozen<Task>): boolean {
  return task.nodeId !== '' && task.status.state >= TaskState.ASSIGNED && task.status.state <= TaskState.RUNNING
}

/** Whether a holding task counts among its node's tasks (desired state ≤ COMPLETE). */
function countsAsActive(task: Frozen<Task>): boolean {
  return task.desiredState <= TaskState.COMPLETE
}

/** The `protocol/port` keys of the task's host-mode published ports. */
export function hostPortKeys(task: Frozen<Task>): string[] {
  const keys: string[] = []
  for (const p of task.endpoint?.ports ?? []) {
    if (p.publishMode === 'host' && p.publishedPort !== undefined && p.publishedPort !== 0) {
      keys.push(`${p.protocol ?? 'tcp'}/${String(p.publishedPort)}`)
    }
  }
  return keys
}

/** Whether two lists of generic resources are the same, in the same order. */
function sameGeneric(a: readonly GenericResource[], b: readonly GenericResource[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as GenericResource
    const y = b[i] as GenericResource
    if (x.kind !== y.kind) return false
    if ('namedValue' in x) {
      if (!('namedValue' in y) || x.namedValue !== y.namedValue) return false
    } else if ('namedValue' in y || x.discreteValue !== y.discreteValue) return false
  }
  return true
}

/** What a holding task took on its node, kept so that its removal gives exactly that back. */
interface Holding {
  readonly serviceId: string
  readonly active: boolean
  readonly nanoCpus: number
  readonly memoryBytes: number
  readonly generic: readonly GenericResource[]
  readonly ports: readonly string[]
}

/** One node as the scheduler sees it (mutable; owned by its {@link NodeSet}). */
export class NodeInfo {
  /** The node as last seen in the store. */
  node: Frozen<Node>
  /** Total CPU (nano CPUs) the node advertises. */
  totalNanoCpus = 0
  /** Total memory (bytes) the node advertises. */
  totalMemoryBytes = 0
  /** CPU still available: the total minus the reservations of the tasks holding the node. */
  availableNanoCpus = 0
  /** Memory still available. */
  availableMemoryBytes = 0
  /** Free named generic resources per kind, sorted (e.g. `GPU` → `['gpu0', 'gpu1']`). */
  readonly availableNamed = new Map<string, string[]>()
  /** Free discrete generic resources per kind (e.g. `SSD` → 2). */
  readonly availableDiscrete = new Map<string, number>()
  /** Active tasks per service id. */
  readonly tasksByService = new Map<string, number>()
  /** Active tasks in total. */
  activeTasks = 0
  /** Host-mode ports in use, as `protocol/port`. */
  readonly hostPorts = new Map<string, number>()
  /** Recent failure times per service id (pruned to the failure window when recorded). */
  readonly failures = new Map<string, number[]>()
  /** The tasks holding the node and what each took. */
  readonly #holdings = new Map<string, Holding>()

  /** A node's info with nothing held. */
  constructor(node: Frozen<Node>) {
    this.node = node
    this.#setTotals(node)
  }

  /** The node's id. */
  get id(): string {
    return this.node.id
  }

  /** Number of tasks holding the node (active or being shut down). */
  get holdingCount(): number {
    return this.#holdings.size
  }

  /** The ids of the tasks holding the node. */
  heldTaskIds(): IterableIterator<string> {
    return this.#holdings.keys()
  }

  /** Whether `taskId` holds the node. */
  holds(taskId: string): boolean {
    return this.#holdings.has(taskId)
  }

  /** Active tasks of `serviceId` on the node. */
  serviceTasks(serviceId: string): number {
    return this.tasksByService.get(serviceId) ?? 0
  }

  /** Failures of `serviceId` on the node within the failure window before `now`. */
  recentFailures(serviceId: string, now: number): number {
    const times = this.failures.get(serviceId)
    if (times === undefined) return 0
    let n = 0
    for (const t of times) if (t > now - FAILURE_WINDOW_MS) n++
    return n
  }

  /** Replaces the node object; totals are recomputed, holdings kept. */
  updateNode(node: Frozen<Node>): void {
    this.node = node
    const held = [...this.#holdings.entries()]
    this.#holdings.clear()
    this.tasksByService.clear()
    this.hostPorts.clear()
    this.activeTasks = 0
    this.#setTotals(node)
    for (const [id, h] of held) this.hold(id, h)
  }

  /** Takes what `holding` describes for task `taskId` (replacing an earlier holding of it). */
  hold(taskId: string, holding: Holding): void {
    this.release(taskId)
    this.#holdings.set(taskId, holding)
    this.availableNanoCpus -= holding.nanoCpus
    this.availableMemoryBytes -= holding.memoryBytes
    for (const g of holding.generic) {
      if ('namedValue' in g) {
        const free = this.availableNamed.get(g.kind)
        const i = free?.indexOf(g.namedValue) ?? -1
        if (free !== undefined && i >= 0) free.splice(i, 1)
      } else {
        this.availableDiscrete.set(g.kind, (this.availableDiscrete.get(g.kind) ?? 0) - g.discreteValue)
      }
    }
    for (const p of holding.ports) this.hostPorts.set(p, (this.hostPorts.get(p) ?? 0) + 1)
    if (holding.active) {
      this.activeTasks++
      this.tasksByService.set(holding.serviceId, this.serviceTasks(holding.serviceId) + 1)
    }
  }

  /** Whether `task` holds the node with exactly what `holdingOf(task, generic)` would take. */
  holdsSame(task: Frozen<Task>, generic: readonly GenericResource[]): boolean {
    const h = this.#holdings.get(task.id)
    if (h === undefined) return false
    const r = task.spec.resources?.reservations
    if (h.serviceId !== task.serviceId || h.active !== countsAsActive(task) || h.nanoCpus !== (r?.nanoCpus ?? 0) || h.memoryBytes !== (r?.memoryBytes ?? 0)) return false
    if (!sameGeneric(h.generic, generic)) return false
    if (h.ports.length === 0 && (task.endpoint?.ports ?? []).length === 0) return true
    const ports = hostPortKeys(task)
    return ports.length === h.ports.length && ports.every((p, i) => p === h.ports[i])
  }

  /** Gives back what task `taskId` held (returned); a no-op when it held nothing. */
  release(taskId: string): Holding | undefined {
    const h = this.#holdings.get(taskId)
    if (h === undefined) return undefined
    this.#holdings.delete(taskId)
    this.availableNanoCpus += h.nanoCpus
    this.availableMemoryBytes += h.memoryBytes
    for (const g of h.generic) {
      if ('namedValue' in g) {
        const free = this.availableNamed.get(g.kind)
        // Only values the node still advertises come back.
        if (free !== undefined && this.#advertisesNamed(g.kind, g.namedValue)) {
          free.push(g.namedValue)
          free.sort()
        }
      } else {
        this.availableDiscrete.set(g.kind, (this.availableDiscrete.get(g.kind) ?? 0) + g.discreteValue)
      }
    }
    for (const p of h.ports) {
      const n = (this.hostPorts.get(p) ?? 0) - 1
      if (n <= 0) this.hostPorts.delete(p)
      else this.hostPorts.set(p, n)
    }
    if (h.active) {
      this.activeTasks--
      const n = this.serviceTasks(h.serviceId) - 1
      if (n <= 0) this.tasksByService.delete(h.serviceId)
      else this.tasksByService.set(h.serviceId, n)
    }
    return h
  }

  #advertisesNamed(kind: string, value: string): boolean {
    return (this.node.description?.resources?.generic ?? []).some((g) => g.kind === kind && 'namedValue' in g && g.namedValue === value)
  }

  #setTotals(node: Frozen<Node>): void {
    const r = node.description?.resources
    this.totalNanoCpus = r?.nanoCpus ?? 0
    this.totalMemoryBytes = r?.memoryBytes ?? 0
    this.availableNanoCpus = this.totalNanoCpus
    this.availableMemoryBytes = this.totalMemoryBytes
    this.availableNamed.clear()
    this.availableDiscrete.clear()
    for (const g of r?.generic ?? []) {
      if ('namedValue' in g) {
        const list = this.availableNamed.get(g.kind) ?? []
        list.push(g.namedValue)
        this.availableNamed.set(g.kind, list)
      } else {
        this.availableDiscrete.set(g.kind, (this.availableDiscrete.get(g.kind) ?? 0) + g.discreteValue)
      }
    }
    for (const list of this.availableNamed.values()) list.sort()
  }
}

export type { NodeScope } from './load-order.ts'

/** What a task takes on its node, from its spec and assigned generic resources. */
export function holdingOf(task: Frozen<Task>, generic: readonly GenericResource[] = task.assignedGenericResources ?? []): Holding {
  const r = task.spec.resources?.reservations
  return {
    serviceId: task.serviceId,
    active: countsAsActive(task),
    nanoCpus: r?.nanoCpus ?? 0,
    memoryBytes: r?.memoryBytes ?? 0,
    generic,
    ports: hostPortKeys(task),
  }
}

/** All nodes as the scheduler sees them, with the tasks that hold them (see the module doc). */
export class NodeSet {
  readonly #nodes = new Map<string, NodeInfo>()
  /** Task id → the node it holds. */
  readonly #taskNode = new Map<string, string>()
  /** Every node by (active tasks, id), and the same per set of static filters. */
  readonly #order = new LoadOrder(this.#nodes)
  /** Service id → the nodes where it has active tasks. */
  readonly #serviceNodes = new Map<string, Set<NodeInfo>>()
  /** Service id → the nodes where it has recorded failures. */
  readonly #failedNodes = new Map<string, Set<NodeInfo>>()

  /** A NodeSet built from the store's nodes and tasks. */
  static from(nodes: Iterable<Frozen<Node>>, tasks: Iterable<Frozen<Task>>): NodeSet {
    const set = new NodeSet()
    for (const n of nodes) set.updateNode(n)
    for (const t of tasks) set.applyTask(t)
    return set
  }

  /** Number of nodes. */
  get size(): number {
    return this.#nodes.size
  }

  /** The node's info, if known. */
  get(nodeId: string): NodeInfo | undefined {
    return this.#nodes.get(nodeId)
  }

  /** Every node's info, in insertion order. */
  values(): IterableIterator<NodeInfo> {
    return this.#nodes.values()
  }

  /** Adds a node or replaces its object (holdings kept). */
  updateNode(node: Frozen<Node>): void {
    this.#order.invalidate()
    const info = this.#nodes.get(node.id)
    if (info === undefined) {
      const created = new NodeInfo(node)
      this.#nodes.set(node.id, created)
      this.#order.push(created)
    } else {
      info.updateNode(node)
    }
  }

  /** Forgets a node; tasks holding it are forgotten too. */
  removeNode(nodeId: string): void {
    const info = this.#nodes.get(nodeId)
    if (info === undefined) return
    this.#order.invalidate()
    this.#nodes.delete(nodeId)
    for (const taskId of info.heldTaskIds()) this.#taskNode.delete(taskId)
  }

  /**
   * Brings the task's holding up to date from its current object: held when it `holdsNode`
   * (on its node, if known), released otherwise. Use for every task create and update event.
   */
  applyTask(task: Frozen<Task>): void {
    if (holdsNode(task)) this.addTask(task)
    else this.removeTask(task.id)
  }

  /**
   * Makes the task hold its node (`task.nodeId`) with its reservations, assigned generic
   * resources (or `generic`) and host ports, replacing any earlier holding of it. A task on an
   * unknown node is ignored.
   */
  addTask(task: Frozen<Task>, generic?: readonly GenericResource[]): void {
    this.place(task, task.nodeId, generic ?? task.assignedGenericResources ?? [])
  }

  /**
   * Reserves a placement decision: `task` (not yet carrying the node) holds `nodeId` with
   * `generic` as if ASSIGNED there. When the decision is written, the ASSIGNED task's event
   * ({@link applyTask}) replaces this holding with the same one; when the write fails, give it
   * back with {@link removeTask}.
   */
  place(task: Frozen<Task>, nodeId: string, generic: readonly GenericResource[]): void {
    // Already held there, with the same holding (every status update of a running task): a
    // release and the same hold would change nothing but the order of sets that every reader
    // sorts or dedupes (the load heaps, the service's nodes).
    if (this.#taskNode.get(task.id) === nodeId && this.#nodes.get(nodeId)?.holdsSame(task, generic) === true) return
    this.removeTask(task.id)
    const info = this.#nodes.get(nodeId)
    if (info === undefined) return
    const holding = holdingOf(task, generic)
    info.hold(task.id, holding)
    this.#taskNode.set(task.id, nodeId)
    if (holding.active) this.#changed(info, holding.serviceId)
  }

  /** Releases what the task held; a no-op for a task holding nothing. */
  removeTask(taskId: string): void {
    const nodeId = this.#taskNode.get(taskId)
    if (nodeId === undefined) return
    this.#taskNode.delete(taskId)
    const info = this.#nodes.get(nodeId)
    const h = info?.release(taskId)
    if (info !== undefined && h?.active === true) this.#changed(info, h.serviceId)
  }

  /** The node a task holds, if any. */
  nodeOf(taskId: string): string | undefined {
    return this.#taskNode.get(taskId)
  }

  /** Records a failure of a task of `serviceId` on `nodeId` at `now` (for the faulty-node rule). */
  recordFailure(serviceId: string, nodeId: string, now: number): void {
    const info = this.#nodes.get(nodeId)
    if (info === undefined) return
    const times = (info.failures.get(serviceId) ?? []).filter((t) => t > now - FAILURE_WINDOW_MS)
    times.push(now)
    info.failures.set(serviceId, times)
    let failed = this.#failedNodes.get(serviceId)
    if (failed === undefined) this.#failedNodes.set(serviceId, (failed = new Set()))
    failed.add(info)
  }

  /**
   * The nodes where the service has active tasks or recorded failures: the only ones whose rank
   * for it differs from their place in the load order ({@link freshNodes}).
   */
  specialNodes(serviceId: string): NodeInfo[] {
    const out = new Set<NodeInfo>()
    for (const info of this.#serviceNodes.get(serviceId) ?? []) if (this.#nodes.get(info.id) === info) out.add(info)
    for (const info of this.#failedNodes.get(serviceId) ?? []) if (this.#nodes.get(info.id) === info) out.add(info)
    return [...out]
  }

  /**
   * Up to `limit` nodes outside {@link specialNodes} that `accept` takes, in order of fewest
   * active tasks, then node id — SwarmKit's ranking for a service with no task and no failure
   * there — without looking at more nodes than needed.
   */
  freshNodes(serviceId: string, limit: number, accept: (info: NodeInfo) => boolean, scope?: NodeScope): NodeInfo[] {
    const special = this.#serviceNodes.get(serviceId)
    const failed = this.#failedNodes.get(serviceId)
    return this.#order.first(limit, (info) => special?.has(info) !== true && failed?.has(info) !== true && accept(info), scope)
  }

  /** After a node's active tasks of `serviceId` changed: its load entry and the service index. */
  #changed(info: NodeInfo, serviceId: string): void {
    this.#order.push(info)
    let set = this.#serviceNodes.get(serviceId)
    if (info.serviceTasks(serviceId) > 0) {
      if (set === undefined) this.#serviceNodes.set(serviceId, (set = new Set()))
      set.add(info)
    } else if (set !== undefined) {
      set.delete(info)
      if (set.size === 0) this.#serviceNodes.delete(serviceId)
    }
  }
}
