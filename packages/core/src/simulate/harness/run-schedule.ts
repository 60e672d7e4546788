/**
 * Applies a {@link ClusterSchedule} to a simulated cluster, recording every control call in a
 * {@link ClusterHistory}; and {@link convergeCluster}, which heals the cluster and lets it settle
 * before the converged invariants are checked.
 *
 * @module
 */
import { FailedPreconditionError, TaskState } from '@swarmkit-ts/api'
import type { ServiceSpec, UpdateFailureAction } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { SIMULATED_IMAGE } from '../sim-worker.ts'
import type { SimulatedCluster, SimulatedNode } from '../types.ts'
import { ClusterHistory, HARNESS_TOKEN_LABEL, specValue } from './history.ts'
import type { ClusterOperation, ClusterSchedule, ClusterStep } from './schedule.ts'
import { isOperation } from './schedule.ts'
import { checkStoreInvariants } from './store-invariants.ts'

/** Options of {@link runClusterSchedule}. */
export interface RunScheduleOptions {
  /** Record into this history (to run several schedules into one). @default a new one */
  readonly history?: ClusterHistory
  /**
   * Skip a leader crash that would leave fewer running managers than a quorum (the calls that
   * follow would wait out the simulation's bound). @default true
   */
  readonly keepQuorum?: boolean
}

/** What {@link runClusterSchedule} leaves: the history and the services the harness created. */
export interface ScheduleRun {
  /** Every control call made, with its outcome. */
  readonly history: ClusterHistory
  /** The names of the services created (`s1`, `s2`, …), removed ones included. */
  readonly services: readonly string[]
}

/** Mutable state of one run. */
interface RunState {
  readonly cluster: SimulatedCluster
  readonly history: ClusterHistory
  readonly keepQuorum: boolean
  /** Names created, in order; live ones are those not in `removed`. */
  readonly names: string[]
  readonly removed: Set<string>
  /** Writes made so far (for unique tokens). */
  writes: number
  /** Concurrent calls not awaited yet. */
  pending: Promise<unknown>[]
}

/** The spec of a service the harness creates for `op`, its write named by `token`. */
export function harnessServiceSpec(name: string, op: Extract<ClusterOperation, { kind: 'create-service' }>, token: string): ServiceSpec {
  return {
    annotations: { name, labels: { [HARNESS_TOKEN_LABEL]: token } },
    mode: op.replicas === null ? { global: {} } : { replicated: { replicas: op.replicas } },
    task: {
      container: { image: SIMULATED_IMAGE, env: [`HARNESS_TOKEN=${token}`] },
      ...(op.reserveNanoCpus === 0 ? {} : { resources: { reservations: { nanoCpus: op.reserveNanoCpus } } }),
      ...(op.maxReplicasPerNode === 0 ? {} : { placement: { maxReplicas: op.maxReplicasPerNode } }),
    },
    update: { parallelism: op.parallelism, failureAction: op.failureAction, order: op.order },
  }
}

/** `spec` rewritten by write `token`: a new environment (so every task is replaced) and failure action. */
function updatedSpec(spec: Frozen<ServiceSpec>, token: string, failureAction: UpdateFailureAction): ServiceSpec {
  const s = spec as ServiceSpec
  return {
    ...s,
    annotations: { ...s.annotations, labels: { ...s.annotations.labels, [HARNESS_TOKEN_LABEL]: token } },
    task: { ...s.task, container: { ...(s.task.container ?? { image: SIMULATED_IMAGE }), env: [`HARNESS_TOKEN=${token}`] } },
    update: { ...s.update, failureAction },
  }
}

const pick = <T>(items: readonly T[], i: number): T | undefined => (items.length === 0 ? undefined : items[i % items.length])

function liveNames(st: RunState): string[] {
  return st.names.filter((n) => !st.removed.has(n))
}

/** Applies one control operation (its calls recorded). */
async function operate(st: RunState, op: ClusterOperation): Promise<void> {
  const { cluster, history } = st
  const services = cluster.services
  const token = (): string => `w${++st.writes}`
  switch (op.kind) {
    case 'create-service': {
      const name = `s${st.names.length + 1}`
      st.names.push(name)
      const spec = harnessServiceSpec(name, op, token())
      await history.service({ type: 'create', name, value: specValue(spec) }, () => services.create(spec))
      return
    }
    case 'update-service': {
      const name = pick(liveNames(st), op.service)
      if (name === undefined) return
      const current = await history.service({ type: 'get', name }, () => services.get(name))
      if (current === undefined) return
      const spec = updatedSpec(current.spec, token(), op.failureAction)
      await history.service({ type: 'update', name, value: specValue(spec) }, () => services.update(current.id, spec))
      return
    }
    case 'scale-service':
    case 'rollback-service':
    case 'remove-service': {
      const name = pick(liveNames(st), op.service)
      if (name === undefined) return
      if (op.kind === 'remove-service') st.removed.add(name)
      // By name: the control API takes an id or a name.
      if (op.kind === 'scale-service') await history.service({ type: 'scale', name, replicas: op.replicas }, () => services.scale(name, op.replicas))
      else if (op.kind === 'rollback-service') await history.service({ type: 'rollback', name }, () => services.rollback(name))
      else await history.service({ type: 'remove', name }, () => services.remove(name))
      return
    }
    case 'read-service': {
      const name = pick(st.names, op.service)
      if (name !== undefined) await history.service({ type: 'get', name }, () => services.get(name))
      return
    }
    case 'set-availability': {
      const node = pick(cluster.members(), op.node)
      if (node !== undefined) await history.availability(node.id, op.availability, () => cluster.nodes.setAvailability(node.id, op.availability))
      return
    }
    case 'advance':
      return cluster.advance(op.ms)
  }
}

/** The running managers. */
function upManagers(cluster: SimulatedCluster): SimulatedNode[] {
  return cluster.members().filter((m) => m.role === 'manager' && m.up)
}

/** Applies one fault. */
async function inject(st: RunState, step: Exclude<ClusterStep, ClusterOperation>): Promise<void> {
  const { cluster } = st
  const workers = cluster.members().filter((m) => m.role === 'worker')
  const managers = cluster.members().filter((m) => m.role === 'manager')
  switch (step.kind) {
    case 'crash-worker': {
      const w = pick(workers, step.worker)
      if (w?.up === true) cluster.crash(w.id)
      return
    }
    case 'restart-worker': {
      const w = pick(workers, step.worker)
      if (w !== undefined && !w.up) await cluster.restart(w.id)
      return
    }
    case 'crash-leader': {
      const leader = cluster.leader()
      const quorum = Math.floor(managers.length / 2) + 1
      if (leader !== undefined && (!st.keepQuorum || upManagers(cluster).length - 1 >= quorum)) cluster.crash(leader.id)
      return
    }
    case 'restart-manager': {
      const m = pick(managers, step.manager)
      if (m !== undefined && !m.up) await cluster.restart(m.id)
      return
    }
    case 'partition': {
      const members = cluster.members()
      const side = new Set(step.members.map((i) => members[i % members.length]?.id ?? ''))
      const leader = cluster.leader()
      if (step.leader && leader !== undefined) side.add(leader.id)
      side.delete('')
      if (side.size > 0 && side.size < members.length) cluster.partition([...side].sort())
      return
    }
    case 'heal':
      return cluster.heal()
    case 'slow-disk': {
      const m = pick(managers, step.manager)
      if (m !== undefined) cluster.slowDisk(m.id, step.ms)
      return
    }
    case 'fail-task': {
      const up = new Set(workers.filter((w) => w.up).map((w) => w.id))
      const running = cluster
        .store()
        .view((tx) => tx.tasks.find({ desiredState: TaskState.RUNNING }))
        .filter((t) => t.status.state === TaskState.RUNNING && up.has(t.nodeId))
        .map((t) => t.id)
        .sort()
      const id = pick(running, step.task)
      try {
        if (id !== undefined) cluster.failTask(id)
      } catch (err) {
        // The store may still show a task RUNNING whose container is gone (its worker crashed and came back).
        if (!(err instanceof FailedPreconditionError)) throw err
      }
      return
    }
  }
}

/**
 * Runs `schedule` on `cluster`: each operation's control calls are recorded in the history (a
 * refused or failed call does not stop the schedule); faults are applied as they come. A
 * `concurrent` operation is started and left running while the next steps start; the calls in
 * flight are awaited before any step that moves time or restarts a node, and at the end.
 */
export async function runClusterSchedule(cluster: SimulatedCluster, schedule: ClusterSchedule, options: RunScheduleOptions = {}): Promise<ScheduleRun> {
  const st: RunState = {
    cluster,
    history: options.history ?? new ClusterHistory(() => cluster.now()),
    keepQuorum: options.keepQuorum ?? true,
    names: [],
    removed: new Set(),
    writes: 0,
    pending: [],
  }
  const flush = async (): Promise<void> => {
    const pending = st.pending
    st.pending = []
    await Promise.all(pending)
  }
  for (const step of schedule) {
    if (isOperation(step)) {
      const running = operate(st, step)
      st.pending.push(running)
      if (step.concurrent !== true) await flush()
    } else {
      if (step.kind === 'restart-worker' || step.kind === 'restart-manager') await flush()
      await inject(st, step)
    }
  }
  await flush()
  return { history: st.history, services: st.names }
}

/** Options of {@link convergeCluster}. */
export interface ConvergeOptions {
  /** Virtual time allowed to converge. @default 600_000 (10 minutes) */
  readonly maxVirtualMs?: number
  /** Virtual time the converged state must then hold for. @default 15_000 */
  readonly holdMs?: number
}

/**
 * Heals the cluster (partition removed, every crashed node restarted, every disk fast again) and
 * moves virtual time until the leader's store shows a converged cluster (no violation of the
 * store invariants) that still holds `holdMs` later. Resolves true when it did, false when
 * `maxVirtualMs` passed first (the invariants then say what is left).
 */
export async function convergeCluster(cluster: SimulatedCluster, options: ConvergeOptions = {}): Promise<boolean> {
  cluster.heal()
  for (const m of cluster.members()) {
    if (!m.up) await cluster.restart(m.id)
    if (m.role === 'manager') cluster.slowDisk(m.id, 0)
  }
  const maxVirtualMs = options.maxVirtualMs ?? 600_000
  const holdMs = options.holdMs ?? 15_000
  const deadline = cluster.now() + maxVirtualMs
  const converged = (): boolean => cluster.leader() !== undefined && checkStoreInvariants(cluster.store()).length === 0
  while (cluster.now() < deadline) {
    try {
      await cluster.runUntil(converged, { maxVirtualMs: Math.max(1, deadline - cluster.now()) })
    } catch {
      return false
    }
    await cluster.advance(holdMs)
    if (converged()) return true
  }
  return false
}
