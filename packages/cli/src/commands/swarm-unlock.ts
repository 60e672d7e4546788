/**
 * `swarmkit swarm unlock`: Docker's `docker swarm unlock` — sends the unlock key to a locked
 * manager (one started with `node start open` without `--unlock-key`, waiting locked on its
 * control socket). The key is prompted for on a terminal ("Please enter unlock key: "), read from
 * standard input otherwise, or given with the global `--unlock-key`. Prints nothing on success; a
 * wrong key fails with `ClusterLockedError` (the manager stays locked).
 *
 * @module
 */
import type { Command } from 'commander'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { unlockControlSocket } from '@swarmkit-ts/core'
import { chooseHost, type ConnectionOptions } from '../connect.ts'
import type { ContextFactory } from './common.ts'
import { readSecretLine } from './secret-input.ts'

/** Adds `unlock` to the `swarm` command. */
export function addSwarmUnlockCommand(swarm: Command, ctx: ContextFactory): void {
  swarm
    .command('unlock')
    .description('Unlock a locked manager (started without its unlock key): prompts for the key, or reads it from standard input')
    .action(async (_flags: unknown, command: Command) => {
      const c = ctx()
      const globals = command.optsWithGlobals<ConnectionOptions>()
      const host = chooseHost(globals, c.io.env ?? process.env)
      if (host.kind !== 'unix') throw new InvalidArgumentError('--host', 'swarm unlock talks to the manager on this host: give its unix:// control socket or --state-dir')
      let key = globals.unlockKey
      key ??= await readSecretLine(c, 'Please enter unlock key: ')
      if (key === '') throw new InvalidArgumentError('unlockKey', 'no unlock key given')
      await unlockControlSocket(host.path, key)
    })
}
