/**
 * `serveDockerApi`: the Docker Engine API of a manager on a unix socket (mode 0600), so that
 * `DOCKER_HOST=unix:///path.sock docker service ls` drives the cluster.
 *
 * @module
 */
import { createServer, type Server } from 'node:http'
import { chmod, lstat, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { InvalidArgumentError, AlreadyExistsError } from '@swarmkit-ts/api'
import type { FastifyInstance } from 'fastify'
import { buildDockerApp } from './app.ts'
import type { DockerApiManager, EngineIdentity } from './context.ts'

/** Options of {@link serveDockerApi}. */
export interface ServeDockerApiOptions {
  /** Path of the unix socket to listen on (created with mode 0600; a stale socket file is replaced). */
  readonly socket: string
  /** Largest accepted request body in bytes. @default 16 MiB */
  readonly bodyLimit?: number
  /** The engine identity reported to clients. */
  readonly engine?: EngineIdentity
}

/** A running Docker API server. */
export interface DockerApiServer {
  /** The unix socket path it listens on. */
  readonly socketPath: string
  /** `unix://<socketPath>`, for `DOCKER_HOST`. */
  readonly dockerHost: string
  /** Stops listening, ends open streams (logs, events) and removes the socket file. */
  close(): Promise<void>
  /** Same as {@link DockerApiServer.close}. */
  [Symbol.asyncDispose](): Promise<void>
}

/** Whether something answers on the unix socket at `path`. */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/** Removes a stale socket file at `path`; refuses when a server still answers there. */
async function clearSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined)
  if (st === undefined) return
  if (!st.isSocket()) throw new InvalidArgumentError('socket', `${path} exists and is not a socket`)
  if (await socketInUse(path)) throw new AlreadyExistsError('docker api socket', path, { message: `a server already listens on ${path}` })
  await rm(path, { force: true })
}

function listenOn(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/**
 * Serves the Docker Engine API of `manager` on a unix socket.
 *
 * @example
 * ```ts
 * import { Cluster } from '@swarmkit-ts/core'
 * import { serveDockerApi } from '@swarmkit-ts/docker-api'
 *
 * const manager = await Cluster.init({ stateDir: '/tmp/swarmkit-docker-example', listenAddr: '127.0.0.1:0' })
 * const server = await serveDockerApi(manager, { socket: '/tmp/swarmkit-docker-example.sock' })
 * // DOCKER_HOST=unix:///tmp/swarmkit-docker-example.sock docker service ls
 * await server.close()
 * await manager.close()
 * ```
 */
export async function serveDockerApi(manager: DockerApiManager, options: ServeDockerApiOptions): Promise<DockerApiServer> {
  if (typeof options.socket !== 'string' || options.socket === '') throw new InvalidArgumentError('socket', 'must be the path of a unix socket')
  const closed = new AbortController()
  const app: FastifyInstance = await buildDockerApp(manager, {
    signal: closed.signal,
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    ...(options.engine === undefined ? {} : { engine: options.engine }),
  })
  const server = createServer((req, res) => app.routing(req, res))
  try {
    await clearSocket(options.socket)
    await listenOn(server, options.socket)
    await chmod(options.socket, 0o600)
  } catch (err) {
    server.close()
    await app.close()
    throw err
  }
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed.abort(new Error('the Docker API server is closing'))
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await app.close()
      await rm(options.socket, { force: true })
    })()
    return closing
  }
  return { socketPath: options.socket, dockerHost: `unix://${options.socket}`, close, [Symbol.asyncDispose]: close }
}
