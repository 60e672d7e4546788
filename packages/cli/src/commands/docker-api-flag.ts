/**
 * `swarmkit node start --docker-api <address>`: the Docker Engine API of the node while it is a
 * manager — on a unix socket (`unix:///path.sock`, mode 0600) or on TCP with the cluster's mutual
 * TLS (`tcp://host:port`). A worker serves nothing; a promoted worker starts serving, a demoted
 * manager stops.
 *
 * @module
 */
import { isAbsolute } from 'node:path'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { ClusterNode } from '@swarmkit-ts/core'
import { serveDockerApi, type DockerApiServer, type ServeDockerApiOptions } from '@swarmkit-ts/docker-api'

/** Where `--docker-api` serves: a unix socket or a TCP address. */
export type DockerApiListen = Pick<ServeDockerApiOptions, 'socket' | 'tcp'>

/** Parses `--docker-api`: `unix:///absolute/path.sock` or `tcp://host:port` (`InvalidArgumentError` naming the flag otherwise). */
export function parseDockerApiFlag(value: string): DockerApiListen {
  if (value.startsWith('unix://')) {
    const socket = value.slice('unix://'.length)
    if (!isAbsolute(socket)) throw new InvalidArgumentError('--docker-api', `unix:// needs an absolute socket path (unix:///path/docker.sock), got ${JSON.stringify(value)}`)
    return { socket }
  }
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(value)
  if (tcp !== null) {
    const port = Number(tcp[2])
    if (port > 65535) throw new InvalidArgumentError('--docker-api', `port ${port} is out of range`)
    return { tcp: { host: (tcp[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port } }
  }
  throw new InvalidArgumentError('--docker-api', `must be unix:///path.sock or tcp://host:port, got ${JSON.stringify(value)}`)
}

/** The Docker API of a node across its role changes. */
export class DockerApiServing {
  readonly #listen: DockerApiListen
  #server: DockerApiServer | undefined

  constructor(listen: DockerApiListen) {
    this.#listen = listen
  }

  /** `DOCKER_HOST` of the running server (`unix://…` or `tcp://…`), when the node serves. */
  get dockerHost(): string | undefined {
    return this.#server?.dockerHost
  }

  /** Serves `node`'s Docker API when it is a manager (stopping the previous node's first); stops when it is a worker. */
  async follow(node: ClusterNode): Promise<void> {
    await this.close()
    if (node.role === 'manager') this.#server = await serveDockerApi(node, this.#listen)
  }

  /** Stops serving (ends open streams, removes the socket file). */
  async close(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    await server?.close()
  }
}
