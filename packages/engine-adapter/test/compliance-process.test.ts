import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeContainerRuntimeCompliance } from '@swarmkit-ts/engine-adapter/compliance'
import { execFileSync } from 'node:child_process'
import { describe } from 'vitest'
import { PROCESS_RUNTIME_CAPABILITIES, ProcessRuntime, createBusyboxImage, findBusybox } from '../src/index.ts'

/**
 * busybox for the ProcessRuntime tests: found on the host, or installed (`apt-get install -y
 * busybox-static`) when running as root; otherwise the tests are skipped with the reason — except
 * with CI=true, where they must run (and fail loudly without busybox).
 */
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
const host = ensureBusybox()
if ('skip' in host) console.warn(`\n[engine-adapter] SKIPPED ProcessRuntime tests: ${host.skip}\n`)

let stateDir = ''

if ('skip' in host) describe.skip(`ProcessRuntime compliance (${host.skip})`, () => {})
else describeContainerRuntimeCompliance({
  name: 'ProcessRuntime',
  setup: async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'swarmkit-process-compliance-'))
    const busybox = await createBusyboxImage(join(stateDir, 'busybox-bin'), 'busybox' in host ? host.busybox : undefined)
    const runtime = await ProcessRuntime.open({ stateDir: join(stateDir, 'state'), images: { 'local/busybox:test': busybox } })
    return { runtime, image: 'local/busybox:test' }
  },
  teardown: async ({ runtime }) => {
    await (runtime as ProcessRuntime).close()
    await rm(stateDir, { recursive: true, force: true })
  },
  capabilities: PROCESS_RUNTIME_CAPABILITIES,
})
