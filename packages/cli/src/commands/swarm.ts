/**
 * `swarmkit swarm join-token [--rotate] [-q] worker|manager | unlock-key [--rotate] [-q] |
 * unlock | ca [--rotate] [-d]`, with Docker's messages (the join command is `swarmkit node start join`).
 *
 * @module
 */
import type { Command } from 'commander'
import { FailedPreconditionError } from '@swarmkit-ts/api'
import type { ClusterSpec, NodeRole } from '@swarmkit-ts/api'
import type { ControlClient } from '@swarmkit-ts/core'
import type { CommandContext } from '../context.ts'
import type { ContextFactory } from './common.ts'
import { addSwarmUnlockCommand } from './swarm-unlock.ts'
import { parseChoice } from './values.ts'

/** The cluster address of the leader (else of any manager), for the join command. */
async function managerAddress(control: ControlClient): Promise<string> {
  const managers = (await control.nodes.list({ roles: ['manager'] })).filter((n) => n.managerStatus !== undefined)
  const leader = managers.find((n) => n.managerStatus?.leader === true) ?? managers[0]
  return leader?.managerStatus?.addr ?? '<manager address>'
}

/** Docker's join instructions, with our command. */
export function joinInstructions(role: NodeRole, token: string, address: string): string {
  return `To add a ${role} to this swarm, run the following command:\n\n    swarmkit node start join --token ${token} --join-addr ${address} --state-dir <dir>\n\n`
}

/** Docker's unlock-key message. */
export function unlockKeyMessage(key: string): string {
  return (
    'To unlock a swarm manager after it restarts, run `swarmkit swarm unlock` (or `swarmkit node start open --unlock-key <key>`)\n' +
    'with the following key:\n\n' +
    `    ${key}\n\n` +
    'Please remember to store this key in a password manager, since without it you\n' +
    'will not be able to restart the manager.\n'
  )
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Starts a root CA rotation and, unless `detach`, waits until every node holds a new-root certificate. */
async function rotateCa(ctx: CommandContext, control: ControlClient, detach: boolean): Promise<void> {
  const cluster = await control.getCluster()
  const spec = structuredClone(cluster.spec) as ClusterSpec
  spec.caConfig = { ...spec.caConfig, forceRotate: (spec.caConfig?.forceRotate ?? 0) + 1 }
  await control.updateCluster(spec, { version: cluster.meta.version.index })
  if (detach) return
  if (!ctx.quiet) ctx.io.stdout.write('rotating the root CA: waiting for every node to renew its certificate...\n')
  for (;;) {
    const now = await control.getCluster()
    if (now.rootCa.rootRotation === undefined && now.rootCa.caCertHash !== cluster.rootCa.caCertHash) return
    if (ctx.signal.aborted) return
    await sleep(500)
  }
}

/** Adds the `swarm` commands to `program`. */
export function addSwarmCommands(program: Command, ctx: ContextFactory): void {
  const swarm = program.command('swarm').description('Manage the swarm')
  swarm
    .command('join-token')
    .description('Manage join tokens')
    .argument('<role>', 'worker or manager')
    .option('--rotate', 'rotate the join token')
    .action(async (roleArg: string, flags: { rotate?: boolean }) => {
      const c = ctx()
      const role = parseChoice('<role>', roleArg, ['worker', 'manager'] as const)
      const control = await c.control()
      const tokens = flags.rotate === true ? await control.rotateJoinToken(role) : await control.joinTokens()
      if (c.quiet) {
        c.io.stdout.write(`${tokens[role]}\n`)
        return
      }
      if (flags.rotate === true) c.io.stdout.write(`Successfully rotated ${role} join token.\n\n`)
      c.io.stdout.write(joinInstructions(role, tokens[role], await managerAddress(control)))
    })
  swarm
    .command('unlock-key')
    .description('Manage the unlock key')
    .option('--rotate', 'rotate the unlock key')
    .action(async (flags: { rotate?: boolean }) => {
      const c = ctx()
      const control = await c.control()
      const key = flags.rotate === true ? await control.rotateUnlockKey() : await control.unlockKey()
      if (key === undefined) throw new FailedPreconditionError('no unlock key is set: autolock is off', { reason: 'autolock-off' })
      if (c.quiet) c.io.stdout.write(`${key}\n`)
      else c.io.stdout.write(`${flags.rotate === true ? 'Successfully rotated manager unlock key.\n\n' : ''}${unlockKeyMessage(key)}`)
    })
  addSwarmUnlockCommand(swarm, ctx)
  swarm
    .command('ca')
    .description('Display and rotate the root CA')
    .option('--rotate', 'rotate the root CA (every node renews its certificate)')
    .option('-d, --detach', 'exit immediately instead of waiting for the rotation')
    .action(async (flags: { rotate?: boolean; detach?: boolean }) => {
      const c = ctx()
      const control = await c.control()
      if (flags.rotate === true) await rotateCa(c, control, flags.detach === true)
      if (c.quiet && flags.rotate === true) return
      const cluster = await control.getCluster()
      const pem = Buffer.from(cluster.rootCa.caCert).toString('utf8')
      c.io.stdout.write(pem.endsWith('\n') ? pem : `${pem}\n`)
    })
}
