/**
 * Docker Engine API routes: events (not yet written).
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'

/** Registers the events routes. */
export function eventsRoutes(app: DockerApp, ctx: RouteContext): void {
  void app
  void ctx
}
