import type { Clock, Timer } from '@swarmkit-ts/api'
import { createServer, type Server } from 'node:net'
import { FakeProcess, FakeProcessKilled, type FakeConnectionHandler, type FakeFile, type FakeProcessInit } from './fake-process.ts'
import type { FakeIO, FakeProgramContext, FakeProgramLookup } from './fake-shell.ts'
import { LogBuffer } from '../shared/log-buffer.ts'
import type { ContainerInfo, RuntimeContainerSpec, ContainerState, HealthStatus, PublishedPort } from '../runtime.ts'
import { HEALTHCHECK_DEFAULTS } from '../shared/spec-validation.ts'

/** An image the fake runtime knows. */
export interface FakeImage {
  /** Entrypoint (replaced by `spec.command`). */
  entrypoint?: readonly string[]
  /** Default arguments (replaced by `spec.args`). @default ['sh'] */
  cmd?: readonly string[]
  /** Environment of the image. @default { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } */
  env?: Readonly<Record<string, string>>
  /** Working directory. @default '/' */
  workingDir?: string
  /** Labels of the image (merged under the spec's). */
  labels?: Readonly<Record<string, string>>
}

/** Hooks a container calls back into its runtime. */
export interface FakeContainerHost {
  clock: Clock
  /** `clock.now()` as a function (one for all the runtime's log buffers). */
  now: () => number
  lookup: FakeProgramLookup
  onExit(c: FakeContainer): void
  onHealth(c: FakeContainer): void
}

const DEFAULT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin'
const noIo: FakeIO = { out: () => {}, err: () => {} }
/** The files of every container that has none (read-only: shared). */
const NO_FILES: ReadonlyMap<string, FakeFile> = new Map()

function fileMap(files: NonNullable<RuntimeContainerSpec['files']>): ReadonlyMap<string, FakeFile> {
  const enc = new TextEncoder()
  return new Map(files.map((f) => [f.target, { data: typeof f.data === 'string' ? enc.encode(f.data) : f.data.slice(), mode: f.mode ?? 0o444 }]))
}

/**
 * A program's output to its process. Each function is made when first read (most simulated
 * programs never write), and may be called detached (`const { out } = io`) like a closure.
 */
class ProcessIO implements FakeIO {
  readonly #proc: FakeProcess
  #out: ((text: string) => void) | undefined
  #err: ((text: string) => void) | undefined
  constructor(proc: FakeProcess) {
    this.#proc = proc
  }
  get out(): (text: string) => void {
    return (this.#out ??= (text) => this.#proc.write('stdout', text))
  }
  get err(): (text: string) => void {
    return (this.#err ??= (text) => this.#proc.write('stderr', text))
  }
}

/**
 * What a process of a container sees, as one object with methods instead of an object with a
 * closure per hook; its environment is computed on first use.
 */
class ContainerProcessInit implements FakeProcessInit {
  readonly #container: FakeContainer
  readonly #logs: FakeContainer | undefined
  readonly #onKill: ((code: number) => void) | undefined
  #env: Record<string, string> | undefined
  readonly cwd: string

  constructor(container: FakeContainer, logs: FakeContainer | undefined, onKill: ((code: number) => void) | undefined) {
    this.#container = container
    this.#logs = logs
    this.#onKill = onKill
    this.cwd = container.spec.workingDir ?? container.image.workingDir ?? '/'
  }

  get clock(): Clock {
    return this.#container.host.clock
  }

  get env(): Record<string, string> {
    return (this.#env ??= this.#container.env())
  }

  get files(): ReadonlyMap<string, FakeFile> {
    return this.#container.files
  }

  write(stream: 'stdout' | 'stderr', text: string): void {
    this.#logs?.logs.write(stream, text)
  }

  listen(port: number, handler: FakeConnectionHandler): boolean {
    return this.#container.listen(port, handler)
  }

  onKill(code: number): void {
    this.#onKill?.(code)
  }
}

/** One container of the fake runtime: state, captured logs, its process, health probes, ports. */
export class FakeContainer {
  state: ContainerState = 'created'
  startedAt: number | undefined
  finishedAt: number | undefined
  exitCode: number | undefined
  error: string | undefined
  health: HealthStatus | undefined
  ports: PublishedPort[] = []
  /** The captured output, made on first use (most simulated containers never write or get read). */
  #logs: LogBuffer | undefined
  /** What happened to the logs before they were made: closed, or discarded. */
  #logsEnded: 'closed' | 'discarded' | undefined
  readonly labels: Readonly<Record<string, string>>
  readonly files: ReadonlyMap<string, FakeFile>
  /** The `wait` calls in progress, settled with the exit code (-1: the container was removed). */
  waiters: { settle(code: number): void }[] = []
  process: FakeProcess | undefined
  #timers: Timer[] = []
  #servers: Server[] = []
  /** Made when a program first listens. */
  #handlers: Map<number, FakeConnectionHandler> | undefined
  #failures = 0

  readonly id: string
  readonly spec: RuntimeContainerSpec
  readonly image: FakeImage
  readonly createdAt: number
  readonly host: FakeContainerHost

  constructor(id: string, spec: RuntimeContainerSpec, image: FakeImage, createdAt: number, host: FakeContainerHost) {
    this.id = id
    this.spec = spec
    this.image = image
    this.createdAt = createdAt
    this.host = host
    this.labels = { ...image.labels, ...spec.labels }
    this.files = spec.files === undefined || spec.files.length === 0 ? NO_FILES : fileMap(spec.files)
  }

  /** The captured output of the run (made when first asked for, ended as it would have been). */
  get logs(): LogBuffer {
    if (this.#logs !== undefined) return this.#logs
    const logs = new LogBuffer(this.host.now)
    if (this.#logsEnded === 'discarded') logs.discard()
    else if (this.#logsEnded === 'closed') logs.close()
    this.#logs = logs
    return logs
  }

  /** Flushes the logs and ends their followers (the process exited). */
  closeLogs(): void {
    if (this.#logs !== undefined) this.#logs.close()
    else this.#logsEnded ??= 'closed'
  }

  /** Drops the logs (the container was removed). */
  discardLogs(): void {
    if (this.#logs !== undefined) this.#logs.discard()
    else this.#logsEnded = 'discarded'
  }

  /** The argv to run: entrypoint (or `command`) followed by cmd (or `args`). */
  argv(): string[] {
    const { command, args } = this.spec
    if (command !== undefined) return [...command, ...(args ?? [])]
    return [...(this.image.entrypoint ?? []), ...(args ?? this.image.cmd ?? ['sh'])]
  }

  env(): Record<string, string> {
    const env: Record<string, string> = { PATH: DEFAULT_PATH, HOSTNAME: this.id.slice(0, 12), HOME: '/root', ...this.image.env, ...this.spec.env }
    const first = this.spec.ports?.[0]
    if (first !== undefined) env['PORT'] = String(first.target)
    return env
  }

  info(): ContainerInfo {
    return {
      id: this.id,
      name: this.spec.name,
      image: this.spec.image,
      labels: this.labels,
      state: this.state,
      createdAt: this.createdAt,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      exitCode: this.exitCode,
      error: this.error,
      health: this.health,
      ports: this.ports.map((p) => ({ ...p })),
    }
  }

  /** Binds a real loopback listener per published port (the workload's `listen` serves it). */
  async publishPorts(): Promise<void> {
    for (const p of this.spec.ports ?? []) {
      const target = p.target
      const server = createServer((socket) => {
        const handler = this.#handlers?.get(target)
        if (handler === undefined) socket.destroy()
        else handler(socket)
      })
      this.#servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(p.published ?? 0, '127.0.0.1', () => resolve())
      })
      const addr = server.address()
      const published = typeof addr === 'object' && addr !== null ? addr.port : 0
      this.ports.push({ target, published, protocol: p.protocol ?? 'tcp' })
    }
  }

  /** Starts the process with `argv[0]` resolved to a program; returns false when it cannot be found. */
  launch(exitFault: { exitCode: number; afterMs?: number } | undefined): boolean {
    const argv = this.argv()
    if (exitFault === undefined && (argv[0] === undefined || this.host.lookup(argv[0]) === undefined)) return false
    // A kill records the exit at once (the program may never notice it); else its own end does.
    const proc = this.#newProcess(this, (code) => this.exited(code))
    this.process = proc
    const running = exitFault === undefined ? this.#runner(proc)(argv, new ProcessIO(proc)) : proc.sleep(exitFault.afterMs ?? 0).then(() => exitFault.exitCode)
    running.then(
      (code) => this.exited(code),
      (err: unknown) => {
        if (err instanceof FakeProcessKilled) return this.exited(err.exitCode)
        this.logs.write('stderr', `fake runtime: ${String(err)}\n`)
        this.exited(1)
      },
    )
    return true
  }

  /** A process of this container: its output to `logs` (or nowhere: a probe's), killed → `onKill`. */
  #newProcess(logs: FakeContainer | undefined, onKill?: (code: number) => void): FakeProcess {
    return new FakeProcess(new ContainerProcessInit(this, logs, onKill))
  }

  /** Registers a program's listener on `port` of this container (see {@link FakeProcessInit.listen}). */
  listen(port: number, handler: FakeConnectionHandler): boolean {
    this.#handlers ??= new Map()
    if (this.#handlers.has(port)) return false
    this.#handlers.set(port, handler)
    return true
  }

  #runner(proc: FakeProcess): (argv: readonly string[], io: FakeIO, env?: Readonly<Record<string, string>>) => Promise<number> {
    // Not an async function: the program's own promise is the run's (one promise less per process).
    const run = (argv: readonly string[], io: FakeIO, env?: Readonly<Record<string, string>>): Promise<number> => {
      try {
        const [name] = argv
        const program = name === undefined ? undefined : this.host.lookup(name)
        if (program === undefined) {
          io.err(`sh: ${name ?? ''}: not found\n`)
          return Promise.resolve(127)
        }
        const ctx: FakeProgramContext = { process: proc, env: env ?? proc.env, io, run }
        return program(argv, ctx)
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)))
      }
    }
    return run
  }

  /** Schedules a crash with `exitCode` after `afterMs`. */
  scheduleCrash(afterMs: number, exitCode: number): void {
    this.#timers.push(this.host.clock.setTimeout(() => this.kill(exitCode), afterMs))
  }

  /** Schedules healthcheck probes (the first after one interval). */
  startHealthchecks(forceUnhealthy: boolean): void {
    const hc = this.spec.healthcheck
    if (hc === undefined) return
    this.health = 'starting'
    const interval = hc.intervalMs ?? HEALTHCHECK_DEFAULTS.intervalMs
    const timeout = hc.timeoutMs ?? HEALTHCHECK_DEFAULTS.timeoutMs
    const retries = hc.retries ?? HEALTHCHECK_DEFAULTS.retries
    const startPeriod = hc.startPeriodMs ?? HEALTHCHECK_DEFAULTS.startPeriodMs
    const startedAt = this.startedAt ?? this.host.clock.now()
    const [kind, ...rest] = hc.test
    const argv = kind === 'CMD-SHELL' ? ['sh', '-c', rest[0] ?? ''] : rest
    const probe = (): void => {
      if (this.state !== 'running') return
      const proc = this.#newProcess(undefined)
      const timer = this.host.clock.setTimeout(() => proc.kill(124), timeout)
      const settle = (code: number): void => {
        timer.cancel()
        if (this.state !== 'running') return
        this.#verdict(forceUnhealthy ? 1 : code, retries, this.host.clock.now() - startedAt < startPeriod)
        this.#timers.push(this.host.clock.setTimeout(probe, interval))
      }
      const finished = this.#runner(proc)(argv, noIo).catch((err: unknown) => (err instanceof FakeProcessKilled ? err.exitCode : 1))
      void Promise.race([finished, proc.whenKilled()]).then(settle)
    }
    this.#timers.push(this.host.clock.setTimeout(probe, interval))
  }

  #verdict(code: number, retries: number, inStartPeriod: boolean): void {
    let next = this.health
    if (code === 0) {
      this.#failures = 0
      next = 'healthy'
    } else if (!inStartPeriod && ++this.#failures >= retries) next = 'unhealthy'
    if (next !== this.health) {
      this.health = next
      this.host.onHealth(this)
    }
  }

  /** Kills the process at once with `exitCode` and records the exit synchronously. */
  kill(exitCode: number): void {
    this.process?.kill(exitCode)
    this.exited(exitCode)
  }

  /** Records the exit (idempotent): state, time, logs closed, listeners closed, waiters resolved. */
  exited(code: number): void {
    if (this.state !== 'running') return
    this.state = 'exited'
    this.exitCode = code
    this.finishedAt = this.host.clock.now()
    this.release()
    this.closeLogs()
    this.host.onExit(this)
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.settle(code)
  }

  /** Cancels timers and closes listeners. */
  release(): void {
    for (const t of this.#timers) t.cancel()
    this.#timers = []
    for (const s of this.#servers) s.close()
    this.#servers = []
    this.#handlers?.clear()
  }
}
