/**
 * The network allocator (SwarmKit's manager/allocator): on the leader, moves tasks NEW →
 * PENDING once their network attachments, their service's virtual IPs and its published ports
 * are allocated; and the published-port allocator and endpoint rules it is built on.
 *
 * @module
 */
export { PortAllocator, MASTER_PORT_RANGE, DYNAMIC_PORT_RANGE, normalizePort, samePort, portLabel } from './ports.ts'
export type { NormalizedPort, PortPlan, PortSnapshot } from './ports.ts'
export { attachmentsOf, needsIngress, checkEndpointSpec, resolveAttachments, portInUseMessage } from './endpoint-rules.ts'
export type { NetworkLookup, AttachmentList } from './endpoint-rules.ts'
export { NetworkAllocator } from './network-allocator.ts'
export { PENDING_MESSAGE } from './task-rules.ts'
export type { NetworkAllocatorInit, NetworkAllocatorHandle, AllocatorSnapshot } from './network-allocator.ts'
export { ALLOCATOR_WRITES_PER_TRANSACTION } from './writes.ts'
