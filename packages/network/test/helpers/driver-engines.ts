/**
 * Engines for the driver tests: busybox for ProcessRuntime, and the engine-adapter's private test
 * dockerd (`packages/engine-adapter/scripts/test-engines.sh`, started and released per file as
 * the engine-adapter's own Docker tests do). Without root the Docker suites are skipped with the
 * reason printed; with `CI=true` they always run, so a missing engine fails CI instead of hiding.
 */
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { findBusybox } from '@swarmkit-ts/engine-adapter'

const run = promisify(execFile)
const HOLDER = `${String(process.pid)}_${randomBytes(4).toString('hex')}`
const SCRIPT = fileURLToPath(new URL('../../../engine-adapter/scripts/test-engines.sh', import.meta.url))

/** Why the Docker suites cannot run here, or undefined when they can (announced once per file). */
export function dockerSkipReason(): string | undefined {
  if (process.env['CI'] === 'true') return undefined
  let reason: string | undefined
  if (process.platform !== 'linux') reason = `docker tests need Linux (this is ${process.platform})`
  else if (process.getuid?.() !== 0) reason = 'docker tests need root to start a private dockerd (run as root, or with CI=true to require them)'
  if (reason !== undefined) console.warn(`\n[network] SKIPPED docker driver tests: ${reason}\n`)
  return reason
}

/** The private test dockerd. */
export interface TestDocker {
  socket: string
  image: string
  dir: string
}

/** Starts (or joins) the test dockerd. */
export async function startDocker(): Promise<TestDocker> {
  const { stdout } = await run('bash', [SCRIPT, 'up', 'docker', HOLDER], { maxBuffer: 1 << 20, timeout: 300_000 })
  const vars = new Map(stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  const get = (k: string): string => {
    const v = vars.get(k)
    if (v === undefined) throw new Error(`test-engines.sh did not print ${k}`)
    return v
  }
  return { socket: get('SWARMKIT_DOCKER_SOCKET'), image: get('SWARMKIT_DOCKER_IMAGE'), dir: get('SWARMKIT_ENGINES_DIR') }
}

/** Releases it (it stops when no other test file holds it). */
export async function stopDocker(): Promise<void> {
  await run('bash', [SCRIPT, 'down', 'docker', HOLDER], { maxBuffer: 1 << 20, timeout: 120_000 })
}

/** The host's busybox (installed as root when missing), or why the ProcessRuntime suites cannot run. */
export function busyboxOrSkip(): { busybox: string; skip: undefined } | { busybox: undefined; skip: string } {
  let busybox = findBusybox()
  if (busybox === undefined && process.getuid?.() === 0) {
    execFileSync('apt-get', ['install', '-y', 'busybox-static'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    busybox = findBusybox()
  }
  if (busybox !== undefined) return { busybox, skip: undefined }
  if (process.env['CI'] === 'true') throw new Error('busybox is required with CI=true: apt-get install -y busybox-static')
  console.warn('\n[network] SKIPPED process driver tests: busybox not found and not root\n')
  return { busybox: undefined, skip: 'no busybox' }
}
