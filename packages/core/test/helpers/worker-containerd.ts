/**
 * The engine-adapter's private test containerd for the worker node's containerd test
 * (`packages/engine-adapter/scripts/test-engines.sh`, joined and released per test file like
 * scripts/test-support/test-docker.ts does for dockerd). Skipped without root unless `CI=true`.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const HOLDER = `${String(process.pid)}_${randomBytes(4).toString('hex')}`
const SCRIPT = fileURLToPath(new URL('../../../engine-adapter/scripts/test-engines.sh', import.meta.url))

/** Why the containerd suite cannot run here, or undefined when it can. */
export function containerdSkipReason(): string | undefined {
  if (process.env['CI'] === 'true') return undefined
  const reason = process.platform !== 'linux' ? 'containerd tests need Linux' : process.getuid?.() !== 0 ? 'containerd tests need root to start a private containerd' : undefined
  if (reason !== undefined) console.warn(`\n[core] containerd worker node tests SKIPPED: ${reason}\n`)
  return reason
}

/** The private test containerd: its socket, namespace and the busybox root file system tarball. */
export interface TestContainerd {
  socket: string
  namespace: string
  imageTar: string
}

/** Starts (or joins) the test containerd. */
export async function startContainerd(): Promise<TestContainerd> {
  const { stdout } = await run('bash', [SCRIPT, 'up', 'containerd', HOLDER], { maxBuffer: 1 << 20, timeout: 300_000 })
  const vars = new Map(stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  const get = (k: string): string => {
    const v = vars.get(k)
    if (v === undefined) throw new Error(`test-engines.sh did not print ${k}`)
    return v
  }
  return { socket: get('SWARMKIT_CONTAINERD_SOCKET'), namespace: get('SWARMKIT_CONTAINERD_NAMESPACE'), imageTar: get('SWARMKIT_IMAGE_TAR') }
}

/** Releases it (it stops when no other test file holds it). */
export async function stopContainerd(): Promise<void> {
  await run('bash', [SCRIPT, 'down', 'containerd', HOLDER], { maxBuffer: 1 << 20, timeout: 120_000 })
}
