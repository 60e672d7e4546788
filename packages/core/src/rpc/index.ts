/**
 * Shared gRPC helpers of core's services: the typed-error mapping.
 *
 * @module
 */
export { toGrpcError, fromGrpcError } from './errors.ts'
export type { GrpcErrorLike } from './errors.ts'
export { drained, readServerStream } from './stream.ts'
