/**
 * Docker Engine API routes: system (not yet written).
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'

/** Registers the system routes. */
export function systemRoutes(app: DockerApp, ctx: RouteContext): void {
  void app
  void ctx
}
