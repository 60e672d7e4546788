/**
 * Cron schedules of jobs (beyond SwarmKit): when a scheduled job is due, and what a due time
 * does to the service's job status — start a new iteration, or skip because the previous one
 * is still running. Pure functions of the service, its tasks and a time; croner only computes
 * times here and never starts a timer (the orchestrator's injected clock does the waiting).
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { JobSchedule, JobStatus, Service, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { Cron } from 'croner'

/** The schedule of a job service, if it has one. */
export function jobSchedule(service: Frozen<Service>): Frozen<JobSchedule> | undefined {
  const m = service.spec.mode
  if ('replicatedJob' in m) return m.replicatedJob.schedule
  if ('globalJob' in m) return m.globalJob.schedule
  return undefined
}

function cronOf(schedule: Frozen<JobSchedule>): Cron {
  return new Cron(schedule.cron, { timezone: schedule.timeZone ?? 'UTC', paused: true })
}

/** The first due time of `schedule` strictly after `afterMs`; undefined when it matches no later time. */
export function nextDueTime(schedule: Frozen<JobSchedule>, afterMs: number): number | undefined {
  return cronOf(schedule).nextRun(new Date(afterMs))?.getTime()
}

/** The last due time of `schedule` at or before `atMs`; undefined when there is none. */
export function lastDueTime(schedule: Frozen<JobSchedule>, atMs: number): number | undefined {
  return cronOf(schedule).previousRuns(1, new Date(atMs + 1))[0]?.getTime()
}

/**
 * The job status a scheduled job starts with when created (or updated) at `nowMs`: iteration
 * `iteration`, not run yet (no `lastExecution`), due next at the schedule's first time after now.
 * Skip counters of `previous` are kept.
 */
export function idleJobStatus(schedule: Frozen<JobSchedule>, iteration: bigint, nowMs: number, previous?: Frozen<JobStatus>): JobStatus {
  const next = nextDueTime(schedule, nowMs)
  return {
    jobIteration: { index: iteration },
    ...(next === undefined ? {} : { nextExecution: next }),
    ...(previous?.skippedExecutions === undefined ? {} : { skippedExecutions: previous.skippedExecutions }),
    ...(previous?.lastSkippedExecution === undefined ? {} : { lastSkippedExecution: previous.lastSkippedExecution }),
  }
}

/**
 * When `service` (a scheduled job) is due next: its recorded `nextExecution`, or — when that was
 * never written (a service stored by another writer) — the first due time after the latest of
 * its last execution, last skip and creation, so a due time is never handled twice.
 */
export function effectiveNextExecution(service: Frozen<Service>, schedule: Frozen<JobSchedule>): number | undefined {
  const status = service.jobStatus
  if (status?.nextExecution !== undefined) return status.nextExecution
  const anchor = Math.max(status?.lastExecution ?? -Infinity, status?.lastSkippedExecution ?? -Infinity, service.meta.createdAt)
  return nextDueTime(schedule, anchor)
}

/**
 * Whether a scheduled job has not run yet in its current iteration (created or updated with a
 * schedule, first due time not reached): it gets no tasks.
 */
export function isIdleScheduledJob(service: Frozen<Service>): boolean {
  return jobSchedule(service) !== undefined && service.jobStatus?.lastExecution === undefined
}

/**
 * Whether the current iteration of a job is still running: any of its tasks that should run to
 * completion has not completed yet, or (replicated job) fewer than `totalCompletions` completed.
 * An idle scheduled job is not running.
 */
export function isIterationRunning(service: Frozen<Service>, tasks: readonly Frozen<Task>[]): boolean {
  if (isIdleScheduledJob(service)) return false
  const iteration = service.jobStatus?.jobIteration.index ?? 0n
  let completed = 0
  for (const t of tasks) {
    if (t.jobIteration?.index !== iteration) continue
    if (t.status.state === TaskState.COMPLETE) completed++
    else if (t.desiredState <= TaskState.COMPLETE) return true
  }
  const m = service.spec.mode
  if ('replicatedJob' in m) {
    const total = m.replicatedJob.totalCompletions ?? m.replicatedJob.maxConcurrent ?? 1
    return completed < total
  }
  return false
}

/** What a due time did: `run` started a new iteration, `skip` recorded a skipped run, `none` found nothing due. */
export type DueOutcome = 'run' | 'skip' | 'none'

/**
 * Handles the due times of a scheduled job at `nowMs`: when its next execution is due, the
 * latest due time not after now is handled once (several missed while no orchestrator ran
 * collapse into one) — the next iteration (or, for a job that never ran since its create or
 * update, its current one) starts with `lastExecution` = that due time; or, when the
 * current iteration is still running, a skip counted in `skippedExecutions` and
 * `lastSkippedExecution`. Either way `nextExecution` moves to the first due time after now.
 * Returns the outcome and the new job status (undefined when nothing was due).
 */
export function decideDue(
  service: Frozen<Service>,
  tasks: readonly Frozen<Task>[],
  nowMs: number,
): { readonly outcome: DueOutcome; readonly status?: JobStatus } {
  const schedule = jobSchedule(service)
  if (schedule === undefined) return { outcome: 'none' }
  const next = effectiveNextExecution(service, schedule)
  if (next === undefined || next > nowMs) return { outcome: 'none' }
  const due = Math.max(next, lastDueTime(schedule, nowMs) ?? next)
  const after = nextDueTime(schedule, nowMs)
  const cur = service.jobStatus
  const base: JobStatus = {
    jobIteration: { index: cur?.jobIteration.index ?? 0n },
    ...(cur?.lastExecution === undefined ? {} : { lastExecution: cur.lastExecution }),
    ...(after === undefined ? {} : { nextExecution: after }),
    ...(cur?.skippedExecutions === undefined ? {} : { skippedExecutions: cur.skippedExecutions }),
    ...(cur?.lastSkippedExecution === undefined ? {} : { lastSkippedExecution: cur.lastSkippedExecution }),
  }
  if (isIterationRunning(service, tasks)) {
    return { outcome: 'skip', status: { ...base, skippedExecutions: (cur?.skippedExecutions ?? 0) + 1, lastSkippedExecution: due } }
  }
  // An idle job's iteration (from its create or update) was never run: it starts now, unchanged.
  const index = cur?.lastExecution === undefined ? base.jobIteration.index : base.jobIteration.index + 1n
  return { outcome: 'run', status: { ...base, jobIteration: { index }, lastExecution: due } }
}
