/**
 * SwarmKit's certificate profile, as constants (ca/certificates.go, ca/config.go).
 */
import type { NodeRole } from '@swarmkit-ts/api'

/** Common name of every root CA certificate, and the DNS SAN managers carry for the CA service. */
export const CA_COMMON_NAME = 'swarm-ca'

/** Organizational unit (OU) of a node certificate, by role. */
export const RoleOu = {
  manager: 'swarm-manager',
  worker: 'swarm-worker',
} as const satisfies Record<NodeRole, string>
/** An OU a node certificate carries: `swarm-manager` or `swarm-worker`. */
export type RoleOu = (typeof RoleOu)[keyof typeof RoleOu]

/** The role named by an OU, or `undefined` when the OU is not a swarm role. */
export function roleFromOu(ou: string): NodeRole | undefined {
  if (ou === RoleOu.manager) return 'manager'
  if (ou === RoleOu.worker) return 'worker'
  return undefined
}

/** Validity of a root CA certificate: 20 years (630720000 s). */
export const ROOT_CA_VALIDITY_MS = 630_720_000 * 1000

/** How far issued certificates are backdated, to absorb clock skew between nodes: 1 hour. */
export const CERT_BACKDATE_MS = 60 * 60 * 1000

/** Shortest validity a new root must still have when a rotation to it starts: 1 year. */
export const MIN_ROOT_VALIDITY_FOR_ROTATION_MS = 365 * 24 * 60 * 60 * 1000

/** ECDSA P-256 with SHA-256: the algorithm of every key and signature. */
export const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
