/**
 * `swarmkit service create | ls | ps | inspect | update | scale | rollback | rm | logs`, with
 * Docker's flags and columns. create, update, scale and rollback wait for the service to converge
 * (showing progress) unless `--detach`.
 *
 * @module
 */
import type { Command } from 'commander'
import { InvalidArgumentError, SequenceConflictError, TaskState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import type { CommandContext } from '../context.ts'
import { forEach, inspect, writeListing, type ContextFactory } from './common.ts'
import { collectFilter, serviceFilters } from './filters.ts'
import type { ServiceObject } from './objects.ts'
import { SERVICE_HEAD, serviceRow, writeTasks } from './listings.ts'
import { addServiceFlags, applyListFlags, applyScalarFlags, createSpec, type ServiceFlags, type ServiceUpdateFlags } from './service-spec.ts'
import { addLogsCommand } from './service-logs.ts'
import { parseChoice, parseInteger } from './values.ts'
import { waitForService, type WaitKind } from './wait.ts'

interface DetachFlags {
  readonly detach?: boolean
}

/** Prints the service id, then waits for it to converge unless `--detach`. */
async function settle(ctx: CommandContext, id: string, kind: WaitKind, flags: DetachFlags, print = true): Promise<void> {
  if (print) ctx.io.stdout.write(`${id}\n`)
  if (flags.detach !== true) await waitForService(ctx, id, { kind })
}

/** A mutable deep copy of a spec read from the API. */
function mutable(spec: ServiceSpec): ServiceSpec {
  return structuredClone(spec)
}

/**
 * Re-reads service `ref` and writes `change(copy of its spec)` at the version read; retries when
 * the managers changed the service meanwhile (`SequenceConflictError`: its status or endpoint
 * moved on), as the flags apply the same way to the newer spec.
 */
export async function editService(ctx: CommandContext, ref: string, change: (spec: ServiceSpec, current: ServiceObject) => Promise<void> | void): Promise<ServiceObject> {
  const control = await ctx.control()
  for (let attempt = 1; ; attempt++) {
    const service = await control.services.get(ref)
    const spec = mutable(service.spec)
    await change(spec, service)
    try {
      return await control.services.update(service.id, spec, { version: service.meta.version.index })
    } catch (err) {
      if (!(err instanceof SequenceConflictError) || attempt >= 5) throw err
    }
  }
}

async function update(ctx: CommandContext, ref: string, flags: ServiceUpdateFlags & DetachFlags): Promise<void> {
  const control = await ctx.control()
  const updated = await editService(ctx, ref, async (spec, service) => {
    const container = spec.task.container
    if (flags.image !== undefined && container !== undefined) container.image = flags.image
    if (flags.args !== undefined && container !== undefined) container.args = flags.args.split(/\s+/).filter((a) => a !== '')
    if (flags.replicas !== undefined) {
      if (!('replicated' in spec.mode)) throw new InvalidArgumentError('--replicas', `service ${service.spec.annotations.name} is not replicated`)
      spec.mode = { replicated: { replicas: parseInteger('--replicas', flags.replicas) } }
    }
    applyScalarFlags(spec, flags)
    await applyListFlags(spec, flags, control, ctx.io.env ?? process.env)
    if (flags.force === true) spec.task.forceUpdate = (spec.task.forceUpdate ?? 0) + 1
  })
  await settle(ctx, updated.id, 'update', flags)
}

/** Adds the `service` commands to `program`. */
export function addServiceCommands(program: Command, ctx: ContextFactory): void {
  const service = program.command('service').description('Manage services').enablePositionalOptions()

  // Flags after the image belong to the command (`service create busybox sh -c 'sleep 1'`), as Docker's.
  addServiceFlags(service.command('create').description('Create a new service').argument('<image>', 'the image').argument('[command...]', 'the command and its arguments').passThroughOptions(), false)
    .option('-d, --detach', 'exit immediately instead of waiting for the service to converge')
    .action(async (image: string, command: string[], flags: ServiceFlags & DetachFlags) => {
      const c = ctx()
      const control = await c.control()
      const created = await control.services.create(await createSpec(control, image, command, flags, c.io.env ?? process.env))
      await settle(c, created.id, 'create', flags)
    })

  service
    .command('ls')
    .alias('list')
    .description('List services')
    .option('--no-trunc', 'do not truncate ids')
    .option('-f, --filter <key=value>', 'name, id, label or mode (replicated, global, replicated-job, global-job)', collectFilter)
    .action(async (flags: { trunc?: boolean; filter?: string[] }) => {
      const c = ctx()
      const control = await c.control()
      const services = await control.services.list(serviceFilters(flags.filter))
      const tasks = await control.tasks.list({ serviceIds: services.map((s) => s.id), desiredStates: [TaskState.RUNNING] })
      writeListing(c, services, SERVICE_HEAD, (s) => serviceRow(s, tasks, flags.trunc === false))
    })

  service
    .command('ps')
    .description('List the tasks of one or more services')
    .argument('<service...>', 'service names or ids')
    .option('--no-trunc', 'do not truncate ids and errors')
    .option('-f, --filter <filter>', 'desired-state=running|shutdown|accepted, or node=<id or hostname>', (v: string, p: string[] | undefined) => [...(p ?? []), v])
    .action(async (refs: string[], flags: { trunc?: boolean; filter?: string[] }) => {
      const c = ctx()
      const control = await c.control()
      const services = await Promise.all(refs.map((r) => control.services.get(r)))
      const nodes = await control.nodes.list()
      let desired: TaskState[] | undefined
      let nodeIds: string[] | undefined
      for (const f of flags.filter ?? []) {
        const [key, value = ''] = f.split('=', 2)
        if (key === 'desired-state') {
          const state = parseChoice('--filter', value, ['running', 'shutdown', 'accepted'] as const)
          ;(desired ??= []).push(state === 'running' ? TaskState.RUNNING : state === 'accepted' ? TaskState.ACCEPTED : TaskState.SHUTDOWN)
        } else if (key === 'node') {
          ;(nodeIds ??= []).push(nodes.find((n) => n.id === value || n.description?.hostname === value)?.id ?? value)
        } else throw new InvalidArgumentError('--filter', `unknown filter ${JSON.stringify(key)}: use desired-state or node`)
      }
      const tasks = await control.tasks.list({ serviceIds: services.map((s) => s.id), ...(desired === undefined ? {} : { desiredStates: desired }), ...(nodeIds === undefined ? {} : { nodeIds }) })
      writeTasks(c, tasks, { services: new Map(services.map((s) => [s.id, s.spec.annotations.name])), nodes: new Map(nodes.map((n) => [n.id, n])), now: Date.now(), noTrunc: flags.trunc === false })
    })

  service
    .command('inspect')
    .description('Display detailed information on one or more services (JSON)')
    .argument('<service...>', 'service names or ids')
    .action(async (refs: string[]) => {
      const c = ctx()
      const control = await c.control()
      await inspect(c, refs, (r) => control.services.get(r))
    })

  addServiceFlags(service.command('update').description('Update a service').argument('<service>', 'service name or id'), true)
    .option('--image <image>', 'the new image')
    .option('--args <command>', 'the new arguments of the command (space-separated)')
    .option('--force', 'update the tasks even when nothing changed')
    .option('-d, --detach', 'exit immediately instead of waiting for the service to converge')
    .action(async (ref: string, flags: ServiceUpdateFlags & DetachFlags) => update(ctx(), ref, flags))

  service
    .command('scale')
    .description('Scale one or more replicated services')
    .argument('<service=replicas...>', 'e.g. web=5')
    .option('-d, --detach', 'exit immediately instead of waiting for the services to converge')
    .action(async (pairs: string[], flags: DetachFlags) => {
      const c = ctx()
      const control = await c.control()
      const wanted = pairs.map((p) => {
        const i = p.indexOf('=')
        if (i <= 0) throw new InvalidArgumentError('<service=replicas>', `must be service=replicas, got ${JSON.stringify(p)}`)
        return [p.slice(0, i), parseInteger('<service=replicas>', p.slice(i + 1))] as const
      })
      for (const [ref, replicas] of wanted) {
        const s = await control.services.scale((await control.services.get(ref)).id, replicas)
        c.io.stdout.write(`${ref} scaled to ${replicas}\n`)
        await settle(c, s.id, 'scale', flags, false)
      }
    })

  service
    .command('rollback')
    .description("Revert changes to a service's configuration")
    .argument('<service>', 'service name or id')
    .option('-d, --detach', 'exit immediately instead of waiting for the service to converge')
    .action(async (ref: string, flags: DetachFlags) => {
      const c = ctx()
      const control = await c.control()
      const s = await control.services.rollback((await control.services.get(ref)).id)
      await settle(c, s.id, 'rollback', flags)
    })

  service
    .command('rm')
    .alias('remove')
    .description('Remove one or more services')
    .argument('<service...>', 'service names or ids')
    .action(async (refs: string[]) => {
      const c = ctx()
      const control = await c.control()
      await forEach(c, refs, async (r) => control.services.remove((await control.services.get(r)).id))
    })

  addLogsCommand(service, ctx)
}
