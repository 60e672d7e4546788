import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe } from 'vitest'
import { describeContainerRuntimeCompliance } from '../src/compliance/index.ts'
import { ContainerdRuntime } from '../src/containerd/containerd-runtime.ts'
import { reportSkipped, startEngine, stopEngine, type EngineEnv } from './helpers/engines.ts'

const skipped = reportSkipped('containerd')
const IMAGE = 'swarmkit-test/busybox:latest'

describe.skipIf(skipped)('ContainerdRuntime on a private containerd', () => {
  let env: EngineEnv | undefined
  beforeAll(async () => {
    env = await startEngine('containerd')
  }, 300_000)
  afterAll(async () => {
    if (env !== undefined) await stopEngine('containerd')
  }, 120_000)

  describeContainerRuntimeCompliance({
    name: 'ContainerdRuntime',
    setup: async () => {
      if (env === undefined) throw new Error('containerd not started')
      const runtime = new ContainerdRuntime({
        socketPath: env.containerdSocket,
        namespace: env.containerdNamespace,
        stateDir: join(env.dir, 'containerd-state', randomUUID()),
      })
      await runtime.importImage(IMAGE, env.imageTar)
      return { runtime, image: IMAGE }
    },
    teardown: async ({ runtime }) => {
      await runtime.close()
    },
    capabilities: { memoryLimit: true, cpuLimit: true, healthcheck: true, ports: true, networks: false },
  })
})
