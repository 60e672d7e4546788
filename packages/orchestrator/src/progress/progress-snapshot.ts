/**
 * The converge display's data: a pure function from a service, its tasks and their nodes to one
 * frozen {@link ServiceProgress} snapshot, and the equality that keeps two equal snapshots from
 * being emitted in a row.
 *
 * @module
 */
import { NodeAvailability, TaskState, UpdateState } from '@swarmkit-ts/api'
import type { Node, Service, ServiceModeKind, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { isGlobalMode, isInvalidNode, isJob, isTaskDirty, modeKind, nodeMatchesConstraints } from '../common/task.ts'

/** One slot of a service as the converge display shows it: its current task. */
export interface SlotProgress {
  /** The slot number (replicated services and jobs, from 1); 0 for global services and jobs. */
  readonly slot: number
  /** The node of the task: the slot's key for global modes; for replicated ones '' until scheduled. */
  readonly nodeId: string
  /**
   * The slot's current task: of the slot's tasks whose desired state is below REMOVE, the one
   * with the lowest desired state (the one the orchestrator keeps alive), then the newest
   * (`meta.createdAt`), then the one up to date, then the lowest id.
   */
  readonly taskId: string
  /** The task's observed state. */
  readonly state: TaskState
  /** The task's status message (`status.message`, '' when absent). */
  readonly message: string
  /** The task's error (`status.err`), when it has one. */
  readonly err?: string
  /** The task's desired state. */
  readonly desiredState: TaskState
  /**
   * Whether the task is at the service's current spec: its spec version, or a spec that would not
   * be replaced (not dirty, as SwarmKit's `_up-to-date` task filter decides).
   */
  readonly upToDate: boolean
}

/** A service's rolling update as the snapshot shows it (the service's `updateStatus`). */
export interface UpdateProgress {
  /** The update state. */
  readonly state: UpdateState
  /** The updater's message ("update in progress", "update paused due to …", …), when set. */
  readonly message?: string
  /** When the update (or rollback) started, in clock milliseconds. */
  readonly startedAt?: number
  /** When it completed, in clock milliseconds. */
  readonly completedAt?: number
}

/** One frozen snapshot of a service's progress towards its desired state. */
export interface ServiceProgress {
  /** The service id. */
  readonly serviceId: string
  /** The service name. */
  readonly name: string
  /** The kind of the service's mode. */
  readonly mode: ServiceModeKind
  /**
   * How many slots should be done: replicated — `replicas`; global — the nodes holding a task
   * whose desired state is READY or RUNNING (not yet told to stop); replicated job —
   * `totalCompletions`; global job — the nodes holding a task of the current iteration whose
   * desired state is at most COMPLETE. 0 once the service is deleted.
   */
  readonly desired: number
  /** Slots whose current task is observed RUNNING with desired RUNNING; jobs: observed COMPLETE. */
  readonly running: number
  /** Of `running`, the slots whose current task is also up to date (the CLI's "overall progress"). */
  readonly runningUpToDate: number
  /**
   * Every slot with a task not being removed (desired state below REMOVE; jobs: of the current
   * iteration only), sorted by slot number (global modes: by node id).
   */
  readonly slots: readonly SlotProgress[]
  /** The service's update status, if an update or rollback has run since the last spec change. */
  readonly updateStatus?: UpdateProgress
  /** The job iteration (jobs only). */
  readonly jobIteration?: bigint
  /**
   * Whether the service is where it should be: exactly `desired` slots not told to stop, each
   * done (running, or complete for jobs) and up to date, and no update or rollback in progress or
   * paused.
   */
  readonly converged: boolean
  /** Whether the service has been deleted (the last snapshot of a progress stream). */
  readonly deleted: boolean
}

const UNSETTLED_UPDATE: ReadonlySet<UpdateState> = new Set([
  UpdateState.UPDATING,
  UpdateState.PAUSED,
  UpdateState.ROLLBACK_STARTED,
  UpdateState.ROLLBACK_PAUSED,
])

/** Whether task `a` is a better candidate than `b` for its slot's current task (see {@link SlotProgress.taskId}). */
function better(a: Frozen<Task>, aUpToDate: boolean, b: Frozen<Task>, bUpToDate: boolean): boolean {
  if (a.desiredState !== b.desiredState) return a.desiredState < b.desiredState
  if (a.meta.createdAt !== b.meta.createdAt) return a.meta.createdAt > b.meta.createdAt
  if (aUpToDate !== bUpToDate) return aUpToDate
  return a.id < b.id
}

/**
 * The progress of `service` given all its `tasks` and a lookup of nodes by id. Pure. With
 * `deleted`, `service` is the last version seen before its deletion and the snapshot says so.
 * `globalNodes` (a global service only): the nodes it should run on now (see
 * `globalServiceNodes`); `desired` then counts them and the nodes still holding a live
 * task — without it, a global service just created (no task yet) would count as converged.
 */
export function computeProgress(
  service: Frozen<Service>,
  tasks: readonly Frozen<Task>[],
  nodeOf: (id: string) => Frozen<Node> | undefined,
  deleted = false,
  globalNodes?: ReadonlySet<string>,
): ServiceProgress {
  const kind = modeKind(service)
  const job = isJob(service)
  const global = isGlobalMode(service)
  const iteration = service.jobStatus?.jobIteration.index
  const current = new Map<string | number, { task: Frozen<Task>; upToDate: boolean }>()
  for (const t of tasks) {
    if (t.desiredState >= TaskState.REMOVE) continue
    if (job && t.jobIteration?.index !== iteration) continue
    const key = global ? t.nodeId : t.slot
    const upToDate = !isTaskDirty(service, t, t.nodeId === '' ? undefined : nodeOf(t.nodeId))
    const cur = current.get(key)
    if (cur === undefined || better(t, upToDate, cur.task, cur.upToDate)) current.set(key, { task: t, upToDate })
  }
  const slots: SlotProgress[] = []
  let running = 0
  let runningUpToDate = 0
  let live = 0
  /** Live tasks on nodes outside `globalNodes`. */
  let liveElsewhere = 0
  for (const { task: t, upToDate } of current.values()) {
    const done = job ? t.status.state === TaskState.COMPLETE : t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING
    if (done) running++
    if (done && upToDate) runningUpToDate++
    if (t.desiredState <= (job ? TaskState.COMPLETE : TaskState.RUNNING)) {
      live++
      if (globalNodes !== undefined && !globalNodes.has(t.nodeId)) liveElsewhere++
    }
    slots.push(
      Object.freeze({
        slot: t.slot,
        nodeId: t.nodeId,
        taskId: t.id,
        state: t.status.state,
        message: t.status.message ?? '',
        ...(t.status.err === undefined ? {} : { err: t.status.err }),
        desiredState: t.desiredState,
        upToDate,
      }),
    )
  }
  slots.sort(global ? (a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0) : (a, b) => a.slot - b.slot)
  const desired = deleted ? 0 : global && !job && globalNodes !== undefined ? globalNodes.size + liveElsewhere : desiredCount(service, live)
  const u = deleted ? undefined : service.updateStatus
  const updateStatus: UpdateProgress | undefined =
    u === undefined
      ? undefined
      : Object.freeze({
          state: u.state,
          ...(u.message === undefined ? {} : { message: u.message }),
          ...(u.startedAt === undefined ? {} : { startedAt: u.startedAt }),
          ...(u.completedAt === undefined ? {} : { completedAt: u.completedAt }),
        })
  const converged =
    !deleted &&
    live === desired &&
    runningUpToDate === desired &&
    (updateStatus === undefined || !UNSETTLED_UPDATE.has(updateStatus.state))
  return Object.freeze({
    serviceId: service.id,
    name: service.spec.annotations.name,
    mode: kind,
    desired,
    running,
    runningUpToDate,
    slots: Object.freeze(slots),
    ...(updateStatus === undefined ? {} : { updateStatus }),
    ...(job && iteration !== undefined ? { jobIteration: iteration } : {}),
    converged,
    deleted,
  })
}

/** The `desired` figure (see {@link ServiceProgress.desired}); `live`: slots whose task is not told to stop. */
function desiredCount(service: Frozen<Service>, live: number): number {
  const m = service.spec.mode
  if ('replicated' in m) return m.replicated.replicas ?? 1
  if ('replicatedJob' in m) return m.replicatedJob.totalCompletions ?? m.replicatedJob.maxConcurrent ?? 1
  return live
}

/** Whether two snapshots show the same thing. */
export function progressEqual(a: ServiceProgress, b: ServiceProgress): boolean {
  if (
    a.serviceId !== b.serviceId ||
    a.name !== b.name ||
    a.mode !== b.mode ||
    a.desired !== b.desired ||
    a.running !== b.running ||
    a.runningUpToDate !== b.runningUpToDate ||
    a.jobIteration !== b.jobIteration ||
    a.converged !== b.converged ||
    a.deleted !== b.deleted ||
    a.slots.length !== b.slots.length
  ) {
    return false
  }
  const ua = a.updateStatus
  const ub = b.updateStatus
  if (ua !== ub) {
    if (ua === undefined || ub === undefined) return false
    if (ua.state !== ub.state || ua.message !== ub.message || ua.startedAt !== ub.startedAt || ua.completedAt !== ub.completedAt) return false
  }
  for (let i = 0; i < a.slots.length; i++) {
    const x = a.slots[i] as SlotProgress
    const y = b.slots[i] as SlotProgress
    if (
      x.slot !== y.slot ||
      x.nodeId !== y.nodeId ||
      x.taskId !== y.taskId ||
      x.state !== y.state ||
      x.message !== y.message ||
      x.err !== y.err ||
      x.desiredState !== y.desiredState ||
      x.upToDate !== y.upToDate
    ) {
      return false
    }
  }
  return true
}

/**
 * The nodes a global (non-job) service should run on now, as the global orchestrator decides:
 * valid (not DOWN, not drained), active (a paused node gets no new task) and matching the
 * placement constraints. `undefined` for other modes.
 */
export function globalServiceNodes(service: Frozen<Service>, nodes: readonly Frozen<Node>[]): ReadonlySet<string> | undefined {
  if (!('global' in service.spec.mode)) return undefined
  const out = new Set<string>()
  for (const n of nodes) {
    if (!isInvalidNode(n) && n.spec.availability === NodeAvailability.ACTIVE && nodeMatchesConstraints(service.spec.task, n)) out.add(n.id)
  }
  return out
}
