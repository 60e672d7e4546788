import type { Clock, Timer } from '@swarmkit-ts/api'
import { createServer, type Server } from 'node:net'
import { FakeProcess, FakeProcessKilled, type FakeConnectionHandler, type FakeFile } from './fake-process.ts'
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

/** One container of the fake runtime: state, captured logs, its process, health probes, ports. */
export class FakeContainer {
  state: ContainerState = 'created'
  startedAt: number | undefined
  finishedAt: number | undefined
  exitCode: number | undefined
  error: string | undefined
  health: HealthStatus | undefined
  ports: PublishedPort[] = []
  readonly logs: LogBuffer
  readonly labels: Readonly<Record<string, string>>
  readonly files: ReadonlyMap<string, FakeFile>
  waiters: ((code: number) => void)[] = []
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
    this.logs = new LogBuffer(() => host.clock.now())
    this.labels = { ...image.labels, ...spec.labels }
    this.files = spec.files === undefined || spec.files.length === 0 ? NO_FILES : fileMap(spec.files)
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
    const proc = this.#newProcess((stream, text) => this.logs.write(stream, text))
    const io: FakeIO = { out: (t) => proc.write('stdout', t), err: (t) => proc.write('stderr', t) }
    this.process = proc
    const running =
      exitFault === undefined
        ? this.#runner(proc)(argv, io)
        : (async () => {
            await proc.sleep(exitFault.afterMs ?? 0)
            return exitFault.exitCode
          })()
    const finished = running.catch((err: unknown) => {
      if (err instanceof FakeProcessKilled) return err.exitCode
      this.logs.write('stderr', `fake runtime: ${String(err)}\n`)
      return 1
    })
    void Promise.race([finished, proc.whenKilled()]).then((code) => this.exited(code))
    return true
  }

  #newProcess(write: (stream: 'stdout' | 'stderr', text: string) => void): FakeProcess {
    return new FakeProcess({
      clock: this.host.clock,
      env: this.env(),
      cwd: this.spec.workingDir ?? this.image.workingDir ?? '/',
      files: this.files,
      write,
      listen: (port, handler) => {
        this.#handlers ??= new Map()
        if (this.#handlers.has(port)) return false
        this.#handlers.set(port, handler)
        return true
      },
    })
  }

  #runner(proc: FakeProcess): (argv: readonly string[], io: FakeIO, env?: Readonly<Record<string, string>>) => Promise<number> {
    const run = async (argv: readonly string[], io: FakeIO, env?: Readonly<Record<string, string>>): Promise<number> => {
      const [name] = argv
      const program = name === undefined ? undefined : this.host.lookup(name)
      if (program === undefined) {
        io.err(`sh: ${name ?? ''}: not found\n`)
        return 127
      }
      const ctx: FakeProgramContext = { process: proc, env: env ?? proc.env, io, run }
      return program(argv, ctx)
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
      const proc = this.#newProcess(() => {})
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
    this.logs.close()
    this.host.onExit(this)
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w(code)
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
