/**
 * Node identity as carried by a certificate: CN = node ID, OU = role, O = cluster ID, and one URI
 * SAN `spiffe://<cluster>/<role OU>/<node>`.
 */
import { X509Certificate } from 'node:crypto'
import { InvalidArgumentError, type NodeRole } from '@swarmkit-ts/api'
import { RoleOu, roleFromOu } from './constants.ts'

/** Who a certificate says its holder is. */
export interface NodeIdentity {
  /** The node ID (subject CN). */
  readonly nodeId: string
  /** The node role (from the subject OU). */
  readonly role: NodeRole
  /** The cluster ID (subject O). */
  readonly clusterId: string
  /** The SPIFFE ID, `spiffe://<cluster>/<swarm-manager|swarm-worker>/<node>`. */
  readonly spiffeId: string
}

const NAME_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/** Throws InvalidArgumentError(field) unless `value` is a usable ID (1–128 of `A-Za-z0-9._-`, starting alphanumeric). */
export function checkNamePart(value: unknown, field: string): string {
  if (typeof value !== 'string' || !NAME_PART.test(value)) {
    throw new InvalidArgumentError(field, 'must be 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit')
  }
  return value
}

/** The SPIFFE ID of a node. */
export function spiffeId(clusterId: string, role: NodeRole, nodeId: string): string {
  return `spiffe://${clusterId}/${RoleOu[role]}/${nodeId}`
}

/** Splits a distinguished-name string as Node prints it (`CN=a\nOU=b`) into attribute → values. */
function dnAttributes(dn: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const line of dn.split('\n')) {
    const eq = line.indexOf('=')
    if (eq <= 0) continue
    const k = line.slice(0, eq)
    const list = out.get(k) ?? []
    list.push(line.slice(eq + 1))
    out.set(k, list)
  }
  return out
}

/** The URI SANs of a certificate (Node's `subjectAltName` text form). */
function uriSans(cert: X509Certificate): string[] {
  const san = cert.subjectAltName
  if (san === undefined) return []
  return san
    .split(/,\s*/)
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4))
}

/**
 * Reads the node identity of a certificate (PEM, DER or a parsed `X509Certificate`). The subject
 * must hold exactly one CN, one OU that is a swarm role and one O, and the certificate exactly
 * one URI SAN that agrees with them.
 *
 * @throws InvalidArgumentError (`field`) when the certificate carries no valid node identity.
 */
export function identityOf(cert: string | Uint8Array | X509Certificate, field = 'certificate'): NodeIdentity {
  let c: X509Certificate
  try {
    c = cert instanceof X509Certificate ? cert : new X509Certificate(typeof cert === 'string' ? cert : Buffer.from(cert))
  } catch (err) {
    throw new InvalidArgumentError(field, 'is not an X.509 certificate', { cause: err })
  }
  const dn = dnAttributes(c.subject)
  const cn = dn.get('CN') ?? []
  const ou = dn.get('OU') ?? []
  const o = dn.get('O') ?? []
  if (cn.length !== 1 || ou.length !== 1 || o.length !== 1) {
    throw new InvalidArgumentError(field, 'subject must have exactly one CN, one OU and one O')
  }
  const [nodeId, ouValue, clusterId] = [cn[0] ?? '', ou[0] ?? '', o[0] ?? '']
  const role = roleFromOu(ouValue)
  if (role === undefined) throw new InvalidArgumentError(field, `OU ${JSON.stringify(ouValue)} is not a swarm role`)
  const uris = uriSans(c)
  if (uris.length !== 1) throw new InvalidArgumentError(field, `must carry exactly one URI SAN, found ${uris.length}`)
  const expected = spiffeId(clusterId, role, nodeId)
  if (uris[0] !== expected) throw new InvalidArgumentError(field, `URI SAN ${JSON.stringify(uris[0])} does not match the subject (${expected})`)
  return { nodeId, role, clusterId, spiffeId: expected }
}
