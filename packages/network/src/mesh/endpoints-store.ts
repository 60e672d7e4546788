/**
 * The routing table read from the store: a {@link StoreLoop} over services, tasks, nodes and
 * networks keeps per-service routes and recomputes only the services a commit touched.
 *
 * @module
 */
import { TaskState, silentLogger } from '@swarmkit-ts/api'
import type { Logger, Node, Service, Task } from '@swarmkit-ts/api'
import { StoreLoop } from '@swarmkit-ts/store'
import type { Frozen, MemoryStore, ObjectEvent, ReadTx } from '@swarmkit-ts/store'
import { isBackendTask, mergeRoutes, serviceRoutes } from './endpoints.ts'
import type { RouteLookup, RoutingEntry, RoutingTable } from './endpoints.ts'
import { TableBroadcaster } from './endpoints-source.ts'
import type { EndpointSource, RoutingTableListener } from './endpoints-source.ts'

/** Construction options of {@link StoreEndpointSource}. */
export interface StoreEndpointSourceInit {
  /** The store to read (a manager's replica). */
  readonly store: MemoryStore
  /** Where failures are reported. @default silentLogger */
  readonly logger?: Logger
}

type Kinds = 'service' | 'task' | 'node' | 'network'

/** Whether an event can change a route (the store drops the others before queueing them). */
function relevant(ev: ObjectEvent<Kinds>): boolean {
  switch (ev.kind) {
    case 'task':
      return isBackendTask(ev.object) || (ev.action === 'update' && ev.oldObject !== undefined && isBackendTask(ev.oldObject))
    case 'node':
      return ev.action !== 'update' || ev.object.status.addr !== ev.oldObject?.status.addr
    case 'network':
      return ev.object.spec.ingress === true || (ev.action === 'update' && ev.oldObject?.spec.ingress === true)
    case 'service':
      return true
  }
}

/**
 * An {@link EndpointSource} fed by the store: services with ingress-mode ports, their running
 * tasks (see `isBackendTask`), where those run (`status.portStatus` on `node.status.addr`, or the
 * ingress network address). `start()` reads a consistent view at once (so `current()` is
 * up to date when it returns) and then follows the store's commits; listeners are called once
 * per commit that changes the table.
 */
export class StoreEndpointSource implements EndpointSource {
  readonly #loop: StoreLoop<Kinds>
  readonly #b: TableBroadcaster
  readonly #services = new Map<string, Frozen<Service>>()
  /** Backend tasks only, by service id then task id. */
  readonly #tasks = new Map<string, Map<string, Frozen<Task>>>()
  readonly #nodeAddrs = new Map<string, string>()
  readonly #ingress = new Set<string>()
  readonly #routes = new Map<string, RoutingEntry[]>()
  readonly #dirty = new Set<string>()
  #allDirty = true
  readonly #lookup: RouteLookup

  /** A source on `init.store`; call {@link start} to fill it. */
  constructor(init: StoreEndpointSourceInit) {
    const logger = init.logger ?? silentLogger
    this.#b = new TableBroadcaster((err) => logger.error('routing table listener failed', { error: String(err) }))
    const ingress = this.#ingress
    const addrs = this.#nodeAddrs
    this.#lookup = {
      nodeAddr: (id) => addrs.get(id),
      get ingressNetworkId(): string | undefined {
        let found: string | undefined
        for (const id of ingress) if (found === undefined || id < found) found = id
        return found
      },
    }
    this.#loop = new StoreLoop(
      { store: init.store, logger },
      'routing table',
      ['service', 'task', 'node', 'network'],
      { resync: (tx) => this.#resync(tx), event: (ev) => this.#event(ev), tick: () => this.#tick() },
      { where: relevant },
    )
  }

  /** Reads the store and starts following it. */
  start(): void {
    this.#loop.start()
  }

  /** Stops following the store (the table stays as it was). */
  async stop(): Promise<void> {
    await this.#loop.stop()
  }

  /** The latest routing table. */
  current(): RoutingTable {
    return this.#b.current()
  }

  /** Calls `listener` once per commit that changes the table; a throwing listener is logged. */
  subscribe(listener: RoutingTableListener): () => void {
    return this.#b.subscribe(listener)
  }

  #resync(tx: ReadTx): void {
    this.#services.clear()
    this.#tasks.clear()
    this.#nodeAddrs.clear()
    this.#ingress.clear()
    this.#routes.clear()
    for (const s of tx.services.find()) this.#services.set(s.id, s)
    for (const t of tx.tasks.find({ state: TaskState.RUNNING })) this.#putTask(t)
    for (const n of tx.nodes.find()) this.#putNode(n)
    for (const n of tx.networks.find()) if (n.spec.ingress === true) this.#ingress.add(n.id)
    this.#allDirty = true
    this.#tick()
  }

  #event(ev: ObjectEvent<Kinds>): void {
    switch (ev.kind) {
      case 'service':
        if (ev.action === 'delete') this.#services.delete(ev.object.id)
        else this.#services.set(ev.object.id, ev.object)
        this.#dirty.add(ev.object.id)
        return
      case 'task':
        this.#taskEvent(ev.action, ev.object, ev.action === 'update' ? ev.oldObject : undefined)
        return
      case 'node': {
        const before = this.#nodeAddrs.get(ev.object.id)
        if (ev.action === 'delete') this.#nodeAddrs.delete(ev.object.id)
        else this.#putNode(ev.object)
        if (before !== this.#nodeAddrs.get(ev.object.id)) this.#allDirty = true
        return
      }
      case 'network': {
        const had = this.#ingress.has(ev.object.id)
        const has = ev.action !== 'delete' && ev.object.spec.ingress === true
        if (has) this.#ingress.add(ev.object.id)
        else this.#ingress.delete(ev.object.id)
        if (had !== has) this.#allDirty = true
        return
      }
    }
  }

  #taskEvent(action: 'create' | 'update' | 'delete', task: Frozen<Task>, old: Frozen<Task> | undefined): void {
    if (old !== undefined && old.serviceId !== task.serviceId) this.#dropTask(old)
    const keep = action !== 'delete' && isBackendTask(task)
    if (!keep) {
      if (this.#dropTask(task)) this.#dirty.add(task.serviceId)
      return
    }
    const prev = this.#tasks.get(task.serviceId)?.get(task.id)
    this.#putTask(task)
    // A running task's status update that moves nothing routes the same: skip the recompute.
    if (prev !== undefined && prev.nodeId === task.nodeId && prev.status.portStatus === task.status.portStatus && prev.networks === task.networks) return
    this.#dirty.add(task.serviceId)
  }

  #putTask(task: Frozen<Task>): void {
    if (!isBackendTask(task)) return
    let m = this.#tasks.get(task.serviceId)
    if (m === undefined) {
      m = new Map<string, Frozen<Task>>()
      this.#tasks.set(task.serviceId, m)
    }
    m.set(task.id, task)
  }

  #dropTask(task: Frozen<Task>): boolean {
    const m = this.#tasks.get(task.serviceId)
    if (m === undefined || !m.delete(task.id)) return false
    if (m.size === 0) this.#tasks.delete(task.serviceId)
    return true
  }

  #putNode(node: Frozen<Node>): void {
    if (node.status.addr === undefined || node.status.addr === '') this.#nodeAddrs.delete(node.id)
    else this.#nodeAddrs.set(node.id, node.status.addr)
  }

  #tick(): void {
    if (!this.#allDirty && this.#dirty.size === 0) return
    const ids = this.#allDirty ? [...this.#services.keys(), ...this.#routes.keys()] : [...this.#dirty]
    this.#allDirty = false
    this.#dirty.clear()
    for (const id of ids) {
      const s = this.#services.get(id)
      const routes = s === undefined ? [] : serviceRoutes(s, this.#tasks.get(id)?.values() ?? [], this.#lookup)
      if (routes.length === 0) this.#routes.delete(id)
      else this.#routes.set(id, routes)
    }
    const all: RoutingEntry[] = []
    for (const r of this.#routes.values()) all.push(...r)
    this.#b.publish(mergeRoutes(all))
  }
}
