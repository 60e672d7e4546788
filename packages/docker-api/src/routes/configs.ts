/**
 * Docker Engine API routes: configs (not yet written).
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'

/** Registers the configs routes. */
export function configsRoutes(app: DockerApp, ctx: RouteContext): void {
  void app
  void ctx
}
