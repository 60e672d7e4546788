/**
 * The options of `Cluster.simulate` ({@link SimulateOptions}), their validation and defaults.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

/** Random background faults of a simulated cluster, drawn from its seed. */
export interface SimulatedFaults {
  /** Probability in [0, 1] that a Raft message is lost. @default 0 */
  readonly messageLoss?: number
  /** Transit time of each Raft message, drawn uniformly in `[min, max]` virtual ms. @default [1, 1] */
  readonly messageDelayMs?: readonly [number, number]
  /** Probability in [0, 1] that a started task exits non-zero (exit code 1) a little later. @default 0 */
  readonly taskFailureRate?: number
}

/** Options of `Cluster.simulate` / `simulateCluster` (`@swarmkit-ts/core/testing`). */
export interface SimulateOptions {
  /** Managers (Raft voters), 1..7. @default 3 */
  readonly managers?: number
  /** Workers (agents on a `FakeRuntime`), 0 or more. @default 3 */
  readonly workers?: number
  /** The seed of every id, election timeout and fault draw. @default 1 */
  readonly seed?: number
  /** The container runtime of every node: `'fake'` (a `FakeRuntime`; image `busybox:fake` runs until stopped). @default 'fake' */
  readonly runtime?: 'fake'
  /** Random background faults. @default none */
  readonly faults?: SimulatedFaults
  /** What each worker reports as its resources. @default 4 CPUs, 8 GiB */
  readonly nodeResources?: { readonly nanoCpus: number; readonly memoryBytes: number }
  /** Raft timing of the managers (ticks of `tickMs` virtual ms). @default tickMs 100, electionTick 10, heartbeatTick 1 */
  readonly raft?: { readonly tickMs?: number; readonly electionTick?: number; readonly heartbeatTick?: number; readonly snapshotInterval?: number }
  /** The dispatcher's heartbeat period (virtual ms). @default 5000 */
  readonly heartbeatPeriodMs?: number
  /** Record trace events (see `SimulatedCluster.trace`). @default true */
  readonly trace?: boolean
}

/** {@link SimulateOptions} with every default filled in. @internal */
export interface ResolvedSimulateOptions {
  readonly managers: number
  readonly workers: number
  readonly seed: number
  readonly faults: { readonly messageLoss: number; readonly messageDelayMs: readonly [number, number]; readonly taskFailureRate: number }
  readonly nodeResources: { readonly nanoCpus: number; readonly memoryBytes: number }
  readonly raft: { readonly tickMs: number; readonly electionTick: number; readonly heartbeatTick: number; readonly snapshotInterval: number }
  readonly heartbeatPeriodMs: number
  readonly trace: boolean
}

/** Most managers a simulated cluster has (as Docker advises: at most 7). */
export const MAX_SIMULATED_MANAGERS = 7

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(field, `must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}], got ${String(value)}`)
  }
  return value
}

function probability(value: unknown, field: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new InvalidArgumentError(field, `must be a number in [0, 1], got ${String(value)}`)
  return value
}

function positive(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(field, `must be a positive number, got ${String(value)}`)
  return value
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError(field, 'must be an object')
  return value as Record<string, unknown>
}

const ANY = Number.MAX_SAFE_INTEGER

/**
 * Validates `options` and fills in the defaults.
 *
 * @throws InvalidArgumentError naming the first bad field (e.g. `managers`, `faults.messageLoss`).
 * @internal
 */
export function resolveSimulateOptions(options: SimulateOptions | undefined): ResolvedSimulateOptions {
  const o = object(options ?? {}, '')
  const known = new Set(['managers', 'workers', 'seed', 'runtime', 'faults', 'nodeResources', 'raft', 'heartbeatPeriodMs', 'trace'])
  for (const key of Object.keys(o)) if (!known.has(key)) throw new InvalidArgumentError(key, 'is not an option of Cluster.simulate')
  const managers = o['managers'] === undefined ? 3 : integer(o['managers'], 'managers', 1, MAX_SIMULATED_MANAGERS)
  const workers = o['workers'] === undefined ? 3 : integer(o['workers'], 'workers', 0, ANY)
  const seed = o['seed'] === undefined ? 1 : integer(o['seed'], 'seed', 0, ANY)
  if (o['runtime'] !== undefined && o['runtime'] !== 'fake') throw new InvalidArgumentError('runtime', `must be 'fake', got ${JSON.stringify(o['runtime'])}`)
  const f = object(o['faults'] ?? {}, 'faults')
  const messageLoss = f['messageLoss'] === undefined ? 0 : probability(f['messageLoss'], 'faults.messageLoss')
  const taskFailureRate = f['taskFailureRate'] === undefined ? 0 : probability(f['taskFailureRate'], 'faults.taskFailureRate')
  let messageDelayMs: readonly [number, number] = [1, 1]
  if (f['messageDelayMs'] !== undefined) {
    const d: unknown = f['messageDelayMs']
    if (!Array.isArray(d) || d.length !== 2) throw new InvalidArgumentError('faults.messageDelayMs', 'must be [min, max]')
    const min = integer(d[0], 'faults.messageDelayMs[0]', 0, ANY)
    const max = integer(d[1], 'faults.messageDelayMs[1]', min, ANY)
    messageDelayMs = [min, max]
  }
  const r = o['nodeResources'] === undefined ? undefined : object(o['nodeResources'], 'nodeResources')
  const nodeResources = r === undefined ? { nanoCpus: 4e9, memoryBytes: 8 * 1024 ** 3 } : { nanoCpus: integer(r['nanoCpus'], 'nodeResources.nanoCpus', 1, ANY), memoryBytes: integer(r['memoryBytes'], 'nodeResources.memoryBytes', 1, ANY) }
  const raftIn = object(o['raft'] ?? {}, 'raft')
  const tickMs = raftIn['tickMs'] === undefined ? 100 : positive(raftIn['tickMs'], 'raft.tickMs')
  const heartbeatTick = raftIn['heartbeatTick'] === undefined ? 1 : integer(raftIn['heartbeatTick'], 'raft.heartbeatTick', 1, ANY)
  const electionTick = raftIn['electionTick'] === undefined ? 10 : integer(raftIn['electionTick'], 'raft.electionTick', heartbeatTick + 1, ANY)
  const snapshotInterval = raftIn['snapshotInterval'] === undefined ? 10_000 : integer(raftIn['snapshotInterval'], 'raft.snapshotInterval', 0, ANY)
  const heartbeatPeriodMs = o['heartbeatPeriodMs'] === undefined ? 5000 : positive(o['heartbeatPeriodMs'], 'heartbeatPeriodMs')
  if (o['trace'] !== undefined && typeof o['trace'] !== 'boolean') throw new InvalidArgumentError('trace', 'must be a boolean')
  return {
    managers,
    workers,
    seed,
    faults: { messageLoss, messageDelayMs, taskFailureRate },
    nodeResources,
    raft: { tickMs, electionTick, heartbeatTick, snapshotInterval },
    heartbeatPeriodMs,
    trace: o['trace'] !== false,
  }
}
