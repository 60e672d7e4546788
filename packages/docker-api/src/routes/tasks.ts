/**
 * Docker Engine API routes: tasks (not yet written).
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'

/** Registers the tasks routes. */
export function tasksRoutes(app: DockerApp, ctx: RouteContext): void {
  void app
  void ctx
}
