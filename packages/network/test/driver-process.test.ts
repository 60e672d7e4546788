import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ProcessRuntime, createBusyboxImage } from '@swarmkit-ts/engine-adapter'
import { describe } from 'vitest'
import { describeNetworkDriverCompliance } from '../src/compliance/index.ts'
import { PROCESS_DRIVER_CAPABILITIES, ProcessNetworkDriver } from '../src/driver/index.ts'
import { busyboxOrSkip } from './helpers/driver-engines.ts'

const host = busyboxOrSkip()

describe.skipIf(host.skip !== undefined)('ProcessNetworkDriver with ProcessRuntime', () => {
  describeNetworkDriverCompliance('ProcessNetworkDriver', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swarmkit-network-process-'))
    const busybox = await createBusyboxImage(join(dir, 'busybox-bin'), host.busybox)
    const runtime = await ProcessRuntime.open({ stateDir: join(dir, 'state'), images: { 'local/busybox:test': busybox } })
    return {
      driver: new ProcessNetworkDriver({ nodeAddress: '127.0.0.1' }),
      runtime,
      image: 'local/busybox:test',
      teardown: async () => {
        await runtime.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  }, { capabilities: PROCESS_DRIVER_CAPABILITIES })
})
