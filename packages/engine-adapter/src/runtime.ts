/**
 * The `ContainerRuntime` contract: what a worker needs from a container engine, and what every
 * implementation (Docker, containerd, plain processes, the fake, an embedder's own) promises.
 *
 * The compliance suite in `@swarmkit-ts/engine-adapter/compliance` checks every obligation
 * written here; a runtime is conforming when it passes that suite.
 */

/** A file delivered into a container before it starts (a secret or a config). */
export interface ContainerFile {
  /** Absolute path inside the container, e.g. `/run/secrets/db-password`. Unique within a spec. */
  target: string
  /** File contents; a string is written as UTF-8. */
  data: Uint8Array | string
  /** Permission bits (0 to 0o7777). @default 0o444 */
  mode?: number
  /** Numeric owner inside the container. @default 0 (or the runtime's own user for host processes) */
  uid?: number
  /** Numeric group inside the container. @default 0 (or the runtime's own group for host processes) */
  gid?: number
}

/** Resource limits of a container. A runtime without the matching capability rejects them. */
export interface ContainerResources {
  /** Memory limit in bytes (positive integer). Needs `capabilities.memoryLimit`. */
  memoryBytes?: number
  /** CPU limit in units of 1e-9 CPUs, e.g. `500_000_000` for half a CPU. Needs `capabilities.cpuLimit`. */
  nanoCpus?: number
}

/** A port of the container published on the host's loopback or all interfaces. */
export interface PortMapping {
  /** The port the workload listens on inside its network namespace (1–65535). */
  target: number
  /** The host port; omitted or 0 lets the runtime allocate a free one (see {@link ContainerInfo.ports}). */
  published?: number
  /** @default 'tcp' */
  protocol?: 'tcp' | 'udp'
}

/**
 * A health check run inside the container while it runs.
 *
 * Status starts as `starting`; it becomes `healthy` after one successful probe (exit 0) and
 * `unhealthy` after `retries` consecutive failed probes (non-zero exit or timeout). Failures during
 * `startPeriodMs` do not count. A runtime emits a `health` event on every change to `healthy` or
 * `unhealthy` (not for the initial `starting`).
 */
export interface ContainerHealthcheck {
  /** `['CMD', exe, ...args]` runs a program; `['CMD-SHELL', script]` runs `/bin/sh -c script`. */
  test: readonly string[]
  /** Time between probes (positive). @default 30000 */
  intervalMs?: number
  /** A probe running longer fails (positive). @default 30000 */
  timeoutMs?: number
  /** Consecutive failures that make the container unhealthy (≥ 1). @default 3 */
  retries?: number
  /** Grace period after start during which failures do not count (≥ 0). @default 0 */
  startPeriodMs?: number
}

/**
 * What to run: one container on one runtime (distinct from the api's `ContainerSpec`, the
 * cluster-level part of a task spec, which the agent maps to this). Every runtime validates a
 * spec in `create()` and rejects a bad one with `InvalidArgumentError` naming the field (`image`,
 * `command`, `env.KEY`, `files[1].target`, `ports[0].target`, `resources.memoryBytes`,
 * `healthcheck.test`, …) — including a field whose feature the runtime does not support (see
 * {@link RuntimeCapabilities}); a feature is never silently ignored. `validateRuntimeContainerSpec`
 * implements these rules.
 */
export interface RuntimeContainerSpec {
  /**
   * Image reference, e.g. `local/busybox:test`, in Docker's reference grammar (checked before the
   * engine is contacted; see `parseImageReference`). Must be present locally (see `pullImage`).
   */
  image: string
  /** Optional unique name; a duplicate rejects with `AlreadyExistsError` (kind `container`). */
  name?: string
  /** Replaces the image's entrypoint (non-empty when given). */
  command?: readonly string[]
  /** Replaces the image's default arguments; appended to `command`. */
  args?: readonly string[]
  /** Environment variables; keys are non-empty and contain no `=`. Added to the image's environment. */
  env?: Readonly<Record<string, string>>
  /** Absolute working directory of the process. @default the image's, or `/` */
  workingDir?: string
  /** Labels, returned by `inspect`/`list` and matched by `list({ labels })` and `events({ labels })`. */
  labels?: Readonly<Record<string, string>>
  /** Files written before the process starts (secrets, configs). */
  files?: readonly ContainerFile[]
  /** Resource limits. */
  resources?: ContainerResources
  /** Published ports. Needs `capabilities.ports`. */
  ports?: readonly PortMapping[]
  /** Health check. Needs `capabilities.healthcheck`. */
  healthcheck?: ContainerHealthcheck
  /**
   * Networks the container joins instead of sharing the host's network namespace, the first one
   * at create and the others before it starts. Needs `capabilities.networks`. With networks,
   * `ports` are published from the container's own namespace (the workload listens on `target`,
   * and `PORT` is the first mapping's `target`).
   */
  networks?: readonly RuntimeNetworkAttachment[]
}

/**
 * A network a container joins (see {@link RuntimeContainerSpec.networks}): the engine's network
 * (name or id; it must exist) and, optionally, the container's fixed addresses on it (plain
 * addresses without a prefix length, inside the network's subnet) and extra DNS names.
 */
export interface RuntimeNetworkAttachment {
  /** The engine's network name or id (non-empty, unique within a spec). */
  network: string
  /** Fixed IPv4 address, e.g. `10.0.1.5`. @default one the engine chooses */
  ipv4Address?: string
  /** Fixed IPv6 address, e.g. `fd00::5`. @default one the engine chooses (when the network has IPv6) */
  ipv6Address?: string
  /** Extra names other containers on this network resolve to this one (non-empty, no whitespace). */
  aliases?: readonly string[]
}

/** Lifecycle states of a container, in order. A removed container no longer exists. */
export const ContainerState = {
  created: 'created',
  running: 'running',
  exited: 'exited',
} as const
/** A container lifecycle state. */
export type ContainerState = (typeof ContainerState)[keyof typeof ContainerState]

/** Health statuses; see {@link ContainerHealthcheck}. */
export const HealthStatus = {
  starting: 'starting',
  healthy: 'healthy',
  unhealthy: 'unhealthy',
} as const
/** A health status. */
export type HealthStatus = (typeof HealthStatus)[keyof typeof HealthStatus]

/** A published port as allocated by the runtime. */
export interface PublishedPort {
  /** The port inside the container. */
  target: number
  /** The host port; `127.0.0.1:published` reaches the workload while it listens on `target`. */
  published: number
  /** Transport protocol. */
  protocol: 'tcp' | 'udp'
}

/** A snapshot of one container, as returned by `inspect` and `list`. Times are ms since the Unix epoch. */
export interface ContainerInfo {
  /** Runtime-assigned id, unique for the runtime's lifetime. */
  id: string
  /** The spec's name, if any. */
  name: string | undefined
  /** The spec's image reference, as given. */
  image: string
  /** The spec's labels (merged over the image's labels, if the image has any). */
  labels: Readonly<Record<string, string>>
  /** Current state. */
  state: ContainerState
  /** When `create` succeeded. */
  createdAt: number
  /** When the process last started; set from `running` on. */
  startedAt: number | undefined
  /** When the process exited; set in `exited`. */
  finishedAt: number | undefined
  /** Exit code; set exactly in `exited`. A process killed by signal N has 128 + N. */
  exitCode: number | undefined
  /** Why the container could not start, when `start` failed (then `state` is `exited`). */
  error: string | undefined
  /** Health status while a healthcheck is configured and the container ran; otherwise undefined. */
  health: HealthStatus | undefined
  /** Published ports; host ports are known once the container is running (empty before). */
  ports: readonly PublishedPort[]
}

/** One line of container output. */
export interface LogLine {
  /** Which stream the line was written to. */
  stream: 'stdout' | 'stderr'
  /** The line, UTF-8 decoded, without its trailing newline (a final unterminated line is also a line). */
  line: string
  /** When the runtime received the line (ms since the Unix epoch). */
  time: number
}

/** Kinds of runtime events; see {@link RuntimeEvent}. */
export const RuntimeEventType = {
  create: 'create',
  start: 'start',
  die: 'die',
  health: 'health',
  destroy: 'destroy',
} as const
/** A runtime event kind. */
export type RuntimeEventType = (typeof RuntimeEventType)[keyof typeof RuntimeEventType]

/**
 * Something that happened to a container. Per container the order is `create`, then for a start
 * `start` … `die` (exactly one `die` per `start`, carrying the exit code; `health` only between
 * them), then `destroy` once removed.
 */
export type RuntimeEvent =
  | RuntimeEventBase<'create' | 'start' | 'destroy'>
  | (RuntimeEventBase<'die'> & { /** Exit code (128 + N when killed by signal N). */ exitCode: number })
  | (RuntimeEventBase<'health'> & { /** The new status. */ health: HealthStatus })

/** Fields common to every {@link RuntimeEvent}. */
export interface RuntimeEventBase<T extends RuntimeEventType> {
  /** Event kind. */
  type: T
  /** Container id. */
  id: string
  /** The container's labels. */
  labels: Readonly<Record<string, string>>
  /** When it happened (ms since the Unix epoch). */
  time: number
  /**
   * Opaque position in the runtime's event journal; cursors grow in delivery order. Pass the
   * cursor of the last event processed as `events({ since })` to resume without loss or duplicates.
   */
  cursor: string
}

/** Optional features a runtime may support. Specs using an unsupported one are rejected (never ignored). */
export interface RuntimeCapabilities {
  /** Enforces `resources.memoryBytes` (visible to the workload in its cgroup). */
  memoryLimit: boolean
  /** Enforces `resources.nanoCpus` (as a CFS quota over a 100 ms period). */
  cpuLimit: boolean
  /** Runs `healthcheck`. */
  healthcheck: boolean
  /** Publishes `ports`. */
  ports: boolean
  /**
   * Joins engine networks (`networks`), with fixed addresses and aliases. Optional so runtimes
   * written before it stay valid: absent means false.
   */
  networks?: boolean
}

/** What a runtime says about itself. */
export interface RuntimeDescription {
  /** Implementation name, e.g. `docker`, `containerd`, `process`, `fake`. */
  name: string
  /** Version of the engine behind it (or of this package for runtimes without one). */
  version: string
  /** The features this runtime supports. */
  capabilities: RuntimeCapabilities
}

/** Progress of an image pull. */
export interface PullProgress {
  /** Human-readable status, e.g. `Downloading`. */
  status: string
  /** Layer or item the status is about, when known. */
  item?: string
  /** Bytes done, when known. */
  current?: number
  /** Bytes in total, when known. */
  total?: number
}

/** Options of {@link ContainerRuntime.pullImage}. */
export interface PullImageOptions {
  /** Aborts the pull; the promise rejects with the signal's reason. */
  signal?: AbortSignal
  /** Called for every progress report. */
  onProgress?: (progress: PullProgress) => void
}

/** Options of {@link ContainerRuntime.wait}. */
export interface WaitOptions {
  /** Stops waiting (the container is untouched); the promise rejects with the signal's reason. */
  signal?: AbortSignal
}

/** Options of {@link ContainerRuntime.stop}. */
export interface StopOptions {
  /** Time between SIGTERM and SIGKILL, in ms (≥ 0). @default 10000 */
  graceMs?: number
}

/** Options of {@link ContainerRuntime.remove}. */
export interface RemoveOptions {
  /** Kill (SIGKILL) a running container first instead of rejecting. @default false */
  force?: boolean
}

/** Options of {@link ContainerRuntime.list}. */
export interface ListOptions {
  /** Only containers carrying every one of these labels with these values. */
  labels?: Readonly<Record<string, string>>
}

/** Options of {@link ContainerRuntime.logs}. */
export interface LogsOptions {
  /** Keep yielding new lines until the container exits (or the signal aborts). @default false */
  follow?: boolean
  /**
   * Start with only the last `tail` lines written so far (stdout and stderr together, ≥ 0); "so
   * far" is fixed when `logs()` is called (as far as the runtime has captured output by then).
   */
  tail?: number
  /** Only lines with `time >= since` (ms since the Unix epoch). */
  since?: number
  /** Ends the iteration (normally, without an error). */
  signal?: AbortSignal
}

/** Options of {@link ContainerRuntime.events}. */
export interface EventsOptions {
  /** Resume after the event with this cursor (exclusive). Without it, the stream starts at the call. */
  since?: string
  /** Only events of containers carrying every one of these labels with these values. */
  labels?: Readonly<Record<string, string>>
  /** Ends the iteration (normally, without an error). */
  signal?: AbortSignal
}

/**
 * A container engine as seen by a worker.
 *
 * Obligations of every implementation (checked by `describeContainerRuntimeCompliance`):
 *
 * - **Errors.** An unknown container id rejects with `NotFoundError` (kind `container`, `id`) from
 *   every method that takes one; an image that is not available rejects with
 *   `ImageNotFoundError` (`ref`); a bad spec rejects from `create` with `InvalidArgumentError`
 *   naming the field; errors of async iterables surface from the first `next()`.
 * - **Lifecycle.** `create` → `created`; `start` → `running`; the process ending (by itself, by
 *   `stop`, by a kill) → `exited` with an exit code; `remove` → gone (`NotFoundError` from then on).
 *   Exit codes are the process's own, or 128 + N when it died from signal N (143 for SIGTERM,
 *   137 for SIGKILL).
 * - **Environment of the process.** `command` + `args` run with `env`, in `workingDir`, with every
 *   `files` entry readable at its `target` path with its `mode`. When the spec has ports, the
 *   environment has `PORT` set to the port the first mapping's workload must listen on (its
 *   `target` when the container has its own network namespace; the allocated host port for a
 *   runtime that shares the host's network, where `target` cannot be honoured literally). Portable
 *   workloads listen on `$PORT`.
 * - **Events.** Every lifecycle change is journaled in order, before the method causing it
 *   resolves (a process exit: before `wait` resolves); see {@link RuntimeEvent}. A subscriber sees
 *   every event from the moment it called `events()` (or after `since`), each exactly once.
 *   Runtimes keep at least the last 1,000 events; resuming from an older cursor rejects with
 *   `FailedPreconditionError` (reason `events-truncated`).
 * - **Concurrency.** Methods may be called concurrently, also for different containers; 20
 *   containers driven at once lose no event and no exit code.
 */
export interface ContainerRuntime {
  /** Name, engine version and capabilities. */
  describe(): Promise<RuntimeDescription>

  /**
   * Makes `ref` available locally (a no-op when it already is). Rejects with `InvalidArgumentError`
   * (field `image`, as for `create`) when `ref` is not a well-formed reference in Docker's grammar —
   * before any engine call; with `ImageNotFoundError` when a well-formed image cannot be found or
   * fetched; and with the signal's reason when aborted.
   */
  pullImage(ref: string, options?: PullImageOptions): Promise<void>

  /**
   * Creates a container in state `created` and returns its id; the process does not run yet.
   * Emits `create`. Rejects with `InvalidArgumentError` for a bad spec, `ImageNotFoundError` when
   * the image is not present locally (no implicit pull), `AlreadyExistsError` for a taken name.
   */
  create(spec: RuntimeContainerSpec): Promise<string>

  /**
   * Starts a `created` container's process, resolving once it runs (`running`, `start` emitted,
   * published ports allocated). Starting a `running` container is a no-op; starting an `exited`
   * one rejects with `FailedPreconditionError` (reason `container-exited`). When the process
   * cannot be started (e.g. the executable is missing) it rejects with `ContainerStartError` and
   * the container is `exited` with `error` set and exit code 127 (not found) or 126 (other), with
   * no `start`/`die` event.
   */
  start(id: string): Promise<void>

  /**
   * Resolves with the exit code once the container is `exited` — at once when it already is; a
   * `created` container is waited for through its start. A container removed with `force` while
   * waited for resolves with its exit code.
   */
  wait(id: string, options?: WaitOptions): Promise<number>

  /**
   * Sends SIGTERM to the process (on runtimes with process groups: to the whole group), then
   * SIGKILL after `graceMs` if it still runs; resolves once it is `exited`. A no-op for a
   * container that is `created` or already `exited`.
   */
  stop(id: string, options?: StopOptions): Promise<void>

  /**
   * Removes a container and everything the runtime holds for it (logs, files, ports), emitting
   * `destroy`. A `running` container rejects with `FailedPreconditionError` (reason
   * `container-running`) unless `force`, which kills it first (emitting `die`, exit code 137).
   */
  remove(id: string, options?: RemoveOptions): Promise<void>

  /** The container's current state. */
  inspect(id: string): Promise<ContainerInfo>

  /** Every container of this runtime (in any state) that matches `labels`, in no particular order. */
  list(options?: ListOptions): Promise<ContainerInfo[]>

  /**
   * The container's output, stdout and stderr told apart, each stream in order (their relative
   * order is best effort). Without `follow` the iteration ends after the lines written so far;
   * with `follow` it continues until the container exits and its last line was yielded, or the
   * signal aborts. Lines outlive the process until `remove`.
   */
  logs(id: string, options?: LogsOptions): AsyncIterable<LogLine>

  /**
   * Lifecycle events of this runtime's containers, in journal order, from the call on (or after
   * `options.since`), until the signal aborts. The starting point is fixed when `events()` is
   * called, not at the first `next()`, so an event caused right after the call is not missed.
   * See {@link RuntimeEvent} and the obligations above.
   */
  events(options?: EventsOptions): AsyncIterable<RuntimeEvent>
}
