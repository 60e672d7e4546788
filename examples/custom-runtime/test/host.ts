/**
 * What the RootfsRuntime tests need from the host: a static busybox (installed with apt-get when
 * root and missing) and a way to chroot (root, or user namespaces). As root (CI) both are there
 * or the tests fail loudly; as another user without them, the tests are skipped, saying why.
 */
import { execFileSync } from 'node:child_process'
import { findBusybox } from '@swarmkit-ts/engine-adapter'
import { chrootUnavailable } from '../src/index.ts'

/** The busybox binary, or why the tests cannot run here (announced once per file). */
export async function rootfsHost(): Promise<{ busybox: string | undefined; skipped: boolean }> {
  const root = process.getuid?.() === 0
  let busybox = findBusybox()
  if (busybox === undefined && root) {
    execFileSync('apt-get', ['install', '-y', 'busybox-static'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    busybox = findBusybox()
  }
  const why = busybox === undefined ? 'busybox not found (install busybox-static)' : await chrootUnavailable()
  if (why === undefined) return { busybox, skipped: false }
  if (root || process.env['CI'] === 'true') throw new Error(`the RootfsRuntime tests must run here: ${why}`)
  console.warn(`\n[example-custom-runtime] SKIPPED RootfsRuntime tests (not root): ${why}\n`)
  return { busybox: undefined, skipped: true }
}
