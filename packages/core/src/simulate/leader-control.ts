/**
 * The control API of a simulated cluster as a client sees it: every call goes to the current
 * leader's `StoreControlApi` — waiting (in virtual time) for a leader when there is none, and
 * trying again on the next one when the call was refused before anything was proposed
 * (`NotLeaderError`, a dropped proposal) — while the simulation drives virtual time. Writes are
 * recorded in the trace.
 *
 * @module
 */
import { NotLeaderError } from '@swarmkit-ts/api'
import { ProposalDroppedError } from '@swarmkit-ts/raft'
import type { ConfigsApi, ControlApi, NetworksApi, NodesApi, SecretsApi, ServicesApi, TasksApi } from '../control/index.ts'

/** Runs one control call on the leader (see {@link LeaderControlHost.call}). */
export interface LeaderControlHost {
  /** Runs `fn` on the leader's control API, driving virtual time until it settles. */
  call<R>(name: string, args: readonly unknown[], fn: (control: ControlApi) => Promise<R>): Promise<R>
}

/** Whether `err` says the call reached no leader and changed nothing (worth another try). */
export function isRetryable(err: unknown): boolean {
  return err instanceof NotLeaderError || err instanceof ProposalDroppedError
}

type Method = (...args: unknown[]) => unknown

/** Every method name of an api, exactly (a missing or extra one fails to compile). */
type Names<T> = Readonly<Record<keyof T, true>>

const SERVICES: Names<ServicesApi> = { create: true, get: true, list: true, update: true, scale: true, rollback: true, remove: true }
const TASKS: Names<TasksApi> = { get: true, list: true }
const NODES: Names<NodesApi> = { get: true, list: true, update: true, remove: true }
const NETWORKS: Names<NetworksApi> = { create: true, get: true, list: true, remove: true }
const SECRETS: Names<SecretsApi> = { create: true, get: true, list: true, update: true, remove: true }
/** The control API's calls on the cluster object. */
type TopApi = Omit<ControlApi, 'services' | 'tasks' | 'nodes' | 'networks' | 'secrets' | 'configs' | 'watch'>

const TOP: Names<TopApi> = {
  getCluster: true,
  updateCluster: true,
  joinTokens: true,
  rotateJoinToken: true,
  unlockKey: true,
  rotateUnlockKey: true,
}

/** An object whose every method `key` runs `pick(control)[key](...args)` through `host.call`. */
function routed<T extends object>(host: LeaderControlHost, prefix: string, pick: (c: ControlApi) => object, names: Names<T>): T {
  const out: Record<string, Method> = {}
  for (const key of Object.keys(names)) {
    out[key] = (...args: unknown[]) =>
      host.call(`${prefix}${key}`, args, (c) => {
        const target = pick(c) as Record<string, Method>
        const fn = target[key]
        if (fn === undefined) throw new TypeError(`no method ${prefix}${key}`)
        return Promise.resolve(fn.apply(target, args))
      })
  }
  return out as unknown as T
}

/** A `ControlApi` routed to the leader through `host`; `watch` is given (it is a stream, not a call). */
export function leaderControl(host: LeaderControlHost, watch: ControlApi['watch']): ControlApi {
  return {
    ...routed<TopApi>(host, '', (c) => c, TOP),
    services: routed<ServicesApi>(host, 'services.', (c) => c.services, SERVICES),
    tasks: routed<TasksApi>(host, 'tasks.', (c) => c.tasks, TASKS),
    nodes: routed<NodesApi>(host, 'nodes.', (c) => c.nodes, NODES),
    networks: routed<NetworksApi>(host, 'networks.', (c) => c.networks, NETWORKS),
    secrets: routed<SecretsApi>(host, 'secrets.', (c) => c.secrets, SECRETS),
    configs: routed<ConfigsApi>(host, 'configs.', (c) => c.configs, SECRETS),
    watch,
  }
}
