/**
 * The worker's runtime: one named by kind (opened in the node's state directory and owned by the
 * node) or an embedder's `ContainerRuntime` instance (owned by the embedder), and the network
 * driver that fits it.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { dirname, join, resolve } from 'node:path'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { Clock } from '@swarmkit-ts/api'
import { ContainerdRuntime, DockerRuntime, FakeRuntime, ProcessRuntime, createBusyboxImage, findBusybox } from '@swarmkit-ts/engine-adapter'
import type { ContainerRuntime, ContainerdRuntimeInit, DockerRuntimeInit, FakeRuntimeInit, ProcessImage } from '@swarmkit-ts/engine-adapter'
import { DockerNetworkDriver, ProcessNetworkDriver } from '@swarmkit-ts/network'
import type { NetworkDriver } from '@swarmkit-ts/network'

/** The runtimes a worker opens by name. */
export const WORKER_RUNTIME_KINDS = ['process', 'docker', 'containerd', 'fake'] as const
/** A runtime named by kind. */
export type WorkerRuntimeKind = (typeof WORKER_RUNTIME_KINDS)[number]

/** Options of the runtimes opened by kind (each used only with its kind). */
export interface WorkerRuntimeOptions {
  /**
   * `ProcessRuntime`: the images it knows. @default `{ node, busybox }` — `node` is
   * {@link nodeProcessImage} (this Node.js, so `node -e '…'` or `node /abs/app.mjs` runs anywhere
   * this library does); `busybox` is busybox's applets linked under
   * `<stateDir>/runtime/images/busybox/`, only when a static busybox is installed
   */
  readonly process?: { readonly images?: Readonly<Record<string, ProcessImage>> }
  /**
   * `DockerRuntime` options. `stateDir` defaults to `<stateDir>/runtime/docker`, `instance` to
   * {@link runtimeInstanceOf}`(stateDir)` (so nodes sharing an engine do not see each other's containers).
   */
  readonly docker?: DockerRuntimeInit
  /** `ContainerdRuntime` options. `stateDir` defaults to `<stateDir>/runtime/containerd`, `instance` as for Docker. */
  readonly containerd?: ContainerdRuntimeInit
  /** `FakeRuntime` options (its containers live in this process only). */
  readonly fake?: FakeRuntimeInit
}

/** A runtime with what the worker needs to know about it. */
export interface OpenedRuntime {
  readonly runtime: ContainerRuntime
  /** The kind it was opened as, or `custom` for an embedder's instance. */
  readonly kind: WorkerRuntimeKind | 'custom'
  /**
   * Whether a later instance adopts the containers this one leaves running. False for
   * `ContainerdRuntime`, which keeps its containers' state in memory only, and for `FakeRuntime`.
   */
  readonly adopts: boolean
  /**
   * Closes it if the worker opened it; a no-op for an embedder's instance. Containers keep
   * running, except on a runtime that does not adopt them: those are removed first, so that the
   * next start runs the node's tasks again instead of leaving orphans beside them.
   */
  close(): Promise<void>
}

/** Whether `value` has every method of `ContainerRuntime`. */
export function isContainerRuntime(value: unknown): value is ContainerRuntime {
  if (typeof value !== 'object' || value === null) return false
  const methods = ['describe', 'pullImage', 'create', 'start', 'wait', 'stop', 'remove', 'inspect', 'list', 'logs', 'events'] as const
  return methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function')
}

/** Checks a `runtime` option, throwing `InvalidArgumentError` naming `runtime`. */
export function checkRuntimeChoice(runtime: unknown): WorkerRuntimeKind | ContainerRuntime {
  if (typeof runtime === 'string' && (WORKER_RUNTIME_KINDS as readonly string[]).includes(runtime)) return runtime as WorkerRuntimeKind
  if (isContainerRuntime(runtime)) return runtime
  throw new InvalidArgumentError('runtime', `must be one of ${WORKER_RUNTIME_KINDS.join(', ')} or a ContainerRuntime, got ${typeof runtime === 'string' ? JSON.stringify(runtime) : typeof runtime}`)
}

/** Where the runtime opened by `kind` keeps its state under the node's state directory. */
export function runtimeStateDir(stateDir: string, kind: WorkerRuntimeKind): string {
  return join(stateDir, 'runtime', kind)
}

/**
 * The runtime instance name of a node (the label value scoping its containers on a shared
 * engine): `swarmkit-` and 12 hex characters of the SHA-256 of its absolute state directory, so
 * the same node finds its containers again after a restart.
 */
export function runtimeInstanceOf(stateDir: string): string {
  return `swarmkit-${createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 12)}`
}

/**
 * Opens the runtime of `choice` for a node whose state directory is `stateDir`: a kind is opened
 * there (ProcessRuntime adopts the processes an earlier instance left running), an instance is
 * used as it is.
 */
export async function openRuntime(choice: WorkerRuntimeKind | ContainerRuntime, stateDir: string, options: WorkerRuntimeOptions, clock: Clock): Promise<OpenedRuntime> {
  if (typeof choice !== 'string') return { runtime: choice, kind: 'custom', adopts: true, close: () => Promise.resolve() }
  const owned = (runtime: ContainerRuntime & { close(): Promise<void> }): OpenedRuntime => ({ runtime, kind: choice, adopts: true, close: () => runtime.close() })
  switch (choice) {
    case 'process': {
      const images = options.process?.images ?? (await defaultProcessImages(stateDir))
      return owned(await ProcessRuntime.open({ stateDir: runtimeStateDir(stateDir, 'process'), images, clock }))
    }
    case 'docker':
      return owned(new DockerRuntime({ stateDir: runtimeStateDir(stateDir, 'docker'), instance: runtimeInstanceOf(stateDir), ...options.docker }))
    case 'containerd': {
      const runtime = new ContainerdRuntime({ stateDir: runtimeStateDir(stateDir, 'containerd'), instance: runtimeInstanceOf(stateDir), ...options.containerd })
      return { runtime, kind: choice, adopts: false, close: () => removeAllThenClose(runtime) }
    }
    case 'fake': {
      // Its containers live in this instance only: removed on close, so no sleeping fake process keeps a timer (and the process) alive.
      const runtime = new FakeRuntime({ clock, ...options.fake })
      return { runtime, kind: choice, adopts: false, close: () => removeAllThenClose(runtime) }
    }
  }
}

/** Removes every container of `runtime` (stopping it), then closes the runtime even if a removal failed. */
async function removeAllThenClose(runtime: ContainerRuntime & { close(): Promise<void> }): Promise<void> {
  try {
    for (const c of await runtime.list()) await runtime.remove(c.id, { force: true })
  } finally {
    await runtime.close()
  }
}

/**
 * The `node` image of `ProcessRuntime`: `PATH` is the directory of the Node.js running this
 * process (`process.execPath`), and its default command is `node` — a task with image `node` and
 * command `node -e '…'` (or `node /abs/path/app.mjs`) needs nothing installed but Node.js.
 */
export function nodeProcessImage(): ProcessImage {
  return { path: [dirname(process.execPath)], cmd: ['node'] }
}

async function defaultProcessImages(stateDir: string): Promise<Record<string, ProcessImage>> {
  const busybox = findBusybox()
  const node = nodeProcessImage()
  if (busybox === undefined) return { node }
  return { node, busybox: await createBusyboxImage(join(stateDir, 'runtime', 'images', 'busybox'), busybox) }
}

/**
 * The network driver that fits `runtime`: `DockerNetworkDriver` for a `DockerRuntime` (a bridge
 * per cluster network, tasks at their allocated addresses); `ProcessNetworkDriver` for every
 * other runtime (host networking: every port published on the node).
 */
export function networkDriverFor(runtime: ContainerRuntime, nodeAddress: string): NetworkDriver {
  if (runtime instanceof DockerRuntime) return new DockerNetworkDriver({ runtime, nodeAddress })
  return new ProcessNetworkDriver({ nodeAddress })
}
