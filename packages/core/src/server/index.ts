/**
 * The node's one gRPC server (part M of issue 18).
 *
 * @module
 */
export { NodeServer, nodeServerCredentials } from './node-server.ts'
export type { NodeServerInit } from './node-server.ts'
