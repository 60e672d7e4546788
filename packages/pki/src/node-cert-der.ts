/**
 * The hot path of issuance: a node certificate built as DER and signed with node:crypto, and a
 * PKCS#10 request read and verified the same way. About ten times faster than going through
 * the generic ASN.1 schema layer; the result is checked field by field (and by openssl) in tests.
 *
 * @internal
 */
import { isIP } from 'node:net'
import { createHash, createPublicKey, randomBytes, sign, verify, type KeyObject, type X509Certificate } from 'node:crypto'
import { InvalidArgumentError, type NodeRole } from '@swarmkit-ts/api'
import { CA_COMMON_NAME, RoleOu } from './constants.ts'
import { Tag, children, oid, read, seq, time, tlv, uint } from './der.ts'
import { spiffeId } from './identity.ts'
import { pemBlocks } from './pem.ts'

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  cn: '2.5.4.3',
  ou: '2.5.4.11',
  o: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const

const ECDSA_SHA256_ALG = seq(oid(OID.ecdsaWithSha256))
/** SPKI header of an uncompressed ECDSA P-256 public key (id-ecPublicKey, prime256v1, 66-byte BIT STRING). */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex')
const TRUE = tlv(Tag.BOOLEAN, Buffer.of(0xff))
const BASIC_CONSTRAINTS_LEAF = seq(oid(OID.basicConstraints), TRUE, tlv(Tag.OCTET_STRING, seq()))
// digitalSignature (bit 0) and keyEncipherment (bit 2): 1010 0000, 5 unused bits.
const KEY_USAGE_LEAF = seq(oid(OID.keyUsage), TRUE, tlv(Tag.OCTET_STRING, tlv(Tag.BIT_STRING, Buffer.of(5, 0xa0))))
const EXT_KEY_USAGE = seq(oid(OID.extKeyUsage), tlv(Tag.OCTET_STRING, seq(oid(OID.serverAuth), oid(OID.clientAuth))))
const NAME_OIDS = { cn: oid(OID.cn), ou: oid(OID.ou), o: oid(OID.o) }

function rdn(attr: Buffer, value: string): Buffer {
  return tlv(Tag.SET, seq(attr, tlv(Tag.UTF8_STRING, Buffer.from(value, 'utf8'))))
}

/** SHA-1 of the subjectPublicKey bits of an SPKI (RFC 5280 §4.2.1.2, method 1). */
export function keyIdOf(spkiDer: Buffer): Buffer {
  const [, bits] = children(read(spkiDer, 0, 'spki'), 'spki')
  if (bits?.tag !== Tag.BIT_STRING) throw new InvalidArgumentError('spki', 'malformed subject public key info')
  return createHash('sha1').update(bits.body.subarray(1)).digest()
}

/** The subject Name (DER) of a certificate. */
export function subjectNameDer(cert: X509Certificate): Buffer {
  const [tbs] = children(read(cert.raw, 0, 'certificate'), 'certificate')
  if (tbs === undefined) throw new InvalidArgumentError('certificate', 'malformed certificate')
  const fields = children(tbs, 'certificate')
  const base = fields[0]?.tag === 0xa0 ? 1 : 0
  const subject = fields[base + 4]
  if (subject?.tag !== Tag.SEQUENCE) throw new InvalidArgumentError('certificate', 'malformed certificate subject')
  return Buffer.from(subject.raw)
}

/**
 * Reads a PEM PKCS#10 request, checks its ECDSA-SHA256 signature, and returns its public key
 * (which must be ECDSA P-256) as SPKI DER.
 *
 * @throws InvalidArgumentError (`csr`).
 */
export function readCsr(csrPem: string): Buffer {
  const block = typeof csrPem === 'string' ? pemBlocks(csrPem).find((b) => b.label === 'CERTIFICATE REQUEST' || b.label === 'NEW CERTIFICATE REQUEST') : undefined
  if (block === undefined) throw new InvalidArgumentError('csr', 'is not a PEM PKCS#10 certificate request')
  const malformed = (): never => {
    throw new InvalidArgumentError('csr', 'malformed certificate request')
  }
  const outer = read(block.der, 0, 'csr')
  if (outer.tag !== Tag.SEQUENCE || outer.raw.length !== block.der.length) malformed()
  const parts = children(outer, 'csr')
  const [info, alg, sig] = parts
  if (parts.length !== 3 || info?.tag !== Tag.SEQUENCE || alg?.tag !== Tag.SEQUENCE || sig?.tag !== Tag.BIT_STRING || sig.body[0] !== 0) return malformed()
  if (!alg.raw.equals(ECDSA_SHA256_ALG)) throw new InvalidArgumentError('csr', 'must be signed with ECDSA SHA-256')
  const [version, subject, spki, attributes] = children(info, 'csr')
  if (version?.tag !== Tag.INTEGER || subject?.tag !== Tag.SEQUENCE || spki?.tag !== Tag.SEQUENCE || (attributes !== undefined && attributes.tag !== 0xa0)) return malformed()
  // Parsing a key through a JWK is about twice as fast as through SPKI DER (OpenSSL 3 decoders).
  const raw = spki.raw
  if (raw.length !== 91 || !raw.subarray(0, 26).equals(P256_SPKI_PREFIX) || raw[26] !== 0x04) throw new InvalidArgumentError('csr', 'public key must be ECDSA P-256 (uncompressed point)')
  let key: KeyObject
  try {
    key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(27, 59).toString('base64url'), y: raw.subarray(59, 91).toString('base64url') }, format: 'jwk' })
  } catch (err) {
    throw new InvalidArgumentError('csr', 'carries an invalid public key', { cause: err })
  }
  let ok = false
  try {
    ok = verify('sha256', info.raw, key, sig.body.subarray(1))
  } catch {
    ok = false
  }
  if (!ok) throw new InvalidArgumentError('csr', 'signature does not verify')
  return Buffer.from(spki.raw)
}

/** What {@link buildNodeCertificate} needs. */
export interface NodeCertParams {
  issuerName: Buffer
  issuerKeyId: Buffer
  signingKey: KeyObject
  spki: Buffer
  nodeId: string
  role: NodeRole
  clusterId: string
  notBefore: number
  notAfter: number
  /** More subject alternative names: IP addresses as IP SANs, anything else as DNS names. */
  hosts?: readonly string[] | undefined
}

/** The bytes of an IP SAN for `host` (4 or 16), or undefined when `host` is not an IP address. */
function ipBytes(host: string): Buffer | undefined {
  const kind = isIP(host)
  if (kind === 4) return Buffer.from(host.split('.').map(Number))
  if (kind !== 6) return undefined
  // An embedded IPv4 tail (::ffff:1.2.3.4) as two hex words, then `::` expanded to zero words.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host)
  const text = v4 === null ? host : host.slice(0, v4.index) + [0, 2].map((k) => ((Number(v4[k + 1]) << 8) | Number(v4[k + 2])).toString(16)).join(':')
  const [head = '', tail] = text.split('::')
  const words = (part: string | undefined): number[] => (part === undefined || part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)))
  const h = words(head)
  const t = words(tail)
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t]
  const out = Buffer.alloc(16)
  all.forEach((w, k) => out.writeUInt16BE(w, k * 2))
  return out
}

/** A signed node certificate (DER) with its serial (hex) and whole-second validity. */
export function buildNodeCertificate(p: NodeCertParams): { der: Buffer; serialNumber: string; notBefore: number; notAfter: number } {
  const serial = randomBytes(16)
  serial[0] = ((serial[0] as number) & 0x7f) | 0x40 // positive, 16 bytes exactly
  const notBefore = Math.floor(p.notBefore / 1000) * 1000
  const notAfter = Math.floor(p.notAfter / 1000) * 1000
  const ou = RoleOu[p.role]
  const ia5 = (tag: number, s: string): Buffer => tlv(tag, Buffer.from(s, 'latin1'))
  const names = [ia5(0x82, ou), ia5(0x82, p.nodeId)]
  if (p.role === 'manager') names.push(ia5(0x82, CA_COMMON_NAME))
  for (const host of p.hosts ?? []) {
    const ip = ipBytes(host)
    names.push(ip === undefined ? ia5(0x82, host) : tlv(0x87, ip))
  }
  names.push(ia5(0x86, spiffeId(p.clusterId, p.role, p.nodeId)))
  const extensions = [
    BASIC_CONSTRAINTS_LEAF,
    KEY_USAGE_LEAF,
    EXT_KEY_USAGE,
    seq(oid(OID.subjectAltName), tlv(Tag.OCTET_STRING, seq(...names))),
    seq(oid(OID.subjectKeyId), tlv(Tag.OCTET_STRING, tlv(Tag.OCTET_STRING, keyIdOf(p.spki)))),
    seq(oid(OID.authorityKeyId), tlv(Tag.OCTET_STRING, seq(tlv(0x80, p.issuerKeyId)))),
  ]
  const tbs = seq(
    tlv(0xa0, uint(Buffer.of(2))),
    uint(serial),
    ECDSA_SHA256_ALG,
    p.issuerName,
    seq(time(notBefore), time(notAfter)),
    seq(rdn(NAME_OIDS.cn, p.nodeId), rdn(NAME_OIDS.ou, ou), rdn(NAME_OIDS.o, p.clusterId)),
    p.spki,
    tlv(0xa3, seq(...extensions)),
  )
  const signature = sign('sha256', tbs, p.signingKey)
  const der = seq(tbs, ECDSA_SHA256_ALG, tlv(Tag.BIT_STRING, Buffer.of(0), signature))
  return { der, serialNumber: serial.toString('hex'), notBefore, notAfter }
}
