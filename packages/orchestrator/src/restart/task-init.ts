/**
 * Leader-change repair (SwarmKit's manager/orchestrator/taskinit): what an orchestrator does with
 * the tasks it finds when it starts, since the previous leader may have stopped halfway — tasks
 * that failed or lost their node while no orchestrator ran are restarted, delayed starts are
 * resumed with what is left of their delay, and the restart history (kept only in memory) is
 * rebuilt from the tasks of each slot. Used by the replicated and the global orchestrators,
 * each with its own {@link TaskInitHandler}.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Node, Service, Task } from '@swarmkit-ts/api'
import type { Frozen, ReadTx, Tx } from '@swarmkit-ts/store'
import type { OrchestratorContext } from '../common/context.ts'
import { isGlobalMode, isInvalidNode, restartPolicy } from '../common/task.ts'
import { restartHistoryKey, taskStatusTime } from './restart-policy.ts'
import type { RestartSupervisor } from './restart-supervisor.ts'

/** What to do with a task found at start: replace it, shut it down without replacement, or leave it. */
export type TaskFix = 'restart' | 'shutdown' | undefined

/** How an orchestrator takes part in the repair. */
export interface TaskInitHandler {
  /** Whether the orchestrator owns the service's tasks. */
  isRelatedService(service: Frozen<Service>): boolean
  /**
   * What to do with a task (desired ≤ RUNNING) of an owned service. Default
   * ({@link defaultFixTask}): restart it when it ended (observed > RUNNING) or its assigned
   * node is invalid (missing, DOWN or drained).
   */
  fixTask?(task: Frozen<Task>, node: Frozen<Node> | undefined, service: Frozen<Service>): TaskFix
}

/** A delayed start to resume. */
export interface ResumedStart {
  readonly taskId: string
  /** What is left of the restart delay (ms, ≥ 0). */
  readonly delayMs: number
  /** The task it replaces, when that one has not stopped yet: the start waits for it (or 1 min). */
  readonly predecessor: Frozen<Task> | undefined
}

/** The repair to apply, computed from one view by {@link planTaskInit}. */
export interface TaskInitPlan {
  /** Tasks to hand to the restart supervisor. */
  readonly restart: readonly string[]
  /** Tasks to shut down without replacement. */
  readonly shutdown: readonly string[]
  /** Delayed starts (desired READY) to resume. */
  readonly resume: readonly ResumedStart[]
  /** Restarts to record, in order: (slot key, replacement task). */
  readonly history: readonly { readonly key: string; readonly task: Frozen<Task> }[]
}

/** SwarmKit's `FixTask` of the replicated orchestrator: restart a task that ended or whose assigned node is invalid. */
export function defaultFixTask(task: Frozen<Task>, node: Frozen<Node> | undefined): TaskFix {
  return task.status.state > TaskState.RUNNING || (task.nodeId !== '' && isInvalidNode(node)) ? 'restart' : undefined
}

/**
 * Plans the repair from `tx` at time `now` (pure on the view): for each task of an owned service
 * with desired ≤ RUNNING, the handler's fix; for each task with desired READY not yet ended, a
 * resumed start after the policy delay minus the time since its status was last set (`appliedAt`,
 * else `timestamp`) — SwarmKit's reading of "since it was created"; and per slot (service and
 * slot, or service and node for global modes) the tasks at the slot's highest spec version,
 * oldest first, all but the first counted as restarts.
 */
export function planTaskInit(tx: ReadTx, handler: TaskInitHandler, now: number): TaskInitPlan {
  const restart: string[] = []
  const shutdown: string[] = []
  const resume: ResumedStart[] = []
  const groups = new Map<string, { key: string; tasks: Frozen<Task>[] }>()
  const services = new Map<string, Frozen<Service> | undefined>()
  const fix = (t: Frozen<Task>, n: Frozen<Node> | undefined, s: Frozen<Service>): TaskFix => (handler.fixTask === undefined ? defaultFixTask(t, n) : handler.fixTask(t, n, s))
  const ready: { task: Frozen<Task>; group: Frozen<Task>[] }[] = []
  for (const t of tx.tasks.find()) {
    if (t.serviceId === '') continue
    let service = services.get(t.serviceId)
    if (!services.has(t.serviceId)) services.set(t.serviceId, (service = tx.services.get(t.serviceId)))
    if (service === undefined || !handler.isRelatedService(service)) continue
    const key = restartHistoryKey(t, isGlobalMode(service))
    const gk = `${t.serviceId}/${key}`
    let g = groups.get(gk)
    if (g === undefined) groups.set(gk, (g = { key, tasks: [] }))
    g.tasks.push(t)
    if (t.desiredState > TaskState.RUNNING) continue
    const action = fix(t, t.nodeId === '' ? undefined : tx.nodes.get(t.nodeId), service)
    if (action === 'restart') restart.push(t.id)
    else if (action === 'shutdown') shutdown.push(t.id)
    else if (t.desiredState === TaskState.READY && t.status.state <= TaskState.COMPLETE) ready.push({ task: t, group: g.tasks })
  }
  for (const { task: t, group } of ready) {
    const delay = restartPolicy(t.spec).delayMs
    const delayMs = delay === 0 ? 0 : Math.max(0, Math.min(delay, taskStatusTime(t) + delay - now))
    resume.push({ taskId: t.id, delayMs, predecessor: predecessorOf(t, group) })
  }
  const history: { key: string; task: Frozen<Task> }[] = []
  for (const { key, tasks } of groups.values()) {
    let max: bigint | undefined
    for (const t of tasks) if (t.specVersion !== undefined && (max === undefined || t.specVersion.index > max)) max = t.specVersion.index
    if (max === undefined) continue
    const upToDate = tasks.filter((t) => t.specVersion?.index === max).sort((a, b) => a.meta.createdAt - b.meta.createdAt)
    for (const t of upToDate.slice(1)) history.push({ key, task: t })
  }
  return { restart, shutdown, resume, history }
}

/** The newest task of the slot created before `t` that was told to stop but has not yet (observed ≤ RUNNING). */
function predecessorOf(t: Frozen<Task>, slot: readonly Frozen<Task>[]): Frozen<Task> | undefined {
  let best: Frozen<Task> | undefined
  for (const o of slot) {
    if (o.id === t.id || o.desiredState <= TaskState.RUNNING || o.status.state > TaskState.RUNNING) continue
    if (o.meta.createdAt > t.meta.createdAt) continue
    if (best === undefined || o.meta.createdAt > best.meta.createdAt) best = o
  }
  return best
}

/** Tasks per transaction when restarting in bulk (each restart writes two actions; a change set holds 200). */
const RESTARTS_PER_TX = 50

/**
 * Restarts tasks `ids` through `restarts`, in batched transactions: each task is re-read and
 * skipped when gone, already past RUNNING (desired), or of a service `isRelated` rejects.
 */
export async function restartTasks(
  ctx: OrchestratorContext,
  restarts: RestartSupervisor,
  ids: Iterable<string>,
  isRelated: (service: Frozen<Service>) => boolean,
): Promise<void> {
  const all = [...ids]
  if (all.length === 0) return
  await ctx.store.batch((b) => {
    for (let i = 0; i < all.length; i += RESTARTS_PER_TX) {
      const chunk = all.slice(i, i + RESTARTS_PER_TX)
      b.update((tx) => {
        const cluster = tx.clusters.find()[0]
        for (const id of chunk) {
          const t = tx.tasks.get(id)
          if (t === undefined || t.desiredState > TaskState.RUNNING) continue
          const service = tx.services.get(t.serviceId)
          if (service === undefined || !isRelated(service)) continue
          restarts.restart(tx, cluster, service, t)
        }
      })
    }
  })
}

/** Sets desired state `state` on tasks `ids` (those still below it), in batched transactions of 200. */
export async function setDesiredState(ctx: OrchestratorContext, ids: readonly string[], state: TaskState): Promise<void> {
  if (ids.length === 0) return
  await ctx.store.batch((b) => {
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200)
      b.update((tx) => {
        for (const id of chunk) setDesired(tx, id, state)
      })
    }
  })
}

function setDesired(tx: Tx, id: string, state: TaskState): void {
  const t = tx.tasks.get(id)
  if (t === undefined || t.desiredState >= state) return
  tx.tasks.update(id, (d) => {
    d.desiredState = state
  })
}

/**
 * Applies a plan: records the history, restarts and shuts down, then resumes the delayed starts
 * (a start whose delay is over and whose predecessor stopped is written at once; the others are
 * left running on `restarts`, not awaited).
 */
export async function applyTaskInit(ctx: OrchestratorContext, restarts: RestartSupervisor, plan: TaskInitPlan, isRelated: (service: Frozen<Service>) => boolean): Promise<void> {
  for (const { key, task } of plan.history) restarts.recordRestartHistory(key, task)
  await restartTasks(ctx, restarts, plan.restart, isRelated)
  await setDesiredState(ctx, plan.shutdown, TaskState.SHUTDOWN)
  const now: string[] = []
  for (const r of plan.resume) {
    if (r.delayMs === 0 && r.predecessor === undefined) now.push(r.taskId)
    else void restarts.delayStart(r.predecessor, r.taskId, r.delayMs, true)
  }
  if (now.length === 0) return
  await ctx.store.batch((b) => {
    for (let i = 0; i < now.length; i += 200) {
      const chunk = now.slice(i, i + 200)
      b.update((tx) => {
        for (const id of chunk) restarts.startNow(tx, id)
      })
    }
  })
}
