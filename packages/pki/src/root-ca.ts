/**
 * The cluster's root certificate authority: creation, loading, node certificate issuance from
 * CSRs, and cross-signing for root rotation.
 */
import { X509Certificate, createHash, createPrivateKey, type KeyObject } from 'node:crypto'
import { isIP } from 'node:net'
import {
  DEFAULT_NODE_CERT_EXPIRY_MS,
  FailedPreconditionError,
  InvalidArgumentError,
  MIN_NODE_CERT_EXPIRY_MS,
  systemClock,
  type Clock,
  type NodeRole,
} from '@swarmkit-ts/api'
import { CA_COMMON_NAME, CERT_BACKDATE_MS, ECDSA_P256, ROOT_CA_VALIDITY_MS } from './constants.ts'
import { checkNamePart } from './identity.ts'
import { generateNodeKey, loadNodeKey } from './node-key.ts'
import { buildNodeCertificate, keyIdOf, readCsr, subjectNameDer } from './node-cert-der.ts'
import { splitCertificates, toPem } from './pem.ts'
import { nodeCrypto, x509, type CryptoKey } from './x509.ts'

/** Construction options of {@link RootCA.create}. */
export interface RootCAInit {
  /** Time source for the validity period. @default systemClock */
  clock?: Clock
  /** Validity of the root certificate. @default 20 years */
  validityMs?: number
}

/** Options of {@link RootCA.issue}. */
export interface IssueOptions {
  /** The node ID: the certificate's CN. */
  nodeId: string
  /** The node role: OU `swarm-manager` or `swarm-worker`. */
  role: NodeRole
  /** The cluster ID: the certificate's O. */
  clusterId: string
  /** Validity from now. Minimum 1 hour. @default 90 days */
  ttlMs?: number
  /** Time source. @default systemClock */
  clock?: Clock
  /**
   * More subject alternative names, for a server reached by address (the Docker API over TCP):
   * IP addresses become IP SANs, anything else DNS names.
   */
  hosts?: readonly string[]
}

/** A node certificate issued by {@link RootCA.issue}. */
export interface IssuedCertificate {
  /** The leaf certificate, PEM. */
  readonly certPem: string
  /** The leaf followed by the signer's intermediates (during a root rotation), PEM: what the node presents in TLS. */
  readonly chainPem: string
  /** Start of validity (backdated by one hour), ms since the epoch. */
  readonly notBefore: number
  /** End of validity, ms since the epoch. */
  readonly notAfter: number
  /** Serial number, hexadecimal. */
  readonly serialNumber: string
}

interface Signer {
  key: CryptoKey
  keyObject: KeyObject
  keyPem: string
}

function checkTtl(ttlMs: unknown): number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs)) throw new InvalidArgumentError('ttlMs', 'must be an integer number of milliseconds')
  if (ttlMs < MIN_NODE_CERT_EXPIRY_MS) throw new InvalidArgumentError('ttlMs', `must be at least ${MIN_NODE_CERT_EXPIRY_MS} ms (1 hour), got ${ttlMs}`)
  return ttlMs
}

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9*]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

function checkHosts(hosts: unknown): readonly string[] | undefined {
  if (hosts === undefined) return undefined
  if (!Array.isArray(hosts)) throw new InvalidArgumentError('hosts', 'must be an array of IP addresses and DNS names')
  return hosts.map((h: unknown, i) => {
    if (typeof h !== 'string' || (isIP(h) === 0 && !DNS_NAME.test(h))) throw new InvalidArgumentError(`hosts[${i}]`, `must be an IP address or a DNS name, got ${JSON.stringify(h)}`)
    return h
  })
}

function spkiDer(cert: X509Certificate): Buffer {
  return cert.publicKey.export({ type: 'spki', format: 'der' })
}

/**
 * A root CA: its certificate and, when it can sign, its private key. During a root rotation the
 * signing CA also carries the cross-signed intermediate that links its certificate to the old
 * root ({@link RootCA.withIntermediates}); issued chains then include it.
 *
 * Immutable; safe to share.
 */
export class RootCA {
  /** The root certificate, PEM. Its SHA-256 is the digest in join tokens. */
  readonly certPem: string
  /** Intermediates appended to every issued chain (PEM, possibly empty). */
  readonly intermediatesPem: string
  /** Start of validity, ms since the epoch. */
  readonly notBefore: number
  /** End of validity, ms since the epoch. */
  readonly notAfter: number
  readonly #cert: x509.X509Certificate
  readonly #nodeCert: X509Certificate
  readonly #signer: Signer | undefined
  readonly #issuerName: Buffer
  readonly #keyId: Buffer

  private constructor(cert: x509.X509Certificate, certPem: string, signer: Signer | undefined, intermediatesPem: string) {
    this.#cert = cert
    this.certPem = certPem
    this.#nodeCert = new X509Certificate(certPem)
    this.#signer = signer
    this.intermediatesPem = intermediatesPem
    this.notBefore = cert.notBefore.getTime()
    this.notAfter = cert.notAfter.getTime()
    this.#issuerName = subjectNameDer(this.#nodeCert)
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension)
    this.#keyId = ski === null ? keyIdOf(spkiDer(this.#nodeCert)) : Buffer.from(ski.keyId, 'hex')
  }

  /** Creates a new root CA: a fresh ECDSA P-256 key and a self-signed certificate, CN `swarm-ca`, valid 20 years. */
  static async create(init?: RootCAInit): Promise<RootCA> {
    const clock = init?.clock ?? systemClock
    const validityMs = init?.validityMs ?? ROOT_CA_VALIDITY_MS
    if (!Number.isSafeInteger(validityMs) || validityMs < MIN_NODE_CERT_EXPIRY_MS) throw new InvalidArgumentError('validityMs', 'must be an integer of at least one hour')
    const key = await generateNodeKey()
    const now = clock.now()
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
      {
        name: [{ CN: [CA_COMMON_NAME] }],
        keys: key.keys,
        signingAlgorithm: ECDSA_P256,
        notBefore: new Date(now - CERT_BACKDATE_MS),
        notAfter: new Date(now + validityMs),
        extensions: await caExtensions(key.keys.publicKey, undefined),
      },
      nodeCrypto,
    )
    const pem = cert.toString('pem') + '\n'
    return new RootCA(cert, pem, { key: key.keys.privateKey, keyObject: createPrivateKey(key.keyPem), keyPem: key.keyPem }, '')
  }

  /**
   * Loads a root CA from its certificate and, optionally, its private key (without it the CA
   * can verify but not sign).
   *
   * @throws InvalidArgumentError (`certPem`) when the certificate is not a CA certificate;
   *   (`keyPem`) when the key is not ECDSA P-256 or does not match the certificate.
   */
  static async fromPEM(certPem: string, keyPem?: string): Promise<RootCA> {
    const [first, ...rest] = splitCertificates(certPem, 'certPem')
    if (first === undefined || rest.length > 0) throw new InvalidArgumentError('certPem', 'must hold exactly one certificate')
    let cert: x509.X509Certificate
    let nodeCert: X509Certificate
    try {
      cert = new x509.X509Certificate(first)
      nodeCert = new X509Certificate(first)
    } catch (err) {
      throw new InvalidArgumentError('certPem', 'is not an X.509 certificate', { cause: err })
    }
    if (!nodeCert.ca) throw new InvalidArgumentError('certPem', 'is not a CA certificate (basic constraints)')
    let signer: Signer | undefined
    if (keyPem !== undefined) {
      const key = await loadNodeKey(keyPem, 'keyPem')
      const pub = Buffer.from(await nodeCrypto.subtle.exportKey('spki', key.keys.publicKey))
      if (!pub.equals(spkiDer(nodeCert))) throw new InvalidArgumentError('keyPem', 'does not match the certificate')
      signer = { key: key.keys.privateKey, keyObject: createPrivateKey(key.keyPem), keyPem: key.keyPem }
    }
    return new RootCA(cert, first, signer, '')
  }

  /** The private key (PKCS#8 PEM) when this CA can sign. */
  get keyPem(): string | undefined {
    return this.#signer?.keyPem
  }

  /** Whether this CA holds its private key. */
  get canSign(): boolean {
    return this.#signer !== undefined
  }

  /** SHA-256 of {@link RootCA.certPem}, lowercase hex. */
  get digest(): string {
    return createHash('sha256').update(this.certPem).digest('hex')
  }

  /** The certificate, parsed by Node. */
  get certificate(): X509Certificate {
    return this.#nodeCert
  }

  /** This CA, issuing chains that end with `intermediatesPem` (the cross-signed certificate of a rotation). */
  withIntermediates(intermediatesPem: string): RootCA {
    if (intermediatesPem !== '') splitCertificates(intermediatesPem, 'intermediatesPem')
    return new RootCA(this.#cert, this.certPem, this.#signer, intermediatesPem)
  }

  /** Whether `cert` (PEM or parsed) carries a valid signature by this CA's key. Validity dates are not checked. */
  signed(cert: string | X509Certificate): boolean {
    try {
      const c = typeof cert === 'string' ? new X509Certificate(cert) : cert
      return c.checkIssued(this.#nodeCert) && c.verify(this.#nodeCert.publicKey)
    } catch {
      return false
    }
  }

  #requireSigner(): Signer {
    if (this.#signer === undefined) throw new FailedPreconditionError('this root CA has no private key and cannot sign', { reason: 'ca-cannot-sign' })
    return this.#signer
  }

  /**
   * Issues a node certificate for the public key of `csrPem` (whose signature is checked):
   * CN = node ID, OU = role, O = cluster ID, DNS SANs role OU and node ID (managers also
   * `swarm-ca`), then `options.hosts`, one URI SAN `spiffe://<cluster>/<role OU>/<node>`, client and server auth.
   * Backdated one hour; valid for `ttlMs` from now.
   *
   * @throws InvalidArgumentError naming `csr`, `nodeId`, `role`, `clusterId`, `ttlMs` or `hosts`.
   * @throws FailedPreconditionError when this CA cannot sign.
   */
  issue(csrPem: string, options: IssueOptions): Promise<IssuedCertificate> {
    try {
      return Promise.resolve(this.issueSync(csrPem, options))
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /** {@link RootCA.issue}, synchronously (signing is local and CPU-bound). */
  issueSync(csrPem: string, options: IssueOptions): IssuedCertificate {
    const signer = this.#requireSigner()
    const nodeId = checkNamePart(options.nodeId, 'nodeId')
    const clusterId = checkNamePart(options.clusterId, 'clusterId')
    const role = options.role
    if (role !== 'manager' && role !== 'worker') throw new InvalidArgumentError('role', `must be "manager" or "worker", got ${JSON.stringify(role)}`)
    const ttlMs = checkTtl(options.ttlMs ?? DEFAULT_NODE_CERT_EXPIRY_MS)
    const spki = readCsr(csrPem)
    const now = (options.clock ?? systemClock).now()
    const built = buildNodeCertificate({
      issuerName: this.#issuerName,
      issuerKeyId: this.#keyId,
      signingKey: signer.keyObject,
      spki,
      nodeId,
      role,
      clusterId,
      notBefore: now - CERT_BACKDATE_MS,
      notAfter: now + ttlMs,
      hosts: checkHosts(options.hosts),
    })
    const certPem = toPem('CERTIFICATE', built.der)
    return { certPem, chainPem: certPem + this.intermediatesPem, notBefore: built.notBefore, notAfter: built.notAfter, serialNumber: built.serialNumber }
  }

  /**
   * Cross-signs `next`: a CA certificate with `next`'s subject and public key, issued by this CA.
   * Nodes that trust only this root accept chains ending in it; valid until the earlier of the
   * two roots' ends of validity.
   *
   * @throws FailedPreconditionError when this CA cannot sign.
   */
  async crossSign(next: RootCA, options?: { clock?: Clock }): Promise<string> {
    const signer = this.#requireSigner()
    const now = (options?.clock ?? systemClock).now()
    const nextCert = next.#cert
    const cert = await x509.X509CertificateGenerator.create(
      {
        subject: nextCert.subjectName,
        issuer: this.#cert.subjectName,
        publicKey: nextCert.publicKey,
        signingKey: signer.key,
        signingAlgorithm: ECDSA_P256,
        notBefore: new Date(now - CERT_BACKDATE_MS),
        notAfter: new Date(Math.min(next.notAfter, this.notAfter)),
        extensions: await caExtensions(nextCert.publicKey, this.#cert),
      },
      nodeCrypto,
    )
    return cert.toString('pem') + '\n'
  }
}

async function authorityKeyId(issuer: x509.X509Certificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension)
  if (ski !== null) return new x509.AuthorityKeyIdentifierExtension(ski.keyId)
  return x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey, false, nodeCrypto)
}

async function caExtensions(publicKey: CryptoKey | x509.PublicKey, issuer: x509.X509Certificate | undefined): Promise<x509.Extension[]> {
  const ski = await x509.SubjectKeyIdentifierExtension.create(publicKey, false, nodeCrypto)
  const exts: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, 1, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    ski,
  ]
  exts.push(issuer === undefined ? new x509.AuthorityKeyIdentifierExtension(ski.keyId) : await authorityKeyId(issuer))
  return exts
}
