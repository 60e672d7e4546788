/**
 * `DockerRuntime`: the {@link ContainerRuntime} contract over a Docker engine, through dockerode.
 *
 * Traps handled: logs are demultiplexed by hand whether Docker returns a Buffer (not following) or
 * a stream; pull errors that arrive inside an HTTP 200 progress stream reject the pull; no client
 * inactivity timeout is set, so long streams (`/events`, followed logs) live as long as needed; the
 * `/events` stream reconnects with `since` and drops duplicates (see `DockerEventFeed`).
 *
 * Secrets and configs: each file is written under `stateDir` (a private directory, mode 0700 above
 * the files; put it on a tmpfs such as `/run` for secrets) with its mode and owner, and bind-mounted
 * read-only at its target. Containers share the host's network namespace (`NetworkMode: host`), so a
 * published port is a host port allocated at create and handed to the workload as `PORT` — unless
 * the spec has `networks`: the container then joins those Docker networks (the first at create,
 * the others before start) and its ports are published by Docker's userland proxy on every host
 * interface (this works without iptables). Networks are managed with `createNetwork` & co.
 *
 * dockerode is imported on the first call that reaches the engine, not with the package: an
 * application that only uses other runtimes never loads it (its types come from @types/dockerode).
 */
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from '@swarmkit-ts/api'
// Types only: dockerode itself is loaded on first use (see #load), so apps that never talk to Docker never load it.
import type Docker from 'dockerode'
import { removeHostFiles, writeHostFiles } from '../shared/host-files.ts'
import { allocateHostPorts } from '../shared/host-ports.ts'
import { publicLabels } from '../shared/internal-labels.ts'
import { EngineEventJournal } from '../shared/engine-event-journal.ts'
import { DockerEventFeed, type DockerEngineEvent } from './docker-events.ts'
import { DockerNetworks, type DockerNetworkInfo, type DockerNetworkSpec, type ListNetworksOptions } from './docker-networks.ts'
import { dockerLogs } from './docker-logs.ts'
import { dockerPull } from './docker-pull.ts'
import { DOCKER_LABEL, dockerCreateBody, startFailed, startFailureCode, toContainerInfo, type DockerInspect } from './docker-spec.ts'
import { ContainerStartError, ImageNotFoundError } from '../errors.ts'
import { parseImageReference } from '../shared/image-reference.ts'
import type {
  ContainerInfo, ContainerRuntime, RuntimeContainerSpec, EventsOptions, ListOptions, LogLine, LogsOptions, PullImageOptions,
  RemoveOptions, RuntimeCapabilities, RuntimeDescription, RuntimeEvent, RuntimeNetworkAttachment, StopOptions, WaitOptions,
} from '../runtime.ts'
import { DEFAULT_STOP_GRACE_MS, matchesLabels, validateRuntimeContainerSpec } from '../shared/spec-validation.ts'

/** Options of {@link DockerRuntime}. */
export interface DockerRuntimeInit {
  /** Docker's unix socket. @default from `DOCKER_HOST` (unix://…), else `/var/run/docker.sock` */
  socketPath?: string
  /**
   * Scopes this runtime's containers: they carry the label `io.swarmkit-ts.runtime.instance=<instance>`,
   * and `list`/`inspect`/`events` see only those. @default 'default'
   */
  instance?: string
  /** Host directory for secret and config files (bind-mounted read-only). @default `<tmpdir>/swarmkit-ts-docker` */
  stateDir?: string
  /** When false, `pullImage` never contacts a registry: a missing image rejects at once. @default true */
  allowPull?: boolean
  /** Events kept for `events({ since })` resumption (at least 1,000). @default 10000 */
  journalSize?: number
}

/** What this runtime supports. */
export const DOCKER_CAPABILITIES: RuntimeCapabilities = { memoryLimit: true, cpuLimit: true, healthcheck: true, ports: true, networks: true }

interface DockerError { statusCode?: number; message?: string }
const statusOf = (err: unknown): number | undefined => (typeof err === 'object' && err !== null ? (err as DockerError).statusCode : undefined)

function defaultSocket(): string {
  const host = process.env['DOCKER_HOST']
  return host?.startsWith('unix://') === true ? host.slice('unix://'.length) : '/var/run/docker.sock'
}

const DOCKER_ATTRIBUTES = new Set(['name', 'image', 'exitCode', 'execDuration', 'signal', 'container'])

/** The Docker runtime. Call {@link DockerRuntime.close} when done (it ends the event subscription). */
export class DockerRuntime implements ContainerRuntime {
  readonly #socketPath: string
  #client: Docker | undefined
  #loading: Promise<Docker> | undefined
  readonly #instance: string
  readonly #stateDir: string
  readonly #allowPull: boolean
  readonly #journal: EngineEventJournal
  readonly #feed: DockerEventFeed
  readonly #labels = new Map<string, Record<string, string>>()
  /** Containers seen to start and not yet to die. */
  readonly #running = new Set<string>()
  #resyncs = 0
  #ready: Promise<void> | undefined
  #queue: Promise<void> = Promise.resolve()
  readonly #networks: DockerNetworks

  constructor(options: DockerRuntimeInit = {}) {
    // No `timeout`: docker-modem's timeout is an inactivity timeout that would kill long streams.
    this.#socketPath = options.socketPath ?? defaultSocket()
    this.#instance = options.instance ?? 'default'
    this.#stateDir = options.stateDir ?? join(tmpdir(), 'swarmkit-ts-docker')
    this.#allowPull = options.allowPull ?? true
    this.#journal = new EngineEventJournal(options.journalSize)
    this.#networks = new DockerNetworks(() => this.#load(), this.#instance)
    this.#feed = new DockerEventFeed({
      open: async (query) => (await (await this.#load()).getEvents(query as unknown as Docker.GetEventsOptions)) as unknown as Readable,
      filters: { type: ['container'], label: [`${DOCKER_LABEL.instance}=${this.#instance}`] },
      onEvent: (ev) => {
        this.#queue = this.#queue.then(() => this.#onEngineEvent(ev)).catch(() => undefined)
      },
      onResubscribed: () => {
        this.#queue = this.#queue.then(() => this.#resync()).catch(() => undefined)
      },
    })
  }

  /** Ends the engine event subscription. Containers are left as they are. */
  close(): Promise<void> {
    this.#feed.close()
    return Promise.resolve()
  }

  /** Same as {@link DockerRuntime.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** Drops the engine event stream as a network failure would; it reconnects and misses nothing. For tests. */
  interruptEventStream(): void {
    this.#feed.interrupt()
  }

  /** How many times the engine event stream was re-established. */
  get eventStreamReconnects(): number {
    return this.#feed.reconnects
  }

  #whenReady(): Promise<void> {
    this.#ready ??= this.#load().then(() => this.#feed.start())
    return this.#ready
  }

  /** Loads dockerode and makes the client, once; every path to the engine goes through here first. */
  #load(): Promise<Docker> {
    this.#loading ??= import('dockerode').then(({ default: Dockerode }) => {
      this.#client = new Dockerode({ socketPath: this.#socketPath })
      return this.#client
    })
    return this.#loading
  }

  /** The client, for code that runs after {@link DockerRuntime.#load} (or `#whenReady`) resolved. */
  get #docker(): Docker {
    if (this.#client === undefined) throw new FailedPreconditionError('the Docker client is used before it was loaded', { reason: 'docker-not-loaded' })
    return this.#client
  }

  /** How many times the runtime re-read its running containers after the event stream came back. */
  get engineResyncs(): number {
    return this.#resyncs
  }

  /**
   * After the event stream came back: a container this runtime saw start and not die may have
   * ended while the stream was down — and a restarted dockerd (live-restore) marks a container that
   * ended while it was down as exited without publishing `die`. Inspect each one and journal the
   * missing `die` with its real exit code (a replayed `die` is then dropped as a duplicate).
   */
  async #resync(): Promise<void> {
    for (const id of [...this.#running]) {
      let d: DockerInspect
      try {
        d = (await this.#docker.getContainer(id).inspect()) as DockerInspect
      } catch {
        continue // Gone or unreachable: the replayed events (or the next resync) tell.
      }
      this.#noteUnpublishedExit(id, d)
    }
    this.#resyncs++
  }

  /**
   * Journals the `die` of a container this runtime saw start, when `d` shows it exited and no
   * `die` is journaled yet: the one a restarted dockerd never publishes. Called by the resync and
   * by every call that inspects a container before acting on its exit (`wait`, `remove`), so the
   * `die` always precedes what follows it (a `destroy`) whenever the resync runs. A `die` the
   * engine does publish afterwards is dropped as a duplicate.
   */
  #noteUnpublishedExit(id: string, d: DockerInspect): void {
    const info = toContainerInfo(d)
    if (info.state !== 'exited' || !this.#running.has(id) || this.#journal.has(id, 'die')) return
    this.#running.delete(id)
    const labels = this.#labels.get(id) ?? publicLabels(d.Config?.Labels ?? {})
    this.#journal.append({ type: 'die', id, labels, time: info.finishedAt ?? Date.now(), exitCode: info.exitCode ?? 255 })
  }

  async #onEngineEvent(ev: DockerEngineEvent): Promise<void> {
    const base = { id: ev.id, time: ev.time }
    if (ev.action === 'start') this.#running.add(ev.id)
    if (ev.action === 'die' || ev.action === 'destroy') this.#running.delete(ev.id)
    // One die per container (they start once): a resync may have journaled it already.
    if (ev.action === 'die' && this.#journal.has(ev.id, 'die')) return
    let input: Parameters<EngineEventJournal['append']>[0] | undefined
    const labels = async (): Promise<Record<string, string>> => this.#labelsOf(ev)
    switch (ev.action) {
      case 'create': case 'start': case 'destroy':
        input = { ...base, type: ev.action, labels: await labels() }
        break
      case 'die':
        input = { ...base, type: 'die', labels: await labels(), exitCode: Number(ev.attributes['exitCode'] ?? '0') }
        break
      default: {
        const m = /^health_status:\s*(healthy|unhealthy|starting)$/.exec(ev.action)
        if (m?.[1] !== undefined) input = { ...base, type: 'health', labels: await labels(), health: m[1] as 'healthy' | 'unhealthy' | 'starting' }
      }
    }
    if (input === undefined) return
    this.#journal.append(input)
    if (input.type === 'destroy') this.#labels.delete(ev.id)
  }

  async #labelsOf(ev: DockerEngineEvent): Promise<Record<string, string>> {
    const cached = this.#labels.get(ev.id)
    if (cached !== undefined) return cached
    try {
      const d = (await this.#docker.getContainer(ev.id).inspect()) as DockerInspect
      const labels = publicLabels(d.Config?.Labels ?? {})
      this.#labels.set(ev.id, labels)
      return labels
    } catch {
      // Gone already: Docker's event attributes are the labels plus a few of its own keys.
      const out: Record<string, string> = {}
      for (const [k, v] of Object.entries(publicLabels(ev.attributes))) if (!DOCKER_ATTRIBUTES.has(k)) out[k] = v
      return out
    }
  }

  async #inspectRaw(id: string): Promise<DockerInspect> {
    await this.#load()
    let d: DockerInspect
    try {
      d = (await this.#docker.getContainer(id).inspect()) as DockerInspect
    } catch (err) {
      if (statusOf(err) === 404) throw new NotFoundError('container', id, { cause: err })
      throw err
    }
    if (d.Config?.Labels?.[DOCKER_LABEL.instance] !== this.#instance) throw new NotFoundError('container', id)
    return d
  }


  async describe(): Promise<RuntimeDescription> {
    const v = (await (await this.#load()).version()) as { Version?: string }
    return { name: 'docker', version: v.Version ?? 'unknown', capabilities: { ...DOCKER_CAPABILITIES } }
  }

  async pullImage(ref: string, options: PullImageOptions = {}): Promise<void> {
    parseImageReference(ref, 'image')
    options.signal?.throwIfAborted()
    if (await this.#hasImage(ref)) return
    if (!this.#allowPull) throw new ImageNotFoundError(ref, { message: `image ${ref} is not present and pulling is disabled` })
    await dockerPull(this.#docker, ref, options)
    if (!(await this.#hasImage(ref))) throw new ImageNotFoundError(ref, { message: `image ${ref} not present after the pull` })
  }

  async #hasImage(ref: string): Promise<boolean> {
    const docker = await this.#load()
    try {
      await docker.getImage(ref).inspect()
      return true
    } catch (err) {
      if (statusOf(err) === 404) return false
      throw err
    }
  }

  async create(spec: RuntimeContainerSpec): Promise<string> {
    validateRuntimeContainerSpec(spec, DOCKER_CAPABILITIES)
    await this.#whenReady()
    if (!(await this.#hasImage(spec.image))) throw new ImageNotFoundError(spec.image)
    const [firstNetwork, ...moreNetworks] = spec.networks ?? []
    await this.#networks.checkExist(spec.networks ?? [])
    const ports = await allocateHostPorts(spec.ports)
    const filesDir = (spec.files ?? []).length > 0 ? join(this.#stateDir, randomUUID()) : undefined
    const files = filesDir === undefined ? [] : await writeHostFiles(filesDir, spec.files ?? [])
    const body = dockerCreateBody(spec, { instance: this.#instance, files, filesDir, ports, networkMode: 'host' })
    let id: string
    try {
      const query = spec.name === undefined ? {} : { name: spec.name }
      const c = await this.#docker.createContainer({ _query: query, _body: body } as unknown as Docker.ContainerCreateOptions)
      id = c.id
    } catch (err) {
      if (filesDir !== undefined) await removeHostFiles(filesDir)
      if (statusOf(err) === 409) throw new AlreadyExistsError('container', spec.name ?? '', { cause: err })
      if (statusOf(err) === 404) throw new ImageNotFoundError(spec.image, { cause: err })
      throw err
    }
    this.#labels.set(id, publicLabels(spec.labels ?? {}))
    await this.#journal.until(id, 'create')
    if (firstNetwork !== undefined && moreNetworks.length > 0) await this.#connectOrUndo(id, moreNetworks)
    return id
  }

  /** Connects a created container to its other networks; on a failure removes it again (nothing half-applied). */
  async #connectOrUndo(id: string, networks: readonly RuntimeNetworkAttachment[]): Promise<void> {
    try {
      for (const n of networks) await this.#networks.connect(id, n)
    } catch (err) {
      await this.remove(id, { force: true }).catch(() => undefined)
      throw err
    }
  }

  /**
   * Creates a bridge network on this engine, labelled with this runtime's instance. Rejects with
   * `InvalidArgumentError` for a bad name or subnet, `AlreadyExistsError` (kind `network`) for a
   * taken name, `FailedPreconditionError` (reason `network-conflict`) when the engine refuses it
   * (e.g. its subnet overlaps another network's on this host).
   */
  createNetwork(spec: DockerNetworkSpec): Promise<DockerNetworkInfo> {
    return this.#networks.create(spec)
  }

  /**
   * Removes one of this runtime's networks. `NotFoundError` when there is none by that name or id
   * (or it belongs to another instance); `FailedPreconditionError` (reason `network-in-use`) while
   * a container is attached.
   */
  removeNetwork(idOrName: string): Promise<void> {
    return this.#networks.remove(idOrName)
  }

  /** One of this runtime's networks by name or id; `NotFoundError` when there is none. */
  inspectNetwork(idOrName: string): Promise<DockerNetworkInfo> {
    return this.#networks.inspect(idOrName)
  }

  /** This runtime's networks that match `labels`, in no particular order. */
  listNetworks(options: ListNetworksOptions = {}): Promise<DockerNetworkInfo[]> {
    return this.#networks.list(options)
  }

  async start(id: string): Promise<void> {
    await this.#whenReady()
    const info = toContainerInfo(await this.#inspectRaw(id))
    if (info.state === 'running') return
    if (info.state === 'exited') throw new FailedPreconditionError(`container ${id} has exited; create a new one`, { reason: 'container-exited' })
    try {
      await this.#docker.getContainer(id).start()
    } catch (err) {
      const status = statusOf(err)
      if (status === 304) return
      if (status === 404) throw new NotFoundError('container', id, { cause: err })
      const d = await this.#inspectRaw(id)
      if (!startFailed(d)) throw err
      const exitCode = startFailureCode(d)
      this.#journal.notifyExit(id, exitCode)
      throw new ContainerStartError(id, d.State?.Error ?? String(err), { exitCode, cause: err })
    }
    await this.#journal.until(id, 'start')
  }

  async wait(id: string, options: WaitOptions = {}): Promise<number> {
    options.signal?.throwIfAborted()
    await this.#whenReady()
    const exit = this.#journal.exitOf(id)
    try {
      const d = await this.#inspectRaw(id)
      const info = toContainerInfo(d)
      if (info.state === 'exited') {
        this.#noteUnpublishedExit(id, d)
        return info.exitCode ?? 0
      }
      const signal = options.signal
      if (signal === undefined) return await exit.promise
      return await new Promise<number>((resolve, reject) => {
        const onAbort = (): void => {
          const reason: unknown = signal.reason
          reject(reason instanceof Error ? reason : new Error(String(reason)))
        }
        if (signal.aborted) onAbort()
        signal.addEventListener('abort', onAbort, { once: true })
        exit.promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
      })
    } finally {
      exit.cancel()
    }
  }

  async stop(id: string, options: StopOptions = {}): Promise<void> {
    await this.#whenReady()
    const grace = options.graceMs ?? DEFAULT_STOP_GRACE_MS
    const exit = this.#journal.exitOf(id)
    try {
      const info = toContainerInfo(await this.#inspectRaw(id))
      if (info.state !== 'running') return
      const c = this.#docker.getContainer(id)
      await this.#kill(c, 'SIGTERM')
      let timer: NodeJS.Timeout | undefined
      const timedOut = await Promise.race([
        exit.promise.then(() => false, () => false),
        new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), grace) }),
      ])
      clearTimeout(timer)
      if (timedOut) await this.#kill(c, 'SIGKILL')
      await exit.promise
    } finally {
      exit.cancel()
    }
  }

  async #kill(c: Docker.Container, signal: string): Promise<void> {
    try {
      await c.kill({ signal })
    } catch (err) {
      const status = statusOf(err)
      if (status === 404) throw new NotFoundError('container', c.id, { cause: err })
      if (status !== 409) throw err // 409: not running any more
    }
  }

  async remove(id: string, options: RemoveOptions = {}): Promise<void> {
    await this.#whenReady()
    const d = await this.#inspectRaw(id)
    const info = toContainerInfo(d)
    this.#noteUnpublishedExit(id, d)
    if (info.state === 'running' && options.force !== true) {
      throw new FailedPreconditionError(`container ${id} is running; stop it or remove with force`, { reason: 'container-running' })
    }
    try {
      await this.#docker.getContainer(id).remove({ force: true, v: true })
    } catch (err) {
      if (statusOf(err) === 404) throw new NotFoundError('container', id, { cause: err })
      throw err
    }
    await this.#journal.until(id, 'destroy')
    this.#labels.delete(id)
    const filesDir = d.Config?.Labels?.[DOCKER_LABEL.files]
    if (filesDir !== undefined) await removeHostFiles(filesDir)
  }

  async inspect(id: string): Promise<ContainerInfo> {
    return toContainerInfo(await this.#inspectRaw(id))
  }

  async list(options: ListOptions = {}): Promise<ContainerInfo[]> {
    const label = [`${DOCKER_LABEL.instance}=${this.#instance}`, ...Object.entries(options.labels ?? {}).map(([k, v]) => `${k}=${v}`)]
    const found = await (await this.#load()).listContainers({ all: true, filters: { label } })
    const infos = await Promise.all(found.map(async (c) => {
      try {
        return await this.inspect(c.Id)
      } catch (err) {
        if (err instanceof NotFoundError) return undefined
        throw err
      }
    }))
    return infos.filter((i): i is ContainerInfo => i !== undefined && matchesLabels(i.labels, options.labels))
  }

  logs(id: string, options: LogsOptions = {}): AsyncIterable<LogLine> {
    return dockerLogs({
      id,
      options,
      inspect: async () => toContainerInfo(await this.#inspectRaw(id)),
      container: () => this.#docker.getContainer(id),
      untilStarted: async (signal) => {
        // Started, or never will be (a failed start, removal): either way following can begin.
        const exit = this.#journal.exitOf(id)
        try {
          await Promise.race([this.#journal.until(id, 'start', signal), exit.promise.catch(() => undefined)])
        } finally {
          exit.cancel()
        }
      },
      ready: () => this.#whenReady(),
    })
  }

  events(options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    return this.#journal.subscribe(options)
  }
}
