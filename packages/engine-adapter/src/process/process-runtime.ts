import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, cryptoRandom, systemClock, type Clock, type Random, type Timer } from '@swarmkit-ts/api'
import type { ChildProcess } from 'node:child_process'
import { chmod, chown, mkdir, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { ContainerStartError, ImageNotFoundError } from '../errors.ts'
import { EventJournal } from '../shared/event-journal.ts'
import { parseImageReference } from '../shared/image-reference.ts'
import { LogBuffer } from '../shared/log-buffer.ts'
import { findBusybox, resolveExecutable, type ProcessImage } from './process-image.ts'
import { allocatePorts, findSetsid, killGroup, launchConfig, runProbe, spawnWorkload } from './process-launch.ts'
import { LogTailer, loadFinishedLogs } from './process-logs.ts'
import { processStartTime, readExitCode, readRecord, writeRecord, type ProcessRecord } from './process-record.ts'
import type { ContainerInfo, ContainerRuntime, RuntimeContainerSpec, EventsOptions, ListOptions, LogLine, LogsOptions, PullImageOptions, RemoveOptions, RuntimeCapabilities, RuntimeDescription, RuntimeEvent, StopOptions, WaitOptions } from '../runtime.ts'
import { DEFAULT_STOP_GRACE_MS, HEALTHCHECK_DEFAULTS, matchesLabels, validateRuntimeContainerSpec } from '../shared/spec-validation.ts'
import { logsOptionsError } from '../shared/logs-options.ts'

/** Construction options of {@link ProcessRuntime.open}. */
export interface ProcessRuntimeInit {
  /** Private directory for container state, logs and delivered files (created with mode 0700; a relative path is resolved at `open`). */
  stateDir: string
  /**
   * The image references this runtime knows and what they mean (see {@link ProcessImage}). Keys are
   * image references in Docker's grammar (e.g. `busybox`, `local/busybox:test`), not paths.
   */
  images: Readonly<Record<string, ProcessImage>>
  /** What to do with processes a previous instance started that still run. @default 'adopt' */
  recover?: 'adopt' | 'kill'
  /** Timestamps and timers. @default systemClock */
  clock?: Clock
  /** Container ids. @default cryptoRandom */
  random?: Random
  /** Host shell for the shim. @default '/bin/sh' */
  shell?: string
  /** `setsid` binary. @default util-linux's, else busybox's `setsid` applet */
  setsid?: string
  /** How often running containers' output files are read. @default 50 */
  logPollMs?: number
  /** Events kept for `events({ since })`. @default 10000 */
  eventCapacity?: number
}

/** A container found running (or ended) when the runtime opened its state directory. */
export interface RecoveredContainer {
  id: string
  pid: number
  /** `adopted`: still running, watched again; `killed`: killed per `recover: 'kill'`; `exited`: ended while no runtime watched. */
  outcome: 'adopted' | 'killed' | 'exited'
}

/** The capabilities of {@link ProcessRuntime}: healthchecks and ports, no resource limits. */
export const PROCESS_RUNTIME_CAPABILITIES: RuntimeCapabilities = { memoryLimit: false, cpuLimit: false, healthcheck: true, ports: true, networks: false }

interface Entry {
  record: ProcessRecord
  dir: string
  logs: LogBuffer
  tailer: LogTailer | undefined
  waiters: ((code: number) => void)[]
  timers: Timer[]
  child: ChildProcess | undefined
  starting: Promise<void> | undefined
  finishing: Promise<void> | undefined
  failures: number
}

/**
 * Runs each container as a plain child process on the host — the embedded default for real work
 * without an engine. See the package README for the full model; in short:
 *
 * - the image names a {@link ProcessImage} (where commands are found; `createBusyboxImage` makes one);
 * - the workload runs through a small `sh` shim and `setsid`, so it leads its own process group:
 *   `stop` sends SIGTERM then SIGKILL to the whole group, and the shim records the exit code in a file;
 * - stdout/stderr go straight to files in the container's directory (they survive a runtime restart);
 * - `files` are written under the container's private `files/` directory, and every occurrence of a
 *   target path in `command`, `args` and `env` values is rewritten to the real path;
 * - ports: the host port is allocated and passed in `PORT` (the process shares the host network);
 * - restart: {@link ProcessRuntime.open} over the same `stateDir` finds the processes an earlier
 *   instance started (pid + kernel start time), and adopts or kills them; ones that ended meanwhile
 *   are reported with the exit code the shim recorded.
 *
 * Linux only (`/proc`, process groups). No isolation and no resource limits.
 */
export class ProcessRuntime implements ContainerRuntime {
  /** What {@link ProcessRuntime.open} found from an earlier instance. */
  readonly recovered: readonly RecoveredContainer[]
  readonly #init: ProcessRuntimeInit
  readonly #clock: Clock
  readonly #random: Random
  readonly #shell: string
  readonly #setsid: string
  readonly #entries = new Map<string, Entry>()
  readonly #names = new Map<string, string>()
  readonly #journal: EventJournal
  #closed = false

  private constructor(init: ProcessRuntimeInit, setsid: string, recovered: RecoveredContainer[]) {
    this.#init = init
    this.#clock = init.clock ?? systemClock
    this.#random = init.random ?? cryptoRandom
    this.#shell = init.shell ?? '/bin/sh'
    this.#setsid = setsid
    this.#journal = new EventJournal({ capacity: init.eventCapacity ?? 10_000, instance: Buffer.from(this.#random.bytes(4)).toString('hex') })
    this.recovered = recovered
  }

  /**
   * Opens (creating) the state directory and recovers the containers an earlier instance left.
   * Relative paths in `init` (`stateDir`, each image's `path` and `workingDir`, `shell` and `setsid`
   * when they contain a `/`) are resolved against `process.cwd()` now, so a later `chdir` changes
   * nothing. Image keys must be well-formed references (`InvalidArgumentError` naming `images["<key>"]`).
   */
  static async open(options: ProcessRuntimeInit): Promise<ProcessRuntime> {
    const init = resolveInit(options)
    let setsid = init.setsid ?? findSetsid()
    if (setsid === undefined) {
      const busybox = findBusybox()
      if (busybox === undefined) throw new FailedPreconditionError('ProcessRuntime needs setsid (util-linux) or busybox on the host', { reason: 'setsid-missing' })
      setsid = join(init.stateDir, 'bin', 'setsid')
      await mkdir(dirname(setsid), { recursive: true, mode: 0o700 })
      await symlink(busybox, setsid).catch(() => undefined)
    }
    await mkdir(join(init.stateDir, 'containers'), { recursive: true, mode: 0o700 })
    const recovered: RecoveredContainer[] = []
    const rt = new ProcessRuntime(init, setsid, recovered)
    await rt.#recover(recovered)
    return rt
  }

  /**
   * The configured image of `ref`: its own key, or else the same name with or without the tag
   * `latest` (Docker reads `busybox` as `busybox:latest`, and its CLI sends the tag).
   */
  #image(ref: string): ProcessImage | undefined {
    const images = this.#init.images
    if (Object.hasOwn(images, ref)) return images[ref]
    const alias = ref.endsWith(':latest') ? ref.slice(0, -':latest'.length) : /[:@][^/]*$/.test(ref) ? undefined : `${ref}:latest`
    return alias !== undefined && Object.hasOwn(images, alias) ? images[alias] : undefined
  }

  describe(): Promise<RuntimeDescription> {
    return Promise.resolve({ name: 'process', version: '0.1.0', capabilities: { ...PROCESS_RUNTIME_CAPABILITIES } })
  }

  pullImage(ref: string, options: PullImageOptions = {}): Promise<void> {
    try {
      parseImageReference(ref, 'image')
    } catch (err) {
      return Promise.reject(toError(err))
    }
    if (options.signal?.aborted === true) return Promise.reject(toError(options.signal.reason))
    if (this.#image(ref) === undefined) return Promise.reject(new ImageNotFoundError(ref))
    return Promise.resolve()
  }

  async create(spec: RuntimeContainerSpec): Promise<string> {
    validateRuntimeContainerSpec(spec, PROCESS_RUNTIME_CAPABILITIES)
    if (this.#image(spec.image) === undefined) throw new ImageNotFoundError(spec.image)
    if (spec.name !== undefined && this.#names.has(spec.name)) throw new AlreadyExistsError('container', spec.name)
    const id = Buffer.from(this.#random.bytes(8)).toString('hex')
    if (spec.name !== undefined) this.#names.set(spec.name, id)
    const dir = join(this.#init.stateDir, 'containers', id)
    try {
      await mkdir(join(dir, 'work'), { recursive: true, mode: 0o700 })
      for (const [i, f] of (spec.files ?? []).entries()) {
        const path = join(dir, 'files', f.target)
        await mkdir(dirname(path), { recursive: true, mode: 0o700 })
        await writeFile(path, f.data, { mode: 0o600 })
        await chmod(path, f.mode ?? 0o444)
        if (f.uid !== undefined || f.gid !== undefined) {
          await chown(path, f.uid ?? process.getuid?.() ?? 0, f.gid ?? process.getgid?.() ?? 0).catch((err: unknown) => {
            throw new InvalidArgumentError(`files[${i}].uid`, `cannot set the owner: ${String(err)}`)
          })
        }
      }
      const { files, ...rest } = spec
      const record: ProcessRecord = {
        version: 1,
        id,
        spec: { ...rest, ...(files === undefined ? {} : { files: files.map((f) => ({ target: f.target, mode: f.mode ?? 0o444 })) }) },
        labels: { ...spec.labels },
        state: 'created',
        createdAt: this.#clock.now(),
        startedAt: undefined,
        finishedAt: undefined,
        exitCode: undefined,
        error: undefined,
        health: undefined,
        ports: [],
        pid: undefined,
        pidStartTime: undefined,
      }
      await writeRecord(dir, record)
      this.#entries.set(id, this.#entry(record, dir))
    } catch (err) {
      if (spec.name !== undefined) this.#names.delete(spec.name)
      await rm(dir, { recursive: true, force: true })
      throw err
    }
    this.#emit(this.#get(id).record, { type: 'create' })
    return id
  }

  async start(id: string): Promise<void> {
    const e = this.#get(id)
    if (e.starting !== undefined) return e.starting
    if (e.record.state === 'running') return
    if (e.record.state === 'exited') throw new FailedPreconditionError(`container ${id} has exited`, { reason: 'container-exited' })
    e.starting = this.#start(e).finally(() => {
      e.starting = undefined
    })
    return e.starting
  }

  async #start(e: Entry): Promise<void> {
    const r = e.record
    const image = this.#image(r.spec.image)
    const fail = async (message: string, exitCode: number): Promise<never> => {
      Object.assign(r, { state: 'exited', exitCode, error: message, finishedAt: this.#clock.now() })
      e.logs.close()
      await writeRecord(e.dir, r)
      this.#resolveWaiters(e, exitCode)
      throw new ContainerStartError(r.id, message, { exitCode })
    }
    if (image === undefined) return fail(`image ${r.spec.image} is no longer configured`, 127)
    const ports = await allocatePorts(r.spec.ports)
    const config = launchConfig(r.spec, image, e.dir, ports)
    const [argv0] = config.argv
    if (argv0 === undefined) return fail('no command specified', 127)
    const exe = await resolveExecutable(argv0, image.path, config.cwd)
    if (!exe.ok) return fail(exe.message, exe.exitCode)
    const cwdOk = await stat(config.cwd).then((s) => s.isDirectory(), () => false)
    if (!cwdOk) return fail(`working directory ${config.cwd} does not exist on the host`, 126)
    let spawned
    try {
      spawned = await spawnWorkload({ shell: this.#shell, setsid: this.#setsid, exe: exe.path, config, dir: e.dir })
    } catch (err) {
      return fail((err as Error).message, 126)
    }
    if (!this.#entries.has(r.id)) {
      killGroup(spawned.pid, 'SIGKILL')
      return
    }
    // Synchronously: running, `start` emitted and output tailed before the exit can be handled.
    Object.assign(r, { state: 'running', startedAt: this.#clock.now(), ports, pid: spawned.pid })
    if (r.spec.healthcheck !== undefined) r.health = 'starting'
    e.child = spawned.child
    this.#emit(r, { type: 'start' })
    this.#watch(e)
    const persisted = (async () => {
      r.pidStartTime = await processStartTime(spawned.pid)
      await writeRecord(e.dir, r)
    })()
    void spawned.exit.then(async (code) => {
      await persisted.catch(() => undefined)
      if (!this.#closed) await this.#finish(e, code)
    })
    await persisted
  }

  /** Starts log polling and health probes for a running container. */
  #watch(e: Entry): void {
    const tailer = new LogTailer(e.dir, e.logs)
    e.tailer = tailer
    const poll = (): void => {
      if (e.record.state !== 'running' || this.#closed) return
      void tailer.poll().then(() => e.timers.push(this.#clock.setTimeout(poll, this.#init.logPollMs ?? 50)))
    }
    poll()
    this.#scheduleProbes(e)
  }

  #scheduleProbes(e: Entry): void {
    const hc = e.record.spec.healthcheck
    const image = this.#image(e.record.spec.image)
    if (hc === undefined || image === undefined) return
    const interval = hc.intervalMs ?? HEALTHCHECK_DEFAULTS.intervalMs
    const retries = hc.retries ?? HEALTHCHECK_DEFAULTS.retries
    const startPeriod = hc.startPeriodMs ?? HEALTHCHECK_DEFAULTS.startPeriodMs
    const [kind, ...rest] = hc.test
    const argv = kind === 'CMD-SHELL' ? ['sh', '-c', rest[0] ?? ''] : rest
    const probe = async (): Promise<void> => {
      if (e.record.state !== 'running' || this.#closed) return
      const config = launchConfig({ ...e.record.spec, command: argv, args: [] }, image, e.dir, e.record.ports)
      const exe = await resolveExecutable(config.argv[0] ?? '', image.path, config.cwd)
      const code = exe.ok ? await runProbe(exe.path, config.argv, config, hc.timeoutMs ?? HEALTHCHECK_DEFAULTS.timeoutMs, (f, ms) => this.#clock.setTimeout(f, ms)) : exe.exitCode
      if (e.record.state !== 'running' || this.#closed) return
      let next = e.record.health
      if (code === 0) {
        e.failures = 0
        next = 'healthy'
      } else if (this.#clock.now() - (e.record.startedAt ?? 0) >= startPeriod && ++e.failures >= retries) next = 'unhealthy'
      if (next !== e.record.health && (next === 'healthy' || next === 'unhealthy')) {
        e.record.health = next
        this.#emit(e.record, { type: 'health', health: next })
        await writeRecord(e.dir, e.record)
      }
      e.timers.push(this.#clock.setTimeout(() => void probe(), interval))
    }
    e.timers.push(this.#clock.setTimeout(() => void probe(), interval))
  }

  /** Records an exit once: reads the remaining output, kills stragglers, persists, emits `die`. */
  #finish(e: Entry, code: number, error?: string): Promise<void> {
    e.finishing ??= (async () => {
      const r = e.record
      if (r.state !== 'running') return
      if (r.pid !== undefined) killGroup(r.pid, 'SIGKILL')
      for (const t of e.timers) t.cancel()
      e.timers = []
      e.tailer ??= new LogTailer(e.dir, e.logs)
      await e.tailer.finish()
      Object.assign(r, { state: 'exited', exitCode: code, finishedAt: this.#clock.now(), ...(error === undefined ? {} : { error }) })
      e.child = undefined
      if (this.#entries.has(r.id)) await writeRecord(e.dir, r).catch(() => undefined)
      this.#emit(r, { type: 'die', exitCode: code })
      this.#resolveWaiters(e, code)
    })()
    return e.finishing
  }

  #resolveWaiters(e: Entry, code: number): void {
    const waiters = e.waiters
    e.waiters = []
    for (const w of waiters) w(code)
  }

  async wait(id: string, options: WaitOptions = {}): Promise<number> {
    const e = this.#get(id)
    if (e.record.state === 'exited') return e.record.exitCode ?? 0
    const { signal } = options
    signal?.throwIfAborted()
    return new Promise<number>((resolve, reject) => {
      const onAbort = (): void => {
        e.waiters = e.waiters.filter((w) => w !== waiter)
        reject(toError(signal?.reason))
      }
      const waiter = (code: number): void => {
        signal?.removeEventListener('abort', onAbort)
        if (code < 0) reject(new NotFoundError('container', id))
        else resolve(code)
      }
      e.waiters.push(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  async stop(id: string, options: StopOptions = {}): Promise<void> {
    const e = this.#get(id)
    if (e.starting !== undefined) await e.starting.catch(() => undefined)
    if (e.record.state !== 'running' || e.record.pid === undefined) return
    const exited = this.wait(id)
    killGroup(e.record.pid, 'SIGTERM')
    const pid = e.record.pid
    const timer = this.#clock.setTimeout(() => killGroup(pid, 'SIGKILL'), options.graceMs ?? DEFAULT_STOP_GRACE_MS)
    try {
      await exited
    } finally {
      timer.cancel()
    }
  }

  async remove(id: string, options: RemoveOptions = {}): Promise<void> {
    const e = this.#get(id)
    if (e.starting !== undefined) await e.starting.catch(() => undefined)
    if (e.record.state === 'running') {
      if (options.force !== true) throw new FailedPreconditionError(`container ${id} is running`, { reason: 'container-running' })
      const exited = this.wait(id)
      if (e.record.pid !== undefined) killGroup(e.record.pid, 'SIGKILL')
      await exited
    }
    if (!this.#entries.delete(id)) throw new NotFoundError('container', id)
    if (e.record.spec.name !== undefined) this.#names.delete(e.record.spec.name)
    for (const t of e.timers) t.cancel()
    await e.tailer?.abandon()
    e.logs.discard()
    this.#resolveWaiters(e, -1)
    await rm(e.dir, { recursive: true, force: true })
    this.#emit(e.record, { type: 'destroy' })
  }

  inspect(id: string): Promise<ContainerInfo> {
    try {
      return Promise.resolve(info(this.#get(id).record))
    } catch (err) {
      return Promise.reject(toError(err))
    }
  }

  list(options: ListOptions = {}): Promise<ContainerInfo[]> {
    const out: ContainerInfo[] = []
    for (const e of this.#entries.values()) if (matchesLabels(e.record.labels, options.labels)) out.push(info(e.record))
    return Promise.resolve(out)
  }

  logs(id: string, options: LogsOptions = {}): AsyncIterable<LogLine> {
    const e = this.#entries.get(id)
    const invalid = logsOptionsError(options)
    // The tail's starting point is fixed now (counting the lines read from the files so far).
    return this.#logs(id, e, invalid === undefined ? (e?.logs.mark(options.tail) ?? 0) : 0, options, invalid)
  }

  async *#logs(id: string, e: Entry | undefined, start: number, options: LogsOptions, invalid: Error | undefined): AsyncGenerator<LogLine> {
    if (invalid !== undefined) throw invalid
    if (e === undefined) throw new NotFoundError('container', id)
    await e.tailer?.poll()
    yield* e.logs.read(options, start)
  }

  events(options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    return this.#journal.subscribe(options)
  }

  /**
   * Stops watching: timers, log polling and child handles are released; processes keep running
   * (a later {@link ProcessRuntime.open} over the same state directory recovers them).
   */
  async close(): Promise<void> {
    this.#closed = true
    for (const e of this.#entries.values()) {
      for (const t of e.timers) t.cancel()
      e.timers = []
      e.child?.removeAllListeners('exit')
      e.child?.unref()
      await e.tailer?.abandon()
    }
  }

  #entry(record: ProcessRecord, dir: string): Entry {
    return { record, dir, logs: new LogBuffer(() => this.#clock.now()), tailer: undefined, waiters: [], timers: [], child: undefined, starting: undefined, finishing: undefined, failures: 0 }
  }

  async #recover(out: RecoveredContainer[]): Promise<void> {
    const root = join(this.#init.stateDir, 'containers')
    for (const id of await readdir(root)) {
      const dir = join(root, id)
      const record = await readRecord(dir)
      if (record === undefined) {
        await rm(dir, { recursive: true, force: true })
        continue
      }
      const e = this.#entry(record, dir)
      this.#entries.set(id, e)
      if (record.spec.name !== undefined) this.#names.set(record.spec.name, id)
      if (record.state !== 'running' || record.pid === undefined) {
        await loadFinishedLogs(dir, e.logs)
        continue
      }
      const pid = record.pid
      const alive = record.pidStartTime !== undefined && (await processStartTime(pid)) === record.pidStartTime
      if (!alive) {
        out.push({ id, pid, outcome: 'exited' })
        this.#watch(e)
        const code = await readExitCode(dir)
        await this.#finish(e, code ?? 255, code === undefined ? 'exit code lost: the process ended while no runtime watched it' : undefined)
        continue
      }
      out.push({ id, pid, outcome: this.#init.recover === 'kill' ? 'killed' : 'adopted' })
      this.#watch(e)
      this.#monitor(e, pid, record.pidStartTime ?? '')
      if (this.#init.recover === 'kill') killGroup(pid, 'SIGKILL')
    }
  }

  /** Watches an adopted process (not our child) until it is gone, then reads the shim's exit file. */
  #monitor(e: Entry, pid: number, startTime: string): void {
    let graceReads = 0
    const check = async (): Promise<void> => {
      if (this.#closed || e.record.state !== 'running') return
      if ((await processStartTime(pid)) === startTime) {
        e.timers.push(this.#clock.setTimeout(() => void check(), 100))
        return
      }
      const code = await readExitCode(e.dir)
      if (code === undefined && graceReads++ < 20) {
        e.timers.push(this.#clock.setTimeout(() => void check(), 50))
        return
      }
      await this.#finish(e, code ?? 255, code === undefined ? 'exit code lost: the shim did not record it' : undefined)
    }
    void check()
  }

  #get(id: string): Entry {
    const e = this.#entries.get(id)
    if (e === undefined) throw new NotFoundError('container', id)
    return e
  }

  #emit(r: ProcessRecord, event: { type: 'create' | 'start' | 'destroy' } | { type: 'die'; exitCode: number } | { type: 'health'; health: 'healthy' | 'unhealthy' }): void {
    this.#journal.append({ ...event, id: r.id, labels: r.labels, time: this.#clock.now() })
  }
}

/** A path with a `/` resolved against the current directory; a bare name (looked up in `PATH`) kept. */
const resolveIfPath = (p: string): string => (p.includes('/') ? resolve(p) : p)

/** Checks the image keys and resolves every relative path of `init` against `process.cwd()`. */
function resolveInit(init: ProcessRuntimeInit): ProcessRuntimeInit {
  if (typeof init.stateDir !== 'string' || init.stateDir === '') throw new InvalidArgumentError('stateDir', 'must be a non-empty path')
  const images: Record<string, ProcessImage> = {}
  for (const [ref, image] of Object.entries(init.images)) {
    parseImageReference(ref, `images[${JSON.stringify(ref)}]`)
    images[ref] = {
      ...image,
      path: image.path.map((dir) => resolve(dir)),
      ...(image.workingDir === undefined ? {} : { workingDir: resolve(image.workingDir) }),
    }
  }
  return {
    ...init,
    stateDir: resolve(init.stateDir),
    images,
    ...(init.shell === undefined ? {} : { shell: resolveIfPath(init.shell) }),
    ...(init.setsid === undefined ? {} : { setsid: resolveIfPath(init.setsid) }),
  }
}

function info(r: ProcessRecord): ContainerInfo {
  return {
    id: r.id,
    name: r.spec.name,
    image: r.spec.image,
    labels: r.labels,
    state: r.state,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    exitCode: r.exitCode,
    error: r.error,
    health: r.health,
    ports: r.ports.map((p) => ({ ...p })),
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
