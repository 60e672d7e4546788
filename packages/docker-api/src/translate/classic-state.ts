/**
 * A classic container's state, read from its service and tasks: created (0 replicas, never
 * started), running or starting (the newest task), exited (its task ended, or the container was
 * stopped: the exit is then kept in the service's labels, since a stopped slot's task is
 * removed), restarting (a restart policy brings a new task).
 *
 * @module
 */
import { TaskState, taskStateName } from '@swarmkit-ts/api'
import type { Service, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { CLASSIC_EXIT_CODE_LABEL, CLASSIC_FINISHED_AT_LABEL, CLASSIC_NODE_LABEL, CLASSIC_STARTED_AT_LABEL } from './classic-create.ts'
import { dockerTime, parseDockerTime } from './meta.ts'

/** Docker's zero time, for a container that never started or never finished. */
export const ZERO_TIME = '0001-01-01T00:00:00Z'

/** Docker's container states. */
export type ContainerStatus = 'created' | 'restarting' | 'running' | 'removing' | 'paused' | 'exited' | 'dead'

/** What `State` of an inspect and `State`/`Status` of a list show. */
export interface ClassicState {
  readonly status: ContainerStatus
  readonly running: boolean
  readonly restarting: boolean
  readonly exitCode: number
  readonly pid: number
  readonly error: string
  /** RFC 3339, or Go's zero time `0001-01-01T00:00:00Z` (never). */
  readonly startedAt: string
  /** RFC 3339, or Go's zero time `0001-01-01T00:00:00Z` (never). */
  readonly finishedAt: string
  /** The task shown (the newest), if any. */
  readonly task: Frozen<Task> | undefined
  /** The node the container runs or ran on ('' when never scheduled). */
  readonly nodeId: string
  /** Restarts: the tasks beyond the first of the current run. */
  readonly restartCount: number
}

/** The replica count of a classic container's service (0: created or stopped). */
export function classicReplicas(service: Frozen<Service>): number {
  const mode = service.spec.mode
  return 'replicated' in mode ? (mode.replicated.replicas ?? 1) : 0
}

/** The newest task first (creation time, then id). */
export function newestFirst(tasks: readonly Frozen<Task>[]): Frozen<Task>[] {
  return [...tasks].sort((a, b) => b.meta.createdAt - a.meta.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
}

/** The exit code Docker would show for a task that ended. */
export function taskExitCode(task: Frozen<Task>): number {
  const code = task.status.containerStatus?.exitCode
  if (code !== undefined) return code
  if (task.status.state === TaskState.COMPLETE) return 0
  if (task.status.state === TaskState.SHUTDOWN) return 137
  return 128
}

/**
 * The state of the container of `service` from its `tasks` (any order). A running task's status
 * timestamp is when it started running (its latest status).
 */
export function classicState(service: Frozen<Service>, tasks: readonly Frozen<Task>[]): ClassicState {
  const labels = service.spec.annotations.labels ?? {}
  const ordered = newestFirst(tasks.filter((t) => t.desiredState < TaskState.REMOVE || t.status.state < TaskState.COMPLETE))
  const task = ordered[0]
  const replicas = classicReplicas(service)
  const base = { running: false, restarting: false, exitCode: 0, pid: 0, error: '', startedAt: ZERO_TIME, finishedAt: ZERO_TIME, task, restartCount: Math.max(0, ordered.length - 1) }
  if (task !== undefined && task.status.state <= TaskState.RUNNING && task.desiredState <= TaskState.RUNNING) {
    const running = task.status.state === TaskState.RUNNING
    return {
      ...base,
      status: running ? 'running' : ordered.length > 1 ? 'restarting' : 'created',
      running,
      restarting: !running && ordered.length > 1,
      pid: running ? (task.status.containerStatus?.pid ?? 0) : 0,
      startedAt: running ? dockerTime(task.status.timestamp) : ZERO_TIME,
      nodeId: task.nodeId,
    }
  }
  if (task !== undefined && task.status.state <= TaskState.RUNNING) {
    // Stopping: desired SHUTDOWN/REMOVE, not yet ended.
    return { ...base, status: 'running', running: true, pid: task.status.containerStatus?.pid ?? 0, startedAt: dockerTime(task.meta.createdAt), nodeId: task.nodeId }
  }
  if (replicas === 0 || task === undefined) {
    const finished = labels[CLASSIC_FINISHED_AT_LABEL]
    if (finished === undefined) return { ...base, status: 'created', nodeId: task?.nodeId ?? '' }
    return {
      ...base,
      status: 'exited',
      exitCode: Number(labels[CLASSIC_EXIT_CODE_LABEL] ?? '0'),
      startedAt: labels[CLASSIC_STARTED_AT_LABEL] ?? ZERO_TIME,
      finishedAt: finished,
      nodeId: labels[CLASSIC_NODE_LABEL] ?? '',
    }
  }
  // The newest task ended and replicas is 1: exited for good (restart none), or about to restart.
  const ended = task.status.state >= TaskState.COMPLETE
  const rejected = task.status.state === TaskState.REJECTED
  return {
    ...base,
    status: rejected ? 'dead' : 'exited',
    exitCode: taskExitCode(task),
    error: ended && task.status.state !== TaskState.COMPLETE ? (task.status.err ?? `task ${taskStateName(task.status.state).toLowerCase()}`) : '',
    startedAt: dockerTime(task.meta.createdAt),
    finishedAt: dockerTime(task.status.timestamp),
    nodeId: task.nodeId,
  }
}

/** Go's `units.HumanDuration`, which Docker's `Status` column uses (`Up 3 seconds`, `Exited (0) 2 minutes ago`). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < 1) return 'Less than a second'
  if (seconds === 1) return '1 second'
  if (seconds < 60) return `${seconds} seconds`
  const minutes = Math.floor(seconds / 60)
  if (minutes === 1) return 'About a minute'
  if (minutes < 60) return `${minutes} minutes`
  const hours = Math.floor(ms / 3_600_000 + 0.5)
  if (hours === 1) return 'About an hour'
  if (hours < 48) return `${hours} hours`
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`
  return `${Math.floor(hours / 24 / 365)} years`
}

/** The `Status` column of `docker ps` for `state` at time `now` (ms). */
export function statusText(state: ClassicState, now: number): string {
  const since = (t: string): number => now - (parseDockerTime(t) ?? now)
  switch (state.status) {
    case 'running':
      return `Up ${humanDuration(since(state.startedAt))}`
    case 'restarting':
      return `Restarting (${state.exitCode}) ${humanDuration(since(state.finishedAt))} ago`
    case 'exited':
      return `Exited (${state.exitCode}) ${humanDuration(since(state.finishedAt))} ago`
    case 'dead':
      return 'Dead'
    case 'created':
      return 'Created'
    default:
      return state.status.charAt(0).toUpperCase() + state.status.slice(1)
  }
}
