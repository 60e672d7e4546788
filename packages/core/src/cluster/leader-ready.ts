/**
 * {@link readyLeaderControl}: the leader's own control API, answering only once this manager's
 * store holds every write committed before its term. A new leader is elected with entries of
 * earlier terms committed but not yet applied to its store (they apply once its term's first entry
 * commits, a few ms later): a control call served in between validated against that stale store —
 * `services.scale` of a service whose create was acknowledged answered NotFoundError. (Found by
 * the simulated cluster's linearizability check.)
 *
 * @module
 */
import { NotLeaderError } from '@swarmkit-ts/api'
import type { ConfigsApi, ControlApi, NetworksApi, NodesApi, SecretsApi, ServicesApi, TasksApi } from '../control/index.ts'

/**
 * Resolves once this manager's store is up to date for its term; `undefined` when it is already
 * (the steady state: no wait at all). A rejection means leadership was lost first.
 */
export type LeaderReadyGate = () => Promise<void> | undefined

type Method = (...args: unknown[]) => unknown

/** `api` with every method waiting for `gate` first (a failed gate is a `NotLeaderError`: nothing was done). */
function gated<T extends object>(api: T, gate: LeaderReadyGate): T {
  const out: Record<string, unknown> = {}
  const target = api as Record<string, unknown>
  for (let p: object | null = api; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const key of Object.getOwnPropertyNames(p)) {
      const fn = target[key]
      if (key === 'constructor' || key in out || typeof fn !== 'function') continue
      const method = fn as Method
      out[key] = (...args: unknown[]): unknown => {
        const wait = gate()
        if (wait === undefined) return method.apply(api, args)
        return wait.then(
          () => method.apply(api, args),
          (err: unknown) => {
            throw new NotLeaderError({ message: 'leadership changed before the call was served', cause: err })
          },
        )
      }
    }
  }
  return out as T
}

/**
 * `local` (the leader's `StoreControlApi`) with every call waiting for `gate` first; `watch` is
 * passed through (it reads the store as it is, then follows it).
 */
export function readyLeaderControl(local: ControlApi, gate: LeaderReadyGate): ControlApi {
  return {
    services: gated<ServicesApi>(local.services, gate),
    tasks: gated<TasksApi>(local.tasks, gate),
    nodes: gated<NodesApi>(local.nodes, gate),
    networks: gated<NetworksApi>(local.networks, gate),
    secrets: gated<SecretsApi>(local.secrets, gate),
    configs: gated<ConfigsApi>(local.configs, gate),
    getCluster: (...a) => gate()?.then(() => local.getCluster(...a), notLeader) ?? local.getCluster(...a),
    updateCluster: (...a) => gate()?.then(() => local.updateCluster(...a), notLeader) ?? local.updateCluster(...a),
    joinTokens: (...a) => gate()?.then(() => local.joinTokens(...a), notLeader) ?? local.joinTokens(...a),
    rotateJoinToken: (...a) => gate()?.then(() => local.rotateJoinToken(...a), notLeader) ?? local.rotateJoinToken(...a),
    unlockKey: (...a) => gate()?.then(() => local.unlockKey(...a), notLeader) ?? local.unlockKey(...a),
    rotateUnlockKey: (...a) => gate()?.then(() => local.rotateUnlockKey(...a), notLeader) ?? local.rotateUnlockKey(...a),
    watch: (...a) => local.watch(...a),
  }
}

function notLeader(err: unknown): never {
  throw new NotLeaderError({ message: 'leadership changed before the call was served', cause: err })
}
