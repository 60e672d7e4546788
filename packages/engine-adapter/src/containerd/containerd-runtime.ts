/**
 * `ContainerdRuntime`: the {@link ContainerRuntime} contract over containerd's gRPC API
 * (@grpc/grpc-js, our own minimal protos), with the `io.containerd.runc.v2` shim.
 *
 * - Images: `importImage(ref, tarPath)` imports a root file system tarball as a one-layer OCI image
 *   (content write, snapshot prepare, diff apply, commit); `pullImage` only resolves local images
 *   (containerd 1.6 has no server-side pull; registry pulls are not implemented) and otherwise
 *   rejects with `ImageNotFoundError`.
 * - Each container gets its own snapshot (key = container id) on top of the image's ChainID, an OCI
 *   spec built here (`containerd-spec.ts`), file-based stdio under `stateDir/<id>/` (a `binary://`
 *   logger writing two files, see `containerd-logs.ts`), and secret and
 *   config files bind-mounted read-only from `stateDir/<id>/files/`.
 * - Host network: no network namespace; published ports are host ports given to the workload as `PORT`.
 * - State (created/running/exited, exit codes, health) is kept by this runtime instance; a new
 *   instance does not adopt containers an earlier one created.
 * - containerd restarts: tasks live on under their shims. A broken Tasks.Wait is not an exit; the
 *   runtime waits for containerd, reads the task and waits anew (only real exits are reported), and
 *   `remove({ force })` deletes a container only once its task — every process of it — is gone.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from '@swarmkit-ts/api'
import { writeHostFiles } from '../shared/host-files.ts'
import { allocateHostPorts } from '../shared/host-ports.ts'
import { INTERNAL_LABEL_PREFIX } from '../shared/internal-labels.ts'
import { EngineEventJournal } from '../shared/engine-event-journal.ts'
import { ContainerdGrpc, errText, GRPC_CODE, ignoreCodes, isGrpcCode, type Msg } from './containerd-grpc.ts'
import { execProbe, HealthMonitor } from './containerd-health.ts'
import { importRootfsImage, resolveImage, withLease, type ImageProcessConfig, type ResolvedImage } from './containerd-image.ts'
import { ContainerLogStore, containerdLogs, LOGGER_SCRIPT } from './containerd-logs.ts'
import { buildOciSpec, mergeEnv, OCI_SPEC_TYPE_URL } from './containerd-spec.ts'
import { ContainerStartError, ImageNotFoundError } from '../errors.ts'
import { parseImageReference } from '../shared/image-reference.ts'
import type {
  ContainerHealthcheck, ContainerInfo, ContainerRuntime, RuntimeContainerSpec, ContainerState, EventsOptions, ListOptions, LogLine,
  LogsOptions, PublishedPort, PullImageOptions, RemoveOptions, RuntimeCapabilities, RuntimeDescription, RuntimeEvent,
  StopOptions, WaitOptions,
} from '../runtime.ts'
import { DEFAULT_STOP_GRACE_MS, matchesLabels, validateRuntimeContainerSpec } from '../shared/spec-validation.ts'

/** Options of {@link ContainerdRuntime}. */
export interface ContainerdRuntimeInit {
  /** containerd's gRPC socket. @default '/run/containerd/containerd.sock' */
  socketPath?: string
  /** containerd namespace for images and containers. @default 'swarmkit-ts' */
  namespace?: string
  /** Snapshotter. @default 'overlayfs' */
  snapshotter?: string
  /** Host directory for logs and secret/config files (use a tmpfs for secrets). @default `<tmpdir>/swarmkit-ts-containerd/<namespace>` */
  stateDir?: string
  /** Label value scoping this runtime's containers in the namespace. @default 'default' */
  instance?: string
  /** Events kept for `events({ since })` resumption (at least 1,000). @default 10000 */
  journalSize?: number
  /**
   * How long `stop` and `remove` keep retrying while containerd is unreachable (restarting) before
   * they reject with `UnavailableError`. @default 10000
   */
  reconnectMs?: number
}

/** What this runtime supports. */
export const CONTAINERD_CAPABILITIES: RuntimeCapabilities = { memoryLimit: true, cpuLimit: true, healthcheck: true, ports: true, networks: false }

const SVC = {
  version: 'containerd.services.version.v1.Version',
  containers: 'containerd.services.containers.v1.Containers',
  tasks: 'containerd.services.tasks.v1.Tasks',
  snapshots: 'containerd.services.snapshots.v1.Snapshots',
} as const

const LABEL_INSTANCE = `${INTERNAL_LABEL_PREFIX}instance`
const SIGTERM = 15
const SIGKILL = 9

interface Rec {
  readonly id: string
  readonly name: string | undefined
  readonly image: string
  readonly labels: Readonly<Record<string, string>>
  readonly createdAt: number
  readonly ports: readonly PublishedPort[]
  readonly healthcheck: ContainerHealthcheck | undefined
  /** The process environment (health probes run with it). */
  readonly env: readonly string[]
  readonly dir: string
  readonly logs: ContainerLogStore
  state: ContainerState
  startedAt: number | undefined
  finishedAt: number | undefined
  exitCode: number | undefined
  error: string | undefined
  health: HealthMonitor | undefined
  starting: Promise<void> | undefined
  removed: boolean
  /** The exit is being recorded (it is recorded once). */
  exiting: boolean
  execSeq: number
}

/** Resolves after `ms` (a caller awaits it, so it keeps the process alive like any awaited timer). */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** containerd's UNAVAILABLE (it is down or restarting) as the api's UnavailableError; other errors as they are. */
function unreachable(err: unknown): unknown {
  if (!isGrpcCode(err, GRPC_CODE.UNAVAILABLE)) return err
  return new UnavailableError(`containerd is not reachable: ${errText(err)}`, { cause: err })
}

/** The containerd runtime. Call {@link ContainerdRuntime.close} when done. */
export class ContainerdRuntime implements ContainerRuntime {
  readonly #c: ContainerdGrpc
  readonly #namespace: string
  readonly #snapshotter: string
  readonly #stateDir: string
  readonly #instance: string
  readonly #journal: EngineEventJournal
  readonly #recs = new Map<string, Rec>()
  readonly #names = new Map<string, string>()
  readonly #hostBinds = ['/etc/hosts', '/etc/resolv.conf'].filter((p) => existsSync(p))
  #poller: NodeJS.Timeout | undefined
  #closed = false
  #rewatches = 0
  readonly #reconnectMs: number

  constructor(options: ContainerdRuntimeInit = {}) {
    this.#namespace = options.namespace ?? 'swarmkit-ts'
    this.#c = new ContainerdGrpc({ socketPath: options.socketPath ?? '/run/containerd/containerd.sock', namespace: this.#namespace })
    this.#snapshotter = options.snapshotter ?? 'overlayfs'
    this.#stateDir = options.stateDir ?? join(tmpdir(), 'swarmkit-ts-containerd', this.#namespace)
    this.#instance = options.instance ?? 'default'
    this.#journal = new EngineEventJournal(options.journalSize)
    const reconnectMs = options.reconnectMs ?? 10_000
    if (!Number.isFinite(reconnectMs) || reconnectMs < 0) throw new InvalidArgumentError('reconnectMs', `must be a finite number ≥ 0, got ${reconnectMs}`)
    this.#reconnectMs = reconnectMs
  }

  /** Stops health checks and log polling and closes the gRPC channel; containers keep running. */
  close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#poller)
    for (const r of this.#recs.values()) r.health?.stop()
    this.#c.close()
    return Promise.resolve()
  }

  /** Same as {@link ContainerdRuntime.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /**
   * Imports an uncompressed root file system tarball as the one-layer image `ref` (idempotent),
   * through Content.Write, Snapshots.Prepare, Diff.Apply and Snapshots.Commit under a lease.
   */
  async importImage(ref: string, tarPath: string, config?: Partial<ImageProcessConfig>): Promise<void> {
    parseImageReference(ref, 'image')
    await importRootfsImage(this.#c, { name: ref, tarPath, snapshotter: this.#snapshotter, ...(config !== undefined ? { config } : {}) })
  }

  async describe(): Promise<RuntimeDescription> {
    const v = await this.#c.unary(SVC.version, 'Version', {})
    return { name: 'containerd', version: typeof v['version'] === 'string' ? v['version'] : 'unknown', capabilities: { ...CONTAINERD_CAPABILITIES } }
  }

  async pullImage(ref: string, options: PullImageOptions = {}): Promise<void> {
    parseImageReference(ref, 'image')
    options.signal?.throwIfAborted()
    await this.#resolve(ref)
    options.signal?.throwIfAborted()
  }

  async #resolve(ref: string): Promise<ResolvedImage> {
    try {
      return await resolveImage(this.#c, ref, this.#snapshotter)
    } catch (err) {
      if (isGrpcCode(err, GRPC_CODE.NOT_FOUND)) throw new ImageNotFoundError(ref, { cause: err })
      throw err
    }
  }

  #get(id: string): Rec {
    const r = this.#recs.get(id)
    if (r === undefined || r.removed) throw new NotFoundError('container', id)
    return r
  }

  async create(spec: RuntimeContainerSpec): Promise<string> {
    validateRuntimeContainerSpec(spec, CONTAINERD_CAPABILITIES)
    const name = spec.name
    if (name !== undefined) {
      if (this.#names.has(name)) throw new AlreadyExistsError('container', name)
      this.#names.set(name, '')
    }
    const id = randomBytes(16).toString('hex')
    const dir = join(this.#stateDir, id)
    let snapshotMade = false
    try {
      const image = await this.#resolve(spec.image)
      const args = [...(spec.command ?? image.config.entrypoint), ...(spec.args ?? (spec.command !== undefined ? [] : image.config.cmd))]
      if (args.length === 0) throw new InvalidArgumentError('command', `image ${spec.image} has no default command; give command or args`)
      const ports = await allocateHostPorts(spec.ports)
      const extraEnv: Record<string, string> = { ...(spec.env ?? {}) }
      const first = ports[0]
      if (first !== undefined && extraEnv['PORT'] === undefined) extraEnv['PORT'] = String(first.published)
      await mkdir(dir, { recursive: true, mode: 0o711 })
      const logs = new ContainerLogStore(dir)
      const files = await writeHostFiles(join(dir, 'files'), spec.files ?? [])
      const env = mergeEnv(image.config.env, extraEnv)
      const oci = buildOciSpec({
        args, env, cwd: spec.workingDir ?? image.config.workingDir, hostname: id.slice(0, 12),
        files, hostBinds: this.#hostBinds, memoryBytes: spec.resources?.memoryBytes, nanoCpus: spec.resources?.nanoCpus,
        cgroupsPath: `/swarmkit-ts/${this.#namespace}/${id}`,
      })
      const labels = { ...(spec.labels ?? {}) }
      await withLease(this.#c, async (lease) => {
        await this.#c.unary(SVC.snapshots, 'Prepare', { snapshotter: this.#snapshotter, key: id, parent: image.chainId }, { lease })
        snapshotMade = true
        await this.#c.unary(SVC.containers, 'Create', {
          container: {
            id, image: spec.image, labels: { ...labels, [LABEL_INSTANCE]: this.#instance },
            runtime: { name: 'io.containerd.runc.v2' },
            spec: { type_url: OCI_SPEC_TYPE_URL, value: Buffer.from(JSON.stringify(oci)) },
            snapshotter: this.#snapshotter, snapshotKey: id,
          },
        }, { lease })
      })
      const now = Date.now()
      this.#recs.set(id, {
        id, name, image: spec.image, labels, createdAt: now, ports, healthcheck: spec.healthcheck, env, dir, logs,
        state: 'created', startedAt: undefined, finishedAt: undefined, exitCode: undefined, error: undefined,
        health: undefined, starting: undefined, removed: false, exiting: false, execSeq: 0,
      })
      if (name !== undefined) this.#names.set(name, id)
      this.#journal.append({ type: 'create', id, labels, time: now })
      return id
    } catch (err) {
      if (name !== undefined) this.#names.delete(name)
      if (snapshotMade) await this.#c.unary(SVC.snapshots, 'Remove', { snapshotter: this.#snapshotter, key: id }).catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
      throw err
    }
  }

  async start(id: string): Promise<void> {
    const r = this.#get(id)
    if (r.state === 'running') return
    if (r.state === 'exited') throw new FailedPreconditionError(`container ${id} has exited; create a new one`, { reason: 'container-exited' })
    r.starting ??= this.#start(r)
    await r.starting
  }

  async #start(r: Rec): Promise<void> {
    const logger = await this.#logger()
    const got = await this.#c.unary(SVC.snapshots, 'Mounts', { snapshotter: this.#snapshotter, key: r.id })
    try {
      await this.#c.unary(SVC.tasks, 'Create', {
        containerId: r.id, rootfs: got['mounts'], stdout: r.logs.uri(logger), stderr: r.logs.uri(logger), terminal: false,
      })
    } catch (err) {
      const message = errText(err)
      const exitCode = /no such file or directory|executable file not found|not found in \$PATH/i.test(message) ? 127 : 126
      this.#startFailed(r, message, exitCode)
      throw new ContainerStartError(r.id, message, { exitCode, cause: err })
    }
    const waited = this.#c.unary(SVC.tasks, 'Wait', { containerId: r.id })
    try {
      await this.#c.unary(SVC.tasks, 'Start', { containerId: r.id })
    } catch (err) {
      waited.catch(() => undefined)
      await this.#c.unary(SVC.tasks, 'Delete', { containerId: r.id }).catch(() => undefined)
      const message = errText(err)
      this.#startFailed(r, message, 126)
      throw new ContainerStartError(r.id, message, { exitCode: 126, cause: err })
    }
    r.state = 'running'
    r.startedAt = Date.now()
    this.#journal.append({ type: 'start', id: r.id, labels: r.labels, time: r.startedAt })
    if (r.healthcheck !== undefined) {
      r.health = new HealthMonitor(r.healthcheck, (args, timeoutMs) => this.#probe(r, args, timeoutMs), (health) => {
        if (r.state === 'running') this.#journal.append({ type: 'health', id: r.id, labels: r.labels, time: Date.now(), health })
      })
    }
    this.#ensurePoller()
    this.#watch(r, waited)
  }

  /** Reports the task's exit once Tasks.Wait answers; a broken Wait is not an exit (see {@link ContainerdRuntime.#rewatch}). */
  #watch(r: Rec, waited: Promise<Msg>): void {
    waited.then(
      (res) => this.#exited(r, Number(res['exitStatus'] ?? 255)),
      () => this.#rewatch(r),
    ).catch(() => undefined)
  }

  /**
   * After Tasks.Wait failed — containerd went away (UNAVAILABLE while it restarts) or dropped the
   * call — the task is still alive under its shim, which outlives containerd. Waits until containerd
   * answers again, reads the task (Tasks.Get): stopped meanwhile → its real exit status; otherwise
   * waits on it anew. Only a task containerd no longer knows at all ends without an exit status (255).
   */
  async #rewatch(r: Rec): Promise<void> {
    let delay = 50
    for (;;) {
      if (this.#closed || r.removed || r.state !== 'running') return
      let proc: Msg | undefined
      try {
        proc = (await this.#c.unary(SVC.tasks, 'Get', { containerId: r.id }))['process'] as Msg | undefined
      } catch (err) {
        if (isGrpcCode(err, GRPC_CODE.NOT_FOUND)) {
          if (!r.removed) await this.#exited(r, 255, `containerd lost the task: ${errText(err)}`)
          return
        }
        await pause(delay)
        delay = Math.min(2 * delay, 1000)
        continue
      }
      if (this.#closed || r.removed || r.state !== 'running') return
      this.#rewatches++
      if (proc?.['status'] === 'STOPPED') {
        await this.#exited(r, Number(proc['exitStatus'] ?? 255))
        return
      }
      this.#watch(r, this.#c.unary(SVC.tasks, 'Wait', { containerId: r.id }))
      return
    }
  }

  /** How many times a task was followed again after Tasks.Wait broke (containerd restarted). */
  get taskRewatches(): number {
    return this.#rewatches
  }

  #loggerPath: Promise<string> | undefined

  /** Writes the logging binary (once) into the state directory. */
  #logger(): Promise<string> {
    this.#loggerPath ??= (async () => {
      const path = join(this.#stateDir, 'swarmkit-ts-logger.sh')
      await mkdir(this.#stateDir, { recursive: true, mode: 0o711 })
      await writeFile(path, LOGGER_SCRIPT, { mode: 0o755 })
      await chmod(path, 0o755)
      return path
    })()
    return this.#loggerPath
  }

  #startFailed(r: Rec, message: string, exitCode: number): void {
    r.state = 'exited'
    r.error = message
    r.exitCode = exitCode
    r.finishedAt = Date.now()
    this.#journal.notifyExit(r.id, exitCode)
  }

  async #exited(r: Rec, exitCode: number, error?: string): Promise<void> {
    if (r.state === 'exited' || r.exiting) return
    r.exiting = true
    r.health?.stop()
    await this.#c.unary(SVC.tasks, 'Delete', { containerId: r.id }).catch(() => undefined)
    await r.logs.ingest(true).catch(() => undefined)
    r.state = 'exited'
    r.exitCode = exitCode
    r.finishedAt = Date.now()
    if (error !== undefined) r.error = error
    this.#journal.append({ type: 'die', id: r.id, labels: r.labels, time: r.finishedAt, exitCode })
  }

  async #probe(r: Rec, args: readonly string[], timeoutMs: number): Promise<number | undefined> {
    try {
      return await execProbe(this.#c, { containerId: r.id, execId: `health-${++r.execSeq}`, args, env: r.env, timeoutMs })
    } catch (err) {
      if (isGrpcCode(err, GRPC_CODE.UNAVAILABLE)) return undefined
      throw err
    }
  }

  #ensurePoller(): void {
    if (this.#poller !== undefined) return
    this.#poller = setInterval(() => {
      let running = 0
      for (const r of this.#recs.values()) {
        if (r.state !== 'running') continue
        running++
        r.logs.ingest().catch(() => undefined)
      }
      if (running === 0) {
        clearInterval(this.#poller)
        this.#poller = undefined
      }
    }, 100)
    this.#poller.unref()
  }


  async wait(id: string, options: WaitOptions = {}): Promise<number> {
    options.signal?.throwIfAborted()
    const r = this.#get(id)
    if (r.state === 'exited') return r.exitCode ?? 0
    const exit = this.#journal.exitOf(id)
    const signal = options.signal
    try {
      if (signal === undefined) return await exit.promise
      return await new Promise<number>((resolve, reject) => {
        const onAbort = (): void => {
          const reason: unknown = signal.reason
          reject(reason instanceof Error ? reason : new Error(String(reason)))
        }
        signal.addEventListener('abort', onAbort, { once: true })
        exit.promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
      })
    } finally {
      exit.cancel()
    }
  }

  /**
   * A task call that must not be lost to a containerd restart: retried while containerd is
   * unreachable (the channel reconnects within a second of containerd's return) for up to
   * `reconnectMs`, then rejected with `UnavailableError`. Only idempotent calls (Kill, Delete, Wait).
   */
  async #task(rpc: 'Kill' | 'Delete' | 'Wait', request: Msg): Promise<Msg> {
    const deadline = Date.now() + this.#reconnectMs
    let delay = 50
    for (;;) {
      try {
        return await this.#c.unary(SVC.tasks, rpc, request)
      } catch (err) {
        if (!isGrpcCode(err, GRPC_CODE.UNAVAILABLE) || this.#closed || Date.now() + delay > deadline) throw unreachable(err)
      }
      await pause(delay)
      delay = Math.min(2 * delay, 1000)
    }
  }

  async #kill(id: string, signal: number, all: boolean): Promise<void> {
    await this.#task('Kill', { containerId: id, signal, all }).catch(ignoreCodes(GRPC_CODE.NOT_FOUND, GRPC_CODE.FAILED_PRECONDITION))
  }

  async stop(id: string, options: StopOptions = {}): Promise<void> {
    const r = this.#get(id)
    if (r.starting !== undefined) await r.starting.catch(() => undefined)
    if (r.state !== 'running') return
    const grace = options.graceMs ?? DEFAULT_STOP_GRACE_MS
    const exit = this.#journal.exitOf(id)
    try {
      await this.#kill(id, SIGTERM, false)
      let timer: NodeJS.Timeout | undefined
      const timedOut = await Promise.race([
        exit.promise.then(() => false, () => false),
        new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), grace) }),
      ])
      clearTimeout(timer)
      if (timedOut) await this.#kill(id, SIGKILL, true)
      await exit.promise.catch(() => undefined)
    } finally {
      exit.cancel()
    }
  }

  async remove(id: string, options: RemoveOptions = {}): Promise<void> {
    const r = this.#get(id)
    if (r.starting !== undefined) await r.starting.catch(() => undefined)
    if (r.state === 'running' && options.force !== true) {
      throw new FailedPreconditionError(`container ${id} is running; stop it or remove with force`, { reason: 'container-running' })
    }
    if (r.state !== 'created') await this.#endTask(r)
    if (r.removed) throw new NotFoundError('container', id)
    r.removed = true
    r.health?.stop()
    await this.#c.unary(SVC.containers, 'Delete', { id }).catch(ignoreCodes(GRPC_CODE.NOT_FOUND))
    await this.#c.unary(SVC.snapshots, 'Remove', { snapshotter: this.#snapshotter, key: id }).catch(ignoreCodes(GRPC_CODE.NOT_FOUND))
    await rm(r.dir, { recursive: true, force: true })
    this.#recs.delete(id)
    if (r.name !== undefined) this.#names.delete(r.name)
    this.#journal.append({ type: 'destroy', id, labels: r.labels, time: Date.now() })
  }

  /**
   * Leaves no process of the container behind: SIGKILL to all of its processes while it runs, then
   * Tasks.Delete — which containerd refuses while a process lives, so a refusal means kill, wait and
   * delete again (up to three times). Rejects (the container is then kept) when containerd cannot confirm the task is gone.
   */
  async #endTask(r: Rec): Promise<void> {
    if (r.state === 'running') {
      const exit = this.#journal.exitOf(r.id)
      try {
        await this.#kill(r.id, SIGKILL, true)
        await exit.promise.catch(() => undefined)
      } finally {
        exit.cancel()
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#task('Delete', { containerId: r.id })
        return
      } catch (err) {
        if (isGrpcCode(err, GRPC_CODE.NOT_FOUND)) return
        // containerd 1.6 refuses with UNKNOWN "cannot delete a running process".
        if (err instanceof UnavailableError || attempt === 3) throw err
      }
      await this.#kill(r.id, SIGKILL, true)
      await this.#task('Wait', { containerId: r.id }).catch(ignoreCodes(GRPC_CODE.NOT_FOUND))
    }
  }

  #info(r: Rec): ContainerInfo {
    const ran = r.state !== 'created' && r.startedAt !== undefined
    return {
      id: r.id, name: r.name, image: r.image, labels: { ...r.labels }, state: r.state, createdAt: r.createdAt,
      startedAt: r.startedAt, finishedAt: r.state === 'exited' ? r.finishedAt : undefined,
      exitCode: r.state === 'exited' ? r.exitCode : undefined, error: r.error,
      health: ran && r.health !== undefined ? r.health.status : undefined,
      ports: ran ? r.ports.map((p) => ({ ...p })) : [],
    }
  }

  inspect(id: string): Promise<ContainerInfo> {
    try {
      return Promise.resolve(this.#info(this.#get(id)))
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)))
    }
  }

  list(options: ListOptions = {}): Promise<ContainerInfo[]> {
    const out: ContainerInfo[] = []
    for (const r of this.#recs.values()) if (!r.removed && matchesLabels(r.labels, options.labels)) out.push(this.#info(r))
    return Promise.resolve(out)
  }

  logs(id: string, options: LogsOptions = {}): AsyncIterable<LogLine> {
    const get = (): Rec => this.#get(id)
    return (async function* () {
      const r = get()
      yield* containerdLogs({ store: () => r.logs, live: () => r.state !== 'exited' && !r.removed, options })
    })()
  }

  events(options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    return this.#journal.subscribe(options)
  }
}
