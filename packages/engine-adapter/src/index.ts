/**
 * @packageDocumentation
 * Container runtimes for swarmkit-ts workers: the {@link ContainerRuntime} contract (its
 * compliance suite is the `@swarmkit-ts/engine-adapter/compliance` subpath), and its
 * implementations.
 */
export { ContainerState, HealthStatus, RuntimeEventType } from './runtime.ts'
export type {
  ContainerRuntime,
  ContainerSpec,
  ContainerFile,
  ContainerResources,
  ContainerHealthcheck,
  PortMapping,
  PublishedPort,
  ContainerInfo,
  LogLine,
  RuntimeEvent,
  RuntimeEventBase,
  RuntimeCapabilities,
  RuntimeDescription,
  PullProgress,
  PullImageOptions,
  WaitOptions,
  StopOptions,
  RemoveOptions,
  ListOptions,
  LogsOptions,
  EventsOptions,
} from './runtime.ts'
export { ImageNotFoundError, ContainerStartError, RuntimeErrorName } from './errors.ts'
export { validateContainerSpec, matchesLabels, HEALTHCHECK_DEFAULTS, DEFAULT_STOP_GRACE_MS } from './spec-validation.ts'
