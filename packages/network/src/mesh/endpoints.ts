/**
 * The routing mesh's decisions, as pure functions of store objects: which published ingress
 * ports exist, which tasks serve them and where each task is reachable. No clock, no sockets:
 * the {@link RoutingTable} computed here is what `RoutingMesh` listens on.
 *
 * @module
 */
import { InvalidArgumentError, TaskState } from '@swarmkit-ts/api'
import type { Network, Node, PortConfig, Service, Task } from '@swarmkit-ts/api'
import type { PortMapping } from '@swarmkit-ts/engine-adapter'
import type { Frozen } from '@swarmkit-ts/store'

/** The transport protocols the routing mesh carries (SCTP ports are not routed). */
export type MeshProtocol = 'tcp' | 'udp'

/** One task endpoint behind a published port. */
export interface MeshBackend {
  /** The task this endpoint belongs to. */
  readonly taskId: string
  /** IP address (v4 or v6, without prefix length) to connect to. */
  readonly host: string
  /** Port to connect to. */
  readonly port: number
}

/** One published ingress port of one service, with the task endpoints behind it. */
export interface RoutingEntry {
  /** The port published on every node. */
  readonly publishedPort: number
  /** Its protocol. */
  readonly protocol: MeshProtocol
  /** The service publishing it. */
  readonly serviceId: string
  /** That service's name. */
  readonly serviceName: string
  /** Running tasks' endpoints, ordered by task id (empty when no task runs). */
  readonly backends: readonly MeshBackend[]
}

/**
 * What the routing mesh publishes: one entry per (published port, protocol), ordered by port then
 * protocol. Equal tables (see {@link routingTablesEqual}) route identically.
 */
export interface RoutingTable {
  /** The entries, ordered by `publishedPort` then `protocol`; at most one per (port, protocol). */
  readonly entries: readonly RoutingEntry[]
}

/** The empty routing table. */
export const EMPTY_ROUTING_TABLE: RoutingTable = Object.freeze({ entries: Object.freeze([]) })

/** A published ingress port of a service: what it publishes and which task port it reaches. */
export interface IngressPort {
  /** The port on every node (never 0: unallocated dynamic ports are not routable yet). */
  readonly publishedPort: number
  /** The port of the task. */
  readonly targetPort: number
  /** Its protocol. */
  readonly protocol: MeshProtocol
}

/** Where task and node addresses are looked up while building routes. */
export interface RouteLookup {
  /** The node's address (`node.status.addr`), or undefined when unknown. */
  nodeAddr(nodeId: string): string | undefined
  /** The id of the ingress network, or undefined when there is none. */
  readonly ingressNetworkId: string | undefined
}

type PortLike = Frozen<PortConfig>

/**
 * The service's routable ingress ports: `service.endpoint.ports` once the allocator filled them
 * in, else the spec's ports with a fixed published port. Host-mode ports, SCTP ports and ports
 * whose published port is still 0 are left out; a repeated (published port, protocol) counts once.
 */
export function ingressPorts(service: Frozen<Service>): IngressPort[] {
  const ports: readonly PortLike[] = service.endpoint?.ports ?? service.spec.endpoint?.ports ?? []
  const out: IngressPort[] = []
  const seen = new Set<string>()
  for (const p of ports) {
    if ((p.publishMode ?? 'ingress') !== 'ingress') continue
    const protocol = p.protocol ?? 'tcp'
    if (protocol !== 'tcp' && protocol !== 'udp') continue
    const publishedPort = p.publishedPort ?? 0
    if (publishedPort <= 0) continue
    const key = `${publishedPort}/${protocol}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ publishedPort, targetPort: p.targetPort, protocol })
  }
  return out
}

/**
 * Whether a task takes traffic: it runs (`status.state` RUNNING, which a task with a healthcheck
 * reports only once healthy) and is still meant to (`desiredState` at most RUNNING).
 */
export function isBackendTask(task: Frozen<Pick<Task, 'status' | 'desiredState'>>): boolean {
  return task.status.state === TaskState.RUNNING && task.desiredState <= TaskState.RUNNING
}

/** The address part of a CIDR-style address (`'10.0.0.5/24'` → `'10.0.0.5'`). */
export function addressOf(cidr: string): string {
  const slash = cidr.indexOf('/')
  return slash < 0 ? cidr : cidr.slice(0, slash)
}

/**
 * Where a task serves `targetPort`/`protocol`: the node port the runtime published for it
 * (`status.portStatus`, on `node.status.addr`), else its ingress-network address on the target
 * port; undefined when neither is known.
 */
export function taskEndpoint(task: Frozen<Task>, targetPort: number, protocol: MeshProtocol, lookup: RouteLookup): MeshBackend | undefined {
  for (const p of task.status.portStatus?.ports ?? []) {
    if (p.targetPort !== targetPort || (p.protocol ?? 'tcp') !== protocol) continue
    const published = p.publishedPort ?? 0
    if (published <= 0) continue
    const host = lookup.nodeAddr(task.nodeId)
    return host === undefined || host === '' ? undefined : { taskId: task.id, host, port: published }
  }
  if (lookup.ingressNetworkId === undefined) return undefined
  for (const a of task.networks ?? []) {
    if (a.networkId !== lookup.ingressNetworkId) continue
    const first = a.addresses?.[0]
    return first === undefined ? undefined : { taskId: task.id, host: addressOf(first), port: targetPort }
  }
  return undefined
}

function byTaskId(a: Frozen<Task>, b: Frozen<Task>): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/**
 * The entries one service contributes: one per routable ingress port, each with the endpoints
 * of `tasks` (the service's tasks; those that are not {@link isBackendTask} are ignored).
 */
export function serviceRoutes(service: Frozen<Service>, tasks: Iterable<Frozen<Task>>, lookup: RouteLookup): RoutingEntry[] {
  const ports = ingressPorts(service)
  if (ports.length === 0) return []
  const running = [...tasks].filter((t) => t.serviceId === service.id && isBackendTask(t)).sort(byTaskId)
  return ports.map((p) => {
    const backends: MeshBackend[] = []
    for (const t of running) {
      const b = taskEndpoint(t, p.targetPort, p.protocol, lookup)
      if (b !== undefined) backends.push(b)
    }
    return { publishedPort: p.publishedPort, protocol: p.protocol, serviceId: service.id, serviceName: service.spec.annotations.name, backends }
  })
}

function compareEntries(a: RoutingEntry, b: RoutingEntry): number {
  if (a.publishedPort !== b.publishedPort) return a.publishedPort - b.publishedPort
  if (a.protocol !== b.protocol) return a.protocol < b.protocol ? -1 : 1
  return a.serviceId < b.serviceId ? -1 : a.serviceId > b.serviceId ? 1 : 0
}

/**
 * Merges per-service entries into a table. Two services claiming the same (port, protocol) —
 * possible only before the allocator has refused one — resolve to the lower service id.
 */
export function mergeRoutes(entries: Iterable<RoutingEntry>): RoutingTable {
  const sorted = [...entries].sort(compareEntries)
  const out: RoutingEntry[] = []
  for (const e of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && last.publishedPort === e.publishedPort && last.protocol === e.protocol) continue
    out.push(e)
  }
  return { entries: out }
}

/** The ingress network's id among `networks` (the lowest id if several claim it). */
export function ingressNetworkId(networks: Iterable<Frozen<Network>>): string | undefined {
  let found: string | undefined
  for (const n of networks) if (n.spec.ingress === true && (found === undefined || n.id < found)) found = n.id
  return found
}

/** The routing table of a whole store view: every service's routes, merged. */
export function routingTableOf(view: {
  readonly services: Iterable<Frozen<Service>>
  readonly tasks: Iterable<Frozen<Task>>
  readonly nodes: Iterable<Frozen<Node>>
  readonly networks: Iterable<Frozen<Network>>
}): RoutingTable {
  const addrs = new Map<string, string>()
  for (const n of view.nodes) if (n.status.addr !== undefined) addrs.set(n.id, n.status.addr)
  const lookup: RouteLookup = { nodeAddr: (id) => addrs.get(id), ingressNetworkId: ingressNetworkId(view.networks) }
  const tasksOf = new Map<string, Frozen<Task>[]>()
  for (const t of view.tasks) {
    const list = tasksOf.get(t.serviceId)
    if (list === undefined) tasksOf.set(t.serviceId, [t])
    else list.push(t)
  }
  const entries: RoutingEntry[] = []
  for (const s of view.services) entries.push(...serviceRoutes(s, tasksOf.get(s.id) ?? [], lookup))
  return mergeRoutes(entries)
}

/** Whether two tables route identically (same entries, same backends, same order). */
export function routingTablesEqual(a: RoutingTable, b: RoutingTable): boolean {
  if (a === b) return true
  if (a.entries.length !== b.entries.length) return false
  for (let i = 0; i < a.entries.length; i++) {
    const x = a.entries[i] as RoutingEntry
    const y = b.entries[i] as RoutingEntry
    if (x.publishedPort !== y.publishedPort || x.protocol !== y.protocol || x.serviceId !== y.serviceId || x.serviceName !== y.serviceName) return false
    if (x.backends.length !== y.backends.length) return false
    for (let j = 0; j < x.backends.length; j++) {
      const p = x.backends[j] as MeshBackend
      const q = y.backends[j] as MeshBackend
      if (p.taskId !== q.taskId || p.host !== q.host || p.port !== q.port) return false
    }
  }
  return true
}

/**
 * The host-mode published ports of a task, as the agent passes them to its runtime
 * (`RuntimeContainerSpec.ports`): each `publishMode: 'host'` port of `task.endpoint.ports`, on
 * its published port or 0 (the runtime picks a free one and reports it in `ContainerInfo.ports`,
 * which the agent reports back in `status.portStatus`). These ports do not go through the
 * routing mesh: they are reachable only on the task's own node.
 *
 * @throws InvalidArgumentError naming `endpoint.ports[i].protocol` for an SCTP port (no runtime publishes SCTP).
 */
export function hostPortBindings(task: Frozen<Pick<Task, 'endpoint'>>): PortMapping[] {
  const out: PortMapping[] = []
  const ports = task.endpoint?.ports ?? []
  for (let i = 0; i < ports.length; i++) {
    const p = ports[i] as PortLike
    if (p.publishMode !== 'host') continue
    const protocol = p.protocol ?? 'tcp'
    if (protocol !== 'tcp' && protocol !== 'udp') throw new InvalidArgumentError(`endpoint.ports[${i}].protocol`, `${protocol} host ports are not supported by the runtimes`)
    out.push({ target: p.targetPort, published: p.publishedPort ?? 0, protocol })
  }
  return out
}

/**
 * Checks a table built by hand: ports 1–65535, protocol `tcp` or `udp`, a non-empty host and
 * task id per backend, at most one entry per (port, protocol). Returns it ordered as
 * {@link RoutingTable} requires.
 *
 * @throws InvalidArgumentError naming the field, e.g. `entries[1].backends[0].port`.
 */
export function validateRoutingTable(table: RoutingTable): RoutingTable {
  const seen = new Set<string>()
  const entries = table.entries
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as RoutingEntry
    const at = `entries[${i}]`
    if (!isPort(e.publishedPort)) throw new InvalidArgumentError(`${at}.publishedPort`, 'must be an integer in 1–65535')
    if (e.protocol !== 'tcp' && e.protocol !== 'udp') throw new InvalidArgumentError(`${at}.protocol`, "must be 'tcp' or 'udp'")
    const key = `${e.publishedPort}/${e.protocol}`
    if (seen.has(key)) throw new InvalidArgumentError(`${at}.publishedPort`, `${key} is published twice`)
    seen.add(key)
    for (let j = 0; j < e.backends.length; j++) {
      const b = e.backends[j] as MeshBackend
      if (!isPort(b.port)) throw new InvalidArgumentError(`${at}.backends[${j}].port`, 'must be an integer in 1–65535')
      if (typeof b.host !== 'string' || b.host === '') throw new InvalidArgumentError(`${at}.backends[${j}].host`, 'must be a non-empty address')
      if (typeof b.taskId !== 'string' || b.taskId === '') throw new InvalidArgumentError(`${at}.backends[${j}].taskId`, 'must be a non-empty id')
    }
  }
  return { entries: [...entries].sort(compareEntries) }
}

function isPort(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65_535
}
