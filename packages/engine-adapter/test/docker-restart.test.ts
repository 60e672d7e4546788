import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe } from 'vitest'
import { DockerRuntime } from '../src/docker/docker-runtime.ts'
import { engineRestartTests, eventually } from './helpers/engine-restart.ts'
import { reportSkipped, startEngine, stopDaemon, stopEngine, type EngineEnv } from './helpers/engines.ts'

const skipped = reportSkipped('docker')

// A dockerd of this file's own, with live-restore (containers outlive the daemon), stopped and started
// by the tests: no other test file's engine goes down.
describe.skipIf(skipped)('DockerRuntime across dockerd restarts', () => {
  const dir = skipped ? '' : mkdtempSync(join(tmpdir(), 'swarmkit-docker-restart-'))
  const engine = { dir, env: { SWARMKIT_DOCKER_LIVE_RESTORE: '1' } }
  let env: EngineEnv | undefined
  let runtime: DockerRuntime | undefined
  beforeAll(async () => {
    env = await startEngine('docker', engine)
    runtime = new DockerRuntime({ socketPath: env.dockerSocket, instance: 'restart', stateDir: join(dir, 'docker-files'), allowPull: false })
  }, 300_000)
  afterAll(async () => {
    await runtime?.close()
    if (env !== undefined) await stopEngine('docker', engine)
    rmSync(dir, { recursive: true, force: true })
  }, 120_000)

  engineRestartTests(() => {
    const rt = runtime
    if (rt === undefined || env === undefined) throw new Error('dockerd not started')
    return {
      runtime: rt,
      image: env.dockerImage,
      stopDaemon: () => stopDaemon('docker', engine),
      startDaemon: async () => { await startEngine('docker', engine) },
      reattachCount: () => rt.engineResyncs,
      reattached: (before) => eventually(() => rt.engineResyncs > before, 'the runtime to re-read its containers'),
    }
  })
})
