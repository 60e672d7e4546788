/**
 * Two network namespaces joined by a veth pair, for the routing mesh test that makes traffic
 * cross a real link (root only). Names and addresses are unique per process; `destroy()` removes
 * everything it created, also after a partial setup.
 */
import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Why the namespace tests cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root)'
  return undefined
}

/** A namespace pair: `a` holds `addrA`, `b` holds `addrB`, on one /29 link where `addrGhost` is nobody's. */
export class NetnsPair {
  readonly a: string
  readonly b: string
  readonly addrA: string
  readonly addrB: string
  readonly addrGhost: string
  readonly #vethA: string
  readonly #vethB: string
  readonly #children = new Set<ChildProcess>()
  readonly #created: string[] = []

  constructor() {
    const pid = process.pid
    this.a = `swk-${pid}-a`
    this.b = `swk-${pid}-b`
    this.#vethA = `swk${pid % 1_000_000}a`
    this.#vethB = `swk${pid % 1_000_000}b`
    const n = pid % 250
    const m = Math.floor(pid / 250) % 32
    this.addrA = `10.231.${n}.${m * 8 + 1}`
    this.addrB = `10.231.${n}.${m * 8 + 2}`
    this.addrGhost = `10.231.${n}.${m * 8 + 3}`
  }

  /** Creates both namespaces, the veth pair, addresses and loopbacks. */
  async create(): Promise<void> {
    for (const ns of [this.a, this.b]) {
      await run('ip', ['netns', 'add', ns])
      this.#created.push(ns)
    }
    await run('ip', ['link', 'add', this.#vethA, 'type', 'veth', 'peer', 'name', this.#vethB])
    await run('ip', ['link', 'set', this.#vethA, 'netns', this.a])
    await run('ip', ['link', 'set', this.#vethB, 'netns', this.b])
    for (const [ns, dev, addr] of [[this.a, this.#vethA, this.addrA], [this.b, this.#vethB, this.addrB]] as const) {
      await run('ip', ['-n', ns, 'addr', 'add', `${addr}/29`, 'dev', dev])
      await run('ip', ['-n', ns, 'link', 'set', dev, 'up'])
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    }
  }

  /**
   * Runs `argv` inside namespace `ns` and resolves once a line of its stdout equals `readyLine`
   * (rejects if it exits first). The process is killed by `destroy()`.
   */
  async spawnIn(ns: string, argv: readonly string[], env: Readonly<Record<string, string>>, readyLine: string, cwd?: string): Promise<ChildProcess> {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], ...(cwd === undefined ? {} : { cwd }) })
    this.#children.add(child)
    let out = ''
    let err = ''
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()))
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (c: Buffer) => {
        out += c.toString()
        if (out.split('\n').includes(readyLine)) resolve()
      })
      child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited (${code}) before "${readyLine}": ${err}`)))
    })
    return child
  }

  /** Writes a line to a child's stdin and resolves with the next line it prints. */
  async ask(child: ChildProcess, line: string): Promise<string> {
    const reply = new Promise<string>((resolve) => {
      let out = ''
      const onData = (c: Buffer): void => {
        out += c.toString()
        const nl = out.indexOf('\n')
        if (nl < 0) return
        child.stdout?.off('data', onData)
        resolve(out.slice(0, nl))
      }
      child.stdout?.on('data', onData)
    })
    child.stdin?.write(`${line}\n`)
    return reply
  }

  /** Runs `argv` inside namespace `ns` to its end; its stdout. */
  async exec(ns: string, argv: readonly string[]): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', ns, ...argv], { timeout: 30_000 })
    return stdout
  }

  /** Kills the children it started and deletes the namespaces (which removes the veth pair). */
  async destroy(): Promise<void> {
    for (const c of this.#children) {
      if (c.exitCode === null && c.signalCode === null) {
        const exited = new Promise((r) => c.once('exit', r))
        c.kill('SIGKILL')
        await exited
      }
    }
    for (const ns of this.#created.splice(0)) await run('ip', ['netns', 'del', ns]).catch(() => undefined)
  }
}
