/**
 * Docker Engine API routes: containers (not yet written).
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'

/** Registers the containers routes. */
export function containersRoutes(app: DockerApp, ctx: RouteContext): void {
  void app
  void ctx
}
