import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe } from 'vitest'
import { ContainerdRuntime } from '../src/containerd/containerd-runtime.ts'
import { engineRestartTests, eventually } from './helpers/engine-restart.ts'
import { reportSkipped, startEngine, stopDaemon, stopEngine, type EngineEnv } from './helpers/engines.ts'

const skipped = reportSkipped('containerd')
const IMAGE = 'swarmkit-test/busybox:latest'

// A containerd of this file's own (its daemon is stopped and started): no other test file's engine goes down.
describe.skipIf(skipped)('ContainerdRuntime across containerd restarts', () => {
  const dir = skipped ? '' : mkdtempSync(join(tmpdir(), 'swarmkit-ctrd-restart-'))
  let env: EngineEnv | undefined
  let runtime: ContainerdRuntime | undefined
  beforeAll(async () => {
    env = await startEngine('containerd', { dir })
    runtime = new ContainerdRuntime({ socketPath: env.containerdSocket, namespace: env.containerdNamespace, stateDir: join(dir, 'runtime-state') })
    await runtime.importImage(IMAGE, env.imageTar)
  }, 300_000)
  afterAll(async () => {
    await runtime?.close()
    if (env !== undefined) await stopEngine('containerd', { dir })
    rmSync(dir, { recursive: true, force: true })
  }, 120_000)

  engineRestartTests(() => {
    const rt = runtime
    if (rt === undefined) throw new Error('containerd not started')
    return {
      runtime: rt,
      image: IMAGE,
      stopDaemon: () => stopDaemon('containerd', { dir }),
      startDaemon: async () => { await startEngine('containerd', { dir }) },
      reattachCount: () => rt.taskRewatches,
      reattached: (before) => eventually(() => rt.taskRewatches > before, 'the runtime to follow its tasks again'),
    }
  })
})
