/**
 * Docker's `TLSInfo` of the cluster's root CA: the trust root (PEM), and the subject and public key
 * of the certificate issuer (DER, base64), read from the root certificate with a minimal DER walk.
 *
 * @module
 */
import { X509Certificate } from 'node:crypto'

/** Docker's `swarm.TLSInfo`. */
export interface DockerTlsInfo {
  TrustRoot: string
  CertIssuerSubject: string
  CertIssuerPublicKey: string
}

/** One DER element at `pos`: where its content starts and ends. */
function tlv(der: Uint8Array, pos: number): { start: number; end: number } {
  let len = der[pos + 1] ?? 0
  let start = pos + 2
  if (len & 0x80) {
    const n = len & 0x7f
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] ?? 0)
    start += n
  }
  return { start, end: start + len }
}

/** The subject Name (whole DER element) of a certificate's DER, or undefined when it does not parse. */
function subjectDer(der: Uint8Array): Uint8Array | undefined {
  const cert = tlv(der, 0)
  const tbs = tlv(der, cert.start)
  let pos = tbs.start
  if (der[pos] === 0xa0) pos = tlv(der, pos).end // [0] version
  // serial, signature algorithm, issuer, validity, then the subject.
  for (let i = 0; i < 4; i++) pos = tlv(der, pos).end
  if (der[pos] !== 0x30) return undefined
  return der.subarray(pos, tlv(der, pos).end)
}

/** The last root certificate's TLS info: `GET /nodes` (which `docker service create` polls) carries it for every node. */
let last: { readonly pem: string; readonly info: DockerTlsInfo } | undefined

/** The TLS info of a root CA certificate (PEM bytes); empty fields when it does not parse. */
export function tlsInfoOf(caCertPem: Uint8Array): DockerTlsInfo {
  const pem = Buffer.from(caCertPem).toString('utf8')
  if (last?.pem !== pem) last = { pem, info: parseTlsInfo(pem) }
  return { ...last.info }
}

function parseTlsInfo(pem: string): DockerTlsInfo {
  try {
    const cert = new X509Certificate(pem)
    const subject = subjectDer(new Uint8Array(cert.raw))
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' })
    return { TrustRoot: pem, CertIssuerSubject: subject === undefined ? '' : Buffer.from(subject).toString('base64'), CertIssuerPublicKey: spki.toString('base64') }
  } catch {
    return { TrustRoot: pem, CertIssuerSubject: '', CertIssuerPublicKey: '' }
  }
}
