import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeContainerRuntimeCompliance } from '@swarmkit-ts/engine-adapter/compliance'
import { describe } from 'vitest'
import { PROCESS_RUNTIME_CAPABILITIES, ProcessRuntime, createBusyboxImage } from '../src/index.ts'
import { busyboxHost } from './helpers/busybox.ts'

const host = busyboxHost()

let stateDir = ''

describe.skipIf(host.skipped)('ProcessRuntime on this host', () => {
  describeContainerRuntimeCompliance({
    name: 'ProcessRuntime',
    setup: async () => {
      stateDir = await mkdtemp(join(tmpdir(), 'swarmkit-process-compliance-'))
      const busybox = await createBusyboxImage(join(stateDir, 'busybox-bin'), host.busybox)
      const runtime = await ProcessRuntime.open({ stateDir: join(stateDir, 'state'), images: { 'local/busybox:test': busybox } })
      return { runtime, image: 'local/busybox:test' }
    },
    teardown: async ({ runtime }) => {
      await runtime.close()
      await rm(stateDir, { recursive: true, force: true })
    },
    capabilities: PROCESS_RUNTIME_CAPABILITIES,
  })
})
