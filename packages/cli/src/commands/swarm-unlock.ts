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
import type { CommandContext } from '../context.ts'
import type { ContextFactory } from './common.ts'

/** The first line of standard input, trimmed. */
async function readKey(ctx: CommandContext): Promise<string> {
  const source: AsyncIterable<string | Uint8Array> = ctx.io.stdin ?? (process.stdin as AsyncIterable<Uint8Array>)
  let text = ''
  for await (const chunk of source) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    if (text.includes('\n')) break
  }
  return (text.split('\n')[0] ?? '').trim()
}

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
      if (key === undefined) {
        if (c.io.stdin === undefined && process.stdin.isTTY) c.io.stdout.write('Please enter unlock key: ')
        key = await readKey(c)
      }
      if (key === '') throw new InvalidArgumentError('unlockKey', 'no unlock key given')
      await unlockControlSocket(host.path, key)
    })
}
