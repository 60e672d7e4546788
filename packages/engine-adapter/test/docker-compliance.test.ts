import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe } from 'vitest'
import { describeContainerRuntimeCompliance } from '../src/compliance/index.ts'
import { DockerRuntime } from '../src/docker/docker-runtime.ts'
import { reportSkipped, startEngine, stopEngine, type EngineEnv } from './helpers/engines.ts'

const skipped = reportSkipped('docker')

describe.skipIf(skipped)('DockerRuntime on a private dockerd', () => {
  let env: EngineEnv | undefined
  beforeAll(async () => {
    env = await startEngine('docker')
  }, 300_000)
  afterAll(async () => {
    if (env !== undefined) await stopEngine('docker')
  }, 120_000)

  describeContainerRuntimeCompliance({
    name: 'DockerRuntime',
    setup: () => {
      if (env === undefined) throw new Error('docker engine not started')
      const runtime = new DockerRuntime({
        socketPath: env.dockerSocket,
        instance: `compliance-${randomUUID()}`,
        stateDir: join(env.dir, 'docker-files'),
        allowPull: false,
      })
      return { runtime, image: env.dockerImage }
    },
    teardown: async ({ runtime }) => {
      await runtime.close()
    },
    capabilities: { memoryLimit: true, cpuLimit: true, healthcheck: true, ports: true, networks: true },
  })
})
