/**
 * Docker Engine API routes: networks (not yet written).
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'

/** Registers the networks routes. */
export function networksRoutes(app: DockerApp, ctx: RouteContext): void {
  void app
  void ctx
}
