/**
 * `swarmkit node ls | ps | inspect | update | promote | demote | rm` (and `node start`, which runs
 * a node: see node-start.ts), with Docker's columns and messages.
 *
 * @module
 */
import type { Command } from 'commander'
import { Option } from 'commander'
import { FailedPreconditionError } from '@swarmkit-ts/api'
import type { NodeAvailability, NodeRole, NodeSpec } from '@swarmkit-ts/api'
import type { ControlClient } from '@swarmkit-ts/core'
import type { CommandContext } from '../context.ts'
import { shortId } from '../output/table.ts'
import { capitalize, forEach, inspect, writeListing, type ContextFactory } from './common.ts'
import { collectFilter, nodeFilters } from './filters.ts'
import { writeTasks } from './listings.ts'
import { addNodeStartCommand } from './node-start.ts'
import type { NodeObject } from './objects.ts'
import { collect, parseKeyValue } from './values.ts'

/** Header of `node ls`. */
export const NODE_HEAD = ['ID', 'HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS', 'ENGINE VERSION'] as const

/** Docker's MANAGER STATUS: `Leader`, `Reachable`, `Unreachable`, or blank for a worker. */
export function managerStatus(node: NodeObject): string {
  const m = node.managerStatus
  if (m === undefined || node.role !== 'manager') return ''
  return m.leader ? 'Leader' : capitalize(m.reachability)
}

/** One `node ls` row; the node the CLI talks to (`self`) has ` *` after its id, as Docker's. */
export function nodeRow(node: NodeObject, noTrunc = false, self?: string): string[] {
  return [
    `${shortId(node.id, noTrunc)}${node.id === self ? ' *' : ''}`,
    node.description?.hostname ?? '',
    capitalize(node.status.state),
    capitalize(node.spec.availability),
    managerStatus(node),
    node.description?.engine?.engineVersion ?? '',
  ]
}

interface UpdateFlags {
  readonly availability?: NodeAvailability
  readonly role?: NodeRole
  readonly labelAdd?: readonly string[]
  readonly labelRm?: readonly string[]
}

/** Reads node `ref`, lets `change` edit a copy of its spec, and writes it back at the version read. */
async function editNode(ctx: CommandContext, ref: string, change: (spec: NodeSpec) => void): Promise<NodeObject> {
  const control = await ctx.control()
  const node = await control.nodes.get(ref)
  const spec = structuredClone(node.spec) as NodeSpec
  change(spec)
  return control.nodes.update(node.id, spec, { version: node.meta.version.index })
}

const nameOf = (n: NodeObject): string => n.description?.hostname ?? n.id

/** The id of the manager serving the control API, or undefined when it cannot say (an older manager). */
async function selfId(control: ControlClient): Promise<string | undefined> {
  try {
    return (await control.info()).nodeId
  } catch (err) {
    if (err instanceof FailedPreconditionError || (err instanceof Error && /UNIMPLEMENTED|not implemented/i.test(err.message))) return undefined
    throw err
  }
}

/** Adds the `node` commands to `program`. */
export function addNodeCommands(program: Command, ctx: ContextFactory): void {
  const node = program.command('node').description('Manage nodes')
  addNodeStartCommand(node, ctx)

  node
    .command('ls')
    .alias('list')
    .description('List nodes in the swarm')
    .option('--no-trunc', 'do not truncate ids')
    .option('-f, --filter <key=value>', 'id, label, role (manager, worker) or membership (accepted, pending)', collectFilter)
    .action(async (flags: { trunc?: boolean; filter?: string[] }) => {
      const c = ctx()
      const control = await c.control()
      const nodes = [...(await control.nodes.list(nodeFilters(flags.filter)))].sort((a, b) => nameOf(a).localeCompare(nameOf(b)) || a.id.localeCompare(b.id))
      const self = await selfId(control)
      writeListing(c, nodes, NODE_HEAD, (n) => nodeRow(n, flags.trunc === false, self), (n) => ({ Self: n.id === self }))
    })

  node
    .command('ps')
    .description('List the tasks running on one or more nodes')
    .argument('<node...>', 'node ids or hostnames')
    .option('--no-trunc', 'do not truncate ids and errors')
    .action(async (refs: string[], flags: { trunc?: boolean }) => {
      const c = ctx()
      const control = await c.control()
      const nodes = await Promise.all(refs.map((r) => control.nodes.get(r)))
      const tasks = await control.tasks.list({ nodeIds: nodes.map((n) => n.id) })
      const services = await control.services.list()
      writeTasks(c, tasks, { services: new Map(services.map((s) => [s.id, s.spec.annotations.name])), nodes: new Map(nodes.map((n) => [n.id, n])), now: Date.now(), noTrunc: flags.trunc === false })
    })

  node
    .command('inspect')
    .description('Display detailed information on one or more nodes (JSON)')
    .argument('<node...>', 'node ids or hostnames')
    .action(async (refs: string[]) => {
      const c = ctx()
      const control = await c.control()
      await inspect(c, refs, (r) => control.nodes.get(r))
    })

  node
    .command('update')
    .description('Update a node')
    .argument('<node>', 'node id or hostname')
    .addOption(new Option('--availability <availability>', 'availability of the node').choices(['active', 'pause', 'drain']))
    .addOption(new Option('--role <role>', 'role of the node').choices(['worker', 'manager']))
    .option('--label-add <key=value>', 'add or update a node label', collect)
    .option('--label-rm <key>', 'remove a node label', collect)
    .action(async (ref: string, flags: UpdateFlags) => {
      const c = ctx()
      const labelAdd = (flags.labelAdd ?? []).map((l) => parseKeyValue('--label-add', l))
      const updated = await editNode(c, ref, (spec) => {
        if (flags.availability !== undefined) spec.availability = flags.availability
        if (flags.role !== undefined) spec.desiredRole = flags.role
        const labels: Record<string, string> = { ...spec.annotations.labels }
        for (const k of flags.labelRm ?? []) delete labels[k]
        for (const [k, v] of labelAdd) labels[k] = v
        spec.annotations.labels = labels
      })
      c.io.stdout.write(`${c.quiet ? updated.id : ref}\n`)
    })

  for (const [verb, role, message] of [
    ['promote', 'manager', (n: string) => `Node ${n} promoted to a manager in the swarm.`],
    ['demote', 'worker', (n: string) => `Manager ${n} demoted in the swarm.`],
  ] as const) {
    node
      .command(verb)
      .description(verb === 'promote' ? 'Promote one or more nodes to manager in the swarm' : 'Demote one or more nodes from manager in the swarm')
      .argument('<node...>', 'node ids or hostnames')
      .action(async (refs: string[]) => {
        const c = ctx()
        let failure: Error | undefined
        for (const ref of refs) {
          try {
            await editNode(c, ref, (spec) => {
              spec.desiredRole = role
            })
            c.io.stdout.write(`${message(ref)}\n`)
          } catch (err) {
            failure ??= err instanceof Error ? err : new Error(String(err))
          }
        }
        if (failure !== undefined) throw failure
      })
  }

  node
    .command('rm')
    .alias('remove')
    .description('Remove one or more nodes from the swarm')
    .argument('<node...>', 'node ids or hostnames')
    .option('-f, --force', 'remove a node that is still up')
    .action(async (refs: string[], flags: { force?: boolean }) => {
      const c = ctx()
      const control = await c.control()
      await forEach(c, refs, async (r) => control.nodes.remove((await control.nodes.get(r)).id, { force: flags.force === true }))
    })
}
