/**
 * `swarmkit service logs [-f] [--tail n] [-t] [--raw] <service>`: the lines of a service's tasks
 * through the manager's log broker, prefixed as Docker does (`web.1.<task id>@<node>    | line`).
 *
 * @module
 */
import type { Command } from 'commander'
import { parseDuration, parseInteger } from './values.ts'
import type { ContextFactory } from './common.ts'
import type { TaskObject } from './objects.ts'

interface LogsFlags {
  readonly follow?: boolean
  readonly tail?: string
  readonly timestamps?: boolean
  readonly raw?: boolean
  readonly since?: string
  readonly trunc?: boolean
  readonly taskIds?: boolean
}

/** Adds `logs` to the `service` command. */
export function addLogsCommand(service: Command, ctx: ContextFactory): void {
  service
    .command('logs')
    .description('Fetch the logs of a service')
    .argument('<service>', 'service name or id')
    .option('-f, --follow', 'follow the output (until Ctrl-C)')
    .option('-n, --tail <n>', 'number of lines to show from the end of each task')
    .option('-t, --timestamps', 'show timestamps')
    .option('--raw', 'do not prefix the lines with the task and node')
    .option('--since <duration>', 'show lines since this long ago (10m)')
    .option('--no-trunc', 'do not truncate ids')
    .option('--no-task-ids', 'do not include task ids')
    .action(async (ref: string, flags: LogsFlags) => {
      const c = ctx()
      const control = await c.control()
      const service = await control.services.get(ref)
      const name = service.spec.annotations.name
      const tasks = new Map<string, TaskObject>((await control.tasks.list({ serviceIds: [service.id] })).map((t) => [t.id, t]))
      const hosts = new Map((await control.nodes.list()).map((n) => [n.id, n.description?.hostname ?? n.id]))
      const options = {
        ...(flags.follow === true ? { follow: true } : {}),
        ...(flags.tail === undefined || flags.tail === 'all' ? {} : { tail: parseInteger('--tail', flags.tail) }),
        ...(flags.since === undefined ? {} : { since: Date.now() - parseDuration('--since', flags.since) }),
      }
      const id = (s: string): string => (flags.trunc === false ? s : s.slice(0, 12))
      for await (const m of control.logs({ selector: { serviceIds: [service.id] }, options }, { signal: c.signal })) {
        let task = tasks.get(m.taskId)
        if (task === undefined) {
          task = await control.tasks.get(m.taskId).catch(() => undefined)
          if (task !== undefined) tasks.set(task.id, task)
        }
        const slot = task === undefined || task.slot === 0 ? m.nodeId : String(task.slot)
        const prefix = flags.raw === true ? '' : `${name}.${slot}${flags.taskIds === false ? '' : `.${id(m.taskId)}`}@${hosts.get(m.nodeId) ?? id(m.nodeId)}    | `
        const time = flags.timestamps === true ? `${new Date(m.time).toISOString()} ` : ''
        c.io.stdout.write(`${time}${prefix}${m.line}\n`)
      }
    })
}
