/**
 * A test driver that plays the parts which come after the orchestrator — network allocator,
 * scheduler and agents — directly on the store, one deterministic step at a time:
 * - allocator: NEW → PENDING;
 * - scheduler: PENDING → ASSIGNED on a node that is READY, ACTIVE and satisfies the placement
 *   constraints (fewest tasks of the service, then fewest tasks, then lowest id; a task created
 *   with a node id keeps it and waits while that node is not eligible);
 * - agent (not on DOWN nodes): ASSIGNED → READY while desired READY, → RUNNING when desired
 *   RUNNING or COMPLETE, RUNNING → COMPLETE one step later for job tasks (unless held), and
 *   anything up to RUNNING → SHUTDOWN once desired ≥ SHUTDOWN. Tasks whose image is in
 *   `failingImages` fail (FAILED, exit 1) instead of running.
 */
import { NodeAvailability, NodeState, TaskState, isTerminal, matchConstraints, parseConstraints } from '@swarmkit-ts/api'
import type { Clock, Node, Task } from '@swarmkit-ts/api'
import type { Frozen, MemoryStore, Tx } from '@swarmkit-ts/store'

type Change = (tx: Tx) => void

/** Options of {@link TaskDriver}. */
export interface TaskDriverInit {
  readonly store: MemoryStore
  readonly clock: Clock
}

/** Plays allocator, scheduler and agents on the store (see the module doc). */
export class TaskDriver {
  readonly #store: MemoryStore
  readonly #clock: Clock
  /** Whether `step()` does anything. */
  enabled = true
  /** Whether the driver places PENDING tasks itself (off when the real `Scheduler` runs). */
  schedules = true
  /** Images whose tasks fail right after they start (observed FAILED, exit code 1). */
  readonly failingImages = new Set<string>()
  /** Images whose tasks are rejected before they start (observed REJECTED). */
  readonly rejectedImages = new Set<string>()
  /** Whether job tasks stay RUNNING until `complete()` (otherwise they complete one step after they run). */
  holdJobs = false
  /** How many steps have changed something. */
  steps = 0

  constructor(init: TaskDriverInit) {
    this.#store = init.store
    this.#clock = init.clock
  }

  /** Makes one step of progress for every task; resolves with the number of tasks changed. */
  async step(): Promise<number> {
    if (!this.enabled) return 0
    const changes = this.#store.view((tx) => this.#plan(tx.tasks.find(), tx.nodes.find(), (id) => tx.services.get(id)))
    if (changes.length === 0) return 0
    this.steps++
    const CHUNK = 100
    await this.#store.batch((b) => {
      for (let i = 0; i < changes.length; i += CHUNK) {
        const chunk = changes.slice(i, i + CHUNK)
        b.update((tx) => {
          for (const c of chunk) c(tx)
        })
      }
    })
    return changes.length
  }

  /** Fails task `taskId` now (observed `state`, default FAILED with exit code 1). */
  async fail(taskId: string, state: TaskState = TaskState.FAILED): Promise<void> {
    await this.#store.update((tx) => this.#set(tx, taskId, state, state === TaskState.FAILED ? 'started' : 'rejected', 'task: non-zero exit (1)'))
  }

  /** Completes job (or any) task `taskId` now (observed COMPLETE, exit code 0). */
  async complete(taskId: string): Promise<void> {
    await this.#store.update((tx) => this.#set(tx, taskId, TaskState.COMPLETE, 'finished'))
  }

  #plan(tasks: readonly Frozen<Task>[], nodes: readonly Frozen<Node>[], service: (id: string) => unknown): Change[] {
    const out: Change[] = []
    const byNode = new Map<string, Frozen<Node>>(nodes.map((n) => [n.id, n]))
    const load = new Map<string, number>()
    const serviceLoad = new Map<string, number>()
    for (const t of tasks) {
      if (t.nodeId === '' || isTerminal(t.status.state) || t.status.state < TaskState.ASSIGNED) continue
      load.set(t.nodeId, (load.get(t.nodeId) ?? 0) + 1)
      const k = `${t.serviceId}/${t.nodeId}`
      serviceLoad.set(k, (serviceLoad.get(k) ?? 0) + 1)
    }
    const eligible = nodes.filter((n) => n.status.state === NodeState.READY && n.spec.availability === NodeAvailability.ACTIVE)
    eligible.sort((a, b) => (a.id < b.id ? -1 : 1))
    for (const t of tasks) {
      const s = t.status.state
      const id = t.id
      if (t.desiredState >= TaskState.SHUTDOWN) {
        if (s <= TaskState.RUNNING && (t.nodeId === '' || s < TaskState.ASSIGNED || byNode.get(t.nodeId)?.status.state !== NodeState.DOWN)) {
          out.push((tx) => this.#set(tx, id, TaskState.SHUTDOWN, 'shutdown'))
        }
        continue
      }
      if (s === TaskState.NEW) {
        out.push((tx) => this.#set(tx, id, TaskState.PENDING, 'pending task scheduling'))
        continue
      }
      if (s === TaskState.PENDING) {
        if (!this.schedules || service(t.serviceId) === undefined) continue
        const node = this.#choose(t, eligible, byNode, load, serviceLoad)
        if (node === undefined) continue
        load.set(node, (load.get(node) ?? 0) + 1)
        const k = `${t.serviceId}/${node}`
        serviceLoad.set(k, (serviceLoad.get(k) ?? 0) + 1)
        out.push((tx) => this.#set(tx, id, TaskState.ASSIGNED, 'scheduler assigned task to node', undefined, node))
        continue
      }
      const node = byNode.get(t.nodeId)
      if (node === undefined || node.status.state === NodeState.DOWN) continue
      const image = t.spec.container?.image ?? ''
      if (s >= TaskState.ASSIGNED && s < TaskState.RUNNING) {
        if (this.rejectedImages.has(image)) out.push((tx) => this.#set(tx, id, TaskState.REJECTED, 'preparing', 'No such image: ' + image))
        else if (t.desiredState === TaskState.READY) {
          if (s < TaskState.READY) out.push((tx) => this.#set(tx, id, TaskState.READY, 'prepared'))
        } else if (t.desiredState >= TaskState.RUNNING) {
          out.push((tx) => this.#set(tx, id, TaskState.RUNNING, 'started'))
        }
        continue
      }
      if (s === TaskState.RUNNING) {
        if (this.failingImages.has(image)) out.push((tx) => this.#set(tx, id, TaskState.FAILED, 'started', 'task: non-zero exit (1)'))
        else if (t.desiredState === TaskState.COMPLETE && !this.holdJobs) out.push((tx) => this.#set(tx, id, TaskState.COMPLETE, 'finished'))
      }
    }
    return out
  }

  #choose(
    t: Frozen<Task>,
    eligible: readonly Frozen<Node>[],
    byNode: ReadonlyMap<string, Frozen<Node>>,
    load: ReadonlyMap<string, number>,
    serviceLoad: ReadonlyMap<string, number>,
  ): string | undefined {
    const fits = (n: Frozen<Node>): boolean => {
      const c = t.spec.placement?.constraints
      if (c !== undefined && c.length > 0 && !matchConstraints(parseConstraints(c), n)) return false
      const max = t.spec.placement?.maxReplicas ?? 0
      return max === 0 || (serviceLoad.get(`${t.serviceId}/${n.id}`) ?? 0) < max
    }
    if (t.nodeId !== '') {
      const n = byNode.get(t.nodeId)
      return n !== undefined && eligible.includes(n) && fits(n) ? n.id : undefined
    }
    let best: Frozen<Node> | undefined
    let bestKey: [number, number] = [Infinity, Infinity]
    for (const n of eligible) {
      if (!fits(n)) continue
      const key: [number, number] = [serviceLoad.get(`${t.serviceId}/${n.id}`) ?? 0, load.get(n.id) ?? 0]
      if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
        best = n
        bestKey = key
      }
    }
    return best?.id
  }

  #set(tx: Tx, id: string, state: TaskState, message: string, err?: string, nodeId?: string): void {
    const cur = tx.tasks.get(id)
    if (cur === undefined || cur.status.state >= state) return
    const now = this.#clock.now()
    tx.tasks.update(id, (d) => {
      if (nodeId !== undefined) d.nodeId = nodeId
      d.status = {
        timestamp: now,
        state,
        message,
        ...(err === undefined ? {} : { err }),
        ...(state === TaskState.FAILED ? { containerStatus: { exitCode: 1 } } : state === TaskState.COMPLETE ? { containerStatus: { exitCode: 0 } } : {}),
        appliedBy: 'test-driver',
        appliedAt: now,
      }
    })
  }
}
