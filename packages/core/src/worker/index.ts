/**
 * The worker node: the agent over the chosen runtime, task networking over a network driver,
 * the routing mesh where the node can feed it, and the hook the log publisher reads.
 *
 * @module
 */
export { WorkerNode, validateWorkerNodeInit } from './worker-node.ts'
export type { WorkerNodeInit, WorkerNetworkingOptions, WorkerMeshOptions, WorkerTaskContainer } from './worker-node.ts'
export { DriverTaskNetworking } from './task-networking.ts'
export type { DriverTaskNetworkingInit } from './task-networking.ts'
export { StoreNetworkSource, AttachmentNetworkSource } from './network-source.ts'
export type { TaskNetworkSource } from './network-source.ts'
export { WORKER_RUNTIME_KINDS, nodeProcessImage, openRuntime, networkDriverFor, runtimeStateDir, runtimeInstanceOf, isContainerRuntime, checkRuntimeChoice } from './runtime-choice.ts'
export type { WorkerRuntimeKind, WorkerRuntimeOptions, OpenedRuntime } from './runtime-choice.ts'
export { NodeExecutor, DEFAULT_NETWORK_PLUGINS } from './node-executor.ts'
export type { NodeExecutorInit } from './node-executor.ts'
