/**
 * `swarmkit node start --dashboard <host:port>`: the live web dashboard of the node while it is a
 * manager (read-only; with `--dashboard-actions`, scale, drain and rollback behind a token printed
 * at start; with `--dashboard-tls`, HTTPS with the cluster's certificates). A worker serves nothing; a promoted worker starts serving, a demoted manager stops.
 *
 * @module
 */
import type { ClusterNode } from '@swarmkit-ts/core'
import { parseListenAddress, serveDashboard, type DashboardServer } from '@swarmkit-ts/dashboard'

/** Parses `--dashboard`: `host:port` (`InvalidArgumentError` naming the flag otherwise). */
export function parseDashboardFlag(value: string): string {
  parseListenAddress(value, '--dashboard')
  return value
}

/** The dashboard of a node across its role changes. */
export class DashboardServing {
  readonly #listen: string
  readonly #actions: boolean
  readonly #tls: boolean
  #server: DashboardServer | undefined

  /** `tls`: HTTPS with the cluster's certificates (a manager certificate may act without the token). */
  constructor(listen: string, actions: boolean, tls = false) {
    this.#listen = listen
    this.#actions = actions
    this.#tls = tls
  }

  /** The URL to open (with the actions token in its fragment when actions are on), when the node serves. */
  get url(): string | undefined {
    return this.#server?.actionsUrl ?? this.#server?.url
  }

  /** Serves `node`'s dashboard when it is a manager (stopping the previous node's first); stops when it is a worker. */
  async follow(node: ClusterNode): Promise<void> {
    await this.close()
    if (node.role === 'manager') this.#server = await serveDashboard(node, { listen: this.#listen, actions: this.#actions, tls: this.#tls })
  }

  /** Stops serving (ends open streams). */
  async close(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    await server?.close()
  }
}
