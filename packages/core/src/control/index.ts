/**
 * The control API (part C of issue 18): the contract, its store implementation, its gRPC binding,
 * leader forwarding and the local control socket.
 *
 * @module
 */
export type {
  ControlApi,
  ServicesApi,
  TasksApi,
  NodesApi,
  NetworksApi,
  SecretsApi,
  ConfigsApi,
  VersionOptions,
  CommonFilters,
  ServiceFilters,
  TaskFilters,
  NodeFilters,
  NodeRemoveOptions,
  ControlWatchSelector,
  ControlWatchOptions,
} from './control-api.ts'
export type { MembershipHooks, KeyHooks } from './control-hooks.ts'
export { StoreControlApi, toStoreSelector } from './store-control-api.ts'
export type { StoreControlApiInit } from './store-control-api.ts'
export { ControlClient } from './control-client.ts'
export type { ControlClientInit, ControlInfo } from './control-client.ts'
export { addControlService, controlServiceDefinition } from './control-service.ts'
export type { ControlServiceDeps } from './control-service.ts'
export { CONTROL_SERVICE_NAME } from './control-methods.ts'
export { LeaderForwardingControl } from './leader-forwarding.ts'
export type { LeaderForwardingControlInit, RawControlCall, RemoteControl } from './leader-forwarding.ts'
export type { ControlCallContext } from './control-service.ts'
export { FORWARDED_METADATA_KEY } from './control-methods.ts'
export { serveControlSocket, connectControlSocket, clearSocketPath, CONTROL_SOCKET_MODE } from './control-socket.ts'
export type { ControlSocket } from './control-socket.ts'
