/**
 * Node keys (ECDSA P-256) and certificate signing requests.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { ECDSA_P256 } from './constants.ts'
import { pemBlocks, toPem } from './pem.ts'
import { nodeCrypto, x509, type CryptoKeyPair } from './x509.ts'

/** A private key and its public half, as WebCrypto keys and the private key's PKCS#8 PEM. */
export interface NodeKey {
  /** The private key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  readonly keyPem: string
  /** The key pair for WebCrypto signing. */
  readonly keys: CryptoKeyPair
}

/** Generates a fresh ECDSA P-256 key (node:crypto randomness). */
export async function generateNodeKey(): Promise<NodeKey> {
  const keys: CryptoKeyPair = await nodeCrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify'])
  const pkcs8 = await nodeCrypto.subtle.exportKey('pkcs8', keys.privateKey)
  return { keyPem: toPem('PRIVATE KEY', new Uint8Array(pkcs8)), keys }
}

/**
 * Loads an ECDSA P-256 private key from PEM (PKCS#8 or SEC1 `EC PRIVATE KEY`).
 *
 * @throws InvalidArgumentError (`field`) when the PEM is not an ECDSA P-256 private key.
 */
export async function loadNodeKey(keyPem: string, field = 'keyPem'): Promise<NodeKey> {
  if (pemBlocks(keyPem).length === 0) throw new InvalidArgumentError(field, 'is not a PEM private key')
  let pkcs8: Buffer
  let spki: Buffer
  try {
    const ko = createPrivateKey(keyPem)
    if (ko.asymmetricKeyType !== 'ec' || ko.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new InvalidArgumentError(field, 'must be an ECDSA P-256 private key')
    }
    pkcs8 = ko.export({ type: 'pkcs8', format: 'der' })
    spki = createPublicKey(ko).export({ type: 'spki', format: 'der' })
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err
    throw new InvalidArgumentError(field, 'cannot be parsed as a private key', { cause: err })
  }
  const privateKey = await nodeCrypto.subtle.importKey('pkcs8', pkcs8, ECDSA_P256, true, ['sign'])
  const publicKey = await nodeCrypto.subtle.importKey('spki', spki, ECDSA_P256, true, ['verify'])
  return { keyPem: toPem('PRIVATE KEY', pkcs8), keys: { privateKey, publicKey } }
}

/** Options of {@link createCsr}. */
export interface CsrOptions {
  /** Subject common name to request. The CA ignores the subject and sets its own. @default 'swarm-node' */
  commonName?: string
}

/**
 * A PKCS#10 certificate signing request for `key`, as PEM. The CA takes only the public key from
 * it (after checking its signature); identity fields come from the cluster, never from the CSR.
 */
export async function createCsr(key: NodeKey, options?: CsrOptions): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { keys: key.keys, signingAlgorithm: ECDSA_P256, name: [{ CN: [options?.commonName ?? 'swarm-node'] }] },
    nodeCrypto,
  )
  return csr.toString('pem')
}
