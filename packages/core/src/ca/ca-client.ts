/**
 * A client of the CA service (wire.ts) over one grpc-js channel, with the TLS credentials the
 * stage of joining calls for (see {@link caChannelCredentials}).
 *
 * @module
 */
import { X509Certificate } from 'node:crypto'
import type { PeerCertificate } from 'node:tls'
import { Client, credentials as grpcCredentials, Metadata, type ChannelCredentials, type MethodDefinition } from '@grpc/grpc-js'
import { InvalidArgumentError, PermissionDeniedError } from '@swarmkit-ts/api'
import { credentials, identityOf, type TlsMaterial, type TlsMaterialSource } from '@swarmkit-ts/pki'
import { fromGrpcError } from '../rpc/errors.ts'
import {
  caClientMethods,
  type IssueNodeCertificateRequest,
  type IssueNodeCertificateResponse,
  type NodeCertificateStatusResponse,
  type RootCACertificateResponse,
} from './wire.ts'

/** Options of one CA call. */
export interface CaCallOptions {
  /** Cancels the call (it rejects with `UnavailableError`). */
  signal?: AbortSignal | undefined
  /** Deadline of the call, ms from now. @default 10000 */
  timeoutMs?: number | undefined
}

function managerCheck(host: string, cert: PeerCertificate): Error | undefined {
  void host
  try {
    const id = identityOf(new X509Certificate(cert.raw), 'serverCertificate')
    return id.role === 'manager' ? undefined : new PermissionDeniedError(`the server's certificate has role ${id.role}, expected manager`, { role: id.role })
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err))
  }
}

/**
 * TLS credentials for the CA service, by stage:
 * - `{ kind: 'unverified' }`: TLS without checking the server (to fetch the root CA, which the
 *   caller then checks against its join token's digest before sending anything else);
 * - `{ kind: 'root', rootCaPem }`: the server must hold a manager certificate under this root
 *   (no client certificate: to send the join token and CSR);
 * - `{ kind: 'node', material }`: mutual TLS with the node's current certificate (renewal).
 */
export type CaChannelCredentials =
  | { readonly kind: 'unverified' }
  | { readonly kind: 'root'; readonly rootCaPem: string }
  | { readonly kind: 'node'; readonly material: TlsMaterial | TlsMaterialSource }

/** The grpc-js credentials of a {@link CaChannelCredentials} stage. */
export function caChannelCredentials(c: CaChannelCredentials): ChannelCredentials {
  switch (c.kind) {
    case 'unverified':
      return grpcCredentials.createSsl(null, null, null, { rejectUnauthorized: false })
    case 'root':
      return grpcCredentials.createSsl(Buffer.from(c.rootCaPem), null, null, { checkServerIdentity: managerCheck })
    case 'node':
      return credentials.forClient(c.material, { serverRole: 'manager' })
  }
}

/** A client of one manager's CA service. Close it when done. */
export class CaClient {
  readonly #client: Client

  /**
   * @param address - the manager, `host:port`.
   * @throws InvalidArgumentError (`address`) when empty.
   */
  constructor(address: string, creds: CaChannelCredentials) {
    if (typeof address !== 'string' || address === '') throw new InvalidArgumentError('address', 'must be host:port')
    this.#client = new Client(address, caChannelCredentials(creds), credentials.channelOptions('manager'))
  }

  /** The root CA certificate the manager shows. */
  getRootCACertificate(options?: CaCallOptions): Promise<RootCACertificateResponse> {
    return this.#call(caClientMethods.GetRootCACertificate, {}, options)
  }

  /** Asks for a certificate: with a join token (joining) or over the node's own certificate (renewal). */
  issueNodeCertificate(request: IssueNodeCertificateRequest, options?: CaCallOptions): Promise<IssueNodeCertificateResponse> {
    return this.#call(caClientMethods.IssueNodeCertificate, request, options)
  }

  /** The issuance state of `nodeId`'s certificate, once final or after the server's wait bound. */
  nodeCertificateStatus(nodeId: string, options?: CaCallOptions): Promise<NodeCertificateStatusResponse> {
    return this.#call(caClientMethods.NodeCertificateStatus, { nodeId }, options)
  }

  /** Closes the channel. */
  close(): void {
    this.#client.close()
  }

  #call<Q, R>(m: MethodDefinition<Q, R>, request: Q, options: CaCallOptions | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const deadline = Date.now() + (options?.timeoutMs ?? 10_000)
      const call = this.#client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, request, new Metadata(), { deadline }, (err, res) => {
        options?.signal?.removeEventListener('abort', onAbort)
        if (err !== null || res === undefined) reject(fromGrpcError(err))
        else resolve(res)
      })
      const onAbort = (): void => call.cancel()
      if (options?.signal?.aborted === true) call.cancel()
      else options?.signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}
