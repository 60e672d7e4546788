import { GrpcStatus, SwarmkitError } from '@swarmkit-ts/api'
import type { Clock, Timer } from '@swarmkit-ts/api'
import type { Socket } from 'node:net'

/** A signal the fake runtime delivers. */
export type FakeSignal = 'TERM' | 'KILL'

const SIGNAL_NUMBER: Record<FakeSignal, number> = { TERM: 15, KILL: 9 }

/** Thrown inside a program's awaits once its process was killed; programs let it propagate. */
export class FakeProcessKilled extends SwarmkitError {
  override readonly name = 'FakeProcessKilled'
  readonly code = GrpcStatus.CANCELLED
  /** The exit code the process died with. */
  readonly exitCode: number
  constructor(exitCode: number) {
    super(`killed (exit ${exitCode})`)
    this.exitCode = exitCode
  }
  context(): Record<string, string | undefined> {
    return { exitCode: String(this.exitCode) }
  }
}

const defaultDisposition = (): 'default' => 'default'

/** A file visible to a fake process. */
export interface FakeFile {
  data: Uint8Array
  mode: number
}

/** Handles one TCP connection to a port a fake program listens on. */
export type FakeConnectionHandler = (socket: Socket) => void

/** What a fake process sees: its environment, files, output and time. */
export interface FakeProcessInit {
  clock: Clock
  env: Record<string, string>
  cwd: string
  files: ReadonlyMap<string, FakeFile>
  write: (stream: 'stdout' | 'stderr', text: string) => void
  /** Registers a listener on a port inside the container; returns false when it cannot. */
  listen?: (port: number, handler: FakeConnectionHandler) => boolean
  /** Called once, synchronously, with the exit code when the process is killed (after its sleeps are woken). */
  onKill?: (exitCode: number) => void
}

/**
 * One simulated process: cancellable sleeps on the {@link Clock}, signal delivery with a
 * program-installed disposition (the shell's `trap`), and a single exit code.
 */
export class FakeProcess {
  readonly clock: Clock
  readonly cwd: string
  readonly files: ReadonlyMap<string, FakeFile>
  /**
   * Disposition of a catchable signal: `'default'` kills, `'ignore'` drops it, `'handle'`
   * interrupts the current sleep and leaves {@link pendingSignal} set for the program.
   */
  disposition: (signal: 'TERM') => 'default' | 'ignore' | 'handle' = defaultDisposition
  /** A handled signal the program has not processed yet. */
  pendingSignal: 'TERM' | undefined
  readonly #init: FakeProcessInit
  #killedCode: number | undefined
  // A container's process holds one sleep at a time (100,000 of them in a big cluster): the first
  // sleep's callbacks take a slot each, and only a second concurrent sleep makes the sets.
  #onKill: Listeners<number> = { first: undefined, more: undefined }
  #onInterrupt: Listeners<void> = { first: undefined, more: undefined }

  constructor(init: FakeProcessInit) {
    this.#init = init
    this.clock = init.clock
    this.cwd = init.cwd
    this.files = init.files
  }

  /** The environment (read from the init when asked: it may be made on first use). */
  get env(): Record<string, string> {
    return this.#init.env
  }

  /** Exit code once killed, else undefined. */
  get killedCode(): number | undefined {
    return this.#killedCode
  }

  /** Writes program output (dropped after the process died). */
  write(stream: 'stdout' | 'stderr', text: string): void {
    if (this.#killedCode === undefined) this.#init.write(stream, text)
  }

  /** Listens on a port inside the container (see {@link FakeProcessInit.listen}). */
  listen(port: number, handler: FakeConnectionHandler): boolean {
    return this.#init.listen?.(port, handler) ?? false
  }

  /** Throws {@link FakeProcessKilled} when the process is dead. */
  check(): void {
    if (this.#killedCode !== undefined) throw new FakeProcessKilled(this.#killedCode)
  }

  /** Sleeps `ms` on the clock; returns early when a handled signal arrives; throws once killed. */
  sleep(ms: number): Promise<void> {
    this.check()
    if (this.pendingSignal !== undefined) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        timer.cancel()
        unlisten(this.#onKill, onKill)
        unlisten(this.#onInterrupt, resolveEarly)
      }
      const onKill = (code: number): void => {
        done()
        reject(new FakeProcessKilled(code))
      }
      const resolveEarly = (): void => {
        done()
        resolve()
      }
      listen(this.#onKill, onKill)
      listen(this.#onInterrupt, resolveEarly)
      const timer: Timer = this.clock.setTimeout(resolveEarly, ms)
    })
  }

  /** Blocks until killed (a server's main loop); handled signals end it too. */
  async forever(): Promise<void> {
    for (;;) {
      await this.sleep(3_600_000)
      if (this.pendingSignal !== undefined) return
    }
  }

  /** Delivers a signal. */
  signal(sig: FakeSignal): void {
    if (this.#killedCode !== undefined) return
    if (sig === 'TERM') {
      const d = this.disposition('TERM')
      if (d === 'ignore') return
      if (d === 'handle') {
        this.pendingSignal = 'TERM'
        for (const f of listeners(this.#onInterrupt)) f()
        return
      }
    }
    this.kill(128 + SIGNAL_NUMBER[sig])
  }

  /** Ends the process at once with `exitCode` (a crash or a kill). */
  kill(exitCode: number): void {
    if (this.#killedCode !== undefined) return
    this.#killedCode = exitCode
    for (const f of listeners(this.#onKill)) f(exitCode)
    this.#init.onKill?.(exitCode)
    for (const f of listeners(this.#killWatchers)) f(exitCode)
  }

  #killWatchers: Listeners<number> = { first: undefined, more: undefined }

  /** Resolves with the exit code when the process is killed. */
  whenKilled(): Promise<number> {
    if (this.#killedCode !== undefined) return Promise.resolve(this.#killedCode)
    return new Promise((resolve) => listen(this.#killWatchers, resolve))
  }
}

/**
 * Callbacks of one kind on a process: the first in a slot, the others (rare: a second concurrent
 * sleep or watcher) in a set made when needed — a Set per process and kind cost ~200 bytes each
 * for 100,000 processes that hold one callback each.
 */
interface Listeners<T> {
  first: ((value: T) => void) | undefined
  more: Set<(value: T) => void> | undefined
}

function listen<T>(l: Listeners<T>, f: (value: T) => void): void {
  if (l.first === undefined && (l.more === undefined || l.more.size === 0)) l.first = f
  else (l.more ??= new Set()).add(f)
}

function unlisten<T>(l: Listeners<T>, f: (value: T) => void): void {
  if (l.first === f) l.first = undefined
  else l.more?.delete(f)
}

/** A copy of the callbacks, in the order they were added (callbacks may unlisten while called). */
function listeners<T>(l: Listeners<T>): ((value: T) => void)[] {
  const out = l.first === undefined ? [] : [l.first]
  if (l.more !== undefined) for (const f of l.more) out.push(f)
  return out
}
