/**
 * Tasks as the orchestrators create and judge them: a new task from a service, dirty detection
 * against the service's current spec, and the service-mode and policy helpers every loop uses.
 *
 * @module
 */
import {
  DEFAULT_RESTART_POLICY,
  DEFAULT_UPDATE_CONFIG,
  NodeAvailability,
  NodeState,
  TaskState,
  generateId,
  matchConstraints,
  parseConstraints,
} from '@swarmkit-ts/api'
import type { Clock, Cluster, Node, Random, RestartPolicy, Service, ServiceModeKind, Task, TaskSpec, UpdateConfig } from '@swarmkit-ts/api'
import type { Frozen, NewObject } from '@swarmkit-ts/store'
import { specEqual } from './equality.ts'

/** The kind of a service's mode. */
export function modeKind(service: Frozen<Service>): ServiceModeKind {
  const m = service.spec.mode
  if ('replicated' in m) return 'replicated'
  if ('global' in m) return 'global'
  if ('replicatedJob' in m) return 'replicatedJob'
  return 'globalJob'
}

/** Whether the service is a replicated or global job. */
export function isJob(service: Frozen<Service>): boolean {
  const k = modeKind(service)
  return k === 'replicatedJob' || k === 'globalJob'
}

/** Whether the service places one task per node (global service or global job). */
export function isGlobalMode(service: Frozen<Service>): boolean {
  const k = modeKind(service)
  return k === 'global' || k === 'globalJob'
}

/** The state a task of this service should end up in: COMPLETE for jobs, RUNNING otherwise. */
export function runState(service: Frozen<Service>): TaskState {
  return isJob(service) ? TaskState.COMPLETE : TaskState.RUNNING
}

/** The task's restart policy with SwarmKit's defaults (condition any, delay 5 s, no limits) filled in. */
export function restartPolicy(spec: Frozen<TaskSpec>): Required<RestartPolicy> {
  const r = spec.restart
  return {
    condition: r?.condition ?? DEFAULT_RESTART_POLICY.condition,
    delayMs: r?.delayMs ?? DEFAULT_RESTART_POLICY.delayMs,
    maxAttempts: r?.maxAttempts ?? DEFAULT_RESTART_POLICY.maxAttempts,
    windowMs: r?.windowMs ?? DEFAULT_RESTART_POLICY.windowMs,
  }
}

/** The service's update config (`rollback: true`: its rollback config), defaults filled in. */
export function updateConfig(service: Frozen<Service>, rollback = false): Required<UpdateConfig> {
  const u = rollback ? service.spec.rollback : service.spec.update
  return {
    parallelism: u?.parallelism ?? DEFAULT_UPDATE_CONFIG.parallelism,
    delayMs: u?.delayMs ?? DEFAULT_UPDATE_CONFIG.delayMs,
    failureAction: u?.failureAction ?? DEFAULT_UPDATE_CONFIG.failureAction,
    monitorMs: u?.monitorMs ?? DEFAULT_UPDATE_CONFIG.monitorMs,
    maxFailureRatio: u?.maxFailureRatio ?? DEFAULT_UPDATE_CONFIG.maxFailureRatio,
    order: u?.order ?? DEFAULT_UPDATE_CONFIG.order,
  }
}

/**
 * A task's name, as SwarmKit's CLI derives it: `<service>.<slot>.<task id>`, with the node id in
 * place of the slot for global tasks (slot 0).
 */
export function taskName(serviceName: string, slot: number, nodeId: string, taskId: string): string {
  return `${serviceName}.${slot !== 0 ? String(slot) : nodeId}.${taskId}`
}

/**
 * A new task of `service` in `slot` (replicated: from 1; global: 0) on `nodeId` (global: the
 * node; replicated: '' for the scheduler to choose): state NEW ("created"), desired RUNNING,
 * the service's task spec, spec version and endpoint, and the log driver of the task spec or
 * else the cluster's default. Callers change `desiredState` (READY for a delayed start,
 * COMPLETE for jobs) and `jobIteration` as needed.
 */
export function newTask(
  cluster: Frozen<Cluster> | undefined,
  service: Frozen<Service>,
  slot: number,
  nodeId: string,
  effects: { readonly clock: Clock; readonly random: Random },
): NewObject<'task'> & { desiredState: TaskState } {
  const id = generateId(effects.random)
  const logDriver = service.spec.task.logDriver ?? cluster?.spec.taskDefaults?.logDriver
  return {
    id,
    spec: service.spec.task,
    ...(service.specVersion === undefined ? {} : { specVersion: service.specVersion }),
    serviceId: service.id,
    slot,
    nodeId,
    annotations: { name: taskName(service.spec.annotations.name, slot, nodeId, id) },
    serviceAnnotations: service.spec.annotations,
    status: { timestamp: effects.clock.now(), state: TaskState.NEW, message: 'created' },
    desiredState: TaskState.RUNNING,
    ...(service.endpoint === undefined ? {} : { endpoint: service.endpoint }),
    ...(logDriver === undefined ? {} : { logDriver }),
  }
}

/**
 * Whether a node cannot keep tasks: missing, DOWN or drained (SwarmKit's `InvalidNode`).
 * A paused node is valid: its tasks stay.
 */
export function isInvalidNode(node: Frozen<Node> | undefined): boolean {
  return node === undefined || node.status.state === NodeState.DOWN || node.spec.availability === NodeAvailability.DRAIN
}

/** Whether `node` satisfies the placement constraints of `spec` (no constraints: always). */
export function nodeMatchesConstraints(spec: Frozen<TaskSpec>, node: Frozen<Node>): boolean {
  const expressions = spec.placement?.constraints
  if (expressions === undefined || expressions.length === 0) return true
  return matchConstraints(parseConstraints(expressions), node)
}

/**
 * Whether a task must be replaced to match its service (SwarmKit's `IsTaskDirty`): its task
 * spec or endpoint spec differs from the service's — except that
 * - a change of placement constraints alone keeps a task whose node (`node`, when known) still
 *   satisfies the new constraints;
 * - the image pull options are ignored for a task that already pulled (READY..RUNNING).
 */
export function isTaskDirty(service: Frozen<Service>, task: Frozen<Task>, node?: Frozen<Node>): boolean {
  // Compared by content, not by spec version (SwarmKit's shortcut): a spec written to the store
  // without a new version (an embedder's own write) must still roll out. Tasks created from the
  // service share its frozen spec object, so the common case is an identity check.
  let want: Frozen<TaskSpec> = service.spec.task
  if (node !== undefined && constraintsOnlyDiffer(want, task.spec) && nodeMatchesConstraints(want, node)) return false
  if (task.status.state >= TaskState.READY && task.status.state <= TaskState.RUNNING && want.container !== undefined) {
    const { pullOptions: _ignored, ...rest } = want.container
    const pulled = task.spec.container?.pullOptions
    want = { ...want, container: pulled === undefined ? rest : { ...rest, pullOptions: pulled } }
  }
  if (!specEqual(want, task.spec)) return true
  return task.endpoint !== undefined && !specEqual(service.spec.endpoint, task.endpoint.spec)
}

/** Whether two task specs differ only in `placement.constraints`. */
function constraintsOnlyDiffer(a: Frozen<TaskSpec>, b: Frozen<TaskSpec>): boolean {
  const strip = (s: Frozen<TaskSpec>): Frozen<TaskSpec> => ({ ...s, placement: { ...s.placement, constraints: [] } })
  return !specEqual(a.placement?.constraints ?? [], b.placement?.constraints ?? []) && specEqual(strip(a), strip(b))
}

/**
 * A slot: the tasks of one replicated slot (same service and slot number) or, for global
 * services, of one node. Usually one task; more while a replacement and its predecessor overlap.
 */
export type Slot = readonly Frozen<Task>[]
