/**
 * A node's certificate files in its state directory and the TLS material built from them.
 *
 * @module
 */
export {
  NodeCertificateStore,
  nodeCertificatePaths,
  checkTlsMaterial,
  CERTIFICATES_DIR,
  ROOT_CA_FILE,
  NODE_CERT_FILE,
  NODE_KEY_FILE,
} from './node-certificate-store.ts'
export type { NodeCertificateStoreInit, NodeKeyStorage, NodeCertificatePaths } from './node-certificate-store.ts'
