/**
 * Docker Engine API routes: services (not yet written).
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'

/** Registers the services routes. */
export function servicesRoutes(app: DockerApp, ctx: RouteContext): void {
  void app
  void ctx
}
