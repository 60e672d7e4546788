/**
 * swarmkit-ts assembled (issue 18, in progress): the parts of manager and worker nodes that talk
 * gRPC over mutual TLS — the node server, the manager node (Raft, the replicated store, the
 * leader's components), the control API (with leader forwarding and the local socket), the
 * dispatcher over gRPC, the CA with joining and renewal, service and task logs, and the worker
 * node. `Cluster`, which assembles them behind `init` / `join` / `open`, comes next.
 *
 * @packageDocumentation
 */
export * from './rpc/index.ts'
export * from './server/index.ts'
export * from './manager/index.ts'
export * from './control/index.ts'
export * from './dispatcher/index.ts'
export * from './ca/index.ts'
export * from './certs/index.ts'
export * from './logs/index.ts'
export * from './worker/index.ts'
export * from './cluster/index.ts'
