/**
 * The Docker API over TCP with the cluster's mutual TLS: the manager's identity and key in a
 * serving certificate from the cluster's CA (valid for the addresses clients dial, so
 * `docker --tlsverify` accepts it), the cluster's roots as the only trusted CAs, a client
 * certificate required at the handshake, and each request authorized like a control call:
 * managers of this cluster only, removed nodes refused.
 *
 * @module
 */
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { hostname, networkInterfaces } from 'node:os'
import { isIP } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { InvalidArgumentError, PermissionDeniedError, UnavailableError, type NodeRole } from '@swarmkit-ts/api'
import { SigningCACache, clusterAuthorizer, issueServingCertificate } from '@swarmkit-ts/core'
import type { DockerApiManager } from './context.ts'
import { API_VERSION } from './version.ts'

/** Where and how the Docker API listens on TCP (see {@link ServeDockerApiOptions.tcp}). */
export interface DockerApiTcpOptions {
  /** The address to bind (`127.0.0.1`, `::`, `0.0.0.0`, a host name). */
  readonly host: string
  /** The port; 0 picks a free one (read it from {@link DockerApiServer.tcpAddress}). */
  readonly port: number
  /**
   * More host names and IP addresses clients dial (a load balancer's name, a public address): the
   * server certificate is valid for them too. The bound host is always included; a wildcard
   * bind (`0.0.0.0`, `::`) adds this machine's addresses, `localhost` and its host name.
   */
  readonly hosts?: readonly string[]
}

/** The roles whose certificates may call the Docker API over TCP: managers, as the control API. */
export const DOCKER_API_TCP_ROLES: readonly NodeRole[] = ['manager']

const WILDCARDS = new Set(['0.0.0.0', '::', ''])

/** Checks `tcp` and returns it (throws naming the field). */
export function checkTcpOptions(tcp: DockerApiTcpOptions): DockerApiTcpOptions {
  if (typeof tcp !== 'object' || tcp === null) throw new InvalidArgumentError('tcp', 'must be { host, port }')
  if (typeof tcp.host !== 'string') throw new InvalidArgumentError('tcp.host', 'must be an address or host name')
  if (!Number.isInteger(tcp.port) || tcp.port < 0 || tcp.port > 65535) throw new InvalidArgumentError('tcp.port', `must be an integer in 0–65535, got ${String(tcp.port)}`)
  if (tcp.hosts !== undefined && !Array.isArray(tcp.hosts)) throw new InvalidArgumentError('tcp.hosts', 'must be an array of host names and IP addresses')
  tcp.hosts?.forEach((h: unknown, i) => {
    if (!isHostName(h)) throw new InvalidArgumentError(`tcp.hosts[${i}]`, `must be a host name or an IP address, got ${JSON.stringify(h)}`)
  })
  return tcp
}

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9*]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/** Whether `h` can be a subject alternative name: an IP address or a DNS name. */
function isHostName(h: unknown): h is string {
  return typeof h === 'string' && (isIP(h) !== 0 || DNS_NAME.test(h))
}

/** The names and addresses the serving certificate covers for `tcp`. */
export function certificateHosts(tcp: DockerApiTcpOptions): string[] {
  // This machine's names and addresses only where they can be SANs (a host name may not be).
  const found = WILDCARDS.has(tcp.host)
    ? ['localhost', hostname(), ...Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => a.scopeid === undefined || a.scopeid === 0).map((a) => a.address))]
    : [tcp.host]
  return [...new Set([...found.filter(isHostName), ...(tcp.hosts ?? [])])]
}

/** `host:port` of a bound TCP server (IPv6 in brackets); a wildcard bind reports loopback. */
function addressOf(server: Server, host: string): string {
  const a = server.address()
  if (a === null || typeof a === 'string') throw new UnavailableError('the Docker API TCP server is not listening')
  const shown = WILDCARDS.has(host) ? (a.family === 'IPv6' ? '::1' : '127.0.0.1') : host
  return isIP(shown) === 6 ? `[${shown}]:${a.port}` : `${shown}:${a.port}`
}

function deny(res: ServerResponse, message: string): void {
  res.writeHead(403, { 'Content-Type': 'application/json', 'Api-Version': API_VERSION })
  res.end(JSON.stringify({ message }))
}

/** A running TLS listener of the Docker API. */
export interface TcpListener {
  /** `host:port` it listens on. */
  readonly address: string
  /** Stops listening and drops open connections. */
  close(): Promise<void>
}

/**
 * Listens on `tcp` with the cluster's mutual TLS and hands authorized requests to `route`.
 * Follows the manager's TLS material: a renewal or a root rotation issues a new serving
 * certificate and trust bundle for new connections.
 */
export async function listenTcp(manager: DockerApiManager, tcp: DockerApiTcpOptions, route: (req: IncomingMessage, res: ServerResponse) => void): Promise<TcpListener> {
  const hosts = certificateHosts(tcp)
  const signingCA = new SigningCACache()
  const store = manager.manager.store
  const issue = (): ReturnType<typeof issueServingCertificate> => issueServingCertificate({ store, tls: manager.tls, hosts, signingCA })
  let material = await issue()
  let basedOn = manager.tls.current
  const authorize = clusterAuthorizer(store, { clusterId: manager.clusterId })
  const server = createServer(
    { key: material.keyPem, cert: material.certChainPem, ca: material.trustBundlePem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    (req, res) => {
      const socket = req.socket as TLSSocket
      try {
        authorize({ getAuthContext: () => ({ transportSecurityType: 'ssl', sslPeerCertificate: socket.getPeerCertificate() }) }, DOCKER_API_TCP_ROLES)
      } catch (err) {
        deny(res, err instanceof PermissionDeniedError ? `permission denied: ${err.message}` : 'permission denied')
        return
      }
      route(req, res)
    },
  )
  // Re-issue when the node's material changes (the listener also fires once at subscription).
  let refreshing = Promise.resolve()
  const onChange = (): void => {
    refreshing = refreshing.then(async () => {
      const now = manager.tls.current
      if (now === basedOn) return
      basedOn = now
      try {
        material = await issue()
        server.setSecureContext({ key: material.keyPem, cert: material.certChainPem, ca: material.trustBundlePem })
      } catch {
        // Keep serving the previous certificate; the next change tries again.
      }
    })
  }
  manager.tls.addIdentityCertificateListener(onChange)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(tcp.port, tcp.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    manager.tls.removeIdentityCertificateListener(onChange)
    throw new UnavailableError(`cannot listen on ${tcp.host}:${tcp.port}: ${(err as Error).message}`, { cause: err })
  }
  const address = addressOf(server, tcp.host)
  return {
    address,
    close: async () => {
      manager.tls.removeIdentityCertificateListener(onChange)
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await refreshing
    },
  }
}
