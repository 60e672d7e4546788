/**
 * One container of {@link RootfsRuntime}: its record, its output and its process.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { constants } from 'node:os'
import { LogBuffer, type ContainerHealthcheck, type ContainerInfo, type ContainerState, type PublishedPort } from '@swarmkit-ts/engine-adapter'
import type { HealthMonitor } from './health.ts'

/** How long the output pipes may stay open after the process exited before they are cut (a process that left the group holds them). */
const PIPE_DRAIN_MS = 2_000

/** What a container runs, fixed at create. */
export interface ContainerPlan {
  readonly id: string
  readonly name: string | undefined
  readonly image: string
  readonly labels: Readonly<Record<string, string>>
  /** The container's directory on the host (its `rootfs/` inside). */
  readonly dir: string
  readonly rootfs: string
  /** The argv to run, argv[0] as given (found in PATH at start). */
  readonly argv: readonly string[]
  readonly env: Readonly<Record<string, string>>
  readonly workingDir: string
  readonly ports: readonly { readonly target: number; readonly published: number; readonly protocol: 'tcp' | 'udp' }[]
  readonly healthcheck: ContainerHealthcheck | undefined
}

/** Hooks of the runtime into a container's process (both called synchronously, in order). */
export interface ProcessHooks {
  /** The process runs. */
  started(): void
  /** The process and every process of its group ended; its output is complete. */
  exited(exitCode: number): void
}

/**
 * A container's mutable state. Invariants: `state` only moves created → running → exited;
 * `exitCode` and `finishedAt` are set exactly when `exited`; `done` settles once, when it is.
 */
export class RootfsContainer {
  readonly plan: ContainerPlan
  readonly createdAt: number
  readonly logs: LogBuffer
  state: ContainerState = 'created'
  startedAt: number | undefined
  finishedAt: number | undefined
  exitCode: number | undefined
  error: string | undefined
  ports: PublishedPort[] = []
  /** Its health probes, from its start on (when the spec has a healthcheck). */
  monitor: HealthMonitor | undefined
  /** The start in progress, if any. */
  starting: Promise<void> | undefined
  #child: ChildProcess | undefined
  #settle!: (code: number) => void
  #fail!: (err: Error) => void
  /** Resolves with the exit code; rejects when the container is removed without ever running. */
  readonly done: Promise<number>
  readonly #now: () => number

  constructor(plan: ContainerPlan, now: () => number) {
    this.plan = plan
    this.#now = now
    this.createdAt = now()
    this.logs = new LogBuffer(now)
    this.done = new Promise<number>((resolve, reject) => {
      this.#settle = resolve
      this.#fail = reject
    })
    this.done.catch(() => undefined) // nobody may be waiting
  }

  /** The contract's snapshot of this container. */
  info(): ContainerInfo {
    return {
      id: this.plan.id,
      name: this.plan.name,
      image: this.plan.image,
      labels: { ...this.plan.labels },
      state: this.state,
      createdAt: this.createdAt,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      exitCode: this.exitCode,
      error: this.error,
      health: this.monitor?.status,
      ports: this.ports.map((p) => ({ ...p })),
    }
  }

  /** Records a start that failed before any process ran. */
  failStart(exitCode: number, error: string): void {
    this.state = 'exited'
    this.exitCode = exitCode
    this.error = error
    this.finishedAt = this.#now()
    this.logs.close()
    this.#settle(exitCode)
  }

  /** Removal of a container that never ran: its waiters learn it is gone. */
  forget(err: Error): void {
    this.logs.discard()
    this.#fail(err)
  }

  /**
   * Spawns `command` (the `unshare` binary) with `args` and `env` in its own session and process
   * group, resolving once it runs (after `hooks.started()`), or rejecting when it could not be spawned.
   */
  spawn(command: string, args: readonly string[], env: Readonly<Record<string, string>>, hooks: ProcessHooks): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { env: { ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
      this.#child = child
      child.stdout.setEncoding('utf8')
      child.stderr.setEncoding('utf8')
      child.stdout.on('data', (text: string) => this.logs.write('stdout', text))
      child.stderr.on('data', (text: string) => this.logs.write('stderr', text))
      let exitCode: number | undefined
      let drain: NodeJS.Timeout | undefined
      child.once('spawn', () => {
        this.state = 'running'
        this.startedAt = this.#now()
        hooks.started()
        resolve()
      })
      child.once('error', (err) => {
        if (this.state === 'created') reject(err)
      })
      child.once('exit', (code, signal) => {
        exitCode = code ?? 128 + (signal === null ? 0 : constants.signals[signal])
        // As when a container's init dies: whatever else runs in its group is killed. Then no
        // signal goes to its pid or group any more (the pid is reaped and may be reused).
        this.signalGroup('SIGKILL')
        this.#child = undefined
        drain = setTimeout(() => {
          child.stdout.destroy()
          child.stderr.destroy()
        }, PIPE_DRAIN_MS)
      })
      child.once('close', () => {
        clearTimeout(drain)
        if (exitCode === undefined || this.state !== 'running') return
        this.logs.close()
        this.state = 'exited'
        this.exitCode = exitCode
        this.finishedAt = this.#now()
        hooks.exited(exitCode)
        this.#settle(exitCode)
      })
    })
  }

  /** Sends `signal` to the container's whole process group (nothing when it has no process). */
  signalGroup(signal: NodeJS.Signals): void {
    this.#signal(signal, true)
  }

  /** Sends `signal` to the container's main process only (nothing when it has none). */
  signalMain(signal: NodeJS.Signals): void {
    this.#signal(signal, false)
  }

  #signal(signal: NodeJS.Signals, group: boolean): void {
    const pid = this.#child?.pid
    if (pid === undefined) return
    try {
      process.kill(group ? -pid : pid, signal)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
    }
  }
}
