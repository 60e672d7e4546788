/**
 * The engine-adapter's private test dockerd for any package's Docker tests
 * (`packages/engine-adapter/scripts/test-engines.sh`, joined and released per test file as the
 * engine-adapter's own Docker tests do: it stops when no file holds it any more). Without root
 * the suites are skipped with the reason printed; with `CI=true` they always run, so a missing
 * engine fails CI instead of hiding.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const HOLDER = `${String(process.pid)}_${randomBytes(4).toString('hex')}`
const SCRIPT = fileURLToPath(new URL('../../packages/engine-adapter/scripts/test-engines.sh', import.meta.url))

/** Why Docker suites cannot run here, or undefined when they can; `what` names them in the printed warning. */
export function dockerSkipReason(what: string): string | undefined {
  if (process.env['CI'] === 'true') return undefined
  let reason: string | undefined
  if (process.platform !== 'linux') reason = `docker tests need Linux (this is ${process.platform})`
  else if (process.getuid?.() !== 0) reason = 'docker tests need root to start a private dockerd (run as root, or with CI=true to require them)'
  if (reason !== undefined) console.warn(`\n${what} SKIPPED: ${reason}\n`)
  return reason
}

/** The private test dockerd: its socket, the busybox image it holds and its state folder. */
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
