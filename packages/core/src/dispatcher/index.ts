/**
 * The dispatcher over gRPC (part D of issue 18): the `swarmkit.core.v1.Dispatcher` service on a
 * node's server, the client an agent uses, and the connector that gives an `Agent` a manager's
 * `DispatcherApi` with one channel per manager address.
 *
 * @module
 */
export { DISPATCHER_SERVICE_NAME, dispatcherServiceDefinition } from './definition.ts'
export type { DispatcherMethod } from './definition.ts'
export { addDispatcherService, authorizeDispatcherCaller, peerHost } from './server.ts'
export type { DispatcherAuthorizer, DispatcherService, DispatcherServiceInit } from './server.ts'
export { GrpcDispatcherClient, DEFAULT_DISPATCHER_CALL_TIMEOUT_MS, dispatcherChannelOptions } from './client.ts'
export type { DispatcherChannelOptions, GrpcDispatcherClientInit } from './client.ts'
export { GrpcDispatcherConnector } from './connector.ts'
export type { GrpcDispatcherConnectorInit } from './connector.ts'
