/**
 * Docker Engine API routes: `/configs` — create, list (filters `id`, `label`, `name`, `names`),
 * inspect (with the data), update (labels only), remove (refused while a service uses it).
 *
 * @module
 */
import type { Config, ConfigSpec } from '@swarmkit-ts/api'
import type { DockerApp, RouteContext } from '../context.ts'
import { configSpecFromDocker, configToDocker } from '../translate/config.ts'
import { payloadRoutes } from './secrets.ts'

/** Registers the configs routes. */
export function configsRoutes(app: DockerApp, ctx: RouteContext): void {
  payloadRoutes<Config, ConfigSpec>(app, { kind: 'config', api: ctx.manager.configs, toDocker: configToDocker, fromDocker: configSpecFromDocker })
}
