/**
 * A node's TLS identity on disk: its private key, its certificate chain and the roots it trusts,
 * in the state directory, written crash-safely, and a pki `TlsMaterialSource` that follows it.
 *
 * Layout (SwarmKit's file names), under `<stateDir>/certificates/` (mode 0700):
 *
 * | file                | content                                          | mode |
 * |---------------------|--------------------------------------------------|------|
 * | `swarm-root-ca.crt` | the trust bundle: the root CA (two during a root rotation), PEM | 0644 |
 * | `swarm-node.crt`    | the node certificate followed by any intermediate, PEM | 0644 |
 * | `swarm-node.key`    | the node's ECDSA P-256 private key, PKCS#8 PEM — absent when the key is kept by a {@link NodeKeyStorage} (a manager's sealed key file) | 0600 |
 *
 * A save writes `*.new` files (fsynced), then renames the key into place — the commit point —
 * then the certificate and the bundle, and fsyncs the directory. Loading first finishes or undoes
 * an interrupted save: a leftover `swarm-node.key.new` means the commit point was not reached
 * (every `*.new` is dropped); otherwise leftover `*.new` files whose certificate matches the
 * current key are renamed into place. So a crash never leaves a key without its certificate.
 *
 * @module
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { join } from 'node:path'
import { InvalidArgumentError, NotFoundError } from '@swarmkit-ts/api'
import { identityOf, TlsMaterialSource, type NodeIdentity, type TlsMaterial, type Validity } from '@swarmkit-ts/pki'
import { ensureDir, readIfExists, removeFiles, renameIfExists, syncDir, writeSynced } from './files.ts'

/** The folder of the certificate files inside a state directory. */
export const CERTIFICATES_DIR = 'certificates'
/** File name of the trust bundle. */
export const ROOT_CA_FILE = 'swarm-root-ca.crt'
/** File name of the node certificate chain. */
export const NODE_CERT_FILE = 'swarm-node.crt'
/** File name of the node private key. */
export const NODE_KEY_FILE = 'swarm-node.key'

const NEW = '.new'

/**
 * Somewhere else that keeps the node's private key (a manager's `ManagerKeyStore`, sealed under
 * the unlock key with autolock). `save` must be atomic: it is the commit point of a save.
 */
export interface NodeKeyStorage {
  /** The stored key (PEM), or `undefined` when none is stored yet. May throw `ClusterLockedError`. */
  load(): Promise<string | undefined>
  /** Replaces the stored key, atomically and durably. */
  save(keyPem: string): Promise<void>
}

/** Construction options of {@link NodeCertificateStore}. */
export interface NodeCertificateStoreInit {
  /** The node's state directory; the files live in its `certificates/` folder. */
  stateDir: string
  /** Keeps the private key elsewhere instead of `swarm-node.key`. */
  keyStorage?: NodeKeyStorage
}

/** Paths of a node's certificate files. */
export interface NodeCertificatePaths {
  readonly dir: string
  readonly rootCa: string
  readonly cert: string
  readonly key: string
}

/** The paths of the certificate files of the node whose state directory is `stateDir`. */
export function nodeCertificatePaths(stateDir: string): NodeCertificatePaths {
  const dir = join(stateDir, CERTIFICATES_DIR)
  return { dir, rootCa: join(dir, ROOT_CA_FILE), cert: join(dir, NODE_CERT_FILE), key: join(dir, NODE_KEY_FILE) }
}

function leafOf(certChainPem: string, field: string): X509Certificate {
  try {
    return new X509Certificate(certChainPem)
  } catch (err) {
    throw new InvalidArgumentError(field, 'is not a PEM certificate', { cause: err })
  }
}

function keyMatches(keyPem: string, leaf: X509Certificate): boolean {
  try {
    const pub = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' })
    return pub.equals(leaf.publicKey.export({ type: 'spki', format: 'der' }))
  } catch {
    return false
  }
}

function keyMatchesPem(keyPem: string, certPem: string): boolean {
  try {
    return keyMatches(keyPem, new X509Certificate(certPem))
  } catch {
    return false
  }
}

function certificatesOf(pem: string): X509Certificate[] {
  const out: X509Certificate[] = []
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)) {
    try {
      out.push(new X509Certificate(m[0]))
    } catch {
      // not a certificate: ignored (the leaf and the bundle's first entry are checked on their own)
    }
  }
  return out
}

function signs(issuer: X509Certificate, cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey)
  } catch {
    return false
  }
}

/** Whether the leaf is signed by a root of the bundle, directly or through one intermediate of the chain (a root rotation's cross-signed certificate). */
function chainsToBundle(leaf: X509Certificate, chainPem: string, bundlePem: string): boolean {
  const roots = certificatesOf(bundlePem)
  if (roots.some((r) => signs(r, leaf))) return true
  return certificatesOf(chainPem)
    .slice(1)
    .some((i) => signs(i, leaf) && roots.some((r) => signs(r, i)))
}

/**
 * Checks that `material` is usable: a key that matches the leaf certificate, a leaf with a swarm
 * node identity, signed by a root of the trust bundle (directly or through the chain's
 * intermediate). Returns the identity and the leaf's validity.
 *
 * @throws InvalidArgumentError naming `keyPem`, `certChainPem` or `trustBundlePem`.
 */
export function checkTlsMaterial(material: TlsMaterial): { identity: NodeIdentity; validity: Validity } {
  const leaf = leafOf(material.certChainPem, 'certChainPem')
  const identity = identityOf(leaf, 'certChainPem')
  if (!keyMatches(material.keyPem, leaf)) throw new InvalidArgumentError('keyPem', 'does not match the certificate')
  leafOf(material.trustBundlePem, 'trustBundlePem')
  if (!chainsToBundle(leaf, material.certChainPem, material.trustBundlePem)) throw new InvalidArgumentError('trustBundlePem', 'no root of the bundle signs the certificate')
  return { identity, validity: { notBefore: Date.parse(leaf.validFrom), notAfter: Date.parse(leaf.validTo) } }
}

/**
 * The node's key, certificate and trust bundle in its state directory (see the module comment
 * for the layout and the crash-safety protocol). Saves are serialized. After {@link load} or
 * {@link save}, {@link tlsSource} gives a `TlsMaterialSource` that every later save updates, so
 * grpc-js credentials built on it pick up renewed certificates.
 */
export class NodeCertificateStore {
  /** Where the files are. */
  readonly paths: NodeCertificatePaths
  readonly #keyStorage: NodeKeyStorage | undefined
  #current: TlsMaterial | undefined
  #identity: NodeIdentity | undefined
  #validity: Validity | undefined
  #source: TlsMaterialSource | undefined
  #saving: Promise<void> = Promise.resolve()

  constructor(init: NodeCertificateStoreInit) {
    if (typeof init.stateDir !== 'string' || init.stateDir === '') throw new InvalidArgumentError('stateDir', 'must be a non-empty path')
    this.paths = nodeCertificatePaths(init.stateDir)
    this.#keyStorage = init.keyStorage
  }

  /** The material last loaded or saved. */
  get current(): TlsMaterial | undefined {
    return this.#current
  }

  /** The identity (node ID, role, cluster ID) of the current certificate. */
  get identity(): NodeIdentity | undefined {
    return this.#identity
  }

  /** The validity of the current certificate. */
  get validity(): Validity | undefined {
    return this.#validity
  }

  /** Whether a certificate has been saved in this state directory. */
  async exists(): Promise<boolean> {
    return (await readIfExists(this.paths.cert)) !== undefined || (await readIfExists(this.paths.cert + NEW)) !== undefined
  }

  /**
   * Reads the material, first completing or undoing an interrupted save.
   *
   * @throws NotFoundError (kind `certificate`) when no certificate is stored.
   * @throws InvalidArgumentError when the files are not consistent (naming the bad part).
   */
  async load(): Promise<TlsMaterial> {
    await this.#saving
    await this.#recover()
    const [certChainPem, trustBundlePem, keyPem] = [await readIfExists(this.paths.cert), await readIfExists(this.paths.rootCa), await this.#loadKey()]
    if (certChainPem === undefined || trustBundlePem === undefined || keyPem === undefined) {
      throw new NotFoundError('certificate', this.paths.dir, { message: `no node certificate in ${this.paths.dir}` })
    }
    const material = { keyPem, certChainPem, trustBundlePem }
    this.#remember(material, checkTlsMaterial(material))
    return material
  }

  /**
   * Checks and stores `material` (crash-safe; see the module comment), then updates the
   * {@link tlsSource}. Saves run one at a time, in call order.
   *
   * @throws InvalidArgumentError when the material is inconsistent (nothing is written).
   */
  save(material: TlsMaterial): Promise<void> {
    let checked: { identity: NodeIdentity; validity: Validity }
    try {
      checked = checkTlsMaterial(material)
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)))
    }
    const run = this.#saving.then(async () => {
      await this.#write(material)
      this.#remember(material, checked)
    })
    this.#saving = run.catch(() => undefined)
    return run
  }

  /**
   * Makes `rootPem` (the cluster's root CA as the managers name it) the trust bundle, as SwarmKit's
   * `UpdateRootCA`: only when it differs from the current bundle and the current certificate
   * chains to it (directly or through its chain's intermediate), so a node never stops trusting
   * the root of its own certificate. Runs after the saves already queued (a renewal in flight is
   * not undone). Resolves whether the bundle was replaced.
   *
   * @throws InvalidArgumentError (`rootPem`) when it holds no PEM certificate.
   */
  adoptTrustRoot(rootPem: string): Promise<boolean> {
    if (typeof rootPem !== 'string' || certificatesOf(rootPem).length === 0) return Promise.reject(new InvalidArgumentError('rootPem', 'must hold a PEM certificate'))
    const run = this.#saving.then(async () => {
      const current = this.#current
      if (current === undefined || current.trustBundlePem === rootPem) return false
      if (!chainsToBundle(leafOf(current.certChainPem, 'certChainPem'), current.certChainPem, rootPem)) return false
      const material = { ...current, trustBundlePem: rootPem }
      const checked = checkTlsMaterial(material)
      await this.#write(material)
      this.#remember(material, checked)
      return true
    })
    this.#saving = run.then(
      () => undefined,
      () => undefined,
    )
    return run
  }

  /**
   * A `TlsMaterialSource` holding the current material, updated by every later save (the same
   * instance on every call).
   *
   * @throws NotFoundError when nothing was loaded or saved yet.
   */
  tlsSource(): TlsMaterialSource {
    if (this.#current === undefined) throw new NotFoundError('certificate', this.paths.dir, { message: 'load() or save() a certificate first' })
    this.#source ??= new TlsMaterialSource(this.#current)
    return this.#source
  }

  #remember(material: TlsMaterial, checked: { identity: NodeIdentity; validity: Validity }): void {
    this.#current = material
    this.#identity = checked.identity
    this.#validity = checked.validity
    this.#source?.update(material)
  }

  async #loadKey(): Promise<string | undefined> {
    return this.#keyStorage !== undefined ? this.#keyStorage.load() : readIfExists(this.paths.key)
  }

  async #write(m: TlsMaterial): Promise<void> {
    const p = this.paths
    await ensureDir(p.dir, 0o700)
    await writeSynced(p.cert + NEW, m.certChainPem, 0o644)
    await writeSynced(p.rootCa + NEW, m.trustBundlePem, 0o644)
    if (this.#keyStorage === undefined) await writeSynced(p.key + NEW, m.keyPem, 0o600)
    await syncDir(p.dir)
    // The commit point: from here on the new key is the node's key.
    if (this.#keyStorage === undefined) await renameIfExists(p.key + NEW, p.key)
    else await this.#keyStorage.save(m.keyPem)
    await renameIfExists(p.cert + NEW, p.cert)
    await renameIfExists(p.rootCa + NEW, p.rootCa)
    await syncDir(p.dir)
  }

  async #recover(): Promise<void> {
    const p = this.paths
    const pendingKey = this.#keyStorage === undefined ? await readIfExists(p.key + NEW) : undefined
    const pendingCert = await readIfExists(p.cert + NEW)
    const pendingRoot = await readIfExists(p.rootCa + NEW)
    if (pendingKey === undefined && pendingCert === undefined && pendingRoot === undefined) return
    let forward: boolean
    if (pendingKey !== undefined) {
      forward = false // the commit point was not reached
    } else if (pendingCert !== undefined) {
      // The key was committed (or is kept elsewhere): roll forward when it matches the new certificate.
      const key = await this.#loadKey()
      forward = key !== undefined && keyMatchesPem(key, pendingCert)
    } else {
      forward = true // only the bundle was left to rename: the certificate already was
    }
    if (forward) {
      await renameIfExists(p.cert + NEW, p.cert)
      await renameIfExists(p.rootCa + NEW, p.rootCa)
    } else {
      await removeFiles(p.cert + NEW, p.rootCa + NEW, p.key + NEW)
    }
    await syncDir(p.dir)
  }
}
