/**
 * Docker Engine API routes: `/_ping` (with the `API-Version` header a newer client negotiates
 * down to), `/version` and `/info` (with its `Swarm` section).
 *
 * @module
 */
import { arch, release } from 'node:os'
import type { DockerApp, RouteContext } from '../context.ts'
import { infoToDocker, operatingSystem } from '../translate/info.ts'
import { API_VERSION, MIN_API_VERSION } from '../version.ts'

const ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' }

/** Registers the system routes. */
export function systemRoutes(app: DockerApp, ctx: RouteContext): void {
  // fastify answers HEAD /_ping from this route too (headers, no body).
  app.get('/_ping', (_req, reply) => {
    void reply
      .header('Cache-Control', 'no-cache, no-store, must-revalidate')
      .header('Pragma', 'no-cache')
      .header('Builder-Version', '1')
      .header('Swarm', 'active/manager')
      .type('text/plain; charset=utf-8')
      .send('OK')
  })

  app.get('/version', (_req, reply) => {
    const details = {
      ApiVersion: API_VERSION,
      Arch: ARCH[arch()] ?? arch(),
      BuildTime: '',
      Experimental: 'false',
      GitCommit: '',
      GoVersion: `node${process.versions.node}`,
      KernelVersion: release(),
      MinAPIVersion: MIN_API_VERSION,
      Os: 'linux',
    }
    void reply.send({
      Platform: { Name: ctx.engine.platform },
      Components: [{ Name: 'Engine', Version: ctx.engine.version, Details: details }],
      Version: ctx.engine.version,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: details.GoVersion,
      Os: 'linux',
      Arch: details.Arch,
      KernelVersion: details.KernelVersion,
      BuildTime: '',
    })
  })

  let os: Promise<string | undefined> | undefined
  app.get('/info', async () => {
    const m = ctx.manager
    os ??= operatingSystem()
    const [nodes, tasks, cluster, operating] = await Promise.all([m.nodes.list(), m.tasks.list(), m.getCluster(), os])
    return infoToDocker({
      nodeId: m.nodeId,
      address: m.address,
      nodes,
      tasks,
      cluster,
      engine: ctx.engine,
      ...(operating === undefined ? {} : { operatingSystem: operating }),
    })
  })
}
