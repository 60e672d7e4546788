/**
 * The services handle of a simulated cluster: the leader-routed control API's services, with
 * `progress` and `waitConverged` computed on the leader's store (as a manager's handle computes
 * them on its own), and `logs` from the leader's log broker, while virtual time is driven (a
 * `follow` that sees no line within the simulation's bound fails with `SimulationDeadlineError`).
 *
 * @module
 */
import type { ServiceProgress } from '@swarmkit-ts/orchestrator'
import type { MemoryStore } from '@swarmkit-ts/store'
import { clusterServices, type ClusterServices, type ServiceWaitOptions } from '../cluster/handles.ts'
import type { ControlApi } from '../control/index.ts'
import type { LogMessage, LogsApi } from '../logs/index.ts'

/** What the services handle needs of the simulation. */
export interface SimulatedServicesHost {
  /** The leader's store (else a running manager's). */
  store(): MemoryStore
  /** The leader's log broker as a `LogsApi` (`UnavailableError` while there is none). */
  logs(): LogsApi
  /** Drives virtual time until `promise` settles (within the simulation's bound). */
  drive<T>(promise: Promise<T>, what: string): Promise<T>
}

/** Runs `use` with a signal that aborts when `options.signal` does or when `use` ends. */
async function withOwnSignal<T>(options: ServiceWaitOptions, use: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const own = new AbortController()
  const signal = options.signal === undefined ? own.signal : AbortSignal.any([options.signal, own.signal])
  try {
    return await use(signal)
  } finally {
    own.abort()
  }
}

/** See the module doc. */
export function simulatedServices(control: ControlApi, host: SimulatedServicesHost): ClusterServices {
  const on = (): ClusterServices => clusterServices(control, host.store(), () => host.logs())
  const services = control.services
  return {
    create: (spec) => services.create(spec),
    get: (id) => services.get(id),
    list: (filters) => services.list(filters),
    update: (id, spec, options) => services.update(id, spec, options),
    scale: (id, replicas, options) => services.scale(id, replicas, options),
    rollback: (id, options) => services.rollback(id, options),
    remove: (id) => services.remove(id),
    logs(idOrName, options = {}) {
      return {
        [Symbol.asyncIterator]: () => {
          const inner = on().logs(idOrName, options)[Symbol.asyncIterator]()
          return {
            next: (): Promise<IteratorResult<LogMessage>> => host.drive(inner.next(), `logs of ${idOrName}`),
            return: async (): Promise<IteratorResult<LogMessage>> => {
              await inner.return?.()
              return { done: true, value: undefined }
            },
          }
        },
      }
    },
    progress(idOrName, options = {}) {
      return {
        [Symbol.asyncIterator]: () => {
          const own = new AbortController()
          const signal = options.signal === undefined ? own.signal : AbortSignal.any([options.signal, own.signal])
          const inner = on().progress(idOrName, { signal })[Symbol.asyncIterator]()
          return {
            next: (): Promise<IteratorResult<ServiceProgress>> =>
              host.drive(inner.next(), `progress of ${idOrName}`).catch((err: unknown) => {
                own.abort()
                throw err
              }),
            return: async (): Promise<IteratorResult<ServiceProgress>> => {
              own.abort()
              await inner.return?.()
              return { done: true, value: undefined }
            },
          }
        },
      }
    },
    waitConverged(idOrName, options = {}) {
      return withOwnSignal(options, (signal) => host.drive(on().waitConverged(idOrName, { signal }), `convergence of ${idOrName}`))
    },
  }
}
