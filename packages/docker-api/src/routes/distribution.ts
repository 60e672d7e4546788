/**
 * Docker Engine API routes: `/distribution/{name}/json`, which the CLI calls on `service create`
 * and `update` to pin an image to its registry digest. Nothing here asks a registry (each node
 * pulls or finds its images itself), so the answer is an error: the CLI then goes on with the
 * image as given and prints Docker's own warning ("image … could not be accessed on a registry to
 * record its digest"), exactly as with a daemon that cannot reach the registry.
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'
import { notSupported } from '../errors.ts'

/** Registers the distribution route. */
export function distributionRoutes(app: DockerApp, ctx: RouteContext): void {
  void ctx
  // `*`: an image name has slashes (`registry.example/team/app:1`).
  app.get('/distribution/*', (req) => {
    const name = (req.params as { readonly '*': string })['*'].replace(/\/json$/, '')
    throw notSupported(`resolving ${name} on a registry`, 'nodes pull or find images themselves; pin a digest in the image reference to fix its version')
  })
}
