import { InvalidArgumentError, TaskState } from '@swarmkit-ts/api'
import type { JobSchedule, ServiceSpec, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { Harness } from './helpers/harness.ts'

// The harness clock starts at 1_700_000_000_000 = 2023-11-14T22:13:20Z.
const T0 = 1_700_000_000_000
const at = (h: number, m: number, day = 14): number => Date.UTC(2023, 10, day, h, m)
const MIN = 60_000

function scheduledJob(name: string, schedule: JobSchedule, total = 1): ServiceSpec {
  return { annotations: { name }, mode: { replicatedJob: { maxConcurrent: total, totalCompletions: total, schedule } }, task: { container: { image: 'busybox:1' } } }
}

function scheduledGlobalJob(name: string, schedule: JobSchedule): ServiceSpec {
  return { annotations: { name }, mode: { globalJob: { schedule } }, task: { container: { image: 'busybox:1' } } }
}

/** The creation times of the service's tasks per iteration, in iteration order. */
function runs(h: Harness, serviceId: string): { iteration: bigint; createdAt: number; tasks: number }[] {
  const by = new Map<bigint, Frozen<Task>[]>()
  for (const t of h.tasks(serviceId)) {
    const i = t.jobIteration?.index ?? -1n
    by.set(i, [...(by.get(i) ?? []), t])
  }
  return [...by.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([iteration, ts]) => ({ iteration, createdAt: Math.min(...ts.map((t) => t.meta.createdAt)), tasks: ts.length }))
}

describe('job schedules', () => {
  it('a scheduled job does not run when created, then starts an iteration at each due time (*/10 → :20, :30, :40)', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(scheduledJob('tick', { cron: '*/10 * * * *' }))
    expect(svc.jobStatus).toEqual({ jobIteration: { index: 0n }, nextExecution: at(22, 20) })
    await h.advance(at(22, 20) - T0 - 1)
    expect(h.tasks(svc.id)).toEqual([])
    await h.advance(1)
    expect(h.service(svc.id).jobStatus).toEqual({ jobIteration: { index: 0n }, lastExecution: at(22, 20), nextExecution: at(22, 30) })
    await h.advance(20 * MIN)
    expect(runs(h, svc.id)).toEqual([
      { iteration: 0n, createdAt: at(22, 20), tasks: 1 },
      { iteration: 1n, createdAt: at(22, 30), tasks: 1 },
      { iteration: 2n, createdAt: at(22, 40), tasks: 1 },
    ])
    expect(h.tasks(svc.id).every((t) => t.status.state === TaskState.COMPLETE)).toBe(true)
    expect(h.service(svc.id).jobStatus).toEqual({ jobIteration: { index: 2n }, lastExecution: at(22, 40), nextExecution: at(22, 50) })
  })

  it('reads the expression in its time zone, including one 5 h 45 min from UTC (Asia/Kathmandu)', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const nepal = await h.createService(scheduledJob('nepal', { cron: '0 9 * * *', timeZone: 'Asia/Kathmandu' }))
    const utc = await h.createService(scheduledJob('utc', { cron: '0 9 * * *' }))
    // 09:00 in Kathmandu is 03:15 UTC.
    expect(nepal.jobStatus?.nextExecution).toBe(at(3, 15, 15))
    expect(utc.jobStatus?.nextExecution).toBe(at(9, 0, 15))
    await h.advance(at(3, 15, 15) - T0)
    expect(runs(h, nepal.id)).toEqual([{ iteration: 0n, createdAt: at(3, 15, 15), tasks: 1 }])
    expect(runs(h, utc.id)).toEqual([])
    expect(h.service(nepal.id).jobStatus?.nextExecution).toBe(at(3, 15, 16))
  })

  it('skips a due time while the previous iteration still runs, records the skip, and runs at the next due time', async () => {
    const h = new Harness()
    h.driver.holdJobs = true
    await h.addNode('n1')
    const svc = await h.createService(scheduledJob('slow', { cron: '*/10 * * * *' }, 2))
    await h.advance(at(22, 20) - T0)
    const first = h.tasks(svc.id)
    expect(first.length).toBe(2)
    await h.driver.complete((first[0] as Frozen<Task>).id)
    await h.advance(10 * MIN)
    expect(h.service(svc.id).jobStatus).toEqual({
      jobIteration: { index: 0n },
      lastExecution: at(22, 20),
      nextExecution: at(22, 40),
      skippedExecutions: 1,
      lastSkippedExecution: at(22, 30),
    })
    expect(h.tasks(svc.id).length).toBe(2)
    await h.driver.complete((first[1] as Frozen<Task>).id)
    await h.advance(10 * MIN)
    expect(h.service(svc.id).jobStatus).toEqual({
      jobIteration: { index: 1n },
      lastExecution: at(22, 40),
      nextExecution: at(22, 50),
      skippedExecutions: 1,
      lastSkippedExecution: at(22, 30),
    })
    expect(runs(h, svc.id)).toEqual([
      { iteration: 0n, createdAt: at(22, 20), tasks: 2 },
      { iteration: 1n, createdAt: at(22, 40), tasks: 2 },
    ])
  })

  it('a new leader resumes the schedule: no second run for a due time already handled', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(scheduledJob('tick', { cron: '*/10 * * * *' }))
    await h.advance(at(22, 20) - T0)
    await h.leaderChange()
    await h.settle()
    await h.advance(5 * MIN)
    await h.leaderChange()
    await h.advance(5 * MIN)
    expect(runs(h, svc.id)).toEqual([
      { iteration: 0n, createdAt: at(22, 20), tasks: 1 },
      { iteration: 1n, createdAt: at(22, 30), tasks: 1 },
    ])
  })

  it('due times missed while no orchestrator ran are handled once at start, for the latest of them, then the schedule goes on', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(scheduledJob('tick', { cron: '*/10 * * * *' }))
    await h.advance(at(22, 20) - T0)
    await h.stop()
    h.clock.advance(25 * MIN) // 22:45: 22:30 and 22:40 were missed
    h.start()
    await h.settle()
    expect(h.service(svc.id).jobStatus).toEqual({ jobIteration: { index: 1n }, lastExecution: at(22, 40), nextExecution: at(22, 50) })
    expect(runs(h, svc.id).map((r) => r.iteration)).toEqual([0n, 1n])
    await h.leaderChange()
    await h.settle()
    expect(h.service(svc.id).jobStatus?.jobIteration).toEqual({ index: 1n })
    await h.advance(5 * MIN)
    expect(runs(h, svc.id)).toEqual([
      { iteration: 0n, createdAt: at(22, 20), tasks: 1 },
      { iteration: 1n, createdAt: at(22, 45), tasks: 1 },
      { iteration: 2n, createdAt: at(22, 50), tasks: 1 },
    ])
  })

  it('a scheduled global job runs on the nodes present at each due time', async () => {
    const h = new Harness()
    const n1 = await h.addNode('n1')
    const svc = await h.createService(scheduledGlobalJob('scan', { cron: '*/10 * * * *' }))
    await h.advance(at(22, 20) - T0)
    const n2 = await h.addNode('n2')
    await h.advance(10 * MIN)
    const byIteration = (i: bigint): string[] => h.tasks(svc.id).filter((t) => t.jobIteration?.index === i).map((t) => t.nodeId).sort()
    expect(byIteration(0n)).toEqual([n1])
    expect(byIteration(1n)).toEqual([n1, n2].sort())
  })

  it('an update of a scheduled job removes the running tasks and waits for the next due time with the new schedule', async () => {
    const h = new Harness()
    h.driver.holdJobs = true
    await h.addNode('n1')
    const svc = await h.createService(scheduledJob('tick', { cron: '*/10 * * * *' }))
    await h.advance(at(22, 20) - T0)
    const [running] = h.tasks(svc.id)
    await h.advance(MIN)
    const updated = await h.updateService(svc.id, (s) => scheduledJob(s.annotations.name, { cron: '0 * * * *' }))
    expect(updated.jobStatus).toEqual({ jobIteration: { index: 1n }, nextExecution: at(23, 0) })
    await h.settle()
    expect(h.store.view((tx) => tx.tasks.get((running as Frozen<Task>).id))?.desiredState).toBe(TaskState.REMOVE)
    await h.advance(at(23, 0) - h.clock.now() - 1)
    expect(h.live(svc.id)).toEqual([])
    await h.advance(1)
    expect(h.live(svc.id).map((t) => t.jobIteration)).toEqual([{ index: 1n }])
    expect(h.service(svc.id).jobStatus).toEqual({ jobIteration: { index: 1n }, lastExecution: at(23, 0), nextExecution: at(0, 0, 15) })
  })

  it('waits for a due time further away than one timer can (New Year, 47 days ahead) and runs it on time', async () => {
    const h = new Harness()
    await h.addNode('n1')
    const svc = await h.createService(scheduledJob('yearly', { cron: '0 0 1 1 *' }))
    const newYear = Date.UTC(2024, 0, 1)
    expect(svc.jobStatus?.nextExecution).toBe(newYear)
    await h.advance(newYear - T0 - 1)
    expect(h.tasks(svc.id)).toEqual([])
    await h.advance(1)
    expect(runs(h, svc.id)).toEqual([{ iteration: 0n, createdAt: newYear, tasks: 1 }])
    expect(h.service(svc.id).jobStatus?.nextExecution).toBe(Date.UTC(2025, 0, 1))
  })

  it('stopping the orchestrator cancels the schedule timers', async () => {
    const h = new Harness()
    await h.createService(scheduledJob('tick', { cron: '*/10 * * * *' }))
    await h.settle()
    expect(h.clock.nextDueAt()).toBe(at(22, 20))
    await h.stop()
    expect(h.clock.nextDueAt()).toBeUndefined()
  })

  it.each([
    ['a bad cron expression', { cron: '*/10 * * *' }, 'mode.replicatedJob.schedule.cron'],
    ['an unknown time zone', { cron: '*/10 * * * *', timeZone: 'Europe/Atlantis' }, 'mode.replicatedJob.schedule.timeZone'],
  ])('refuses %s with the field path and leaves the store unchanged', async (_what, schedule, field) => {
    const h = new Harness()
    const svc = await h.createService(scheduledJob('tick', { cron: '*/10 * * * *' }))
    await h.settle()
    const version = h.store.version
    await expect(h.createService(scheduledJob('other', schedule))).rejects.toThrow(expect.objectContaining({ name: InvalidArgumentError.name, field }))
    await expect(h.updateService(svc.id, (s) => scheduledJob(s.annotations.name, schedule))).rejects.toThrow(
      expect.objectContaining({ name: InvalidArgumentError.name, field }),
    )
    expect(h.store.version).toBe(version)
    expect(h.store.view((tx) => tx.services.find()).map((s) => s.spec.annotations.name)).toEqual(['tick'])
  })
})
