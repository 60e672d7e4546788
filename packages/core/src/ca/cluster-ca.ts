/**
 * The cluster's CA as the Cluster object stores it (`Cluster.rootCa`, SwarmKit's
 * `RootCA` message): bootstrap of a new cluster's CA and first manager certificate, and the
 * reads every CA part shares — the signing CA, the trust bundle, the join tokens.
 *
 * The root CA key lives in the Cluster object, as in SwarmKit: it is replicated through Raft
 * (whose records are encrypted at rest) so that any manager that becomes leader can sign.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import {
  FailedPreconditionError,
  IssuanceState,
  cryptoRandom,
  generateId,
  systemClock,
  type Clock,
  type Cluster,
  type ClusterRootCA,
  type NodeCertificate,
  type Random,
} from '@swarmkit-ts/api'
import { createCsr, generateNodeKey, JoinTokens, RootCA, RootRotation, type TlsMaterial } from '@swarmkit-ts/pki'
import type { Frozen, ReadTx } from '@swarmkit-ts/store'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** PEM text as the bytes a Cluster object stores. */
export function pemBytes(pem: string): Uint8Array {
  return encoder.encode(pem)
}

/** Bytes of a Cluster object field as PEM text. */
export function pemText(bytes: Uint8Array): string {
  return decoder.decode(bytes)
}

/** SwarmKit's `ca_cert_hash`: `sha256:<hex>` of the root CA PEM. */
export function caCertHash(certPem: string): string {
  return `sha256:${createHash('sha256').update(certPem).digest('hex')}`
}

/** The `Cluster.rootCa` value for a root CA (with its key) and join tokens. */
export function clusterRootCaField(root: RootCA, tokens: JoinTokens): ClusterRootCA {
  const key = root.keyPem
  return {
    caCert: pemBytes(root.certPem),
    ...(key === undefined ? {} : { caKey: pemBytes(key) }),
    caCertHash: caCertHash(root.certPem),
    joinTokens: tokens.toJSON(),
  }
}

/** Construction options of {@link bootstrapClusterCA}. */
export interface ClusterCAInit {
  /** The new cluster's ID (the O of every certificate). @default a new ID */
  clusterId?: string
  /** The first manager's node ID (the CN of its certificate). @default a new ID */
  nodeId?: string
  /** Use this root CA (with its key) instead of creating one (SwarmKit: `CAConfig.signingCaCert/Key`). */
  rootCA?: RootCA
  /** Validity of the first manager's certificate. @default 90 days */
  nodeCertExpiryMs?: number
  /** @default cryptoRandom */
  random?: Random
  /** @default systemClock */
  clock?: Clock
}

/** What {@link bootstrapClusterCA} made for a new cluster. */
export interface ClusterCA {
  /** The cluster ID: the Cluster object's `id` and the O of every certificate. */
  readonly clusterId: string
  /** The root CA, with its key. */
  readonly rootCA: RootCA
  /** The worker and manager join tokens. */
  readonly joinTokens: JoinTokens
  /** The Cluster object's `rootCa` field (certificate, key, hash, join tokens). */
  readonly rootCa: ClusterRootCA
  /** The first manager: its node ID, TLS material (save it with a `NodeCertificateStore`) and the Node object's `certificate`. */
  readonly manager: { readonly nodeId: string; readonly material: TlsMaterial; readonly certificate: NodeCertificate }
}

/**
 * The CA of a new cluster (`Cluster.init`): a root CA (a new ECDSA P-256 root unless one is
 * given), join tokens for both roles, the Cluster object's `rootCa` field, and the first
 * manager's key and certificate, issued directly (there is no CA service to ask yet).
 *
 * @throws InvalidArgumentError naming `clusterId`, `nodeId` or `ttlMs` (the expiry) when bad;
 *   FailedPreconditionError when `rootCA` has no key.
 */
export async function bootstrapClusterCA(init: ClusterCAInit = {}): Promise<ClusterCA> {
  const random = init.random ?? cryptoRandom
  const clock = init.clock ?? systemClock
  if (init.rootCA !== undefined && !init.rootCA.canSign) throw new FailedPreconditionError('rootCA: the given root CA has no private key', { reason: 'ca-cannot-sign' })
  const rootCA = init.rootCA ?? (await RootCA.create({ clock }))
  const clusterId = init.clusterId ?? generateId(random)
  const nodeId = init.nodeId ?? generateId(random)
  const key = await generateNodeKey()
  const csr = await createCsr(key)
  const issued = rootCA.issueSync(csr, { nodeId, role: 'manager', clusterId, clock, ...(init.nodeCertExpiryMs === undefined ? {} : { ttlMs: init.nodeCertExpiryMs }) })
  const joinTokens = JoinTokens.generate(rootCA.certPem, random)
  return {
    clusterId,
    rootCA,
    joinTokens,
    rootCa: clusterRootCaField(rootCA, joinTokens),
    manager: {
      nodeId,
      material: { keyPem: key.keyPem, certChainPem: issued.chainPem, trustBundlePem: rootCA.certPem },
      certificate: { role: 'manager', csr: pemBytes(csr), status: { state: IssuanceState.ISSUED }, certificate: pemBytes(issued.chainPem), cn: nodeId },
    },
  }
}

/**
 * The cluster object in a view (there is one per swarm).
 *
 * @throws FailedPreconditionError (reason `no-cluster`) when the store has none yet.
 */
export function clusterOf(tx: ReadTx): Frozen<Cluster> {
  const [cluster] = tx.clusters.find()
  if (cluster === undefined) throw new FailedPreconditionError('the cluster object does not exist yet', { reason: 'no-cluster' })
  return cluster
}

/** The roots a node of the cluster must trust, PEM: the root CA, and the new root during a rotation. */
export function trustBundleOf(cluster: Frozen<Cluster>): string {
  const root = pemText(cluster.rootCa.caCert)
  const next = cluster.rootCa.rootRotation
  return next === undefined ? root : root + pemText(next.caCert)
}

/** The root CA certificate a joining node checks against its token's digest, PEM. */
export function rootCertificateOf(cluster: Frozen<Cluster>): string {
  return pemText(cluster.rootCa.caCert)
}

/**
 * Loads the CA that signs node certificates from a Cluster object, caching by its root fields:
 * the root CA, or during a root rotation the new root with the cross-signed certificate in
 * every chain.
 */
export class SigningCACache {
  #key: string | undefined
  #ca: Promise<RootCA> | undefined

  /**
   * The signing CA of `cluster`.
   *
   * @throws FailedPreconditionError (reason `ca-cannot-sign`) when the Cluster object holds no CA key.
   */
  get(cluster: Frozen<Cluster>): Promise<RootCA> {
    const r = cluster.rootCa
    const rot = r.rootRotation
    const key = `${r.caCertHash}|${rot === undefined ? '' : caCertHash(pemText(rot.caCert))}`
    if (key !== this.#key || this.#ca === undefined) {
      this.#key = key
      this.#ca = loadSigningCA(cluster)
      this.#ca.catch(() => {
        if (this.#key === key) this.#key = undefined
      })
    }
    return this.#ca
  }
}

async function loadSigningCA(cluster: Frozen<Cluster>): Promise<RootCA> {
  const r = cluster.rootCa
  const rot = r.rootRotation
  if (rot !== undefined) {
    if (rot.caKey === undefined) throw new FailedPreconditionError('the new root CA of the rotation has no key in the cluster object', { reason: 'ca-cannot-sign' })
    const old = await RootCA.fromPEM(pemText(r.caCert))
    const next = await RootCA.fromPEM(pemText(rot.caCert), pemText(rot.caKey))
    return RootRotation.resume(old, next, pemText(rot.crossSignedCaCert)).signer
  }
  if (r.caKey === undefined) throw new FailedPreconditionError('the cluster object holds no root CA key', { reason: 'ca-cannot-sign' })
  return RootCA.fromPEM(pemText(r.caCert), pemText(r.caKey))
}
