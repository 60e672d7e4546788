/**
 * swarmkit-ts assembled: `Cluster.init` / `join` / `open` return a running manager or worker node
 * that talks gRPC over mutual TLS; every part of a node is exported too — the node server, the
 * manager node (Raft, the replicated store, the leader's components), the control API (with leader
 * forwarding and the local socket), the dispatcher over gRPC, the CA with joining and renewal,
 * service and task logs, and the worker node. Issue 18 is in progress: see the README's status.
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
export { computeProgress, globalServiceNodes, progressEqual } from '@swarmkit-ts/orchestrator'
export type { ServiceProgress, SlotProgress, UpdateProgress } from '@swarmkit-ts/orchestrator'
export type { SimulateOptions, SimulatedFaults, SimulatedCluster, SimulatedNode, SimulatedRaftMember, SimulatedRaftStatus, RunUntilOptions } from './simulate/index.ts'
