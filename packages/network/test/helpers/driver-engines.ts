/**
 * Engines for the driver tests: busybox for ProcessRuntime, and the engine-adapter's private test
 * dockerd (scripts/test-support/test-docker.ts).
 */
import { execFileSync } from 'node:child_process'
import { findBusybox } from '@swarmkit-ts/engine-adapter'
import { dockerSkipReason as skipReason } from '../../../../scripts/test-support/test-docker.ts'

export { startDocker, stopDocker } from '../../../../scripts/test-support/test-docker.ts'
export type { TestDocker } from '../../../../scripts/test-support/test-docker.ts'

/** Why the Docker suites cannot run here, or undefined when they can. */
export const dockerSkipReason = (): string | undefined => skipReason('[network] docker driver tests')

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
