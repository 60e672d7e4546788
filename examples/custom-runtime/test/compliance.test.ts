import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeContainerRuntimeCompliance } from '@swarmkit-ts/engine-adapter/compliance'
import { describe } from 'vitest'
import { ROOTFS_RUNTIME_CAPABILITIES, RootfsRuntime, createBusyboxRootfs } from '../src/index.ts'
import { rootfsHost } from './host.ts'

const host = await rootfsHost()
let base = ''

describe.skipIf(host.skipped)('RootfsRuntime on this host', () => {
  describeContainerRuntimeCompliance({
    name: 'RootfsRuntime',
    setup: async () => {
      base = await mkdtemp(join(tmpdir(), 'rootfs-compliance-'))
      const busybox = await createBusyboxRootfs(join(base, 'images', 'busybox'), host.busybox)
      const runtime = await RootfsRuntime.open({ stateDir: join(base, 'state'), images: { 'local/busybox:test': busybox } })
      return { runtime, image: 'local/busybox:test' }
    },
    teardown: async ({ runtime }) => {
      await runtime.close()
      await rm(base, { recursive: true, force: true })
    },
    capabilities: ROOTFS_RUNTIME_CAPABILITIES,
  })
})
