/**
 * The scheduler's filter pipeline, in SwarmKit's order: ready, resources, plugins, constraints,
 * platform, host ports, max replicas. A filter applies only when the task asks for what it checks;
 * the first failing filter is the one a node counts against in the explanation.
 *
 * @module
 */
import { NodeAvailability, NodeState, matchConstraints, parseConstraints } from '@swarmkit-ts/api'
import type { Constraint, GenericResource, Platform, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { MAX_FAILURES, hostPortKeys } from './node-info.ts'
import type { NodeInfo } from './node-info.ts'

/** The filters, in pipeline order. */
export const FilterKind = {
  READY: 'ready',
  RESOURCES: 'resources',
  PLUGINS: 'plugins',
  CONSTRAINTS: 'constraints',
  PLATFORM: 'platform',
  HOST_PORTS: 'host-ports',
  MAX_REPLICAS: 'max-replicas',
} as const
/** A filter of the pipeline. */
export type FilterKind = (typeof FilterKind)[keyof typeof FilterKind]

const ORDER: readonly FilterKind[] = Object.values(FilterKind)

/** SwarmKit's explanation of `count` nodes failing `kind` (its `Explain` wording). */
export function explainFilter(kind: FilterKind, count: number): string {
  const nodes = count === 1 ? '1 node' : `${String(count)} nodes`
  switch (kind) {
    case FilterKind.READY:
      return `${nodes} not available for new tasks`
    case FilterKind.RESOURCES:
      return `insufficient resources on ${nodes}`
    case FilterKind.PLUGINS:
      return `missing plugin on ${nodes}`
    case FilterKind.CONSTRAINTS:
      return `scheduling constraints not satisfied on ${nodes}`
    case FilterKind.PLATFORM:
      return `unsupported platform on ${nodes}`
    case FilterKind.HOST_PORTS:
      return `host-mode port already in use on ${nodes}`
    case FilterKind.MAX_REPLICAS:
      return 'max replicas per node limit exceed'
  }
}

/**
 * `no suitable node (<reason>; …)` from failure counts per filter, reasons sorted by count
 * (descending, ties in pipeline order); `no suitable node` when no filter failed.
 */
export function explainFailures(counts: ReadonlyMap<FilterKind, number>): string {
  const parts = ORDER.filter((k) => (counts.get(k) ?? 0) > 0)
    .map((k, i) => ({ k, i, n: counts.get(k) ?? 0 }))
    .sort((a, b) => b.n - a.n || a.i - b.i)
    .map(({ k, n }) => explainFilter(k, n))
  return parts.length === 0 ? 'no suitable node' : `no suitable node (${parts.join('; ')})`
}

/** Normalises an architecture name as SwarmKit does (x86_64 → amd64, aarch64 → arm64). */
export function normalizeArch(arch: string | undefined): string {
  if (arch === 'x86_64') return 'amd64'
  if (arch === 'aarch64') return 'arm64'
  return arch ?? ''
}

/** Options of {@link TaskFilter}. */
export interface TaskFilterOptions {
  /** The driver of a network by id, for the network plugin check (unknown: not checked). */
  readonly networkDriver?: (networkId: string) => string | undefined
}

/**
 * The pipeline set up for one task (SwarmKit's `SetTask` on every filter): a group shares one
 * spec, so one TaskFilter serves the whole group.
 */
export class TaskFilter {
  readonly #serviceId: string
  readonly #cpu: number
  readonly #memory: number
  readonly #generic: readonly GenericResource[]
  readonly #plugins: readonly { type: string; name: string }[]
  readonly #constraints: readonly Constraint[] | undefined
  readonly #platforms: readonly Platform[]
  readonly #ports: readonly string[]
  readonly #maxReplicas: number
  #staticKey: string | undefined

  /** The pipeline for `task`. */
  constructor(task: Frozen<Task>, options: TaskFilterOptions = {}) {
    this.#serviceId = task.serviceId
    const r = task.spec.resources?.reservations
    this.#cpu = r?.nanoCpus ?? 0
    this.#memory = r?.memoryBytes ?? 0
    this.#generic = sumDiscrete(r?.generic ?? [])
    const plugins: { type: string; name: string }[] = []
    for (const m of task.spec.container?.mounts ?? []) {
      const d = m.volumeOptions?.driverConfig?.name
      if (m.type === 'volume' && d !== undefined && d !== '' && d !== 'local') plugins.push({ type: 'Volume', name: d })
    }
    for (const n of task.networks ?? []) {
      const d = options.networkDriver?.(n.networkId)
      if (d !== undefined && d !== '') plugins.push({ type: 'Network', name: d })
    }
    if (task.spec.logDriver !== undefined) plugins.push({ type: 'Log', name: task.spec.logDriver.name })
    this.#plugins = plugins
    const expressions = task.spec.placement?.constraints ?? []
    let constraints: Constraint[] | undefined
    try {
      constraints = expressions.length === 0 ? undefined : parseConstraints(expressions)
    } catch {
      constraints = undefined // validated on create; a bad one disables the filter, as in SwarmKit
    }
    this.#constraints = constraints
    this.#platforms = task.spec.placement?.platforms ?? []
    this.#ports = hostPortKeys(task)
    this.#maxReplicas = task.spec.placement?.maxReplicas ?? 0
  }

  /** The first filter `node` fails, in pipeline order, or undefined when the task may run there. */
  check(node: NodeInfo): FilterKind | undefined {
    const n = node.node
    if (n.status.state !== NodeState.READY || n.spec.availability !== NodeAvailability.ACTIVE) return FilterKind.READY
    if (!this.fitsResources(node)) return FilterKind.RESOURCES
    if (this.#plugins.length > 0 && !this.#hasPlugins(node)) return FilterKind.PLUGINS
    if (this.#constraints !== undefined && !matchConstraints(this.#constraints, n)) return FilterKind.CONSTRAINTS
    if (this.#platforms.length > 0 && !this.#platformMatches(node)) return FilterKind.PLATFORM
    return this.#checkPlaced(node)
  }

  /**
   * Whether the node passes the filters that depend on the node alone (ready, plugins,
   * constraints, platform): the same for every task with the same {@link staticKey}.
   */
  passesStatic(node: NodeInfo): boolean {
    const n = node.node
    if (n.status.state !== NodeState.READY || n.spec.availability !== NodeAvailability.ACTIVE) return false
    if (this.#plugins.length > 0 && !this.#hasPlugins(node)) return false
    if (this.#constraints !== undefined && !matchConstraints(this.#constraints, n)) return false
    return this.#platforms.length === 0 || this.#platformMatches(node)
  }

  /** A key equal for two tasks exactly when {@link passesStatic} judges every node the same. */
  get staticKey(): string {
    this.#staticKey ??= JSON.stringify([this.#plugins, this.#constraints ?? [], this.#platforms])
    return this.#staticKey
  }

  /**
   * Whether the task still fits a node that passed {@link check} after tasks were placed on it:
   * only resources, host ports and max replicas change with placements.
   */
  stillFits(node: NodeInfo): boolean {
    return this.fitsResources(node) && this.#checkPlaced(node) === undefined
  }

  #checkPlaced(node: NodeInfo): FilterKind | undefined {
    for (const p of this.#ports) if (node.hostPorts.has(p)) return FilterKind.HOST_PORTS
    if (this.#maxReplicas > 0 && node.serviceTasks(this.#serviceId) >= this.#maxReplicas) return FilterKind.MAX_REPLICAS
    return undefined
  }

  /** The generic resources the task reserves (discrete requests of one kind summed). */
  get generic(): readonly GenericResource[] {
    return this.#generic
  }

  /** Whether the reservations fit what is available on the node. */
  fitsResources(node: NodeInfo): boolean {
    if (this.#cpu > node.availableNanoCpus || this.#memory > node.availableMemoryBytes) return false
    for (const g of this.#generic) {
      if ('namedValue' in g) {
        if (!(node.availableNamed.get(g.kind)?.includes(g.namedValue) ?? false)) return false
      } else if (g.discreteValue + this.#namedOf(g.kind) > (node.availableNamed.get(g.kind)?.length ?? 0) + (node.availableDiscrete.get(g.kind) ?? 0)) {
        return false
      }
    }
    return true
  }

  #namedOf(kind: string): number {
    let n = 0
    for (const g of this.#generic) if (g.kind === kind && 'namedValue' in g) n++
    return n
  }

  /** Whether the node is faulty for this task's service (≥ 5 failures within 5 min before `now`). */
  faulty(node: NodeInfo, now: number): boolean {
    return node.recentFailures(this.#serviceId, now) >= MAX_FAILURES
  }

  #hasPlugins(node: NodeInfo): boolean {
    const engine = node.node.description?.engine
    if (engine === undefined) return true // not an engine: plugins are not checked
    const have = engine.plugins ?? []
    for (const want of this.#plugins) {
      let typeFound = false
      let found = false
      for (const p of have) {
        if (p.type !== want.type) continue
        typeFound = true
        if (p.name === want.name || p.name === `${want.name}:latest`) {
          found = true
          break
        }
      }
      // An engine that reports no log plugins at all is older: its log drivers are not checked.
      if (!found && (want.type !== 'Log' || typeFound)) return false
    }
    return true
  }

  #platformMatches(node: NodeInfo): boolean {
    const p = node.node.description?.platform
    if (p === undefined) return false
    const arch = normalizeArch(p.architecture)
    return this.#platforms.some(
      (want) =>
        (want.architecture === undefined || want.architecture === '' || normalizeArch(want.architecture) === arch) &&
        (want.os === undefined || want.os === '' || want.os === p.os),
    )
  }
}

/**
 * Takes the task's generic reservations from the node's free ones: a named request takes that
 * value; a discrete request takes the lowest free named values of its kind first, then discrete
 * units. Returns what was assigned (call only after {@link TaskFilter.fitsResources}).
 */
export function claimGeneric(node: NodeInfo, wanted: readonly GenericResource[]): GenericResource[] {
  const out: GenericResource[] = []
  const takenNamed = new Set(wanted.flatMap((g) => ('namedValue' in g ? [`${g.kind}=${g.namedValue}`] : [])))
  for (const g of wanted) {
    if ('namedValue' in g) {
      out.push({ kind: g.kind, namedValue: g.namedValue })
      continue
    }
    let need = g.discreteValue
    for (const v of node.availableNamed.get(g.kind) ?? []) {
      if (need === 0) break
      if (takenNamed.has(`${g.kind}=${v}`)) continue
      out.push({ kind: g.kind, namedValue: v })
      need--
    }
    if (need > 0) out.push({ kind: g.kind, discreteValue: need })
  }
  return out
}

/** The generic requests with discrete amounts of one kind summed into one entry. */
function sumDiscrete(generic: readonly GenericResource[]): GenericResource[] {
  const out: GenericResource[] = []
  const discrete = new Map<string, number>()
  for (const g of generic) {
    if ('namedValue' in g) out.push(g)
    else discrete.set(g.kind, (discrete.get(g.kind) ?? 0) + g.discreteValue)
  }
  for (const [kind, discreteValue] of discrete) out.push({ kind, discreteValue })
  return out
}
