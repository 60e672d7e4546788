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
import type { Clock } from '@swarmkit-ts/api'
import { ProposalDroppedError } from '@swarmkit-ts/raft'
import type { ConfigsApi, ControlApi, NetworksApi, NodesApi, SecretsApi, ServicesApi, TasksApi } from '../control/index.ts'
import { SimulationDeadlineError, type VirtualTime } from './driver.ts'
import type { SimManager } from './sim-manager.ts'
import type { TraceLog } from './trace.ts'

/** Bound of a handle call, in virtual ms (a guard: a call that never settles is a bug). */
export const CALL_MAX_VIRTUAL_MS = 600_000
/** How long a handle call waits for a leader before `SimulationDeadlineError`, in virtual ms. */
export const LEADER_WAIT_MS = 60_000

/** Runs one control call on the leader (see {@link LeaderControlHost.call}). */
export interface LeaderControlHost {
  /** Runs `fn` on the leader's control API, driving virtual time until it settles. */
  call<R>(name: string, args: readonly unknown[], fn: (control: ControlApi) => Promise<R>): Promise<R>
}

/** The names of the calls that write (recorded in the trace). */
const WRITES = new Set(['create', 'update', 'scale', 'rollback', 'remove', 'updateCluster', 'rotateJoinToken', 'rotateUnlockKey'])

/** A short description of a control call's arguments (for the trace). */
function describeArgs(args: readonly unknown[]): string {
  return args
    .filter((a) => a !== undefined)
    .map((a) => {
      if (typeof a === 'string' || typeof a === 'number' || typeof a === 'bigint') return String(a)
      const name = (a as { annotations?: { name?: unknown } }).annotations?.name
      return typeof name === 'string' ? name : '{…}'
    })
    .join(' ')
}

/** ` <id>` of a result with an id (for the trace). */
function describeResult(result: unknown): string {
  const id = (result as { id?: unknown } | undefined)?.id
  return typeof id === 'string' ? ` ${id.slice(0, 8)}` : ''
}

/** What a {@link LeaderRouter} works with. */
export interface LeaderRouterInit {
  /** The current leader, if any. */
  readonly leader: () => SimManager | undefined
  /** The cluster's clock (the retry timers). */
  readonly clock: Clock
  /** What drives virtual time while a call is pending. */
  readonly time: VirtualTime
  /** Where writes are recorded. */
  readonly trace: TraceLog
  /** Virtual ms between two tries while there is no leader. */
  readonly retryMs: number
}

/**
 * Runs control calls on the current leader as a client that follows it: a read first confirms
 * leadership with a ReadIndex round (so that a deposed leader that has not noticed yet never
 * answers with stale data); a new leader answers only once it applied its predecessors' writes
 * (its `readyLeaderControl`); a call refused before anything was proposed is tried again on the
 * next leader; with no leader for {@link LEADER_WAIT_MS}, `SimulationDeadlineError`.
 */
export class LeaderRouter implements LeaderControlHost {
  readonly #init: LeaderRouterInit

  constructor(init: LeaderRouterInit) {
    this.#init = init
  }

  call<R>(name: string, args: readonly unknown[], fn: (control: ControlApi) => Promise<R>): Promise<R> {
    return this.#init.time.drive(this.#attempt(name, args, fn), CALL_MAX_VIRTUAL_MS, name)
  }

  async #attempt<R>(name: string, args: readonly unknown[], fn: (control: ControlApi) => Promise<R>): Promise<R> {
    const { clock, trace, retryMs } = this.#init
    const write = WRITES.has(name.slice(name.lastIndexOf('.') + 1))
    const deadline = clock.now() + LEADER_WAIT_MS
    for (;;) {
      const leader = this.#init.leader()
      // A read waits for a ReadIndex round first, so that a deposed leader that has not noticed
      // never answers with stale data; any failure of it (leadership lost, the manager crashed)
      // means the read has not happened: try again. A write needs none: the leader's control API
      // validates it only once its store holds what earlier terms committed (`readyLeaderControl`,
      // as on a real manager), and Raft refuses it on a deposed leader.
      const confirmed = leader === undefined ? false : write || (await leader.member.raft.linearizableRead().then(() => leader.up, () => false))
      if (leader !== undefined && confirmed) {
        try {
          const result = await fn(leader.control)
          if (write) trace.add(`control ${name} ${describeArgs(args)} -> ok${describeResult(result)}`)
          return result
        } catch (err) {
          if (!isRetryable(err)) {
            if (write) trace.add(`control ${name} ${describeArgs(args)} -> ${(err as Error).name}`)
            throw err
          }
        }
      }
      if (clock.now() >= deadline) throw new SimulationDeadlineError(`simulate: ${name}: no leader answered within ${LEADER_WAIT_MS} virtual ms`, LEADER_WAIT_MS)
      await new Promise<void>((resolve) => clock.setTimeout(resolve, retryMs))
    }
  }
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
