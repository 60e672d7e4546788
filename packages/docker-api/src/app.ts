/**
 * The Docker Engine API as a fastify application: version prefixes, Docker's error bodies and
 * headers, JSON bodies with a size limit, and every route module. {@link serveDockerApi} puts it
 * on sockets.
 *
 * @module
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { DockerApiManager, EngineIdentity, RouteContext, RouteModule } from './context.ts'
import { DockerApiError, toDockerError } from './errors.ts'
import { API_VERSION, checkApiVersion, stripVersion } from './version.ts'
import { systemRoutes } from './routes/system.ts'
import { swarmRoutes } from './routes/swarm.ts'
import { nodesRoutes } from './routes/nodes.ts'
import { servicesRoutes } from './routes/services.ts'
import { tasksRoutes } from './routes/tasks.ts'
import { secretsRoutes } from './routes/secrets.ts'
import { configsRoutes } from './routes/configs.ts'
import { networksRoutes } from './routes/networks.ts'
import { containersRoutes } from './routes/containers.ts'
import { imagesRoutes } from './routes/images.ts'
import { eventsRoutes } from './routes/events.ts'
import { distributionRoutes } from './routes/distribution.ts'

/** Default limit of a request body: 16 MiB (a secret or config holds at most 500 KiB). */
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024

/** The engine identity reported when none is given. */
export const DEFAULT_ENGINE: EngineIdentity = { version: '20.10.24-swarmkit-ts', platform: 'swarmkit-ts' }

/** Options of {@link buildDockerApp}. */
export interface DockerAppOptions {
  /** Largest accepted request body in bytes (413 beyond). @default {@link DEFAULT_BODY_LIMIT} */
  readonly bodyLimit?: number
  /** The engine identity reported to clients. @default {@link DEFAULT_ENGINE} */
  readonly engine?: EngineIdentity
  /** Aborts streams (logs, events) when the server closes. */
  readonly signal: AbortSignal
}

const MODULES: readonly RouteModule[] = [
  systemRoutes,
  swarmRoutes,
  nodesRoutes,
  servicesRoutes,
  tasksRoutes,
  secretsRoutes,
  configsRoutes,
  networksRoutes,
  containersRoutes,
  imagesRoutes,
  eventsRoutes,
  distributionRoutes,
]

/** Routes whose body is not JSON (a tar or an image archive): the Buffer goes to the handler. */
const RAW_BODY_ROUTES: ReadonlySet<string> = new Set(['/build', '/images/load', '/images/create', '/images/*', '/containers/:id/archive'])

/** Parses a JSON body; an empty body is `undefined` (Docker's CLI sends `Content-Type` with no body at times). */
function parseJsonBody(body: string): unknown {
  if (body.trim() === '') return undefined
  try {
    return JSON.parse(body) as unknown
  } catch (err) {
    throw new DockerApiError(400, `malformed JSON in the request body: ${(err as Error).message}`)
  }
}

/** The Docker API application for `manager` (not listening: see {@link serveDockerApi}). */
export async function buildDockerApp(manager: DockerApiManager, options: DockerAppOptions): Promise<FastifyInstance> {
  const engine = options.engine ?? DEFAULT_ENGINE
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    rewriteUrl: (req) => stripVersion(req),
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
  })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(['application/json', 'text/json'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string))
    } catch (err) {
      done(err as Error, undefined)
    }
  })
  // Anything else (a tar for /build, plain text) arrives as a Buffer; the route decides.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))

  app.addHook('onRequest', async (req, reply) => {
    reply.header('Api-Version', API_VERSION)
    reply.header('Docker-Experimental', 'false')
    reply.header('Ostype', 'linux')
    reply.header('Server', `Docker/${engine.version} (linux)`)
    checkApiVersion(req.raw)
  })
  // A body that is not JSON, where JSON is expected, is refused as dockerd's CheckForJSON does
  // (routes that take raw bodies — a build context, an image archive — are listed).
  app.addHook('preHandler', (req, _reply, done) => {
    if (!Buffer.isBuffer(req.body) || req.body.length === 0 || RAW_BODY_ROUTES.has(req.routeOptions.url ?? '')) done()
    else done(new DockerApiError(400, `unsupported Content-Type header (${req.headers['content-type'] ?? ''}): must be 'application/json'`))
  })
  // JSON goes out as exactly `application/json`, as dockerd sends it (fastify appends a charset): the
  // docker CLI reads an error body's message only then, and prints the raw body otherwise.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8') reply.header('content-type', 'application/json')
    return payload
  })
  app.setErrorHandler((err, _req, reply) => {
    const { status, message } = toDockerError(err)
    void reply.code(status).type('application/json').send({ message })
  })
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).type('application/json').send({ message: 'page not found' })
  })

  const ctx: RouteContext = { manager, signal: options.signal, engine }
  for (const register of MODULES) register(app, ctx)
  await app.ready()
  return app
}
