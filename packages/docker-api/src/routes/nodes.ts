/**
 * Docker Engine API routes: nodes (not yet written).
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'

/** Registers the nodes routes. */
export function nodesRoutes(app: DockerApp, ctx: RouteContext): void {
  void app
  void ctx
}
