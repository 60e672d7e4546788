/**
 * `NodeServer`: the one gRPC server of a node. Every cluster service (raft, dispatcher, CA,
 * control, logs) registers on {@link NodeServer.server} and is reached at one TCP address over
 * TLS with the node's certificate.
 *
 * @module
 */
import { Server, experimental, type ServerCredentials, type ServerOptions } from '@grpc/grpc-js'
import { FailedPreconditionError, InvalidArgumentError, UnavailableError } from '@swarmkit-ts/api'
import type { TlsMaterialSource } from '@swarmkit-ts/pki'
import { raftServerOptions } from '@swarmkit-ts/raft/grpc'

/** Construction options of {@link NodeServer}. */
export interface NodeServerInit {
  /** `host:port` to listen on; port 0 lets the OS choose (read {@link NodeServer.address} after `listen()`). */
  listenAddress: string
  /**
   * The address other nodes reach this one at. @default the bound address (`listenAddress`
   * with the chosen port); give it when listening on `0.0.0.0` or behind NAT.
   */
  advertiseAddress?: string | undefined
  /** The node's key, certificate chain and trust bundle; followed on renewal and rotation. */
  tls: TlsMaterialSource
  /** Extra grpc-js server options, merged over the raft ones (message size limits, keepalive). */
  options?: ServerOptions | undefined
  /** How long `close()` lets calls finish before cancelling them. @default 1000 */
  shutdownGraceMs?: number | undefined
}

/** `host:port` with a numeric port. */
const ADDRESS = /^(.+):(\d{1,5})$/

/**
 * The server's TLS credentials: the client certificate is requested and verified against the
 * trust bundle when presented, but not required, so the CA's certificate-issuing call works for
 * a node that has none yet. An unverified certificate never reaches a handler (grpc-js reports
 * no peer certificate for an unauthorized TLS socket): every service authorizes its callers with
 * pki's `authorize`, which refuses a call without one.
 */
export function nodeServerCredentials(tls: TlsMaterialSource): ServerCredentials {
  return experimental.createCertificateProviderServerCredentials(tls, tls, false)
}

/** One grpc-js server per node, bound on a TCP address with mTLS credentials. */
export class NodeServer {
  /** The grpc-js server: register services on it (before or after `listen()`). */
  readonly server: Server
  readonly #listenAddress: string
  readonly #advertise: string | undefined
  readonly #tls: TlsMaterialSource
  readonly #graceMs: number
  #port: number | undefined
  #closing: Promise<void> | undefined

  /** @throws InvalidArgumentError naming a bad option. */
  constructor(init: NodeServerInit) {
    const m = ADDRESS.exec(String(init.listenAddress))
    if (m === null || Number(m[2]) > 65535) throw new InvalidArgumentError('listenAddress', `must be host:port, got ${String(init.listenAddress)}`)
    if (init.advertiseAddress !== undefined) {
      const a = ADDRESS.exec(init.advertiseAddress)
      if (a === null || Number(a[2]) === 0 || Number(a[2]) > 65535) throw new InvalidArgumentError('advertiseAddress', `must be host:port with a non-zero port, got ${init.advertiseAddress}`)
    }
    const grace = init.shutdownGraceMs ?? 1000
    if (!Number.isFinite(grace) || grace < 0) throw new InvalidArgumentError('shutdownGraceMs', 'must be a non-negative number')
    if (typeof init.tls?.addIdentityCertificateListener !== 'function') throw new InvalidArgumentError('tls', 'must be a TlsMaterialSource')
    this.#listenAddress = init.listenAddress
    this.#advertise = init.advertiseAddress
    this.#tls = init.tls
    this.#graceMs = grace
    this.server = new Server({ ...raftServerOptions(), ...init.options })
  }

  /**
   * Binds the listen address.
   *
   * @throws UnavailableError when the address cannot be bound; FailedPreconditionError when
   *   already bound or closed.
   */
  async listen(): Promise<void> {
    if (this.#closing !== undefined) throw new FailedPreconditionError('the node server is closed', { reason: 'closed' })
    if (this.#port !== undefined) throw new FailedPreconditionError('the node server is already listening', { reason: 'already-listening' })
    this.#port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(this.#listenAddress, nodeServerCredentials(this.#tls), (err, port) => {
        if (err === null) resolve(port)
        else reject(new UnavailableError(`cannot listen on ${this.#listenAddress}: ${err.message}`, { cause: err }))
      })
    })
  }

  /** The bound address (`host:port` with the chosen port). @throws FailedPreconditionError before `listen()`. */
  get address(): string {
    if (this.#port === undefined) throw new FailedPreconditionError('the node server is not listening yet', { reason: 'not-listening' })
    const host = (ADDRESS.exec(this.#listenAddress) as RegExpExecArray)[1] as string
    return `${host}:${this.#port}`
  }

  /** The address other nodes reach this one at (see {@link NodeServerInit.advertiseAddress}). */
  get advertiseAddress(): string {
    return this.#advertise ?? this.address
  }

  /** Whether `listen()` has bound the address (and `close()` was not called). */
  get listening(): boolean {
    return this.#port !== undefined && this.#closing === undefined
  }

  /**
   * Stops accepting calls, lets calls in progress finish for `shutdownGraceMs`, then cancels
   * the rest. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      let done = false
      const timer = setTimeout(() => {
        if (done) return
        done = true
        this.server.forceShutdown()
        resolve()
      }, this.#graceMs)
      this.server.tryShutdown(() => {
        clearTimeout(timer)
        if (done) return
        done = true
        resolve()
      })
    })
    return this.#closing
  }
}
