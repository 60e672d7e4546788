/**
 * The CA's gRPC service on a manager (`swarmkit.core.v1.CA`, see wire.ts), over the manager's
 * store:
 *
 * - `GetRootCACertificate`: the root CA certificate, to anyone (a joining node has no
 *   certificate; it checks what it gets against its token's digest).
 * - `IssueNodeCertificate` with a join token: the token's secret gives the role; a Node object is
 *   created (membership accepted) holding the CSR with issuance state `pending`. Without a token
 *   (renewal): the caller's current, verified, not denied certificate names the node, which must
 *   still exist; its certificate entry gets the new CSR, the node's current role and state
 *   `renew`.
 * - `NodeCertificateStatus`: waits (long poll, bounded) until the node's certificate is `issued`
 *   or `failed` and answers it with the chain and the trust bundle.
 *
 * Signing is asynchronous, as in SwarmKit: the leader's {@link caSigner} signs pending entries.
 * A write on a follower fails with `NotLeaderError` naming the leader; the joining client retries
 * there (SwarmKit proxies the call to the leader instead).
 *
 * @module
 */
import type { Server, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js'
import {
  InvalidArgumentError,
  IssuanceState,
  NotFoundError,
  PermissionDeniedError,
  cryptoRandom,
  generateId,
  silentLogger,
  systemClock,
  type Clock,
  type Logger,
  type Node,
  type NodeAvailability,
  type NodeRole,
  type Random,
} from '@swarmkit-ts/api'
import { JoinTokens, authorize } from '@swarmkit-ts/pki'
import type { Frozen, MemoryStore } from '@swarmkit-ts/store'
import { toGrpcError } from '../rpc/errors.ts'
import { denyListOf } from './authorizer.ts'
import { clusterOf, pemBytes, pemText, rootCertificateOf, trustBundleOf } from './cluster-ca.ts'
import { caCodec, caServerDefinition, type NodeCertificateStatusResponse } from './wire.ts'

/** What {@link addCaService} needs. */
export interface CaServiceDeps {
  /** The manager's (replicated) store: the Cluster object and the Node objects. */
  store: MemoryStore
  /** @default systemClock */
  clock?: Clock
  /** Source of new node IDs. @default cryptoRandom */
  random?: Random
  /** @default silentLogger */
  logger?: Logger
  /** Longest a `NodeCertificateStatus` call waits before answering a still pending state. @default 30000 */
  statusWaitMs?: number
}

const AVAILABILITIES: readonly NodeAvailability[] = ['active', 'pause', 'drain']
const CSR_LABEL = '-----BEGIN CERTIFICATE REQUEST-----'
/** Largest CSR accepted, in bytes (a P-256 CSR is ~500). */
const MAX_CSR_BYTES = 16 * 1024

/** A certificate is there (`issued`, or `rotate`: issued and since asked to renew), or issuance failed. */
function isFinal(state: IssuanceState | undefined): boolean {
  return state === IssuanceState.ISSUED || state === IssuanceState.ROTATE || state === IssuanceState.FAILED
}

function checkCsr(csrPem: string): void {
  if (csrPem === '') throw new InvalidArgumentError('csr', 'is required')
  if (csrPem.length > MAX_CSR_BYTES || !csrPem.includes(CSR_LABEL)) throw new InvalidArgumentError('csr', 'must be a PEM certificate signing request')
}

function hostOf(peer: string): string | undefined {
  const m = /^(?:ipv4:|ipv6:)?\[?([^\]]+?)\]?:\d+$/.exec(peer)
  return m?.[1]
}

function unary(handler: (call: ServerUnaryCall<Buffer, Buffer>) => Promise<Buffer>) {
  return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
    Promise.resolve()
      .then(() => handler(call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toGrpcError(err)),
      )
  }
}

/** Registers the CA service on a caller-owned grpc-js server (a manager's `NodeServer.server`). */
export function addCaService(server: Server, deps: CaServiceDeps): void {
  const { store } = deps
  const clock = deps.clock ?? systemClock
  const random = deps.random ?? cryptoRandom
  const log = deps.logger ?? silentLogger
  const waitMs = deps.statusWaitMs ?? 30_000
  if (!Number.isFinite(waitMs) || waitMs < 0) throw new InvalidArgumentError('statusWaitMs', 'must be a non-negative number')

  const getRoot = (call: ServerUnaryCall<Buffer, Buffer>): Promise<Buffer> => {
    caCodec.decodeRootRequest(call.request)
    const pem = store.view((tx) => rootCertificateOf(clusterOf(tx)))
    return Promise.resolve(caCodec.encodeRootResponse({ certificatePem: pem }))
  }

  const join = async (call: ServerUnaryCall<Buffer, Buffer>, req: { csrPem: string; token: string; availability: string }): Promise<Buffer> => {
    const availability = (req.availability === '' ? 'active' : req.availability) as NodeAvailability
    if (!AVAILABILITIES.includes(availability)) throw new InvalidArgumentError('availability', `must be one of ${AVAILABILITIES.join(', ')}`)
    const cluster = store.view(clusterOf)
    let role: NodeRole
    try {
      role = JoinTokens.from(cluster.rootCa.joinTokens).roleOf(req.token)
    } catch (err) {
      if (err instanceof PermissionDeniedError) throw new PermissionDeniedError('token: invalid join token', { cause: err })
      throw err
    }
    const id = generateId(random)
    const addr = hostOf(call.getPeer())
    await store.update((tx) => {
      tx.nodes.create({
        id,
        spec: { annotations: { name: '' }, desiredRole: role, membership: 'accepted', availability },
        role,
        status: { state: 'unknown', ...(addr === undefined ? {} : { addr }) },
        certificate: { role, csr: pemBytes(req.csrPem), status: { state: IssuanceState.PENDING }, cn: id },
      })
    })
    log.info('node joining', { nodeId: id, role })
    return caCodec.encodeIssueResponse({ nodeId: id, membership: 'accepted' })
  }

  const renew = async (call: ServerUnaryCall<Buffer, Buffer>, csrPem: string): Promise<Buffer> => {
    const cluster = store.view(clusterOf)
    const caller = authorize(call, ['manager', 'worker'], { clusterId: cluster.id, denyList: denyListOf(cluster), clock })
    const node = await store.update((tx) => {
      const current = tx.nodes.get(caller.nodeId)
      if (current === undefined) throw new PermissionDeniedError(`node ${caller.nodeId} has been removed from the cluster`, { role: caller.role })
      return tx.nodes.update(caller.nodeId, (d) => {
        d.certificate = { role: current.role, csr: pemBytes(csrPem), status: { state: IssuanceState.RENEW }, cn: caller.nodeId }
      })
    })
    return caCodec.encodeIssueResponse({ nodeId: node.id, membership: node.spec.membership })
  }

  const issue = async (call: ServerUnaryCall<Buffer, Buffer>): Promise<Buffer> => {
    const req = caCodec.decodeIssueRequest(call.request)
    checkCsr(req.csrPem)
    return req.token === '' ? renew(call, req.csrPem) : join(call, req)
  }

  const answer = (node: Frozen<Node>): Buffer => {
    const cert = node.certificate
    const state = cert?.status.state ?? IssuanceState.UNKNOWN
    const res: NodeCertificateStatusResponse = {
      state,
      ...(cert?.status.err === undefined ? {} : { error: cert.status.err }),
      ...(cert === undefined ? {} : { role: cert.role }),
      ...((state === IssuanceState.ISSUED || state === IssuanceState.ROTATE) && cert?.certificate !== undefined
        ? { certificateChainPem: pemText(cert.certificate), trustBundlePem: store.view((tx) => trustBundleOf(clusterOf(tx))) }
        : {}),
    }
    return caCodec.encodeStatusResponse(res)
  }

  const status = async (call: ServerUnaryCall<Buffer, Buffer>): Promise<Buffer> => {
    const { nodeId } = caCodec.decodeStatusRequest(call.request)
    if (nodeId === '') throw new InvalidArgumentError('nodeId', 'is required')
    const stop = new AbortController()
    const onCancel = (): void => stop.abort()
    call.on('cancelled', onCancel)
    const timer = clock.setTimeout(() => stop.abort(), waitMs)
    const { result, watch } = store.viewAndWatch((tx) => tx.nodes.get(nodeId), { kinds: 'node', id: nodeId }, { signal: stop.signal })
    try {
      if (result === undefined) throw new NotFoundError('node', nodeId)
      let latest: Frozen<Node> = result
      if (!isFinal(latest.certificate?.status.state)) {
        for await (const ev of watch) {
          if (ev.action === 'commit') continue
          if (ev.action === 'delete') throw new NotFoundError('node', nodeId)
          latest = ev.object
          if (isFinal(latest.certificate?.status.state)) break
        }
      }
      return answer(latest)
    } finally {
      watch.close()
      timer.cancel()
      call.removeListener('cancelled', onCancel)
    }
  }

  server.addService(caServerDefinition, {
    GetRootCACertificate: unary(getRoot),
    IssueNodeCertificate: unary(issue),
    NodeCertificateStatus: unary(status),
  })
}
