/**
 * Docker Engine API routes: secrets (not yet written).
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'

/** Registers the secrets routes. */
export function secretsRoutes(app: DockerApp, ctx: RouteContext): void {
  void app
  void ctx
}
