/**
 * The joining node's side of the CA: obtaining a first certificate with a join token, and
 * renewing it with the current one.
 *
 * @module
 */
import {
  FailedPreconditionError,
  InvalidArgumentError,
  IssuanceState,
  NotLeaderError,
  PermissionDeniedError,
  UnavailableError,
  type NodeAvailability,
} from '@swarmkit-ts/api'
import { createCsr, generateNodeKey, joinTokenDigest, parseJoinToken, type NodeIdentity, type TlsMaterial, type Validity } from '@swarmkit-ts/pki'
import { checkTlsMaterial, type NodeCertificateStore } from '../certs/node-certificate-store.ts'
import { CaClient, type CaChannelCredentials } from './ca-client.ts'
import type { IssueNodeCertificateRequest } from './wire.ts'

/** Options of {@link requestNodeCertificate}. */
export interface RequestNodeCertificateOptions {
  /** A manager of the cluster, `host:port`. */
  joinAddr: string
  /** The join token (`SWMTKN-1-…`): its secret gives the role, its digest pins the root CA. */
  token: string
  /** Where to save the key and certificate; nothing is written when omitted. */
  certificates?: NodeCertificateStore
  /** Availability of the new node. @default 'active' */
  availability?: NodeAvailability
  /** Gives up (rejecting with `UnavailableError`) when aborted. */
  signal?: AbortSignal
  /** Deadline of the whole request, ms. @default 60000 */
  timeoutMs?: number
}

/** A node's new certificate. */
export interface NodeCertificateResult {
  /** Key, certificate chain and trust bundle. */
  readonly material: TlsMaterial
  /** Node ID, role and cluster ID from the certificate. */
  readonly identity: NodeIdentity
  /** The certificate's validity. */
  readonly validity: Validity
}

function deadlineSignal(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const t = AbortSignal.timeout(timeoutMs)
  return signal === undefined ? t : AbortSignal.any([signal, t])
}

function stopped(signal: AbortSignal, what: string): UnavailableError {
  return new UnavailableError(`${what}: ${signal.reason instanceof Error && signal.reason.name === 'TimeoutError' ? 'timed out' : 'aborted'}`)
}

/**
 * Sends a CSR (a join token's or a renewal's) to `address` and waits for the certificate. On a
 * follower that cannot write, follows the `NotLeaderError` to the leader once.
 */
async function issueAndWait(address: string, creds: CaChannelCredentials, request: IssueNodeCertificateRequest, signal: AbortSignal): Promise<{ chain: string; bundle: string | undefined }> {
  let target = address
  for (let hop = 0; ; hop++) {
    const client = new CaClient(target, creds)
    try {
      let nodeId: string
      try {
        nodeId = (await client.issueNodeCertificate(request, { signal })).nodeId
      } catch (err) {
        if (err instanceof NotLeaderError && err.leaderAddr !== undefined && hop === 0) {
          target = err.leaderAddr
          continue
        }
        throw err
      }
      for (;;) {
        if (signal.aborted) throw stopped(signal, 'waiting for the node certificate')
        const status = await client.nodeCertificateStatus(nodeId, { signal, timeoutMs: 40_000 })
        if (status.state === IssuanceState.FAILED) {
          throw new FailedPreconditionError(`the CA refused to issue the certificate: ${status.error ?? 'no reason given'}`, { reason: 'issuance-failed' })
        }
        const issued = status.state === IssuanceState.ISSUED || status.state === IssuanceState.ROTATE
        if (issued && status.certificateChainPem !== undefined) {
          return { chain: status.certificateChainPem, bundle: status.trustBundlePem }
        }
      }
    } catch (err) {
      if (signal.aborted) throw stopped(signal, 'requesting a node certificate')
      throw err
    } finally {
      client.close()
    }
  }
}

/**
 * Joins a cluster's PKI (`Cluster.join`): fetches the root CA from `joinAddr` over TLS without
 * checking the server, checks its SHA-256 against the token's digest BEFORE sending anything else,
 * then — over TLS that verifies the manager under that root — sends the token and a CSR for a
 * new key, waits for the certificate, checks it, and saves it when `certificates` is given.
 *
 * @throws InvalidArgumentError (`token`) when the token is malformed.
 * @throws PermissionDeniedError naming `token`: the manager's root CA does not match the token's
 *   digest (a token of another cluster: nothing was sent), or the token is not valid.
 * @throws UnavailableError when no manager answers at `joinAddr` (or on timeout / abort).
 * @throws FailedPreconditionError (reason `issuance-failed`) when the CA refused the CSR.
 */
export async function requestNodeCertificate(options: RequestNodeCertificateOptions): Promise<NodeCertificateResult> {
  const token = parseJoinToken(options.token, 'token')
  if (typeof options.joinAddr !== 'string' || options.joinAddr === '') throw new InvalidArgumentError('joinAddr', 'must be host:port')
  const signal = deadlineSignal(options.signal, options.timeoutMs ?? 60_000)
  const probe = new CaClient(options.joinAddr, { kind: 'unverified' })
  let rootCaPem: string
  try {
    rootCaPem = (await probe.getRootCACertificate({ signal })).certificatePem
  } catch (err) {
    if (signal.aborted) throw stopped(signal, `reaching the manager at ${options.joinAddr}`)
    throw err
  } finally {
    probe.close()
  }
  if (joinTokenDigest(rootCaPem) !== token.digest) {
    throw new PermissionDeniedError(`token: the root CA of the manager at ${options.joinAddr} does not match the join token's digest (a token of another cluster?); nothing was sent`)
  }
  const key = await generateNodeKey()
  const csrPem = await createCsr(key)
  const request: IssueNodeCertificateRequest = { csrPem, token: options.token, ...(options.availability === undefined ? {} : { availability: options.availability }) }
  const { chain, bundle } = await issueAndWait(options.joinAddr, { kind: 'root', rootCaPem }, request, signal)
  const material: TlsMaterial = { keyPem: key.keyPem, certChainPem: chain, trustBundlePem: bundle ?? rootCaPem }
  const checked = checkTlsMaterial(material)
  await options.certificates?.save(material)
  return { material, ...checked }
}

/** Options of {@link renewNodeCertificate}. */
export interface RenewNodeCertificateOptions {
  /** A manager, `host:port`. */
  managerAddr: string
  /** The node's certificate store, loaded: its current certificate authenticates the request, and the new one is saved there. */
  certificates: NodeCertificateStore
  signal?: AbortSignal
  /** @default 60000 */
  timeoutMs?: number
}

/**
 * Renews the node's certificate: a new key and CSR sent over mutual TLS with the current
 * certificate (no token), the new certificate (with the node's current role, which may have
 * changed by promotion or demotion) saved, and the store's TLS source updated.
 *
 * @throws NotFoundError when the store holds no certificate; PermissionDeniedError when the node
 *   was removed; UnavailableError when no manager answers.
 */
export async function renewNodeCertificate(options: RenewNodeCertificateOptions): Promise<NodeCertificateResult> {
  const store = options.certificates
  const current = store.current ?? (await store.load())
  const signal = deadlineSignal(options.signal, options.timeoutMs ?? 60_000)
  const key = await generateNodeKey()
  const { chain, bundle } = await issueAndWait(options.managerAddr, { kind: 'node', material: current }, { csrPem: await createCsr(key) }, signal)
  const material: TlsMaterial = { keyPem: key.keyPem, certChainPem: chain, trustBundlePem: bundle ?? current.trustBundlePem }
  const checked = checkTlsMaterial(material)
  await store.save(material)
  return { material, ...checked }
}
