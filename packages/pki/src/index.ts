/**
 * Public key infrastructure for swarmkit-ts: the cluster's root CA and node certificates, join
 * tokens, certificate renewal and root CA rotation, mutual-TLS credentials and role-based
 * authorization for @grpc/grpc-js, AES-256-GCM encryption at rest with data keys wrapped by a
 * key-encryption key, and autolock.
 *
 * @packageDocumentation
 */

export { CA_COMMON_NAME, RoleOu, roleFromOu, ROOT_CA_VALIDITY_MS, CERT_BACKDATE_MS, MIN_ROOT_VALIDITY_FOR_ROTATION_MS } from './constants.ts'

export { generateNodeKey, loadNodeKey, createCsr } from './node-key.ts'
export type { NodeKey, CsrOptions } from './node-key.ts'

export { RootCA } from './root-ca.ts'
export type { RootCAInit, IssueOptions, IssuedCertificate } from './root-ca.ts'

export { identityOf, spiffeId } from './identity.ts'
export type { NodeIdentity } from './identity.ts'

export {
  JOIN_TOKEN_PREFIX,
  JOIN_TOKEN_DIGEST_LENGTH,
  JOIN_TOKEN_SECRET_LENGTH,
  JOIN_TOKEN_SECRET_BYTES,
  joinTokenDigest,
  generateJoinToken,
  parseJoinToken,
  verifyRootCAForToken,
  JoinTokens,
} from './join-token.ts'
export type { ParsedJoinToken, JoinTokenPair } from './join-token.ts'

export { RENEWAL_MIN_FRACTION, RENEWAL_MAX_FRACTION, renewalTime, CertificateRenewer } from './renewer.ts'
export type { Validity, CertificateRenewerInit } from './renewer.ts'

export { RootRotation, RootRotationReconciler } from './root-rotation.ts'
export type { RotationNode, RootRotationReconcilerInit } from './root-rotation.ts'

export { CertificateDenyList } from './deny-list.ts'
export type { DenyListEntry } from './deny-list.ts'

export { TlsMaterialSource } from './tls-material.ts'
export type { TlsMaterial } from './tls-material.ts'
export { credentials } from './grpc-credentials.ts'
export type { ClientCredentialsOptions } from './grpc-credentials.ts'
export { peerIdentity, authorize, toServiceError } from './authorize.ts'
export type { CallWithAuthContext, AuthorizeOptions } from './authorize.ts'

export { AES_256_KEY_BYTES, DecryptionError, generateDataKey, AesGcmEncrypter, DataKeyRing, KeyRingEncrypter } from './encrypter.ts'
export type { DataKey } from './encrypter.ts'
export { UNLOCK_KEY_PREFIX, UNLOCK_KEY_BYTES, generateUnlockKey, parseUnlockKey } from './unlock-key.ts'
export { ManagerKeyStore } from './manager-keys.ts'
export type { ManagerKeyStoreInit } from './manager-keys.ts'
