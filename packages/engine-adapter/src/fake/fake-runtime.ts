import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, sleep, systemClock, type Clock } from '@swarmkit-ts/api'
import { ContainerStartError, ImageNotFoundError } from '../errors.ts'
import { EventJournal } from '../shared/event-journal.ts'
import { programLookup } from './fake-applets.ts'
import { FakeContainer, type FakeContainerHost, type FakeImage } from './fake-container.ts'
import { parseImageReference } from '../shared/image-reference.ts'
import { FakeFaults, type FakeFault, type FakeFaultHandle, type FakeFaultMatch } from './fake-faults.ts'
import type { FakeProgram } from './fake-shell.ts'
import type {
  ContainerInfo,
  ContainerRuntime,
  RuntimeContainerSpec,
  EventsOptions,
  ListOptions,
  LogLine,
  LogsOptions,
  PullImageOptions,
  RemoveOptions,
  RuntimeCapabilities,
  RuntimeDescription,
  RuntimeEvent,
  StopOptions,
  WaitOptions,
} from '../runtime.ts'
import { DEFAULT_STOP_GRACE_MS, matchesLabels, validateRuntimeContainerSpec } from '../shared/spec-validation.ts'
import { logsOptionsError } from '../shared/logs-options.ts'

/** An image the fake registry serves to `pullImage`. */
export interface FakeRegistryImage extends FakeImage {
  /** How long a pull takes on the clock. @default 0 */
  pullMs?: number
}

/** Construction options of {@link FakeRuntime}. */
export interface FakeRuntimeInit {
  /** Time source for sleeps, probes, timestamps. @default systemClock */
  clock?: Clock
  /**
   * Images present locally, by reference. A key that is not a well-formed reference (Docker's
   * grammar) throws `InvalidArgumentError` naming `images["<key>"]`. @default { 'busybox:fake': {} }
   */
  images?: Readonly<Record<string, FakeImage>>
  /** Images `pullImage` can fetch, by reference (checked like `images`, field `registry["<key>"]`). @default {} */
  registry?: Readonly<Record<string, FakeRegistryImage>>
  /** Extra programs by name, used before the busybox applets. */
  programs?: Readonly<Record<string, FakeProgram>>
  /** Events kept for `events({ since })`. @default 10000 */
  eventCapacity?: number
}

/** The capabilities of {@link FakeRuntime}: healthchecks and ports, no resource limits. */
export const FAKE_RUNTIME_CAPABILITIES: RuntimeCapabilities = { memoryLimit: false, cpuLimit: false, healthcheck: true, ports: true, networks: false }

/**
 * A deterministic in-memory {@link ContainerRuntime}: containers run small simulated programs
 * (the busybox applets the tests use — `sh -c` scripts with `echo`, `exit`, `sleep`, `trap`,
 * `while`, `seq`, `cat`, `stat`, `httpd`, … — plus custom {@link FakeProgram}s) on a {@link Clock},
 * with failure injection through {@link FakeRuntime.inject}. Published ports are real loopback
 * listeners; everything else is in memory, so it holds 100,000 containers.
 *
 * On a `ManualClock` every sleep, probe and timeout happens only when the test advances time.
 */
export class FakeRuntime implements ContainerRuntime {
  readonly #clock: Clock
  readonly #images: Map<string, FakeImage>
  readonly #registry: Map<string, FakeRegistryImage>
  readonly #containers = new Map<string, FakeContainer>()
  readonly #names = new Map<string, string>()
  readonly #journal: EventJournal
  readonly #faults = new FakeFaults()
  readonly #host: FakeContainerHost
  #nextId = 1

  constructor(init: FakeRuntimeInit = {}) {
    this.#clock = init.clock ?? systemClock
    this.#images = new Map(Object.entries(init.images ?? { 'busybox:fake': {} }))
    this.#registry = new Map(Object.entries(init.registry ?? {}))
    for (const ref of this.#images.keys()) parseImageReference(ref, `images[${JSON.stringify(ref)}]`)
    for (const ref of this.#registry.keys()) parseImageReference(ref, `registry[${JSON.stringify(ref)}]`)
    this.#journal = new EventJournal({ capacity: init.eventCapacity ?? 10_000 })
    this.#host = {
      clock: this.#clock,
      now: () => this.#clock.now(),
      lookup: programLookup(init.programs),
      onExit: (c) => this.#emit(c, { type: 'die', exitCode: c.exitCode ?? 0 }),
      onHealth: (c) => {
        if (c.health === 'healthy' || c.health === 'unhealthy') this.#emit(c, { type: 'health', health: c.health })
      },
    }
  }

  /** Injects a failure into matching containers or pulls (see {@link FakeFault}). */
  inject(fault: FakeFault, match?: FakeFaultMatch): FakeFaultHandle {
    return this.#faults.add(fault, match)
  }

  /**
   * Makes running container `id` die at once with `exitCode`, as a crash of its process would
   * (failure injection into a container already running; `inject` affects later ones).
   *
   * @throws NotFoundError for an unknown container; FailedPreconditionError (reason
   *   `not-running`) when it is not running; InvalidArgumentError for an exit code outside 0..255.
   */
  kill(id: string, exitCode: number): void {
    if (!Number.isSafeInteger(exitCode) || exitCode < 0 || exitCode > 255) throw new InvalidArgumentError('exitCode', `must be an integer in [0, 255], got ${String(exitCode)}`)
    const c = this.#get(id)
    if (c.state !== 'running') throw new FailedPreconditionError(`container ${id} is not running (${c.state})`, { reason: 'not-running' })
    c.kill(exitCode)
  }

  /** Number of containers held (in any state). */
  get size(): number {
    return this.#containers.size
  }

  describe(): Promise<RuntimeDescription> {
    return Promise.resolve({ name: 'fake', version: '0.1.0', capabilities: { ...FAKE_RUNTIME_CAPABILITIES } })
  }

  async pullImage(ref: string, options: PullImageOptions = {}): Promise<void> {
    parseImageReference(ref, 'image')
    options.signal?.throwIfAborted()
    if (this.#images.has(ref)) return
    const image = this.#registry.get(ref)
    if (image === undefined) throw new ImageNotFoundError(ref)
    const slow = this.#faults.take('slow-pull', { image: ref })
    const ms = slow?.ms ?? image.pullMs ?? 0
    options.onProgress?.({ status: 'Pulling', item: ref, current: 0, total: ms })
    if (ms > 0) await sleep(this.#clock, ms, { signal: options.signal })
    options.onProgress?.({ status: 'Downloaded', item: ref, current: ms, total: ms })
    this.#images.set(ref, image)
  }

  create(spec: RuntimeContainerSpec): Promise<string> {
    try {
      validateRuntimeContainerSpec(spec, FAKE_RUNTIME_CAPABILITIES)
      const image = this.#images.get(spec.image)
      if (image === undefined) throw new ImageNotFoundError(spec.image)
      if (spec.name !== undefined && this.#names.has(spec.name)) throw new AlreadyExistsError('container', spec.name)
      const id = `fake${(this.#nextId++).toString(16).padStart(12, '0')}`
      const c = new FakeContainer(id, { ...spec }, image, this.#clock.now(), this.#host)
      this.#containers.set(id, c)
      if (spec.name !== undefined) this.#names.set(spec.name, id)
      this.#emit(c, { type: 'create' })
      return Promise.resolve(id)
    } catch (err) {
      return Promise.reject(asError(err))
    }
  }

  async start(id: string): Promise<void> {
    const c = this.#get(id)
    if (c.state === 'running') return
    if (c.state === 'exited') throw new FailedPreconditionError(`container ${id} has exited`, { reason: 'container-exited' })
    const fail = (message: string, exitCode: number): ContainerStartError => {
      c.state = 'exited'
      c.exitCode = exitCode
      c.error = message
      c.finishedAt = this.#clock.now()
      c.release()
      c.closeLogs()
      const waiters = c.waiters
      c.waiters = []
      for (const w of waiters) w.settle(exitCode)
      return new ContainerStartError(id, message, { exitCode })
    }
    const failure = this.#faults.take('start-failure', c.spec)
    if (failure !== undefined) throw fail(failure.message ?? 'injected start failure', failure.exitCode ?? 127)
    const exitFault = this.#faults.take('exit', c.spec)
    const argv0 = c.argv()[0]
    if (exitFault === undefined && (argv0 === undefined || this.#host.lookup(argv0) === undefined)) {
      throw fail(argv0 === undefined ? 'no command specified' : `exec: "${argv0}": executable file not found`, 127)
    }
    try {
      await c.publishPorts()
    } catch (err) {
      throw fail(`cannot publish ports: ${(err as Error).message}`, 126)
    }
    if (c.state !== 'created') return // removed or started concurrently
    c.state = 'running'
    c.startedAt = this.#clock.now()
    this.#emit(c, { type: 'start' })
    c.launch(exitFault)
    const crash = this.#faults.take('crash', c.spec)
    if (crash !== undefined) c.scheduleCrash(crash.afterMs, crash.exitCode ?? 139)
    c.startHealthchecks(this.#faults.take('unhealthy', c.spec) !== undefined)
  }

  wait(id: string, options: WaitOptions = {}): Promise<number> {
    let c: FakeContainer
    try {
      c = this.#get(id)
    } catch (err) {
      return Promise.reject(asError(err))
    }
    if (c.state === 'exited') return Promise.resolve(c.exitCode ?? 0)
    const { signal } = options
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error)
    return new Promise<number>((resolve, reject) => {
      const waiter = new ContainerWait(c, signal, resolve, reject)
      c.waiters.push(waiter)
      signal?.addEventListener('abort', waiter, { once: true })
    })
  }

  async stop(id: string, options: StopOptions = {}): Promise<void> {
    const c = this.#get(id)
    if (c.state !== 'running') return
    const exited = this.wait(id)
    c.process?.signal('TERM')
    const timer = this.#clock.setTimeout(() => c.process?.signal('KILL'), options.graceMs ?? DEFAULT_STOP_GRACE_MS)
    try {
      await exited
    } finally {
      timer.cancel()
    }
  }

  remove(id: string, options: RemoveOptions = {}): Promise<void> {
    try {
      const c = this.#get(id)
      if (c.state === 'running') {
        if (options.force !== true) throw new FailedPreconditionError(`container ${id} is running`, { reason: 'container-running' })
        c.kill(137)
      }
      c.release()
      c.discardLogs()
      this.#containers.delete(id)
      if (c.spec.name !== undefined) this.#names.delete(c.spec.name)
      const waiters = c.waiters
      c.waiters = []
      for (const w of waiters) w.settle(-1)
      this.#emit(c, { type: 'destroy' })
      return Promise.resolve()
    } catch (err) {
      return Promise.reject(asError(err))
    }
  }

  inspect(id: string): Promise<ContainerInfo> {
    try {
      return Promise.resolve(this.#get(id).info())
    } catch (err) {
      return Promise.reject(asError(err))
    }
  }

  list(options: ListOptions = {}): Promise<ContainerInfo[]> {
    const out: ContainerInfo[] = []
    for (const c of this.#containers.values()) if (matchesLabels(c.labels, options.labels)) out.push(c.info())
    return Promise.resolve(out)
  }

  logs(id: string, options: LogsOptions = {}): AsyncIterable<LogLine> {
    const c = this.#containers.get(id)
    const invalid = logsOptionsError(options)
    return this.#logs(id, c, invalid === undefined ? (c?.logs.mark(options.tail) ?? 0) : 0, options, invalid)
  }

  async *#logs(id: string, c: FakeContainer | undefined, start: number, options: LogsOptions, invalid: Error | undefined): AsyncGenerator<LogLine> {
    if (invalid !== undefined) throw invalid
    if (c === undefined) throw new NotFoundError('container', id)
    yield* c.logs.read(options, start)
  }

  events(options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    return this.#journal.subscribe(options)
  }

  /** Closes every published port listener and cancels timers; containers keep their state. */
  close(): Promise<void> {
    for (const c of this.#containers.values()) c.release()
    return Promise.resolve()
  }

  #get(id: string): FakeContainer {
    const c = this.#containers.get(id)
    if (c === undefined) throw new NotFoundError('container', id)
    return c
  }

  #emit(c: FakeContainer, event: { type: 'create' | 'start' | 'destroy' } | { type: 'die'; exitCode: number } | { type: 'health'; health: 'healthy' | 'unhealthy' }): void {
    this.#journal.append({ ...event, id: c.id, labels: c.labels, time: this.#clock.now() })
  }
}

/**
 * One `wait` on a container: settles its promise with the exit code, and is its own listener on
 * the caller's signal (`handleEvent`), one object where two closures and their context were.
 */
class ContainerWait {
  readonly #c: FakeContainer
  readonly #signal: AbortSignal | undefined
  readonly #resolve: (code: number) => void
  readonly #reject: (err: Error) => void

  constructor(c: FakeContainer, signal: AbortSignal | undefined, resolve: (code: number) => void, reject: (err: Error) => void) {
    this.#c = c
    this.#signal = signal
    this.#resolve = resolve
    this.#reject = reject
  }

  /** The caller's signal aborted: stop waiting. */
  handleEvent(): void {
    this.#c.waiters = this.#c.waiters.filter((w) => w !== this)
    this.#reject(this.#signal?.reason as Error)
  }

  /** The container exited with `code`, or was removed (-1). */
  settle(code: number): void {
    this.#signal?.removeEventListener('abort', this)
    if (code < 0) this.#reject(new NotFoundError('container', this.#c.id))
    else this.#resolve(code)
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
