/**
 * The cluster's certificate authority: bootstrap on `Cluster.init`, the CA gRPC service
 * (root certificate, node certificates for a join token or a renewal, issuance status), the
 * leader's signer, authorization against the deny list of removed nodes, and the joining
 * node's client side.
 *
 * @module
 */
export {
  bootstrapClusterCA,
  clusterRootCaField,
  clusterOf,
  trustBundleOf,
  rootCertificateOf,
  caCertHash,
  pemBytes,
  pemText,
  SigningCACache,
} from './cluster-ca.ts'
export type { ClusterCAInit, ClusterCA } from './cluster-ca.ts'
export { addCaService } from './ca-service.ts'
export type { CaServiceDeps } from './ca-service.ts'
export { caSigner } from './ca-signer.ts'
export { clusterAuthorizer, denyListOf, denyNodeCertificates, removeNodeAndDenyCertificate, certificateExpiry } from './authorizer.ts'
export type { Authorizer, ClusterAuthorizerOptions } from './authorizer.ts'
export { CaClient, caChannelCredentials } from './ca-client.ts'
export type { CaCallOptions, CaChannelCredentials } from './ca-client.ts'
export { requestNodeCertificate, renewNodeCertificate } from './join.ts'
export type { RequestNodeCertificateOptions, RenewNodeCertificateOptions, NodeCertificateResult } from './join.ts'
export { NodeCertificateRenewal, shouldRenewCertificate, followNodeCertificate } from './renewal.ts'
export type { NodeCertificateRenewalInit, FollowNodeCertificateInit } from './renewal.ts'
export { startRootRotation, rootRotationReconciler, rootCaForClusterSpec } from './root-rotation.ts'
export type { StartRootRotationOptions, RootRotationReconcilerOptions } from './root-rotation.ts'
export { CA_SERVICE_NAME } from './wire.ts'
export type {
  RootCACertificateResponse,
  IssueNodeCertificateRequest,
  IssueNodeCertificateResponse,
  NodeCertificateStatusRequest,
  NodeCertificateStatusResponse,
} from './wire.ts'
export { issueServingCertificate } from './serving-certificate.ts'
export type { ServingCertificateOptions } from './serving-certificate.ts'
