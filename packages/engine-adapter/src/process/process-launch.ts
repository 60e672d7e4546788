import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { ProcessImage } from './process-image.ts'
import type { StoredSpec } from './process-record.ts'
import type { PublishedPort } from '../runtime.ts'

/**
 * The shim: a host `sh` that starts the workload through `setsid` (so the workload leads its own
 * session and process group, and signals to that group never reach the shim), prints its pid,
 * waits for it and records its exit status in a file — which survives a runtime restart.
 * Arguments: stdout file, stderr file, exit-code file, then `setsid exe args…`.
 */
const SHIM = [
  'out=$1; err=$2; code=$3; shift 3',
  '"$@" </dev/null >>"$out" 2>>"$err" &',
  'pid=$!',
  'echo "$pid"',
  'wait "$pid"',
  'rc=$?',
  'echo "$rc" >"$code"',
  'exit "$rc"',
].join('\n')

/** Finds `setsid` (util-linux or busybox) on the host, or `undefined`. */
export function findSetsid(): string | undefined {
  for (const p of ['/usr/bin/setsid', '/bin/setsid', '/usr/sbin/setsid', '/sbin/setsid']) if (existsSync(p)) return p
  return undefined
}

/** How to run a container's process, computed from its spec, image and published ports. */
export interface LaunchConfig {
  argv: string[]
  env: Record<string, string>
  cwd: string
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * Rewrites every occurrence of a delivered file's target path (as a whole path, not a prefix of a
 * longer name) to its real location under `filesDir`.
 */
export function pathRewriter(targets: readonly string[], filesDir: string): (s: string) => string {
  if (targets.length === 0) return (s) => s
  const sorted = [...targets].sort((a, b) => b.length - a.length)
  const re = new RegExp(`(${sorted.map(escapeRegExp).join('|')})(?![A-Za-z0-9_.-])`, 'g')
  return (s) => s.replace(re, (target) => `${filesDir}${target}`)
}

/** Computes argv, env and cwd (file targets rewritten, `PORT` set to the first published port). */
export function launchConfig(spec: StoredSpec, image: ProcessImage, dir: string, ports: readonly PublishedPort[]): LaunchConfig {
  const rewrite = pathRewriter((spec.files ?? []).map((f) => f.target), join(dir, 'files'))
  const argv = spec.command !== undefined ? [...spec.command, ...(spec.args ?? [])] : [...(image.entrypoint ?? []), ...(spec.args ?? image.cmd ?? [])]
  const cwd = spec.workingDir ?? image.workingDir ?? join(dir, 'work')
  const env: Record<string, string> = { PATH: image.path.join(':'), HOME: cwd, ...image.env }
  for (const [k, v] of Object.entries(spec.env ?? {})) env[k] = rewrite(v)
  const first = ports[0]
  if (first !== undefined) env['PORT'] = String(first.published)
  return { argv: argv.map(rewrite), env, cwd }
}

/** Allocates host ports: a given `published` is kept, 0/undefined gets a free loopback port. */
export async function allocatePorts(ports: StoredSpec['ports']): Promise<PublishedPort[]> {
  const out: PublishedPort[] = []
  for (const p of ports ?? []) {
    let published = p.published ?? 0
    if (published === 0) {
      published = await new Promise<number>((resolve, reject) => {
        const server = createServer()
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => {
          const addr = server.address()
          server.close(() => resolve(typeof addr === 'object' && addr !== null ? addr.port : 0))
        })
      })
    }
    out.push({ target: p.target, published, protocol: p.protocol ?? 'tcp' })
  }
  return out
}

/** A started shim: the workload's pid once known. */
export interface SpawnedWorkload {
  child: ChildProcess
  pid: number
  /** The shim's exit: the workload's exit code (128 + N if the shim itself was killed by signal N). */
  exit: Promise<number>
}

/** Starts the workload through the shim; resolves with the workload's pid. */
export function spawnWorkload(options: { shell: string; setsid: string; exe: string; config: LaunchConfig; dir: string }): Promise<SpawnedWorkload> {
  const { shell, setsid, exe, config, dir } = options
  const args = ['-c', SHIM, 'swarmkit-ts-shim', join(dir, 'stdout.log'), join(dir, 'stderr.log'), join(dir, 'exit-code'), setsid, exe, ...config.argv.slice(1)]
  const child = spawn(shell, args, { cwd: config.cwd, env: config.env, detached: true, stdio: ['ignore', 'pipe', 'ignore'] })
  // Listen for the exit from the very start: a quick workload may end before the pid is read.
  const exit = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)))
  })
  return new Promise<SpawnedWorkload>((resolve, reject) => {
    let out = ''
    let settled = false
    const fail = (err: Error): void => {
      if (settled) return
      settled = true
      child.stdout?.destroy()
      reject(err)
    }
    child.once('error', fail)
    // 'close' (not 'exit'): it comes after every byte of stdout was delivered, so a quick workload
    // whose shim printed its pid and ended at once is not mistaken for a shim that printed nothing.
    child.once('close', (code, signal) => fail(new Error(`shim exited (${code ?? 128 + signalNumber(signal)}) before reporting the workload's pid`)))
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
      const nl = out.indexOf('\n')
      if (nl < 0 || settled) return
      settled = true
      child.stdout?.destroy()
      const pid = Number.parseInt(out.slice(0, nl), 10)
      if (Number.isInteger(pid) && pid > 0) resolve({ child, pid, exit })
      else reject(new Error(`shim reported a bad pid ${JSON.stringify(out.slice(0, nl))}`))
    })
  })
}

/** Runs a health probe; resolves with its exit code (137 after `timeoutMs`, 127 when it cannot run). */
export function runProbe(exe: string, argv: readonly string[], config: LaunchConfig, timeoutMs: number, setTimer: (f: () => void, ms: number) => { cancel(): void }): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(exe, argv.slice(1), { cwd: config.cwd, env: config.env, detached: true, stdio: 'ignore', argv0: argv[0] ?? exe })
    const timer = setTimer(() => {
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL')
    }, timeoutMs)
    child.once('error', () => {
      timer.cancel()
      resolve(127)
    })
    child.once('exit', (code, signal) => {
      timer.cancel()
      resolve(code ?? 128 + signalNumber(signal))
    })
  })
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 }

/** The number of a signal name (0 when unknown). */
export function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (SIGNALS[signal] ?? 0)
}

/** Signals a process group, ignoring "no such process". */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch {
    // the group is gone
  }
}
