/**
 * Docker's columns for services and tasks: `service ls` (ID NAME MODE REPLICAS IMAGE PORTS) and
 * `service ps` / `node ps` (ID NAME IMAGE NODE DESIRED STATE CURRENT STATE ERROR PORTS, older tasks
 * of a slot indented with ` \_ `).
 *
 * @module
 */
import { TaskState, taskStateName } from '@swarmkit-ts/api'
import type { NodeObject, PortList, ServiceObject, TaskObject } from './objects.ts'
import type { CommandContext } from '../context.ts'
import { writeObjects } from '../output/listing.ts'
import { shortId } from '../output/table.ts'
import { ago } from '../output/time.ts'
import { capitalize } from './common.ts'

/** Header of `service ls`. */
export const SERVICE_HEAD = ['ID', 'NAME', 'MODE', 'REPLICAS', 'IMAGE', 'PORTS'] as const
/** Header of `service ps` and `node ps`. */
export const TASK_HEAD = ['ID', 'NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS'] as const

/** Docker's MODE column. */
export function modeName(service: ServiceObject): string {
  const mode = service.spec.mode
  if ('replicated' in mode) return 'replicated'
  if ('global' in mode) return 'global'
  if ('replicatedJob' in mode) return 'replicated job'
  return 'global job'
}

/** Ports as Docker lists them: `*:8080->80/tcp`, comma-separated. */
export function portList(ports: PortList | undefined): string {
  return (ports ?? []).map((p) => `*:${p.publishedPort ?? 0}->${p.targetPort}/${p.protocol ?? 'tcp'}`).join(', ')
}

const isRunning = (t: TaskObject): boolean => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING

/** Docker's REPLICAS column: `running/desired`, `… (max N per node)`, jobs `running/desired (completed/total completed)`. */
export function replicaCount(service: ServiceObject, tasks: readonly TaskObject[]): string {
  const mode = service.spec.mode
  const own = tasks.filter((t) => t.serviceId === service.id)
  const running = own.filter(isRunning).length
  if ('replicated' in mode) {
    const max = service.spec.task.placement?.maxReplicas ?? 0
    return `${running}/${mode.replicated.replicas ?? 1}${max > 0 ? ` (max ${max} per node)` : ''}`
  }
  if ('global' in mode) return `${running}/${own.filter((t) => t.desiredState === TaskState.RUNNING).length}`
  const iteration = service.jobStatus?.jobIteration.index
  const current = own.filter((t) => iteration === undefined || t.jobIteration?.index === iteration)
  const completed = current.filter((t) => t.status.state === TaskState.COMPLETE).length
  if ('replicatedJob' in mode) {
    const total = mode.replicatedJob.totalCompletions ?? mode.replicatedJob.maxConcurrent ?? 1
    return `${running}/${mode.replicatedJob.maxConcurrent ?? 1} (${completed}/${total} completed)`
  }
  return `${running}/${current.length} (${completed}/${current.length} completed)`
}

/** One `service ls` row. */
export function serviceRow(service: ServiceObject, tasks: readonly TaskObject[], noTrunc = false): string[] {
  const ports = service.endpoint?.ports ?? service.spec.endpoint?.ports
  return [shortId(service.id, noTrunc), service.spec.annotations.name, modeName(service), replicaCount(service, tasks), service.spec.task.container?.image ?? '', portList(ports)]
}

/** A task state as Docker writes it: `Running`, `Shutdown`. */
export function stateWord(state: TaskState): string {
  return capitalize(taskStateName(state).toLowerCase())
}

/** `<service>.<slot>` (replicated) or `<service>.<node id>` (global). */
export function taskName(task: TaskObject, serviceName: string): string {
  return `${serviceName}.${task.slot > 0 ? String(task.slot) : task.nodeId}`
}

/** Tasks in Docker's order: by service name, slot (or node), newest first within a slot. */
export function sortTasks(tasks: readonly TaskObject[], serviceName: (t: TaskObject) => string): TaskObject[] {
  return [...tasks].sort(
    (a, b) =>
      serviceName(a).localeCompare(serviceName(b)) ||
      a.slot - b.slot ||
      a.nodeId.localeCompare(b.nodeId) ||
      b.meta.createdAt - a.meta.createdAt ||
      a.id.localeCompare(b.id),
  )
}

/** What task rows need besides the tasks. */
export interface TaskRowsInit {
  /** Service names by id (a task's own `serviceAnnotations` when missing). */
  readonly services: ReadonlyMap<string, string>
  /** Nodes by id (their hostnames fill the NODE column). */
  readonly nodes: ReadonlyMap<string, NodeObject>
  /** Now, in ms since the epoch (CURRENT STATE reads `Running 5 seconds ago`). */
  readonly now: number
  readonly noTrunc?: boolean
}

/** `service ps` rows: older tasks of a slot under the newest, indented with ` \_ `. */
export function taskRows(tasks: readonly TaskObject[], init: TaskRowsInit): string[][] {
  const nameOf = (t: TaskObject): string => init.services.get(t.serviceId) ?? t.serviceAnnotations.name
  const rows: string[][] = []
  let previous = ''
  for (const t of sortTasks(tasks, nameOf)) {
    const name = taskName(t, nameOf(t))
    const node = init.nodes.get(t.nodeId)
    const err = t.status.err ?? ''
    const shownErr = err === '' ? '' : `"${init.noTrunc === true || err.length <= 30 ? err : `${err.slice(0, 29)}…`}"`
    rows.push([
      shortId(t.id, init.noTrunc),
      name === previous ? ` \\_ ${name}` : name,
      t.spec.container?.image ?? '',
      node?.description?.hostname ?? (t.nodeId === '' ? '' : shortId(t.nodeId, init.noTrunc)),
      stateWord(t.desiredState),
      `${stateWord(t.status.state)} ${ago(t.status.timestamp, init.now)}`,
      shownErr,
      portList(t.status.portStatus?.ports),
    ])
    previous = name
  }
  return rows
}

/** Writes tasks: ids with `--quiet`, the objects with `--format json`, a Go template per task, else {@link taskRows}' table. */
export function writeTasks(ctx: CommandContext, tasks: readonly TaskObject[], init: TaskRowsInit): void {
  const sorted = sortTasks(tasks, (x) => init.services.get(x.serviceId) ?? x.serviceAnnotations.name)
  const cells = taskRows(tasks, init) // in the same order as `sorted`
  const rows = new Map(sorted.map((t, i) => [t, cells[i] ?? []]))
  writeObjects(ctx, ctx.format === 'json' && ctx.template === undefined ? tasks : sorted, { head: TASK_HEAD, row: (t) => rows.get(t) ?? [], id: (t) => t.id })
}
