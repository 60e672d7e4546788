/**
 * The local control socket: the control API on a unix socket, without TLS, protected by file
 * permissions (mode 0600: only the user running the manager may connect), for the CLI on the
 * manager's host — SwarmKit's `swarmd.sock`.
 *
 * @module
 */
import { chmod, lstat, mkdtemp, rename, rm, unlink } from 'node:fs/promises'
import { connect } from 'node:net'
import { basename, dirname, join } from 'node:path'
import { Server, ServerCredentials, credentials } from '@grpc/grpc-js'
import { FailedPreconditionError, InvalidArgumentError } from '@swarmkit-ts/api'
import { addLocalLogsService, type LogsApi } from '../logs/index.ts'
import type { ControlApi } from './control-api.ts'
import { ControlClient } from './control-client.ts'
import { addControlService, type ControlCallContext } from './control-service.ts'

/** The file mode of the control socket. */
export const CONTROL_SOCKET_MODE = 0o600

/** A running control socket. */
export interface ControlSocket {
  /** The socket's path. */
  readonly path: string
  /** Stops serving (calls in flight and watches are cancelled) and removes the socket file. */
  close(): Promise<void>
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path === '') throw new InvalidArgumentError('path', 'must be a non-empty path')
  return path
}

/** Whether something accepts connections on the unix socket `path`. */
function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/**
 * Makes room for a unix socket at `path` before listening there: nothing there is fine; a stale
 * socket (nobody listening) is removed; a live socket or any other file is refused with
 * `FailedPreconditionError` (reason `socket-in-use`, `not-a-socket`) and left as it is. Used by
 * the control socket and by other servers on a manager (the Docker API's socket).
 */
export async function clearSocketPath(path: string): Promise<void> {
  let st
  try {
    st = await lstat(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  if (!st.isSocket()) throw new FailedPreconditionError(`${path} exists and is not a socket: refusing to replace it`, { reason: 'not-a-socket' })
  if (await listening(path)) throw new FailedPreconditionError(`${path} is in use by another process`, { reason: 'socket-in-use' })
  await unlink(path)
}

function bind(server: Server, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err) => (err === null ? resolve() : reject(err)))
  })
}

/**
 * Serves `control` on the unix socket `path` (insecure gRPC: whoever can open the file may call).
 * The socket is bound in a private directory beside `path`, made mode 0600 and only then renamed
 * to `path`, so it is never reachable with looser permissions.
 *
 * @param control - the API to serve, or a function choosing it per call (e.g. a manager's
 *   `LeaderForwardingControl`, or `ClusterLockedError` while locked).
 * @param options - `logs`: also serve `Logs/SubscribeLogs`, each subscription sent there (a
 *   manager's client of the leader's broker), for {@link ControlClient.logs}; `nodeId`: the
 *   serving manager's node id, answered by {@link ControlClient.info}; `addServices`: registers
 *   more services on the socket's server (a locked manager's unlock service).
 * @throws InvalidArgumentError (`path`); FailedPreconditionError when `path` is a live socket
 *   or not a socket at all.
 */
export async function serveControlSocket(path: string, control: ControlApi | ((context: ControlCallContext) => ControlApi), options: { logs?: () => LogsApi; nodeId?: string; addServices?: (server: Server) => void } = {}): Promise<ControlSocket> {
  checkPath(path)
  await clearSocketPath(path)
  const server = new Server()
  addControlService(server, { control: typeof control === 'function' ? control : () => control, authorize: () => undefined, ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }) })
  if (options.logs !== undefined) addLocalLogsService(server, { logs: options.logs })
  options.addServices?.(server)
  const dir = await mkdtemp(join(dirname(path), `.${basename(path)}-`))
  const tmp = join(dir, 's.sock')
  try {
    await bind(server, `unix:${tmp}`)
    await chmod(tmp, CONTROL_SOCKET_MODE)
    await clearSocketPath(path)
    await rename(tmp, path)
  } catch (err) {
    server.forceShutdown()
    throw err
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  let closed = false
  return {
    path,
    close: async () => {
      if (closed) return
      closed = true
      server.forceShutdown()
      // Remove our socket only: the path might have been replaced meanwhile.
      const st = await lstat(path).catch(() => undefined)
      if (st?.isSocket() === true) await unlink(path).catch(() => undefined)
    },
  }
}

/** A {@link ControlClient} of the control socket at `path`. Close it when done. */
export function connectControlSocket(path: string, options: { callTimeoutMs?: number } = {}): ControlClient {
  checkPath(path)
  return new ControlClient({
    address: `unix:${path}`,
    credentials: credentials.createInsecure(),
    ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }),
  })
}
