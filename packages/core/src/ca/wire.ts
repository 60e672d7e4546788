/**
 * The CA's gRPC service, `swarmkit.core.v1.CA` (SwarmKit's `NodeCA` and `CA` services in one):
 *
 * | method | client certificate | request | response |
 * |---|---|---|---|
 * | `GetRootCACertificate` | none needed | — | the root CA certificate (PEM) |
 * | `IssueNodeCertificate` | none with a join token; the node's own to renew | CSR, token, availability | node ID, membership |
 * | `NodeCertificateStatus` | none needed | node ID | issuance state, certificate chain, role, trust bundle |
 *
 * Messages are small protobuf messages (schema below, parsed once with protobufjs). The server
 * side receives raw bytes and decodes them in the handler, so a malformed request becomes a
 * typed `InvalidArgumentError` instead of grpc-js's INTERNAL.
 *
 * @module
 */
import type { MethodDefinition } from '@grpc/grpc-js'
import protobuf from 'protobufjs'
import { InvalidArgumentError, type IssuanceState, type NodeAvailability, type NodeMembership, type NodeRole } from '@swarmkit-ts/api'

/** The fully qualified name of the CA's gRPC service. */
export const CA_SERVICE_NAME = 'swarmkit.core.v1.CA'

const SCHEMA = `
syntax = "proto3";
package swarmkit.core.v1;
message GetRootCACertificateRequest {}
message GetRootCACertificateResponse { bytes certificate = 1; }
message IssueNodeCertificateRequest { bytes csr = 1; string token = 2; string availability = 3; }
message IssueNodeCertificateResponse { string node_id = 1; string node_membership = 2; }
message NodeCertificateStatusRequest { string node_id = 1; }
message NodeCertificateStatusResponse { string state = 1; string error = 2; bytes certificate = 3; string role = 4; bytes trust_bundle = 5; }
`
const root = protobuf.parse(SCHEMA, { keepCase: false }).root
const type = (name: string): protobuf.Type => root.lookupType(`swarmkit.core.v1.${name}`)
const T = {
  rootReq: type('GetRootCACertificateRequest'),
  rootRes: type('GetRootCACertificateResponse'),
  issueReq: type('IssueNodeCertificateRequest'),
  issueRes: type('IssueNodeCertificateResponse'),
  statusReq: type('NodeCertificateStatusRequest'),
  statusRes: type('NodeCertificateStatusResponse'),
}

/** `GetRootCACertificate` answer. */
export interface RootCACertificateResponse {
  /** The cluster's root CA certificate, PEM: what a join token's digest is computed over. */
  readonly certificatePem: string
}

/** `IssueNodeCertificate` request. */
export interface IssueNodeCertificateRequest {
  /** The PKCS#10 CSR, PEM. Only its public key is used. */
  readonly csrPem: string
  /** The join token (absent when renewing with the node's current certificate). */
  readonly token?: string
  /** Availability of a joining node. @default 'active' */
  readonly availability?: NodeAvailability
}

/** `IssueNodeCertificate` answer. */
export interface IssueNodeCertificateResponse {
  readonly nodeId: string
  readonly membership: NodeMembership
}

/** `NodeCertificateStatus` request. */
export interface NodeCertificateStatusRequest {
  readonly nodeId: string
}

/** `NodeCertificateStatus` answer. */
export interface NodeCertificateStatusResponse {
  /** The issuance state; `issued` carries the certificate. */
  readonly state: IssuanceState
  /** Why issuance failed (`state: 'failed'`). */
  readonly error?: string
  /** The certificate and any intermediate, PEM (`state: 'issued'`). */
  readonly certificateChainPem?: string
  /** The role in the certificate. */
  readonly role?: NodeRole
  /** The roots to trust, PEM (two during a root rotation). */
  readonly trustBundlePem?: string
}

const text = (b: Uint8Array | undefined): string => Buffer.from(b ?? new Uint8Array()).toString('utf8')
const bytes = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'utf8')

function encode(t: protobuf.Type, value: Record<string, unknown>): Buffer {
  return Buffer.from(t.encode(t.fromObject(value)).finish())
}

function decode(t: protobuf.Type, buf: Uint8Array): Record<string, unknown> {
  try {
    return t.toObject(t.decode(buf), { defaults: true })
  } catch (err) {
    throw new InvalidArgumentError('', `undecodable ${t.name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

/** Encoders and decoders of the CA messages. Decoders throw `InvalidArgumentError` on malformed bytes. @internal */
export const caCodec = {
  encodeRootRequest: (): Buffer => encode(T.rootReq, {}),
  decodeRootRequest: (b: Uint8Array): Record<string, never> => {
    decode(T.rootReq, b)
    return {}
  },
  encodeRootResponse: (r: RootCACertificateResponse): Buffer => encode(T.rootRes, { certificate: bytes(r.certificatePem) }),
  decodeRootResponse: (b: Uint8Array): RootCACertificateResponse => ({ certificatePem: text(decode(T.rootRes, b)['certificate'] as Uint8Array) }),
  encodeIssueRequest: (r: IssueNodeCertificateRequest): Buffer =>
    encode(T.issueReq, { csr: bytes(r.csrPem), token: r.token ?? '', availability: r.availability ?? '' }),
  decodeIssueRequest: (b: Uint8Array): { csrPem: string; token: string; availability: string } => {
    const o = decode(T.issueReq, b)
    return { csrPem: text(o['csr'] as Uint8Array), token: String(o['token']), availability: String(o['availability']) }
  },
  encodeIssueResponse: (r: IssueNodeCertificateResponse): Buffer => encode(T.issueRes, { nodeId: r.nodeId, nodeMembership: r.membership }),
  decodeIssueResponse: (b: Uint8Array): IssueNodeCertificateResponse => {
    const o = decode(T.issueRes, b)
    return { nodeId: String(o['nodeId']), membership: String(o['nodeMembership']) as NodeMembership }
  },
  encodeStatusRequest: (r: NodeCertificateStatusRequest): Buffer => encode(T.statusReq, { nodeId: r.nodeId }),
  decodeStatusRequest: (b: Uint8Array): NodeCertificateStatusRequest => ({ nodeId: String(decode(T.statusReq, b)['nodeId']) }),
  encodeStatusResponse: (r: NodeCertificateStatusResponse): Buffer =>
    encode(T.statusRes, {
      state: r.state,
      error: r.error ?? '',
      certificate: bytes(r.certificateChainPem),
      role: r.role ?? '',
      trustBundle: bytes(r.trustBundlePem),
    }),
  decodeStatusResponse: (b: Uint8Array): NodeCertificateStatusResponse => {
    const o = decode(T.statusRes, b)
    const chain = text(o['certificate'] as Uint8Array)
    const bundle = text(o['trustBundle'] as Uint8Array)
    const error = String(o['error'])
    const role = String(o['role'])
    return {
      state: String(o['state']) as IssuanceState,
      ...(error === '' ? {} : { error }),
      ...(chain === '' ? {} : { certificateChainPem: chain }),
      ...(role === 'manager' || role === 'worker' ? { role } : {}),
      ...(bundle === '' ? {} : { trustBundlePem: bundle }),
    }
  },
} as const

const raw = (b: Buffer): Buffer => b

function method<Q, R>(name: string, serialize: (q: Q) => Buffer, deserialize: (b: Buffer) => R): MethodDefinition<Q, R> {
  return {
    path: `/${CA_SERVICE_NAME}/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: serialize,
    // The server decodes in the handler (see the module comment); clients never deserialize requests.
    requestDeserialize: () => {
      throw new Error('client-side definition')
    },
    responseSerialize: () => {
      throw new Error('client-side definition')
    },
    responseDeserialize: deserialize,
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
  }
}

/** The client side of the CA service's methods. @internal */
export const caClientMethods = {
  GetRootCACertificate: method<Record<string, never>, RootCACertificateResponse>('GetRootCACertificate', () => caCodec.encodeRootRequest(), caCodec.decodeRootResponse),
  IssueNodeCertificate: method<IssueNodeCertificateRequest, IssueNodeCertificateResponse>('IssueNodeCertificate', caCodec.encodeIssueRequest, caCodec.decodeIssueResponse),
  NodeCertificateStatus: method<NodeCertificateStatusRequest, NodeCertificateStatusResponse>('NodeCertificateStatus', caCodec.encodeStatusRequest, caCodec.decodeStatusResponse),
} as const

function serverMethod(name: string): MethodDefinition<Buffer, Buffer> {
  return {
    path: `/${CA_SERVICE_NAME}/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
  }
}

/** The server side of the CA service: raw bytes in and out, (de)coded by the handlers. @internal */
export const caServerDefinition = {
  GetRootCACertificate: serverMethod('GetRootCACertificate'),
  IssueNodeCertificate: serverMethod('IssueNodeCertificate'),
  NodeCertificateStatus: serverMethod('NodeCertificateStatus'),
} as const
