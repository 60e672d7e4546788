/**
 * The options of `serveDashboard`, checked up front: a bad one is an `InvalidArgumentError`
 * naming the field, before anything listens.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { checkToken } from './auth.ts'

/** Options of `serveDashboard`. */
export interface ServeDashboardOptions {
  /** Where to listen: `host:port` (`127.0.0.1:0` picks a free port; `[::1]:8080` for IPv6). */
  readonly listen: string
  /**
   * Enables the POST actions (scale, drain, rollback) behind a bearer token. @default false
   * (read-only: every action is refused with 403)
   */
  readonly actions?: boolean
  /** The actions token (at least 16 printable characters); default: a random one, returned by `serveDashboard`. */
  readonly token?: string
  /**
   * Serve HTTPS with the cluster's certificates (a manager only): a serving certificate from the
   * cluster's CA; a client presenting a manager certificate of this cluster may act without the
   * token (the control API's rule). @default false
   */
  readonly tls?: boolean
  /** The page title (the cluster's name, say). @default 'swarmkit-ts' */
  readonly title?: string
  /** How often the Raft panel is re-read, in ms (it changes without a store write on an election). @default 1000 */
  readonly sampleIntervalMs?: number
  /** Closes the server when aborted. */
  readonly signal?: AbortSignal
}

/** The checked options. */
export interface DashboardSettings {
  readonly host: string
  readonly port: number
  readonly actions: boolean
  readonly tls: boolean
  readonly token: string | undefined
  readonly title: string
  readonly sampleIntervalMs: number
}

/** Parses `host:port` (the `--dashboard` flag's form too); `field` names it in the error. */
export function parseListenAddress(value: string, field = 'listen'): { readonly host: string; readonly port: number } {
  if (typeof value !== 'string') throw new InvalidArgumentError(field, 'must be a string host:port')
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/\s]+):(\d{1,5})$/.exec(value)
  if (m === null) throw new InvalidArgumentError(field, `must be host:port (127.0.0.1:8080), got ${JSON.stringify(value)}`)
  const port = Number(m[2])
  if (port > 65535) throw new InvalidArgumentError(field, `port ${port} is out of range (0-65535)`)
  return { host: (m[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port }
}

/** Checks `options`, filling the defaults. */
export function checkOptions(options: ServeDashboardOptions): DashboardSettings {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object')
  const { host, port } = parseListenAddress(options.listen)
  if (options.actions !== undefined && typeof options.actions !== 'boolean') throw new InvalidArgumentError('actions', 'must be a boolean')
  const actions = options.actions === true
  if (options.token !== undefined) {
    checkToken(options.token)
    if (!actions) throw new InvalidArgumentError('token', 'is only used with actions: true')
  }
  if (options.tls !== undefined && typeof options.tls !== 'boolean') throw new InvalidArgumentError('tls', 'must be a boolean')
  const title = options.title ?? 'swarmkit-ts'
  if (typeof title !== 'string' || title.length > 200) throw new InvalidArgumentError('title', 'must be a string of at most 200 characters')
  const sampleIntervalMs = options.sampleIntervalMs ?? 1000
  if (!Number.isInteger(sampleIntervalMs) || sampleIntervalMs < 10 || sampleIntervalMs > 60_000) throw new InvalidArgumentError('sampleIntervalMs', 'must be an integer from 10 to 60000')
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new InvalidArgumentError('signal', 'must be an AbortSignal')
  return { host, port, actions, tls: options.tls === true, token: actions ? (options.token ?? undefined) : undefined, title, sampleIntervalMs }
}
