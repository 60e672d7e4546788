/**
 * @packageDocumentation
 * Container runtimes for swarmkit-ts workers: the {@link ContainerRuntime} contract (its
 * compliance suite is the `@swarmkit-ts/engine-adapter/compliance` subpath), and its
 * implementations.
 */
export { ContainerState, HealthStatus, RuntimeEventType } from './runtime.ts'
export type {
  ContainerRuntime,
  RuntimeContainerSpec,
  ContainerFile,
  ContainerResources,
  ContainerHealthcheck,
  PortMapping,
  RuntimeNetworkAttachment,
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
export { parseImageReference, isImageReference, IMAGE_NAME_MAX_LENGTH } from './shared/image-reference.ts'
export type { ImageReference } from './shared/image-reference.ts'
export { validateRuntimeContainerSpec, matchesLabels, HEALTHCHECK_DEFAULTS, DEFAULT_STOP_GRACE_MS } from './shared/spec-validation.ts'
export { EventJournal } from './shared/event-journal.ts'
export type { UncursoredEvent, JournalSubscribeOptions, EventJournalInit } from './shared/event-journal.ts'
export { LogBuffer } from './shared/log-buffer.ts'
export { FakeRuntime, FAKE_RUNTIME_CAPABILITIES } from './fake/fake-runtime.ts'
export type { FakeRuntimeInit, FakeRegistryImage } from './fake/fake-runtime.ts'
export type { FakeImage } from './fake/fake-container.ts'
export type { FakeFault, FakeFaultMatch, FakeFaultHandle } from './fake/fake-faults.ts'
export type { FakeProgram, FakeProgramContext, FakeIO } from './fake/fake-shell.ts'
export { FakeProcess, FakeProcessKilled } from './fake/fake-process.ts'
export type { FakeProcessInit, FakeFile, FakeConnectionHandler, FakeSignal } from './fake/fake-process.ts'
export { BUSYBOX_PROGRAMS } from './fake/fake-applets.ts'
export { ProcessRuntime, PROCESS_RUNTIME_CAPABILITIES } from './process/process-runtime.ts'
export type { ProcessRuntimeInit, RecoveredContainer } from './process/process-runtime.ts'
export { createBusyboxImage, findBusybox } from './process/process-image.ts'
export type { ProcessImage } from './process/process-image.ts'
export { DockerRuntime, DOCKER_CAPABILITIES } from './docker/docker-runtime.ts'
export type { DockerRuntimeInit } from './docker/docker-runtime.ts'
export type { DockerNetworkSpec, DockerNetworkSubnet, DockerNetworkInfo, DockerNetworkEndpoint, ListNetworksOptions } from './docker/docker-networks.ts'
export { ContainerdRuntime, CONTAINERD_CAPABILITIES } from './containerd/containerd-runtime.ts'
export type { ContainerdRuntimeInit } from './containerd/containerd-runtime.ts'
export type { ImageProcessConfig } from './containerd/containerd-image.ts'
