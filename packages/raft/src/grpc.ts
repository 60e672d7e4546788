/**
 * `@swarmkit-ts/raft/grpc`: the `RaftTransport` over gRPC (`GrpcRaftTransport`), its
 * authorization hooks and defaults.
 *
 * A separate entry point so that the main one never loads a gRPC stack: `@grpc/grpc-js` is an
 * optional peer dependency of this package, needed only here. An application that imports this
 * entry installs it (`npm install @grpc/grpc-js`; `@swarmkit-ts/pki`, whose credentials it takes,
 * already depends on it); a store-only or simulation-only user installs no gRPC at all.
 *
 * @packageDocumentation
 */
export { GrpcRaftTransport, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_SNAPSHOT_CHUNK_BYTES, DEFAULT_MAX_QUEUED_MESSAGES, DEFAULT_BACKOFF } from './transport/grpc-transport.ts'
export { raftServerOptions } from './transport/grpc-transport.ts'
export type { GrpcRaftTransportInit, GrpcRaftPeerStats, GrpcRaftTransportStats } from './transport/grpc-transport.ts'
export { authorizeClusterManagers, allowAnyRaftPeer, RELAYED_MESSAGE_TYPES, MANAGER_CERTIFICATE_OU } from './transport/grpc-transport-auth.ts'
export type { RaftAuthorizer, RaftAuthorization, RaftCallInfo, ClusterManagersOptions } from './transport/grpc-transport-auth.ts'
export type { PeerStreamState } from './transport/grpc-transport-peer.ts'
