/**
 * A worker restarted on a real runtime (ProcessRuntime, the system clock) adopts the processes it
 * started instead of starting them again, and never writes a secret outside the task's files.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import { ProcessRuntime, createBusyboxImage } from '@swarmkit-ts/engine-adapter'
import type { ProcessImage } from '@swarmkit-ts/engine-adapter'
import { TASK_ID_LABEL } from '../src/exec/index.ts'
import { FakeDispatcher } from './helpers/worker-fake-dispatcher.ts'
import { RestartRig } from './helpers/worker-restart.ts'
import { secret, task, until } from './helpers/worker-fixtures.ts'

const SECRET_TEXT = 'hunter2-do-not-leak-4f1c'
let root = ''
let image: ProcessImage
const rig = new RestartRig<ProcessRuntime>(() => join(root, 'agent'))

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'agent-restart-process-'))
  image = await createBusyboxImage(join(root, 'bin'))
})

afterEach(async () => {
  await rig.cleanup()
  await rm(root, { recursive: true, force: true })
})

async function openRuntime(): Promise<ProcessRuntime> {
  return rig.track(await ProcessRuntime.open({ stateDir: join(root, 'runtime'), images: { busybox: image } }))
}

/** Every file under `dir` whose contents include `text`, as paths relative to `dir`. */
async function filesContaining(dir: string, text: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    if ((await readFile(path)).includes(text)) found.push(path.slice(dir.length + 1))
  }
  return found
}

const GUARD_MS = 20_000

describe('agent restart on ProcessRuntime', () => {
  it('adopts the running task after a restart: same container, no duplicate, no status sent again', { timeout: 60_000 }, async () => {
    const d = new FakeDispatcher()
    const s1 = secret('s1', 'db-password', SECRET_TEXT)
    const t1 = task('t1', {}, { image: 'busybox', command: ['sh', '-c', 'exec sleep 1000'], stopGracePeriodMs: 2000, secrets: [{ secretId: 's1', secretName: 'db-password', file: { name: 'db-password', mode: 0o400 } }] })
    d.assign({ secret: s1 }, { task: t1 })

    const rt1 = await openRuntime()
    const first = rig.agent(rt1, d)
    await first.start()
    await until(() => d.lastStatus('t1') === TaskState.RUNNING, 't1 running', undefined, GUARD_MS)
    const [before] = await rt1.list({ labels: { [TASK_ID_LABEL]: 't1' } })
    expect(before?.state).toBe('running')
    const reportedBefore = d.updates.length

    // The worker goes away (the processes keep running), then comes back on a new runtime instance.
    await rig.goAway(first, rt1)
    const rt2 = await openRuntime()
    expect(rt2.recovered.map((r) => [r.id, r.outcome])).toEqual([[before?.id, 'adopted']])

    const second = rig.agent(rt2, d)
    await second.start()
    expect(second.tasks().map((t) => [t.id, t.status.state])).toEqual([['t1', TaskState.RUNNING]])
    await until(() => d.assignmentStreams === 2, 'second agent follows its assignments', undefined, GUARD_MS)
    await until(() => second.worker?.dependencies().secrets.length === 1, 'complete set being applied', undefined, GUARD_MS)
    await second.worker?.update([]) // queued behind the complete set: resolves once it is applied and written

    const after = await rt2.list({ labels: { [TASK_ID_LABEL]: 't1' } })
    expect(after.map((c) => [c.id, c.state])).toEqual([[before?.id, 'running']])
    expect(d.updates.length).toBe(reportedBefore)

    // The secret is on disk only as the task's file (in the runtime's container directory).
    expect(await filesContaining(join(root, 'agent'), SECRET_TEXT)).toEqual([])
    const runtimeCopies = await filesContaining(join(root, 'runtime'), SECRET_TEXT)
    expect(runtimeCopies.length).toBe(1)
    expect(runtimeCopies[0]).toContain(before?.id ?? '?')
    expect(runtimeCopies[0]).toContain('db-password')

    // Removed by the managers: stopped, container removed, entry deleted.
    d.unassign({ task: t1 })
    await until(() => second.tasks().length === 0, 't1 removed from the worker', undefined, GUARD_MS)
    await until(async () => (await rt2.list({ labels: { [TASK_ID_LABEL]: 't1' } })).length === 0, 'container removed', undefined, GUARD_MS)
    await until(async () => (await readdir(join(root, 'agent', 'worker', 'tasks'))).length === 0, 'task db entry deleted', undefined, GUARD_MS)
  })
})

