import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import type { LogFields, Logger } from '@swarmkit-ts/api'
import { FakeRuntime } from '@swarmkit-ts/engine-adapter'
import { ManualClock, SeededRandom, arbTask } from '@swarmkit-ts/testkit'
import { RuntimeExecutor } from '../src/exec/index.ts'
import { Agent, FileTaskDb, MemoryTaskDb, decodeTaskDbEntry, encodeTaskDbEntry } from '../src/worker/index.ts'
import { FakeDispatcher } from './helpers/worker-fake-dispatcher.ts'
import { status, task } from './helpers/worker-fixtures.ts'

/** A logger that keeps its warnings. */
function recordingLogger(): Logger & { warnings: { message: string; fields?: LogFields }[] } {
  const warnings: { message: string; fields?: LogFields }[] = []
  const logger = {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string, fields?: LogFields) => void warnings.push(fields === undefined ? { message } : { message, fields }),
    error: () => undefined,
    child: () => logger,
  }
  return logger
}

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'worker-task-db-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('FileTaskDb', () => {
  it('reads back every task with its latest status and assigned flag after a reopen', async () => {
    const db = await FileTaskDb.open(dir)
    await db.put({ task: task('t1'), assigned: true })
    await db.put({ task: task('t2'), assigned: true })
    await db.putStatus('t1', status(TaskState.RUNNING, 42, { containerStatus: { containerId: 'c1', pid: 7 } }))
    await db.setAssigned('t2', false)
    await db.close()

    const again = await FileTaskDb.open(dir)
    expect(again.get('t1')).toEqual({ task: { ...task('t1'), status: status(TaskState.RUNNING, 42, { containerStatus: { containerId: 'c1', pid: 7 } }) }, assigned: true })
    expect(again.get('t2')).toEqual({ task: task('t2'), assigned: false })
    expect(again.entries().map((e) => e.task.id).sort()).toEqual(['t1', 't2'])
  })

  it('keeps one file per task under <stateDir>/worker/tasks and removes it on delete', async () => {
    const db = await FileTaskDb.open(dir)
    await db.put({ task: task('t1'), assigned: true })
    await db.put({ task: task('t2'), assigned: true })
    expect((await readdir(join(dir, 'worker', 'tasks'))).sort()).toEqual(['t1', 't2'])
    await db.delete('t1')
    expect(await readdir(join(dir, 'worker', 'tasks'))).toEqual(['t2'])
    expect(db.get('t1')).toBeUndefined()
  })

  it('writes the latest of many quick status changes (writes of a task are serialised and coalesced)', async () => {
    const db = await FileTaskDb.open(dir)
    await db.put({ task: task('t1'), assigned: true })
    const writes = [TaskState.ACCEPTED, TaskState.PREPARING, TaskState.READY, TaskState.STARTING, TaskState.RUNNING].map((s, i) => db.putStatus('t1', status(s, i)))
    await Promise.all(writes)
    const onDisk = decodeTaskDbEntry(await readFile(join(dir, 'worker', 'tasks', 't1')))
    expect(onDisk.task.status).toEqual(status(TaskState.RUNNING, 4))
  })

  it('survives a crash mid-write: a truncated temp file is dropped with a log line, the previous version stays', async () => {
    const db = await FileTaskDb.open(dir)
    await db.put({ task: task('t1'), assigned: true })
    await db.close()
    // The crash: a newer version was being written to the temp file and never renamed.
    const tasks = join(dir, 'worker', 'tasks')
    await writeFile(join(tasks, 't1.tmp'), encodeTaskDbEntry({ task: { ...task('t1'), status: status(TaskState.RUNNING, 9) }, assigned: true }))
    await truncate(join(tasks, 't1.tmp'), 20)

    const logger = recordingLogger()
    const again = await FileTaskDb.open(dir, { logger })
    expect(again.get('t1')).toEqual({ task: task('t1'), assigned: true })
    expect(await readdir(tasks)).toEqual(['t1'])
    expect(logger.warnings).toEqual([{ message: 'task db: dropped an unfinished write', fields: { file: 't1.tmp' } }])
  })

  it('drops a corrupt or truncated task file with a log line instead of failing to open', async () => {
    const db = await FileTaskDb.open(dir)
    await db.put({ task: task('t1'), assigned: true })
    await db.put({ task: task('t2'), assigned: true })
    await db.put({ task: task('t3'), assigned: true })
    const tasks = join(dir, 'worker', 'tasks')
    const bytes = await readFile(join(tasks, 't2'))
    bytes[bytes.length - 6] = (bytes[bytes.length - 6] ?? 0) ^ 0xff
    await writeFile(join(tasks, 't2'), bytes)
    await truncate(join(tasks, 't3'), 20)

    const logger = recordingLogger()
    const again = await FileTaskDb.open(dir, { logger })
    expect(again.entries().map((e) => e.task.id)).toEqual(['t1'])
    expect(logger.warnings.map((w) => [w.message, w.fields?.file, w.fields?.err])).toEqual([
      ['task db: dropped a corrupt task file', 't2', 'bytes: checksum mismatch'],
      ['task db: dropped a corrupt task file', 't3', `bytes: length 20 does not match the header (${bytes.length})`],
    ])
    expect(await readdir(tasks)).toEqual(['t1'])
  })

  it('refuses a task id that cannot be a file name', async () => {
    const db = await FileTaskDb.open(dir)
    await expect(db.put({ task: task('../x'), assigned: true })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'task.id' })
  })
})

describe('task db entry encoding', () => {
  it('decodes what it encodes, for any task and flag (property)', () => {
    fc.assert(
      fc.property(arbTask(), fc.boolean(), (t, assigned) => {
        expect(decodeTaskDbEntry(encodeTaskDbEntry({ task: t, assigned }))).toEqual({ task: t, assigned })
      }),
      { numRuns: 100 },
    )
  })

  it('rejects any single flipped byte (property)', () => {
    const bytes = encodeTaskDbEntry({ task: task('t1'), assigned: true })
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const copy = Uint8Array.from(bytes)
        copy[i] = (copy[i] ?? 0) ^ x
        expect(() => decodeTaskDbEntry(copy)).toThrow()
      }),
    )
  })
})

describe('MemoryTaskDb', () => {
  it('keeps the same entries as the file database for the same writes', async () => {
    const mem = new MemoryTaskDb()
    await mem.put({ task: task('t1'), assigned: true })
    await mem.putStatus('t1', status(TaskState.RUNNING, 3))
    await mem.putStatus('unknown', status(TaskState.RUNNING, 3))
    await mem.setAssigned('t1', false)
    expect(mem.entries()).toEqual([{ task: { ...task('t1'), status: status(TaskState.RUNNING, 3) }, assigned: false }])
    await mem.delete('t1')
    expect(mem.entries()).toEqual([])
  })

  it('gives each read the latest status, and an entry read before a write stays as it was', async () => {
    const mem = new MemoryTaskDb()
    const t1 = task('t1')
    await mem.put({ task: t1, assigned: true })
    const before = mem.get('t1')
    await mem.putStatus('t1', status(TaskState.STARTING, 2))
    await mem.putStatus('t1', status(TaskState.RUNNING, 3))
    const running = mem.get('t1')
    expect(running).toEqual({ task: { ...t1, status: status(TaskState.RUNNING, 3) }, assigned: true })
    expect(before).toEqual({ task: t1, assigned: true })
    expect(t1.status).toEqual(task('t1').status)
    await mem.setAssigned('t1', false)
    expect(running?.assigned).toBe(true)
    expect(mem.get('t1')).toEqual({ task: { ...t1, status: status(TaskState.RUNNING, 3) }, assigned: false })
    expect(mem.get('unknown')).toBeUndefined()
  })
})

describe('Agent over a damaged task db', () => {
  it('starts anyway: the corrupt file and the unfinished write are dropped, the good task resumes', async () => {
    const db = await FileTaskDb.open(dir)
    await db.put({ task: { ...task('good'), status: status(TaskState.READY, 1) }, assigned: true })
    await db.put({ task: task('bad'), assigned: true })
    const tasks = join(dir, 'worker', 'tasks')
    await writeFile(join(tasks, 'bad'), 'garbage')
    await writeFile(join(tasks, 'good.tmp'), 'half a write')

    const clock = new ManualClock(0)
    const logger = recordingLogger()
    const agent = new Agent({
      dispatcher: () => new FakeDispatcher(),
      executor: new RuntimeExecutor({ runtime: new FakeRuntime({ clock }), clock }),
      stateDir: dir,
      clock,
      random: new SeededRandom(1),
      logger,
    })
    await agent.start()
    expect(agent.tasks().map((t) => t.id)).toEqual(['good'])
    expect(logger.warnings.map((w) => [w.message, w.fields?.file])).toEqual([
      ['task db: dropped a corrupt task file', 'bad'],
      ['task db: dropped an unfinished write', 'good.tmp'],
    ])
    await agent.stop()
  })
})
