/**
 * The scheduler's pure placement core: {@link placeGroup} places one group of tasks (one service
 * and spec version) onto a {@link NodeSet} and reserves what it placed there, so the next group
 * sees it. No clock, no store: the caller passes `now` and writes the decisions.
 *
 * Steps for the tasks without a node:
 * 1. every node goes through the filters once ({@link TaskFilter.check}) — with spread and no
 *    preference only the nodes that can matter: those where the service has tasks or failures,
 *    and the first `tasks.length` others that pass in the NodeSet's load order (fewest tasks,
 *    then id), which is their ranking for this service;
 * 2. the nodes that pass go into a tree with one level per spread preference (branch = label
 *    value, "" when missing), each leaf a heap of nodes ordered by the strategy's ranking;
 * 3. each task walks the tree taking the branch with the fewest tasks of the service (ties: label
 *    value), then the leaf's best node; that node alone is re-ranked, or leaves the heap when the
 *    task no longer fits it (resources, host ports, max replicas);
 * 4. tasks left over when no node fits get the explanation computed on the nodes as they are then.
 *
 * Tasks that already have a node (global, pre-assigned) are only checked by the filters there
 * (and reserved there when they pass).
 *
 * @module
 */
import type { GenericResource, Service, Task } from '@swarmkit-ts/api'
import { SchedulingStrategy } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { Heap } from './heap.ts'
import { TaskFilter, claimGeneric, explainFailures } from './filters.ts'
import type { FilterKind, TaskFilterOptions } from './filters.ts'
import type { NodeInfo, NodeSet } from './node-info.ts'

export { SchedulingStrategy }

/** Tasks of one service and spec version, placed together. */
export interface PlacementGroup {
  /** The service, when known (informational: the tasks' own specs are what is placed). */
  readonly service?: Frozen<Service>
  /** The tasks, all with the same spec; those with a `nodeId` are only checked on that node. */
  readonly tasks: readonly Frozen<Task>[]
}

/** Options of {@link placeGroup}. */
export interface PlaceOptions extends TaskFilterOptions {
  /** How to rank the nodes (resolve the cluster's and the service's setting before). */
  readonly strategy: SchedulingStrategy
  /** The current time (ms), for the faulty-node rule. */
  readonly now: number
}

/** One task placed on a node. */
export interface TaskPlacement {
  readonly taskId: string
  readonly nodeId: string
  /** The generic resources assigned to the task on that node (record on `task.assignedGenericResources`). */
  readonly genericResources: readonly GenericResource[]
}

/** What {@link placeGroup} decided. */
export interface PlacementResult {
  /** Tasks placed: pre-assigned ones first, then the others in the group's order; reserved in the NodeSet. */
  readonly placed: TaskPlacement[]
  /** Tasks not placed, by id, with SwarmKit's explanation (`no suitable node (…)`). */
  readonly unplaced: Map<string, string>
}

/**
 * Places `group` on `nodes` and reserves every placement in `nodes` (see the module doc). A caller
 * whose write of a placement fails must give it back with `nodes.removeTask(taskId)`.
 */
export function placeGroup(nodes: NodeSet, group: PlacementGroup, options: PlaceOptions): PlacementResult {
  const result: PlacementResult = { placed: [], unplaced: new Map() }
  const free: Frozen<Task>[] = []
  for (const task of group.tasks) {
    if (task.nodeId === '') free.push(task)
    else checkAssigned(nodes, task, options, result)
  }
  const first = free[0]
  if (first !== undefined) placeFree(nodes, first, free, options, result)
  return result
}

/** A task that has a node (global, pre-assigned) is only checked by the filters there. */
function checkAssigned(nodes: NodeSet, task: Frozen<Task>, options: PlaceOptions, result: PlacementResult): void {
  const info = nodes.get(task.nodeId)
  if (info === undefined) {
    result.unplaced.set(task.id, `no suitable node (node ${task.nodeId} not found)`)
    return
  }
  const filter = new TaskFilter(task, options)
  const failed = filter.check(info)
  if (failed !== undefined) {
    result.unplaced.set(task.id, explainFailures(new Map([[failed, 1]])))
    return
  }
  const generic = claimGeneric(info, filter.generic)
  nodes.place(task, info.id, generic)
  result.placed.push({ taskId: task.id, nodeId: info.id, genericResources: generic })
}

/** A level of the spread tree: a leaf holds a heap of nodes. */
interface Branch {
  readonly value: string
  /** Active tasks of the service on every node of the branch (eligible or not). */
  tasks: number
  /** Nodes of the branch still able to take a task of the group. */
  eligible: number
  readonly children: Map<string, Branch>
  /** Sorted children, built after the tree. */
  sorted: Branch[]
  nodes: NodeInfo[]
  heap: Heap<NodeInfo> | undefined
}

function newBranch(value: string): Branch {
  return { value, tasks: 0, eligible: 0, children: new Map(), sorted: [], nodes: [], heap: undefined }
}

/** The value of a spread descriptor on a node: `node.labels.x` / `engine.labels.x`, "" when missing. */
export function spreadValue(descriptor: string, info: NodeInfo): string {
  const lower = descriptor.toLowerCase()
  if (lower.startsWith('node.labels.')) return info.node.spec.annotations.labels?.[descriptor.slice(12)] ?? ''
  if (lower.startsWith('engine.labels.')) return info.node.description?.engine?.labels?.[descriptor.slice(14)] ?? ''
  return ''
}

function placeFree(nodes: NodeSet, rep: Frozen<Task>, tasks: readonly Frozen<Task>[], options: PlaceOptions, result: PlacementResult): void {
  const filter = new TaskFilter(rep, options)
  const serviceId = rep.serviceId
  const descriptors = (rep.spec.placement?.preferences ?? []).map((p) => p.spread.spreadDescriptor)
  const root = newBranch('')
  const faulty = new Set<NodeInfo>()
  let maxCpu = 0
  let maxMemory = 0
  const take = (info: NodeInfo, branch: Branch): void => {
    if (filter.faulty(info, options.now)) faulty.add(info)
    maxCpu = Math.max(maxCpu, info.totalNanoCpus)
    maxMemory = Math.max(maxMemory, info.totalMemoryBytes)
    branch.nodes.push(info)
  }
  if (descriptors.length === 0 && options.strategy !== SchedulingStrategy.BINPACK) {
    // Fast path: only the nodes where the service has tasks or failures rank differently from
    // the load order; of the others, the first `tasks.length` that pass are enough (each task
    // uses at most one of them, and an unused one always outranks those after it).
    for (const info of nodes.specialNodes(serviceId)) if (filter.check(info) === undefined) take(info, root)
    const scope = { key: filter.staticKey, passes: (n: NodeInfo) => filter.passesStatic(n) }
    for (const info of nodes.freshNodes(serviceId, tasks.length, (n) => filter.check(n) === undefined, scope)) take(info, root)
  } else {
    for (const info of nodes.values()) {
      let branch = root
      for (const d of descriptors) {
        const v = spreadValue(d, info)
        let next = branch.children.get(v)
        if (next === undefined) {
          next = newBranch(v)
          branch.children.set(v, next)
        }
        branch = next
        branch.tasks += info.serviceTasks(serviceId)
      }
      if (filter.check(info) === undefined) take(info, branch)
    }
  }
  const less = options.strategy === SchedulingStrategy.BINPACK ? binpackLess(faulty, serviceId, maxCpu, maxMemory) : spreadLess(faulty, serviceId)
  finishTree(root, less)

  let i = 0
  const path: Branch[] = []
  for (; i < tasks.length && root.eligible > 0; i++) {
    const task = tasks[i] as Frozen<Task>
    path.length = 0
    let branch = root
    path.push(branch)
    while (branch.heap === undefined) {
      branch = pickChild(branch)
      path.push(branch)
    }
    const heap = branch.heap
    const info = heap.peek() as NodeInfo
    const generic = claimGeneric(info, filter.generic)
    nodes.place(task, info.id, generic)
    result.placed.push({ taskId: task.id, nodeId: info.id, genericResources: generic })
    for (let p = 1; p < path.length; p++) (path[p] as Branch).tasks++
    if (filter.stillFits(info)) {
      heap.updateTop()
    } else {
      heap.pop()
      for (const b of path) b.eligible--
    }
  }
  if (i === tasks.length) return
  // Nodes ran out: explain on the nodes as they are now.
  const now = new Map<FilterKind, number>()
  for (const info of nodes.values()) {
    const failed = filter.check(info)
    if (failed !== undefined) now.set(failed, (now.get(failed) ?? 0) + 1)
  }
  const explanation = explainFailures(now)
  for (; i < tasks.length; i++) result.unplaced.set((tasks[i] as Frozen<Task>).id, explanation)
}

/** Builds leaf heaps and eligible counts bottom-up; children sorted by label value. */
function finishTree(branch: Branch, less: (a: NodeInfo, b: NodeInfo) => boolean): void {
  if (branch.children.size === 0) {
    branch.heap = new Heap(branch.nodes, less)
    branch.eligible = branch.heap.size
    return
  }
  branch.sorted = [...branch.children.values()].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
  for (const c of branch.sorted) {
    finishTree(c, less)
    branch.eligible += c.eligible
  }
}

/** The child with a node left and the fewest tasks of the service (ties: the lowest label value). */
function pickChild(branch: Branch): Branch {
  let best: Branch | undefined
  for (const c of branch.sorted) if (c.eligible > 0 && (best === undefined || c.tasks < best.tasks)) best = c
  return best as Branch
}

/** SwarmKit's ranking: not faulty, then fewest tasks of the service, then fewest tasks, then node id. */
function spreadLess(faulty: ReadonlySet<NodeInfo>, serviceId: string): (a: NodeInfo, b: NodeInfo) => boolean {
  return (a, b) => {
    const fa = faulty.has(a)
    if (fa !== faulty.has(b)) return !fa
    const sa = a.serviceTasks(serviceId)
    const sb = b.serviceTasks(serviceId)
    if (sa !== sb) return sa < sb
    if (a.activeTasks !== b.activeTasks) return a.activeTasks < b.activeTasks
    return a.id < b.id
  }
}

/**
 * Binpack: not faulty, then the least free CPU and memory (each as a fraction of the largest
 * eligible node's, summed), then the most tasks, then the most tasks of the service, then node id.
 */
function binpackLess(faulty: ReadonlySet<NodeInfo>, serviceId: string, maxCpu: number, maxMemory: number): (a: NodeInfo, b: NodeInfo) => boolean {
  const free = (n: NodeInfo): number =>
    (maxCpu > 0 ? n.availableNanoCpus / maxCpu : 0) + (maxMemory > 0 ? n.availableMemoryBytes / maxMemory : 0)
  return (a, b) => {
    const fa = faulty.has(a)
    if (fa !== faulty.has(b)) return !fa
    const xa = free(a)
    const xb = free(b)
    if (xa !== xb) return xa < xb
    if (a.activeTasks !== b.activeTasks) return a.activeTasks > b.activeTasks
    const sa = a.serviceTasks(serviceId)
    const sb = b.serviceTasks(serviceId)
    if (sa !== sb) return sa > sb
    return a.id < b.id
  }
}
