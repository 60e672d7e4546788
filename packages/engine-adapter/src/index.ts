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
export { parseImageReference, isImageReference, IMAGE_NAME_MAX_LENGTH } from './image-reference.ts'
export type { ImageReference } from './image-reference.ts'
export { validateRuntimeContainerSpec, matchesLabels, HEALTHCHECK_DEFAULTS, DEFAULT_STOP_GRACE_MS } from './spec-validation.ts'
export { EventJournal } from './event-journal.ts'
export type { UncursoredEvent, JournalSubscribeOptions, EventJournalInit } from './event-journal.ts'
export { LogBuffer } from './log-buffer.ts'
export { FakeRuntime, FAKE_RUNTIME_CAPABILITIES } from './fake-runtime.ts'
export type { FakeRuntimeInit, FakeRegistryImage } from './fake-runtime.ts'
export type { FakeImage } from './fake-container.ts'
export type { FakeFault, FakeFaultMatch, FakeFaultHandle } from './fake-faults.ts'
export type { FakeProgram, FakeProgramContext, FakeIO } from './fake-shell.ts'
export { FakeProcess, FakeProcessKilled } from './fake-process.ts'
export type { FakeProcessInit, FakeFile, FakeConnectionHandler, FakeSignal } from './fake-process.ts'
export { BUSYBOX_PROGRAMS } from './fake-applets.ts'
export { ProcessRuntime, PROCESS_RUNTIME_CAPABILITIES } from './process-runtime.ts'
export type { ProcessRuntimeInit, RecoveredContainer } from './process-runtime.ts'
export { createBusyboxImage, findBusybox } from './process-image.ts'
export type { ProcessImage } from './process-image.ts'
export { DockerRuntime, DOCKER_CAPABILITIES } from './docker-runtime.ts'
export type { DockerRuntimeInit } from './docker-runtime.ts'
export { ContainerdRuntime, CONTAINERD_CAPABILITIES } from './containerd-runtime.ts'
export type { ContainerdRuntimeInit } from './containerd-runtime.ts'
export type { ImageProcessConfig } from './containerd-image.ts'
