/**
 * Docker Engine API routes: images (not yet written).
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'

/** Registers the images routes. */
export function imagesRoutes(app: DockerApp, ctx: RouteContext): void {
  void app
  void ctx
}
