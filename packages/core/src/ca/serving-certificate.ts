/**
 * A manager's serving certificate for another protocol reached by address (the Docker API over
 * TCP): the manager's own identity and key, issued by the cluster's signing CA with the host
 * names and addresses clients dial as extra subject alternative names, so a client that checks
 * the host name (Go's TLS, `docker --tlsverify`) accepts it. Node certificates carry none.
 *
 * @module
 */
import { X509Certificate } from 'node:crypto'
import { FailedPreconditionError, systemClock, type Clock } from '@swarmkit-ts/api'
import { createCsr, identityOf, loadNodeKey, type TlsMaterial, type TlsMaterialSource } from '@swarmkit-ts/pki'
import type { MemoryStore } from '@swarmkit-ts/store'
import { clusterOf, SigningCACache } from './cluster-ca.ts'

/** Options of {@link issueServingCertificate}. */
export interface ServingCertificateOptions {
  /** The manager's store: its Cluster object holds the signing CA (replicated to every manager). */
  readonly store: MemoryStore
  /** The manager's own TLS material: the identity and key of the new certificate. */
  readonly tls: TlsMaterialSource
  /** Host names and IP addresses the certificate is valid for (besides the node's own names). */
  readonly hosts: readonly string[]
  /** A cache of the signing CA, shared across issues. @default a new one */
  readonly signingCA?: SigningCACache
  /** @default systemClock */
  readonly clock?: Clock
}

/** One hour and a minute: just above the CA's minimum validity. */
const MIN_TTL_MS = 3_660_000

/**
 * Issues a certificate with the manager's identity (CN node ID, OU swarm-manager, O cluster ID)
 * and key, valid for `hosts` and until the node certificate expires (at least an hour), signed
 * by the cluster's signing CA; returns it as TLS material with the node's trust bundle. Issue
 * again when the node's material changes (renewal, root rotation).
 *
 * @throws FailedPreconditionError when the node is not a manager (reason `not-manager`), the
 *   store has no Cluster object (`no-cluster`) or it holds no CA key (`ca-cannot-sign`).
 * @throws InvalidArgumentError naming `hosts[i]` when an entry is neither an IP address nor a DNS name.
 */
export async function issueServingCertificate(options: ServingCertificateOptions): Promise<TlsMaterial> {
  const material = options.tls.current
  const identity = identityOf(material.certChainPem, 'tls')
  if (identity.role !== 'manager') throw new FailedPreconditionError('only a manager can issue itself a serving certificate', { reason: 'not-manager' })
  const cluster = options.store.view((tx) => clusterOf(tx))
  const ca = await (options.signingCA ?? new SigningCACache()).get(cluster)
  const csr = await createCsr(await loadNodeKey(material.keyPem))
  const now = (options.clock ?? systemClock).now()
  const nodeEnd = Date.parse(new X509Certificate(material.certChainPem).validTo)
  const issued = ca.issueSync(csr, {
    nodeId: identity.nodeId,
    role: 'manager',
    clusterId: identity.clusterId,
    hosts: options.hosts,
    ttlMs: Math.max(MIN_TTL_MS, nodeEnd - now),
    clock: options.clock ?? systemClock,
  })
  return { keyPem: material.keyPem, certChainPem: issued.chainPem, trustBundlePem: material.trustBundlePem }
}
