/**
 * The handles of a manager `Cluster` beyond the control API: services with `logs`, `progress` and
 * `waitConverged`, and nodes with availability, labels, promotion, demotion.
 *
 * Writes and reads go through the control API (forwarded to the leader on a follower); progress
 * is computed on this manager's own replicated store, after it has caught up with the version
 * the leader answered.
 *
 * @module
 */
import { InvalidArgumentError, NotFoundError, SequenceConflictError } from '@swarmkit-ts/api'
import type { Node, NodeAvailability, NodeSpec } from '@swarmkit-ts/api'
import { serviceProgress, type ServiceProgress } from '@swarmkit-ts/orchestrator'
import type { Frozen, MemoryStore } from '@swarmkit-ts/store'
import type { ControlApi, NodesApi, ServicesApi } from '../control/index.ts'
import type { LogMessage, LogStream, LogsApi } from '../logs/index.ts'

/** Options of {@link ClusterServices.logs}. */
export interface ServiceLogsOptions {
  /** Keep following: later lines, and the tasks that replace the service's tasks. @default false */
  readonly follow?: boolean
  /** Start with the last `tail` lines of each task. @default all */
  readonly tail?: number
  /** Only lines written at or after this time (a Date, or ms since the epoch). */
  readonly since?: Date | number
  /** Only these streams. @default both */
  readonly streams?: readonly LogStream[]
  /** Ends the iteration (normally) when aborted. */
  readonly signal?: AbortSignal
}

/** Options of {@link ClusterServices.progress} and {@link ClusterServices.waitConverged}. */
export interface ServiceWaitOptions {
  /** Ends the stream quietly (`progress`) or rejects with the signal's reason (`waitConverged`). */
  readonly signal?: AbortSignal
}

/** A manager's services handle: the control API's, plus logs and convergence. */
export interface ClusterServices extends ServicesApi {
  /** The lines of the service's tasks, from the workers through the leader's log broker. */
  logs(idOrName: string, options?: ServiceLogsOptions): AsyncIterable<LogMessage>
  /** Snapshots of the service's progress (orchestrator's `serviceProgress` on this manager's store). */
  progress(idOrName: string, options?: ServiceWaitOptions): AsyncIterable<ServiceProgress>
  /** Resolves with the first converged snapshot; `NotFoundError` when the service is removed meanwhile. */
  waitConverged(idOrName: string, options?: ServiceWaitOptions): Promise<ServiceProgress>
}

/** A manager's nodes handle: the control API's, plus one-field updates. */
export interface ClusterNodes extends NodesApi {
  /** Sets the node's availability (`active`, `pause`, `drain`). */
  setAvailability(idOrName: string, availability: NodeAvailability): Promise<Frozen<Node>>
  /** Replaces the node's spec labels (constraints `node.labels.*`). */
  setLabels(idOrName: string, labels: Readonly<Record<string, string>>): Promise<Frozen<Node>>
  /** Makes the node a manager (its desired role; the role manager and its certificate follow). */
  promote(idOrName: string): Promise<Frozen<Node>>
  /** Makes the manager a worker; refused (`FailedPreconditionError` reason `quorum`) when quorum would be lost. */
  demote(idOrName: string): Promise<Frozen<Node>>
}

/** Waits until `store` holds service `id` at `version` or later; false when the signal aborted first. */
async function caughtUp(store: MemoryStore, id: string, version: bigint, signal: AbortSignal | undefined): Promise<boolean> {
  const { result, watch } = store.viewAndWatch((tx) => tx.services.get(id), { kinds: 'service', id, actions: ['create', 'update', 'delete'] }, signal === undefined ? {} : { signal })
  try {
    if (result !== undefined && result.meta.version.index >= version) return true
    for await (const ev of watch) {
      if (ev.action === 'delete') return true // the progress stream reports it
      if (ev.action !== 'commit' && ev.object.meta.version.index >= version) return true
    }
    return false
  } finally {
    watch.close()
  }
}

const AVAILABILITIES: readonly NodeAvailability[] = ['active', 'pause', 'drain']
const RETRIES = 5

/** The services handle over `control` (writes) and `store` (progress). */
export function clusterServices(control: ControlApi, store: MemoryStore, logs: () => LogsApi): ClusterServices {
  const services = control.services
  const progress = (idOrName: string, options: ServiceWaitOptions = {}): AsyncIterable<ServiceProgress> => ({
    async *[Symbol.asyncIterator]() {
      const service = await services.get(idOrName)
      if (!(await caughtUp(store, service.id, service.meta.version.index, options.signal))) return
      yield* serviceProgress(store, service.id, options)
    },
  })
  return {
    create: (spec) => services.create(spec),
    get: (id) => services.get(id),
    list: (filters) => services.list(filters),
    update: (id, spec, options) => services.update(id, spec, options),
    scale: (id, replicas, options) => services.scale(id, replicas, options),
    rollback: (id, options) => services.rollback(id, options),
    remove: (id) => services.remove(id),
    progress,
    async waitConverged(idOrName, options = {}) {
      for await (const p of progress(idOrName, options)) {
        if (p.deleted) throw new NotFoundError('service', idOrName, { message: `service ${idOrName} was removed while waiting for it to converge` })
        if (p.converged) return p
      }
      options.signal?.throwIfAborted()
      throw new NotFoundError('service', idOrName)
    },
    logs(idOrName, options = {}) {
      const since = options.since instanceof Date ? options.since.getTime() : options.since
      return {
        async *[Symbol.asyncIterator]() {
          const service = await services.get(idOrName)
          const subscription = {
            ...(options.follow === undefined ? {} : { follow: options.follow }),
            ...(options.tail === undefined ? {} : { tail: options.tail }),
            ...(since === undefined ? {} : { since }),
            ...(options.streams === undefined ? {} : { streams: options.streams }),
          }
          yield* logs().subscribe({ selector: { serviceIds: [service.id] }, options: subscription }, options.signal === undefined ? {} : { signal: options.signal })
        },
      }
    },
  }
}

/** The nodes handle over `control`: one-field updates read the node and retry past concurrent writes. */
export function clusterNodes(control: ControlApi): ClusterNodes {
  const nodes = control.nodes
  const edit = async (idOrName: string, change: (spec: Frozen<NodeSpec>) => NodeSpec): Promise<Frozen<Node>> => {
    for (let attempt = 0; ; attempt++) {
      const node = await nodes.get(idOrName)
      try {
        return await nodes.update(node.id, change(node.spec), { version: node.meta.version.index })
      } catch (err) {
        if (!(err instanceof SequenceConflictError) || attempt >= RETRIES) throw err
      }
    }
  }
  return {
    get: (id) => nodes.get(id),
    list: (filters) => nodes.list(filters),
    update: (id, spec, options) => nodes.update(id, spec, options),
    remove: (id, options) => nodes.remove(id, options),
    setAvailability(idOrName, availability) {
      if (!AVAILABILITIES.includes(availability)) return Promise.reject(new InvalidArgumentError('availability', `must be one of ${AVAILABILITIES.join(', ')}, got ${String(availability)}`))
      return edit(idOrName, (spec) => ({ ...spec, availability }))
    },
    setLabels(idOrName, labels) {
      if (typeof labels !== 'object' || labels === null) return Promise.reject(new InvalidArgumentError('labels', 'must be an object of strings'))
      return edit(idOrName, (spec) => ({ ...spec, annotations: { ...spec.annotations, labels: { ...labels } } }))
    },
    promote: (idOrName) => edit(idOrName, (spec) => ({ ...spec, desiredRole: 'manager' })),
    demote: (idOrName) => edit(idOrName, (spec) => ({ ...spec, desiredRole: 'worker' })),
  }
}
