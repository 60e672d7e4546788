/**
 * Docker Engine API routes: distribution (not yet written).
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'

/** Registers the distribution routes. */
export function distributionRoutes(app: DockerApp, ctx: RouteContext): void {
  void app
  void ctx
}
