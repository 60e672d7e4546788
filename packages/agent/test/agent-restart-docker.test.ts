/**
 * A worker restarted on the real Docker engine (the private test dockerd) adopts the container it
 * started instead of creating another.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import { DockerRuntime } from '@swarmkit-ts/engine-adapter'
import { TASK_ID_LABEL } from '../src/exec/index.ts'
import { dockerSkipReason, startDocker, stopDocker } from './helpers/worker-docker.ts'
import type { TestDocker } from './helpers/worker-docker.ts'
import { FakeDispatcher } from './helpers/worker-fake-dispatcher.ts'
import { RestartRig } from './helpers/worker-restart.ts'
import { task, until } from './helpers/worker-fixtures.ts'

const skip = dockerSkipReason() !== undefined
const GUARD_MS = 60_000

describe.skipIf(skip)('agent restart on Docker', () => {
  let docker: TestDocker | undefined
  let root = ''
  const rig = new RestartRig<DockerRuntime>(() => join(root, 'agent'))
  beforeAll(async () => {
    docker = await startDocker()
    root = await mkdtemp(join(tmpdir(), 'agent-restart-docker-'))
  }, 300_000)
  afterAll(async () => {
    await rig.cleanup()
    if (docker !== undefined) await stopDocker()
    await rm(root, { recursive: true, force: true })
  }, 120_000)

  function openRuntime(): DockerRuntime {
    if (docker === undefined) throw new Error('dockerd not started')
    return rig.track(new DockerRuntime({ socketPath: docker.socket, instance: 'agent-restart', stateDir: join(root, 'docker-files'), allowPull: false }))
  }

  it('adopts the running container after a restart: same container, no duplicate, no status sent again', { timeout: 180_000 }, async () => {
    const d = new FakeDispatcher()
    const t1 = task('t1', {}, { image: docker?.image ?? '', command: ['sh', '-c', 'exec sleep 1000'], stopGracePeriodMs: 1000 })
    d.assign({ task: t1 })

    const rt1 = openRuntime()
    const first = rig.agent(rt1, d)
    await first.start()
    await until(() => d.lastStatus('t1') === TaskState.RUNNING, 't1 running', undefined, GUARD_MS)
    const [before] = await rt1.list({ labels: { [TASK_ID_LABEL]: 't1' } })
    expect(before?.state).toBe('running')
    const reported = d.updates.length

    await rig.goAway(first, rt1)

    const rt2 = openRuntime()
    const second = rig.agent(rt2, d)
    await second.start()
    expect(second.tasks().map((t) => [t.id, t.status.state])).toEqual([['t1', TaskState.RUNNING]])
    await until(() => d.assignmentStreams === 2, 'second agent follows its assignments', undefined, GUARD_MS)
    await until(() => second.tasks().length === 1, 'complete set applied', undefined, GUARD_MS)
    const after = await rt2.list({ labels: { [TASK_ID_LABEL]: 't1' } })
    expect(after.map((c) => [c.id, c.state])).toEqual([[before?.id, 'running']])
    expect(d.updates.length).toBe(reported)

    d.unassign({ task: t1 })
    await until(async () => (await rt2.list({ labels: { [TASK_ID_LABEL]: 't1' } })).length === 0, 'container removed', undefined, GUARD_MS)
    await until(() => second.tasks().length === 0, 't1 removed from the worker', undefined, GUARD_MS)
  })
})
