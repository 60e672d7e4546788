/**
 * Every command group of `swarmkit`, added to the program in help order.
 *
 * @module
 */
import type { Command } from 'commander'
import type { ContextFactory } from './common.ts'
import { addNetworkCommands } from './network.ts'
import { addNodeCommands } from './node.ts'
import { addSecretConfigCommands } from './secret-config.ts'
import { addServiceCommands } from './service.ts'
import { addStackCommands } from './stack.ts'
import { addSwarmCommands } from './swarm.ts'

export type { ContextFactory } from './common.ts'

/** Adds `service`, `node`, `secret`, `config`, `network`, `stack` (part B's) and `swarm` to `program`. */
export function addCommands(program: Command, ctx: ContextFactory): void {
  addServiceCommands(program, ctx)
  addNodeCommands(program, ctx)
  addSecretConfigCommands(program, ctx)
  addNetworkCommands(program, ctx)
  addStackCommands(program, ctx)
  addSwarmCommands(program, ctx)
}
