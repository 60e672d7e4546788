/**
 * busybox for the ProcessRuntime tests: found on the host, or installed (`apt-get install -y
 * busybox-static`) when running as root; otherwise the suites are skipped with the reason —
 * except with CI=true, where they must run (and fail loudly without busybox).
 */
import { execFileSync } from 'node:child_process'
import { findBusybox } from '../../src/index.ts'

function ensureBusybox(): { busybox: string } | { skip: string } {
  let busybox = findBusybox()
  if (busybox === undefined && process.getuid?.() === 0) {
    execFileSync('apt-get', ['install', '-y', 'busybox-static'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    busybox = findBusybox()
  }
  if (busybox !== undefined) return { busybox }
  if (process.env['CI'] === 'true') throw new Error('busybox is required with CI=true: apt-get install -y busybox-static')
  return { skip: 'busybox not found and not root: install busybox-static to run the ProcessRuntime tests' }
}

/** The busybox binary, or why the ProcessRuntime suites cannot run here (announced once per file). */
export function busyboxHost(): { busybox: string | undefined; skipped: boolean } {
  const host = ensureBusybox()
  if ('skip' in host) {
    console.warn(`\n[engine-adapter] SKIPPED ProcessRuntime tests: ${host.skip}\n`)
    return { busybox: undefined, skipped: true }
  }
  return { busybox: host.busybox, skipped: false }
}
