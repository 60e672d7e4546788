/**
 * Drive the manager binary from Node: spawn it as a child process (on the packages' sources,
 * through tsx), wait for its ready lines (one when the node runs, one per role change), stop it
 * with a signal or kill it. Used by this example's test and by core's multi-process tests.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ReadyLine } from './main.ts'

/** The example's folder (the child's working directory, where `tsx` resolves). */
export const EXAMPLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')
/** The daemon's entry point. */
export const MAIN = join(EXAMPLE_DIR, 'src', 'main.ts')

/** How a child ended. */
export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** One running manager-binary process. */
export class NodeProcess {
  /** The child process. */
  readonly child: ChildProcess
  /** Resolves with the (first) ready line; rejects (with the child's stderr) if it exits first. */
  readonly ready: Promise<ReadyLine>
  /** Resolves when the child has exited. */
  readonly exited: Promise<Exit>
  readonly #args: readonly string[]
  readonly #lines: ReadyLine[] = []
  #waiters: (() => void)[] = []
  #stdout = ''
  #stderr = ''
  #exit: Exit | undefined

  private constructor(args: readonly string[]) {
    this.#args = args
    this.child = spawn(process.execPath, ['--conditions=@swarmkit-ts/source', '--import', 'tsx', MAIN, ...args], { cwd: EXAMPLE_DIR, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.#stderr += s))
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        resolve((this.#exit = { code, signal }))
        this.#wake()
      }),
    )
    const stdout = this.child.stdout
    if (stdout === null) throw new Error('no stdout')
    stdout.setEncoding('utf8').on('data', (s: string) => {
      this.#stdout += s
      for (let nl = this.#stdout.indexOf('\n'); nl >= 0; nl = this.#stdout.indexOf('\n')) {
        const line = this.#stdout.slice(0, nl)
        this.#stdout = this.#stdout.slice(nl + 1)
        if (line.trim() !== '') this.#lines.push(JSON.parse(line) as ReadyLine)
      }
      this.#wake()
    })
    this.ready = this.line(0)
    this.ready.catch(() => {}) // observed by whoever awaits it
  }

  /** Every ready line printed so far: the first when the node ran, then one per role change. */
  lines(): readonly ReadyLine[] {
    return this.#lines
  }

  /**
   * Resolves with ready line number `index` (0: the first; 1: after the first role change; …)
   * once printed; rejects (with the child's stderr) if the child exits before.
   */
  line(index: number): Promise<ReadyLine> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const line = this.#lines[index]
        if (line !== undefined) resolve(line)
        else if (this.#exit !== undefined) reject(new Error(`manager-binary ${this.#args.join(' ')} exited (${this.#exit.code ?? this.#exit.signal ?? '?'}) before ready line ${String(index)}: ${this.#stderr.trim()}`))
        else return false
        return true
      }
      const wait = (): void => {
        if (!check()) this.#waiters.push(wait)
      }
      wait()
    })
  }

  /** Runs the waiters of {@link line} (each resolves, rejects or waits on). */
  #wake(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w()
  }

  /** Spawns `main.ts` with `args` (`['init', '--state-dir', …]`). */
  static start(args: readonly string[]): NodeProcess {
    return new NodeProcess(args)
  }

  /** What the child wrote on stderr so far. */
  get stderr(): string {
    return this.#stderr
  }

  /** Whether the child is still running. */
  get running(): boolean {
    return this.#exit === undefined
  }

  /** Sends `signal` (SIGTERM: a clean close) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (this.#exit !== undefined) return this.#exit
    this.child.kill(signal)
    return this.exited
  }

  /** `kill -9`: no cleanup at all. */
  kill(): Promise<Exit> {
    return this.stop('SIGKILL')
  }
}
