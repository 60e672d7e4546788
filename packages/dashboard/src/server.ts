/**
 * `serveDashboard`: the dashboard's HTTP server (fastify) — the page and its files, the live
 * stream (`GET /api/events`, Server-Sent Events), the picture as JSON (`GET /api/state`), and,
 * when enabled, the actions (`POST /api/services/:id/scale`, `/api/services/:id/rollback`,
 * `/api/nodes/:id/availability`) behind a bearer token.
 *
 * @module
 */
import type { Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Server as TlsServer, TLSSocket } from 'node:tls'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { InvalidArgumentError, NodeAvailability, PermissionDeniedError, SwarmkitError } from '@swarmkit-ts/api'
import { loadAssets, type Assets } from './assets.ts'
import { bearerMatches, newToken } from './auth.ts'
import { escapeHtml } from './escape.ts'
import { DashboardFeed, type FeedClient } from './feed.ts'
import { checkOptions, type DashboardSettings, type ServeDashboardOptions } from './options.ts'
import { toDashboardSource, type DashboardSource, type DashboardTarget } from './source.ts'
import { parseLastEventId, sseRetry } from './sse.ts'

/** A running dashboard. */
export interface DashboardServer extends AsyncDisposable {
  /** The page's URL (`http://host:port/`, or `https://` with `tls`). */
  readonly url: string
  /** The actions token (only with `actions: true`). */
  readonly token?: string
  /** The page's URL carrying the token in its fragment (never sent to a server): print this one. With `actions` only. */
  readonly actionsUrl?: string
  /** Ends every stream and stops listening. Idempotent. */
  close(): Promise<void>
}

/** Headers of every answer: no framing, no sniffing, no referrer, and only this server's scripts and styles. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
}

/**
 * Serves the dashboard of `target` — a running manager (`Cluster.init/join/open`, its own store:
 * a follower shows what it has replicated) or a simulated cluster (`Cluster.simulate`: its
 * leader's store) — on `options.listen`. Read-only unless `options.actions`; then the actions
 * need the returned `token`.
 *
 * @throws InvalidArgumentError naming the bad option (`listen`, `token`, `title`, …) or `source`.
 */
export async function serveDashboard(target: DashboardTarget, options: ServeDashboardOptions): Promise<DashboardServer> {
  const settings = checkOptions(options)
  const source = toDashboardSource(target)
  const assets = await loadAssets()
  const token = settings.actions ? (settings.token ?? newToken()) : undefined
  if (settings.tls && source.tls === undefined) throw new InvalidArgumentError('tls', 'needs a manager (a simulated cluster has no certificates)')
  const https = settings.tls && source.tls !== undefined ? await source.tls.issue([settings.host]) : undefined
  const feed = new DashboardFeed(source, { actions: settings.actions, sampleIntervalMs: settings.sampleIntervalMs })
  const app = buildApp({ source, feed, assets, settings, token, https })
  feed.start()
  try {
    await app.listen({ host: settings.host, port: settings.port })
  } catch (err) {
    feed.close()
    await app.close()
    throw err
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : settings.port
  // Follows renewals and root rotations: new connections get a certificate from the current CA.
  const unfollow = https === undefined ? undefined : source.tls?.follow([settings.host], (m) => (app.server as unknown as TlsServer).setSecureContext({ key: m.keyPem, cert: m.certChainPem, ca: m.trustBundlePem }))
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host
  const url = `${https === undefined ? 'http' : 'https'}://${host}:${port}/`
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      options.signal?.removeEventListener('abort', onAbort)
      unfollow?.()
      feed.close()
      await app.close()
    })()
    return closing
  }
  const onAbort = (): void => void close()
  if (options.signal?.aborted === true) await close()
  else options.signal?.addEventListener('abort', onAbort, { once: true })
  return {
    url,
    ...(token === undefined ? {} : { token, actionsUrl: `${url}#token=${token}` }),
    close,
    [Symbol.asyncDispose]: close,
  }
}

interface AppParts {
  readonly source: DashboardSource
  readonly feed: DashboardFeed
  readonly assets: Assets
  readonly settings: DashboardSettings
  readonly token: string | undefined
  /** The serving certificate, with `tls`. */
  readonly https: { readonly keyPem: string; readonly certChainPem: string; readonly trustBundlePem: string } | undefined
}

function buildApp({ source, feed, assets, settings, token, https }: AppParts): FastifyInstance {
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    bodyLimit: 64 * 1024,
    // HTTPS asks for a client certificate without requiring one: a browser without one still
    // reads; a manager certificate of the cluster may act. (https.Server serves the same
    // request/response API as http.Server, which is the type fastify is built with here.)
    ...(https === undefined
      ? {}
      : {
          serverFactory: (handler: Parameters<typeof createHttpsServer>[1]) =>
            createHttpsServer({ key: https.keyPem, cert: https.certChainPem, ca: https.trustBundlePem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, handler) as unknown as HttpServer,
        }),
  })
  app.addHook('onSend', async (_req, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) void reply.header(k, v)
  })
  const page = (assets.get('/')?.body.toString('utf8') ?? '').replaceAll('{{title}}', escapeHtml(settings.title))
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(page))
  for (const path of ['/assets/app.js', '/assets/app.css']) {
    const asset = assets.get(path)
    if (asset !== undefined) app.get(path, async (_req, reply) => reply.type(asset.contentType).header('cache-control', 'no-cache').send(asset.body))
  }
  app.get('/api/state', async (_req, reply) => reply.header('cache-control', 'no-store').send(feed.snapshot()))
  app.get('/api/events', (req, reply) => {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    res.write(sseRetry())
    const client: FeedClient = {
      write: (text) => {
        if (!res.writableEnded) res.write(text)
        return res.writableLength
      },
      close: () => void res.end(),
    }
    req.raw.on('close', () => feed.unsubscribe(client))
    feed.subscribe(client, parseLastEventId(req.headers['last-event-id']))
  })

  const managerCertificate = (req: FastifyRequest): boolean => {
    const socket = req.raw.socket as Partial<TLSSocket>
    if (https === undefined || socket.authorized !== true || socket.getPeerCertificate === undefined || source.tls === undefined) return false
    try {
      source.tls.authorizeManager(socket.getPeerCertificate())
      return true
    } catch {
      return false
    }
  }
  const authorize = (req: FastifyRequest): void => {
    if (token === undefined) throw new PermissionDeniedError('actions are disabled: this dashboard is read-only (serve it with actions: true)')
    if (managerCertificate(req)) return
    if (!bearerMatches(req.headers.authorization, token)) throw new PermissionDeniedError('a valid actions token is required (Authorization: Bearer <token>)')
  }
  const action = (run: (req: FastifyRequest<{ Params: { id: string } }>) => Promise<void>) => async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    try {
      authorize(req)
      await run(req)
      return await reply.send({ ok: true })
    } catch (err) {
      return reply.code(httpStatus(err)).send(errorBody(err))
    }
  }
  app.post<{ Params: { id: string } }>('/api/services/:id/scale', action(async (req) => {
    const replicas = bodyField(req.body, 'replicas')
    if (!Number.isSafeInteger(replicas) || (replicas as number) < 0) throw new InvalidArgumentError('replicas', 'must be a non-negative integer')
    await source.scale(req.params.id, replicas as number)
  }))
  app.post<{ Params: { id: string } }>('/api/services/:id/rollback', action(async (req) => source.rollback(req.params.id)))
  app.post<{ Params: { id: string } }>('/api/nodes/:id/availability', action(async (req) => {
    const availability = bodyField(req.body, 'availability')
    const allowed: readonly unknown[] = Object.values(NodeAvailability)
    if (!allowed.includes(availability)) throw new InvalidArgumentError('availability', `must be one of ${allowed.join(', ')}`)
    await source.setAvailability(req.params.id, availability as NodeAvailability)
  }))
  return app
}

function bodyField(body: unknown, field: string): unknown {
  if (typeof body !== 'object' || body === null) throw new InvalidArgumentError(field, 'missing: send a JSON body')
  return (body as Record<string, unknown>)[field]
}

const STATUS_BY_NAME: Readonly<Record<string, number>> = {
  InvalidArgumentError: 400,
  PermissionDeniedError: 403,
  NotFoundError: 404,
  AlreadyExistsError: 409,
  SequenceConflictError: 409,
  FailedPreconditionError: 412,
  UnavailableError: 503,
  NotLeaderError: 503,
  ClusterLockedError: 503,
}

/** The HTTP status of an action's error (500 for anything not in the api's family). */
export function httpStatus(err: unknown): number {
  if (err instanceof SwarmkitError) return STATUS_BY_NAME[err.name] ?? 500
  if (typeof err === 'object' && err !== null && 'statusCode' in err && typeof err.statusCode === 'number') return err.statusCode
  return 500
}

function errorBody(err: unknown): { error: string; message: string; field?: string } {
  if (err instanceof InvalidArgumentError) return { error: err.name, message: err.message, field: err.field }
  if (err instanceof Error) return { error: err.name, message: err.message }
  return { error: 'Error', message: String(err) }
}
