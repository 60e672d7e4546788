/**
 * `swarmkit network create | ls | inspect | rm` (Docker's columns: NETWORK ID, NAME, DRIVER, SCOPE).
 *
 * @module
 */
import type { Command } from 'commander'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { IpamConfig, NetworkSpec } from '@swarmkit-ts/api'
import { shortId } from '../output/table.ts'
import { collect, parseLabels } from './values.ts'
import { forEach, inspect, writeListing, type ContextFactory } from './common.ts'
import { collectFilter, commonFilters } from './filters.ts'

interface CreateFlags {
  readonly driver: string
  readonly subnet?: readonly string[]
  readonly gateway?: readonly string[]
  readonly ipRange?: readonly string[]
  readonly attachable?: boolean
  readonly internal?: boolean
  readonly ipv6?: boolean
  readonly label?: readonly string[]
  readonly opt?: readonly string[]
}

/** The IPAM pools of `--subnet` (with the `--gateway` / `--ip-range` of the same position). */
function ipamConfigs(flags: CreateFlags): IpamConfig[] {
  const subnets = flags.subnet ?? []
  if ((flags.gateway?.length ?? 0) > subnets.length) throw new InvalidArgumentError('--gateway', 'each --gateway needs a --subnet')
  if ((flags.ipRange?.length ?? 0) > subnets.length) throw new InvalidArgumentError('--ip-range', 'each --ip-range needs a --subnet')
  return subnets.map((subnet, i) => {
    const gateway = flags.gateway?.[i]
    const range = flags.ipRange?.[i]
    return { subnet, ...(gateway === undefined ? {} : { gateway }), ...(range === undefined ? {} : { range }) }
  })
}

/** Adds the `network` commands to `program`. */
export function addNetworkCommands(program: Command, ctx: ContextFactory): void {
  const network = program.command('network').description('Manage networks')
  network
    .command('create')
    .description('Create a network')
    .argument('<name>', 'the network name')
    .option('-d, --driver <driver>', 'driver managing the network', 'overlay')
    .option('--subnet <cidr>', 'subnet (10.0.9.0/24)', collect)
    .option('--gateway <ip>', 'gateway of the subnet', collect)
    .option('--ip-range <cidr>', 'allocate addresses from a sub-range', collect)
    .option('--attachable', 'enable manual container attachment')
    .option('--internal', 'restrict external access to the network')
    .option('--ipv6', 'enable IPv6 networking')
    .option('--label <key=value>', 'a network label', collect)
    .option('-o, --opt <key=value>', 'driver options', collect)
    .action(async (name: string, flags: CreateFlags) => {
      const c = ctx()
      const configs = ipamConfigs(flags)
      const options = parseLabels('--opt', flags.opt ?? [])
      const spec: NetworkSpec = {
        annotations: { name, labels: parseLabels('--label', flags.label ?? []) },
        driverConfig: { name: flags.driver, ...(Object.keys(options).length === 0 ? {} : { options }) },
        ...(configs.length === 0 ? {} : { ipam: { configs } }),
        ...(flags.attachable === true ? { attachable: true } : {}),
        ...(flags.internal === true ? { internal: true } : {}),
        ...(flags.ipv6 === true ? { ipv6Enabled: true } : {}),
      }
      const created = await (await c.control()).networks.create(spec)
      c.io.stdout.write(`${created.id}\n`)
    })
  network
    .command('ls')
    .alias('list')
    .description('List networks')
    .option('--no-trunc', 'do not truncate ids')
    .option('-f, --filter <key=value>', 'name, id or label', collectFilter)
    .action(async (flags: { trunc?: boolean; filter?: string[] }) => {
      const c = ctx()
      const networks = await (await c.control()).networks.list(commonFilters(flags.filter))
      writeListing(c, networks, ['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], (n) => [shortId(n.id, flags.trunc === false), n.spec.annotations.name, n.driverState?.name ?? n.spec.driverConfig?.name ?? 'overlay', 'swarm'])
    })
  network
    .command('inspect')
    .description('Display detailed information on one or more networks (JSON)')
    .argument('<network...>', 'names or ids')
    .action(async (refs: string[]) => {
      const c = ctx()
      const control = await c.control()
      await inspect(c, refs, (r) => control.networks.get(r))
    })
  network
    .command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .argument('<network...>', 'names or ids')
    .action(async (refs: string[]) => {
      const c = ctx()
      const control = await c.control()
      await forEach(c, refs, (r) => control.networks.remove(r))
    })
}
