/**
 * The harness side of one `kv-node.ts` process: spawn it, send it protocol requests, kill it.
 */
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { readLines } from './line-reader.ts'
import type { KvNodeCommand, KvNodeCommands, KvNodeConfig, KvNodeEvent, KvNodeResponse } from './protocol.ts'

/** The repository root: the fixture runs from there so that `tsx` and the workspace resolve. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
/** The fixture program. */
export const KV_NODE_SCRIPT = fileURLToPath(new URL('./kv-node.ts', import.meta.url))

/**
 * Node arguments that run the fixture. It imports the packages by name: from their sources
 * (the `@swarmkit-ts/source` condition), or from their builds when `SWARMKIT_BENCH_DIST=1`
 * (benchmarks measure what users run). `KV_NODE_EXEC_ARGV` adds node flags (space separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the members.
 */
export function kvNodeArgv(config: KvNodeConfig): string[] {
  const conditions = process.env.SWARMKIT_BENCH_DIST === '1' ? [] : ['--conditions=@swarmkit-ts/source']
  const extra = (process.env.KV_NODE_EXEC_ARGV ?? '').split(' ').filter((a) => a !== '')
  return [...extra, ...conditions, '--import', 'tsx', KV_NODE_SCRIPT, JSON.stringify(config)]
}

/** A request that failed: in the node (`name` is the remote error's), or because the process is gone. */
export class NodeRequestError extends Error {
  override readonly name: string
  constructor(name: string, message: string) {
    super(message)
    this.name = name
  }
}

/** How a process ended. */
export interface ProcessExit {
  code: number | null
  signal: NodeJS.Signals | null
}

interface Pending {
  resolve(v: unknown): void
  reject(e: Error): void
  timer: NodeJS.Timeout | undefined
}

/** A running fixture process. */
export class NodeProcess {
  readonly config: KvNodeConfig
  readonly child: ChildProcessWithoutNullStreams
  /** The address its transport listens on (set once ready). */
  address = ''
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>
  /** Everything it wrote to stderr. */
  stderr = ''
  #exit: ProcessExit | undefined
  #seq = 0
  readonly #pending = new Map<number, Pending>()
  readonly #ready: Promise<KvNodeEvent>

  private constructor(config: KvNodeConfig) {
    this.config = config
    this.child = spawn(process.execPath, kvNodeArgv(config), { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
    this.child.stdin.on('error', () => {}) // EPIPE after a kill: the exit handler reports it
    this.child.stderr.setEncoding('utf8')
    this.child.stderr.on('data', (s: string) => {
      this.stderr += s
    })
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.#exit = { code, signal }
        const err = new NodeRequestError('ProcessExited', `member ${config.id} exited (code ${code}, signal ${signal})`)
        for (const p of this.#pending.values()) {
          clearTimeout(p.timer)
          p.reject(err)
        }
        this.#pending.clear()
        resolve({ code, signal })
      })
    })
    this.#ready = new Promise((resolve, reject) => {
      readLines(this.child.stdout, (line) => {
        if (line === '') return
        const msg = JSON.parse(line) as KvNodeEvent | KvNodeResponse
        if ('event' in msg) {
          resolve(msg)
          return
        }
        const p = this.#pending.get(msg.seq)
        if (p === undefined) return
        this.#pending.delete(msg.seq)
        clearTimeout(p.timer)
        if (msg.ok) p.resolve(msg.result)
        else p.reject(new NodeRequestError(msg.error.name, msg.error.message))
      })
      void this.exited.then((e) => reject(new Error(`member ${config.id} exited before it was ready (code ${e.code}, signal ${e.signal}):\n${this.stderr}`)))
    })
  }

  /**
   * Spawns a fixture process and waits until it listens.
   *
   * @throws Error when it exits or reports a failure first, or after `timeoutMs`.
   */
  static async spawn(config: KvNodeConfig, timeoutMs = 60_000): Promise<NodeProcess> {
    const p = new NodeProcess(config)
    let timer: NodeJS.Timeout | undefined
    try {
      const ev = await Promise.race([
        p.#ready,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`member ${config.id} not ready after ${timeoutMs} ms:\n${p.stderr}`)), timeoutMs)
        }),
      ])
      if (ev.event === 'failed') throw new NodeRequestError(ev.error.name, ev.error.message)
      p.address = ev.address
      return p
    } catch (err) {
      p.kill()
      await p.exited
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  /** The member id. */
  get id(): bigint {
    return BigInt(this.config.id)
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.#exit === undefined
  }

  /**
   * Sends a request and waits for its response.
   *
   * `timeoutMs` 0 waits without a timer (benchmarks: the process exiting still rejects).
   *
   * @throws NodeRequestError named after the remote error, `ProcessExited`, or `RequestTimeout`.
   */
  request<C extends KvNodeCommand>(cmd: C, args: KvNodeCommands[C]['args'], timeoutMs = 30_000): Promise<KvNodeCommands[C]['result']> {
    if (!this.alive) return Promise.reject(new NodeRequestError('ProcessExited', `member ${this.config.id} is not running`))
    const seq = ++this.#seq
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === 0
          ? undefined
          : setTimeout(() => {
              this.#pending.delete(seq)
              reject(new NodeRequestError('RequestTimeout', `member ${this.config.id}: no answer to ${cmd} after ${timeoutMs} ms`))
            }, timeoutMs)
      this.#pending.set(seq, { resolve, reject, timer })
      this.#send(`${JSON.stringify({ seq, cmd, ...args })}\n`)
    })
  }

  // Requests made in one turn of the event loop go out in one write.
  #outBuffer = ''
  #send(line: string): void {
    if (this.#outBuffer === '')
      setImmediate(() => {
        const out = this.#outBuffer
        this.#outBuffer = ''
        if (this.alive) this.child.stdin.write(out)
      })
    this.#outBuffer += line
  }

  /** Sends SIGKILL (a crash: nothing is flushed) unless the process has already exited. */
  kill(): void {
    if (this.alive) this.child.kill('SIGKILL')
  }

  /** SIGKILL, then waits for the exit. */
  async crash(): Promise<ProcessExit> {
    this.kill()
    return this.exited
  }

  /** Graceful stop: the node stops, closes its storage and the process exits. */
  async stop(): Promise<ProcessExit> {
    await this.request('stop', {})
    return this.exited
  }
}

/** Runs the fixture on `config` expecting it to fail at startup: its exit and stderr. */
export async function runUntilExit(config: KvNodeConfig, timeoutMs = 60_000): Promise<ProcessExit & { stderr: string; stdout: string }> {
  const child = spawn(process.execPath, kvNodeArgv(config), { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdin.on('error', () => {})
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s
    // It started after all: closing stdin makes it exit.
    if (stdout.includes('"event":"ready"')) child.stdin.end()
  })
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const exit = await new Promise<ProcessExit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  clearTimeout(timer)
  return { ...exit, stdout, stderr }
}
