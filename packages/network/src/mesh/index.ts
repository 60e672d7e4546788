/**
 * The routing mesh: on every node, a userspace L4 load balancer on each published ingress port
 * (TCP and UDP), fed by a live {@link RoutingTable} computed from the store; and the host-mode
 * publishing path ({@link hostPortBindings}), which does not go through the mesh.
 *
 * @module
 */
export {
  EMPTY_ROUTING_TABLE,
  addressOf,
  hostPortBindings,
  ingressNetworkId,
  ingressPorts,
  isBackendTask,
  mergeRoutes,
  routingTableOf,
  routingTablesEqual,
  serviceRoutes,
  taskEndpoint,
  validateRoutingTable,
} from './endpoints.ts'
export type { IngressPort, MeshBackend, MeshProtocol, RouteLookup, RoutingEntry, RoutingTable } from './endpoints.ts'
export { StaticEndpointSource } from './endpoints-source.ts'
export type { EndpointSource, RoutingTableListener } from './endpoints-source.ts'
export { StoreEndpointSource } from './endpoints-store.ts'
export type { StoreEndpointSourceInit } from './endpoints-store.ts'
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_FAILURE_PAUSE_MS, DEFAULT_UDP_IDLE_TIMEOUT_MS, DEFAULT_UDP_MAX_SESSIONS, RoutingMesh } from './routing-mesh.ts'
export type { MeshListenerInfo, MeshListenerState, MeshPortStats, RoutingMeshInit } from './routing-mesh.ts'
export type { MeshBackendStats } from './backend-pool.ts'
