/**
 * `Cluster` (issue 18 item 4): a node of a cluster from `Cluster.init`, `Cluster.join` or
 * `Cluster.open` — a {@link ManagerCluster} with the control handles, or a {@link WorkerCluster}.
 *
 * @module
 */
export { Cluster, ManagerKeyStorage } from './cluster.ts'
export type { ClusterNode } from './cluster.ts'
export { ManagerCluster, CONTROL_SOCKET_FILE } from './manager-cluster.ts'
export type { ClusterEvents } from './manager-cluster.ts'
export { WorkerCluster } from './worker-cluster.ts'
export type { RoleEvent, WorkerClusterEvents } from './role-events.ts'
export type { ClusterServices, ClusterNodes, ServiceLogsOptions, ServiceWaitOptions } from './handles.ts'
export type { ClusterNodeOptions, ClusterMeshOptions, ClusterInitOptions, ClusterJoinOptions, ClusterOpenOptions } from './options.ts'
export { CLUSTER_NODE_FILE } from './node-state.ts'
export { unlockControlSocket } from './unlock.ts'
