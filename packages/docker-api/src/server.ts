/**
 * `serveDockerApi`: the Docker Engine API of a manager on a unix socket (mode 0600), so that
 * `DOCKER_HOST=unix:///path.sock docker service ls` drives the cluster, and/or on TCP with the
 * cluster's mutual TLS (`DOCKER_HOST=tcp://host:port docker --tlsverify …` with a manager's
 * certificate).
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { chmod, rm } from 'node:fs/promises'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { FastifyInstance } from 'fastify'
import { clearSocketPath } from '@swarmkit-ts/core'
import { buildDockerApp } from './app.ts'
import type { DockerApiManager, EngineIdentity } from './context.ts'
import { checkTcpOptions, listenTcp, type DockerApiTcpOptions, type TcpListener } from './server-tcp.ts'

/** Options of {@link serveDockerApi}: a `socket`, a `tcp` address, or both. */
export interface ServeDockerApiOptions {
  /** Path of the unix socket to listen on (created with mode 0600; a stale socket file is replaced). */
  readonly socket?: string
  /**
   * A TCP address to listen on with the cluster's mutual TLS: the manager's identity in a
   * certificate of the cluster's CA valid for the dialled address, client certificates required
   * and verified against the cluster's roots, and only managers of the cluster admitted (403
   * otherwise), as for the control API.
   */
  readonly tcp?: DockerApiTcpOptions
  /** Largest accepted request body in bytes. @default 16 MiB */
  readonly bodyLimit?: number
  /** The engine identity reported to clients. */
  readonly engine?: EngineIdentity
}

/** A running Docker API server. */
export interface DockerApiServer {
  /** The unix socket path it listens on, when it does. */
  readonly socketPath: string | undefined
  /** The TCP address (`host:port`, the chosen port when 0 was asked) it listens on with mutual TLS, when it does. */
  readonly tcpAddress: string | undefined
  /** For `DOCKER_HOST`: `unix://<socketPath>`, or `tcp://<tcpAddress>` without a socket. */
  readonly dockerHost: string
  /** Stops listening, ends open streams (logs, events) and removes the socket file. */
  close(): Promise<void>
  /** Same as {@link DockerApiServer.close}. */
  [Symbol.asyncDispose](): Promise<void>
}

/** A Docker API server listening on a unix socket (and maybe on TCP too). */
export type DockerApiSocketServer = DockerApiServer & { readonly socketPath: string }

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
export async function serveDockerApi(manager: DockerApiManager, options: ServeDockerApiOptions & { readonly socket: string }): Promise<DockerApiSocketServer>
export async function serveDockerApi(manager: DockerApiManager, options: ServeDockerApiOptions): Promise<DockerApiServer>
export async function serveDockerApi(manager: DockerApiManager, options: ServeDockerApiOptions): Promise<DockerApiServer> {
  const { socket } = options
  if (socket === undefined && options.tcp === undefined) throw new InvalidArgumentError('socket', 'give a unix socket path, a tcp address, or both')
  if (socket !== undefined && (typeof socket !== 'string' || socket === '')) throw new InvalidArgumentError('socket', 'must be the path of a unix socket')
  const tcp = options.tcp === undefined ? undefined : checkTcpOptions(options.tcp)
  const closed = new AbortController()
  const app: FastifyInstance = await buildDockerApp(manager, {
    signal: closed.signal,
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    ...(options.engine === undefined ? {} : { engine: options.engine }),
  })
  const route = (req: IncomingMessage, res: ServerResponse): void => app.routing(req, res)
  const server = socket === undefined ? undefined : createServer(route)
  let listener: TcpListener | undefined
  try {
    if (server !== undefined && socket !== undefined) {
      await clearSocketPath(socket)
      await listenOn(server, socket)
      await chmod(socket, 0o600)
    }
    if (tcp !== undefined) listener = await listenTcp(manager, tcp, route)
  } catch (err) {
    server?.close()
    if (socket !== undefined && server?.listening === true) await rm(socket, { force: true })
    await app.close()
    throw err
  }
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed.abort(new Error('the Docker API server is closing'))
      if (server !== undefined) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
      }
      await listener?.close()
      await app.close()
      if (socket !== undefined) await rm(socket, { force: true })
    })()
    return closing
  }
  const tcpAddress = listener?.address
  const dockerHost = socket !== undefined ? `unix://${socket}` : `tcp://${tcpAddress ?? ''}`
  return { socketPath: socket, tcpAddress, dockerHost, close, [Symbol.asyncDispose]: close }
}
