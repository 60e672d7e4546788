/**
 * Real engines for the Docker and containerd test files: starts them through
 * `scripts/test-engines.sh up <engine> <pid>_<token>` (root only) before the file's tests and releases them
 * after (`down <engine> <pid>_<token>`: the engine stops when no test worker holds it any more; set
 * `SWARMKIT_ENGINES_KEEP=1` to leave it running). Without root the suites are skipped with the reason
 * printed; with `CI=true` they always run, so a missing engine fails CI instead of hiding.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
/** This module instance's holder name: the worker's pid (checked for liveness) and a token (one per test file). */
const HOLDER = `${process.pid}_${randomBytes(4).toString('hex')}`
const SCRIPT = fileURLToPath(new URL('../../scripts/test-engines.sh', import.meta.url))

/** Which engine a test file needs. */
export type EngineName = 'docker' | 'containerd'

/** Where the test engines listen, as printed by `test-engines.sh env`. */
export interface EngineEnv {
  dockerSocket: string
  dockerImage: string
  containerdSocket: string
  containerdNamespace: string
  imageTar: string
  dir: string
}

/** Whether real-engine tests can run here, and if not, why. */
export function engineAvailability(engine: EngineName): { run: true } | { run: false; reason: string } {
  if (process.env['CI'] === 'true') return { run: true }
  if (process.platform !== 'linux') return { run: false, reason: `${engine} tests need Linux (this is ${process.platform})` }
  if (process.getuid?.() !== 0) {
    return { run: false, reason: `${engine} tests need root to start a private ${engine} (run as root, or with CI=true to require them)` }
  }
  return { run: true }
}

/** Announces skipped suites clearly (once per file). */
export function reportSkipped(engine: EngineName): boolean {
  const a = engineAvailability(engine)
  if (a.run) return false
  console.warn(`\n[engine-adapter] SKIPPED ${engine} tests: ${a.reason}\n`)
  return true
}

function parseEnv(text: string): EngineEnv {
  const vars = new Map<string, string>()
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1))
  }
  const get = (k: string): string => {
    const v = vars.get(k)
    if (v === undefined) throw new Error(`test-engines.sh env did not print ${k}`)
    return v
  }
  return {
    dockerSocket: get('SWARMKIT_DOCKER_SOCKET'),
    dockerImage: get('SWARMKIT_DOCKER_IMAGE'),
    containerdSocket: get('SWARMKIT_CONTAINERD_SOCKET'),
    containerdNamespace: get('SWARMKIT_CONTAINERD_NAMESPACE'),
    imageTar: get('SWARMKIT_IMAGE_TAR'),
    dir: get('SWARMKIT_ENGINES_DIR'),
  }
}

/** Where an engine lives, for tests that need one of their own (e.g. to restart it). */
export interface PrivateEngineOptions {
  /** `SWARMKIT_ENGINES_DIR` of a private set of engines. @default the shared one */
  dir?: string
  /** More environment for the script (e.g. `SWARMKIT_DOCKER_LIVE_RESTORE: '1'`). */
  env?: Record<string, string>
}

function scriptEnv(options: PrivateEngineOptions): NodeJS.ProcessEnv {
  return { ...process.env, ...(options.dir !== undefined ? { SWARMKIT_ENGINES_DIR: options.dir } : {}), ...options.env }
}

/** Starts (or joins) the engine; resolves with its sockets once it answers. */
export async function startEngine(engine: EngineName, options: PrivateEngineOptions = {}): Promise<EngineEnv> {
  try {
    const { stdout } = await run('bash', [SCRIPT, 'up', engine, HOLDER], { maxBuffer: 1 << 20, timeout: 300_000, env: scriptEnv(options) })
    return parseEnv(stdout)
  } catch (err) {
    const e = err as { stderr?: string; message?: string }
    throw new Error(`could not start the test ${engine}: ${e.message ?? String(err)}\n${e.stderr ?? ''}`)
  }
}

/** Releases the engine (it stops when no other worker holds it, unless SWARMKIT_ENGINES_KEEP=1 for the shared one). */
export async function stopEngine(engine: EngineName, options: PrivateEngineOptions = {}): Promise<void> {
  if (process.env['SWARMKIT_ENGINES_KEEP'] === '1' && options.dir === undefined) return
  await run('bash', [SCRIPT, 'down', engine, HOLDER], { maxBuffer: 1 << 20, timeout: 120_000, env: scriptEnv(options) })
}

/**
 * Stops only the daemon of a private engine (shims and containers keep running), as a crash or an
 * upgrade would; {@link startEngine} with the same options starts it again.
 */
export async function stopDaemon(engine: EngineName, options: PrivateEngineOptions & { dir: string }): Promise<void> {
  await run('bash', [SCRIPT, 'stop-daemon', engine], { maxBuffer: 1 << 20, timeout: 120_000, env: scriptEnv(options) })
}
