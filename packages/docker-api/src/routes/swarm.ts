/**
 * Docker Engine API routes: swarm (not yet written).
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'

/** Registers the swarm routes. */
export function swarmRoutes(app: DockerApp, ctx: RouteContext): void {
  void app
  void ctx
}
