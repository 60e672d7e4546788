/**
 * `@swarmkit-ts/docker-api`: the Docker Engine API (v1.41) on a swarmkit-ts manager, so that the
 * real `docker` CLI, `docker stack deploy` and dockerode drive the cluster.
 *
 * @packageDocumentation
 */
export { serveDockerApi, type ServeDockerApiOptions, type DockerApiServer, type DockerApiSocketServer } from './server.ts'
export { DOCKER_API_TCP_ROLES, type DockerApiTcpOptions } from './server-tcp.ts'
export { buildDockerApp, DEFAULT_BODY_LIMIT, DEFAULT_ENGINE, type DockerAppOptions } from './app.ts'
export type { DockerApiManager, EngineIdentity, RouteContext, RouteModule, DockerApp } from './context.ts'
export { DockerApiError, notSupported, toDockerError } from './errors.ts'
export { API_VERSION, MIN_API_VERSION, compareApiVersions, requestApiVersion } from './version.ts'
export { StdStream, stdFrame, startStream, writeChunk, clientGone } from './streams.ts'
export { serviceSpecFromDocker, serviceSpecToDocker } from './translate/service-spec.ts'
export { serviceToDocker, serviceStatus, type ServiceToDockerOptions, type DockerServiceStatus } from './translate/service-object.ts'
export { taskToDocker, taskUpToDate, dockerTaskState } from './translate/task-object.ts'
export type { DockerJson } from './translate/service-container.ts'
export { readClassicCreate, CLASSIC_CONTAINER_LABEL, CLASSIC_AUTO_REMOVE_LABEL, type ClassicCreate } from './translate/classic-create.ts'
export { classicEnvironment, isClassicEntry, type ClassicEnvironment, type ClassicPlacementLookup } from './translate/classic-constraints.ts'
export { containerInspect, containerSummary, containerConfig, hostConfig } from './translate/classic-container.ts'
export { classicState, humanDuration, type ClassicState, type ContainerStatus } from './translate/classic-state.ts'
export { swarmToDocker, clusterInfoToDocker, swarmSpecToDocker, swarmSpecFromDocker, type DockerSwarm, type DockerClusterInfo, type DockerSwarmSpec } from './translate/swarm.ts'
export { tlsInfoOf, type DockerTlsInfo } from './translate/swarm-tls.ts'
export { infoToDocker, swarmInfoToDocker, type DockerSwarmInfo, type InfoSources } from './translate/info.ts'
export { nodeToDocker, nodeSpecFromDocker, type DockerNode, type DockerNodeSpec, type DockerGenericResource } from './translate/node.ts'
export { secretToDocker, secretSpecFromDocker, type DockerSecret, type DockerSecretSpec } from './translate/secret.ts'
export { configToDocker, configSpecFromDocker, type DockerConfig, type DockerConfigSpec } from './translate/config.ts'
export { networkToDocker, networkSpecFromDocker, type DockerNetwork, type DockerIpamConfig } from './translate/network.ts'
export { dockerEvents, dockerEventJson, taskEvents, DockerEventType, type DockerEvent, type DockerEventActor } from './translate/event.ts'
export { EVENT_FILTERS, matchEvent, parseEventFilters, parseEventTime } from './translate/event-filter.ts'
export { EventHistory, EVENT_HISTORY_LIMIT, followStore, type DockerEventListener } from './translate/event-history.ts'
