/**
 * A node's TLS material (key, certificate chain, trust bundle) and a mutable holder of it that
 * grpc-js credentials follow, so renewal and root rotation take effect without a restart.
 */
import type { experimental } from '@grpc/grpc-js'

/** What a node needs for mutual TLS. */
export interface TlsMaterial {
  /** The node's private key, PEM. */
  readonly keyPem: string
  /** The node's certificate followed by any intermediates, PEM. */
  readonly certChainPem: string
  /** The root certificates to trust, PEM (two during a root rotation). */
  readonly trustBundlePem: string
}

type CaListener = experimental.CaCertificateUpdateListener
type IdentityListener = experimental.IdentityCertificateUpdateListener

/**
 * Holds the current {@link TlsMaterial} and tells subscribed grpc-js credentials when it changes
 * (a grpc-js `CertificateProvider`). New connections use the new material; open ones keep theirs.
 */
export class TlsMaterialSource implements experimental.CertificateProvider {
  #material: TlsMaterial
  readonly #ca = new Set<CaListener>()
  readonly #identity = new Set<IdentityListener>()

  constructor(material: TlsMaterial) {
    this.#material = material
  }

  /** The current material. */
  get current(): TlsMaterial {
    return this.#material
  }

  /** Replaces the material (after a renewal or a trust bundle change) and notifies listeners. */
  update(material: TlsMaterial): void {
    this.#material = material
    for (const l of this.#ca) l(this.#caUpdate())
    for (const l of this.#identity) l(this.#identityUpdate())
  }

  #caUpdate(): experimental.CaCertificateUpdate {
    return { caCertificate: Buffer.from(this.#material.trustBundlePem) }
  }

  #identityUpdate(): experimental.IdentityCertificateUpdate {
    return { certificate: Buffer.from(this.#material.certChainPem), privateKey: Buffer.from(this.#material.keyPem) }
  }

  /** @internal grpc-js CertificateProvider. */
  addCaCertificateListener(listener: CaListener): void {
    this.#ca.add(listener)
    // Asynchronously: grpc-js registers its own watcher only after adding the listener.
    queueMicrotask(() => {
      if (this.#ca.has(listener)) listener(this.#caUpdate())
    })
  }
  /** @internal grpc-js CertificateProvider. */
  removeCaCertificateListener(listener: CaListener): void {
    this.#ca.delete(listener)
  }
  /** @internal grpc-js CertificateProvider. */
  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#identity.add(listener)
    queueMicrotask(() => {
      if (this.#identity.has(listener)) listener(this.#identityUpdate())
    })
  }
  /** @internal grpc-js CertificateProvider. */
  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identity.delete(listener)
  }
}
