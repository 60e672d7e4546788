/**
 * The manager node (part M of issue 18): `ManagerNode` (state directory, Raft over the node
 * server, the replicated store, the leader's loops, membership with quorum-loss protection) and
 * the seams other parts plug into.
 *
 * @module
 */
export type { LeaderComponent, LeaderComponentHandle, LeaderContext } from './leader-component.ts'
export { ManagerNode } from './manager-node.ts'
export type { LeaderEvent, ManagerNodeEvents } from './manager-node.ts'
export type { ManagerNodeInit, ManagerInitOptions, ManagerJoinOptions, ManagerRaftOptions } from './manager-options.ts'
export type { ManagerMember } from './membership.ts'
export { decideRemoval, quorumOf } from './quorum.ts'
export type { MemberReachability, RemovalDecision, RemovalRefusal } from './quorum.ts'
export { managerStatePaths } from './state-dir.ts'
export type { ManagerStatePaths } from './state-dir.ts'
export { addMembershipService, MembershipClient, membershipServiceDefinition } from './membership-service.ts'
export type { MembershipHost, MembershipServiceDeps, MembershipCallOptions } from './membership-service.ts'
export type { JoinResponse, MemberInfo } from './membership-wire.ts'
