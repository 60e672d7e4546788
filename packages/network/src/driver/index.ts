/**
 * driver: the {@link NetworkDriver} contract (a node's network data plane, used by the agent),
 * its helpers, and the Docker and process implementations. The compliance suite is the
 * `@swarmkit-ts/network/compliance` entry.
 *
 * @module
 */
export type {
  NetworkDriver,
  NetworkDriverCapabilities,
  NetworkDriverDescription,
  DriverNetwork,
  DriverNetworkState,
  TaskNetworkRequest,
  TaskNetworkConfig,
  TaskEndpoint,
} from './network-driver.ts'
export { withTaskNetwork, toPortStatus } from './task-network.ts'
export { driverNetworkOf, taskNetworkRequestOf } from './from-store.ts'
export { ProcessNetworkDriver, PROCESS_DRIVER_CAPABILITIES } from './process-driver.ts'
export type { ProcessNetworkDriverInit } from './process-driver.ts'
export { DockerNetworkDriver, DOCKER_DRIVER_CAPABILITIES, NETWORK_ID_LABEL, NETWORK_SPEC_LABEL } from './docker-driver.ts'
export type { DockerNetworkDriverInit } from './docker-driver.ts'
