import { describe, expect, it } from 'vitest'
import {
  InvalidArgumentError,
  decodeObject,
  decodeSpec,
  encodeObject,
  encodeSpec,
  validateServiceSpec,
  validateServiceUpdate,
  withServiceDefaults,
  type JobSchedule,
  type Service,
  type ServiceSpec,
} from '../src/index.ts'

const replicatedJob = (schedule: unknown): ServiceSpec =>
  ({ annotations: { name: 'backup' }, task: { container: { image: 'busybox:1' } }, mode: { replicatedJob: { maxConcurrent: 2, totalCompletions: 4, schedule } } }) as ServiceSpec
const globalJob = (schedule: unknown): ServiceSpec =>
  ({ annotations: { name: 'scan' }, task: { container: { image: 'busybox:1' } }, mode: { globalJob: { schedule } } }) as ServiceSpec

function fieldOf(f: () => void): string | undefined {
  try {
    f()
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError)
    return (err as InvalidArgumentError).field
  }
  return undefined
}

describe('job schedule validation', () => {
  it.each<JobSchedule>([
    { cron: '*/5 * * * *' },
    { cron: '*/5 * * * *', timeZone: 'Europe/Paris' },
    { cron: '30 9 * * 1-5', timeZone: 'Asia/Kathmandu' },
    { cron: '0 */10 * * * *' },
    { cron: '@daily', timeZone: 'UTC' },
  ])('accepts %o on both job modes', (schedule) => {
    expect(() => validateServiceSpec(replicatedJob(schedule))).not.toThrow()
    expect(() => validateServiceSpec(globalJob(schedule))).not.toThrow()
  })

  it.each([
    ['a cron with three fields', { cron: '* * *' }, 'cron'],
    ['a minute of 61', { cron: '61 * * * *' }, 'cron'],
    ['words', { cron: 'every five minutes' }, 'cron'],
    ['an empty cron', { cron: '' }, 'cron'],
    ['a missing cron', {}, 'cron'],
    ['a cron that is not a string', { cron: 5 }, 'cron'],
    ['a cron that matches no day (30 February)', { cron: '0 0 30 2 *' }, 'cron'],
    ['an unknown time zone', { cron: '* * * * *', timeZone: 'Mars/Olympus_Mons' }, 'timeZone'],
    ['an offset instead of a zone name', { cron: '* * * * *', timeZone: '+01:00' }, 'timeZone'],
    ['an empty time zone', { cron: '* * * * *', timeZone: '' }, 'timeZone'],
    ['a time zone that is not a string', { cron: '* * * * *', timeZone: 1 }, 'timeZone'],
  ])('refuses %s, naming the field', (_what, schedule, leaf) => {
    expect(fieldOf(() => validateServiceSpec(replicatedJob(schedule)))).toBe(`mode.replicatedJob.schedule.${leaf}`)
    expect(fieldOf(() => validateServiceSpec(globalJob(schedule)))).toBe(`mode.globalJob.schedule.${leaf}`)
  })

  it('refuses a schedule that is not an object', () => {
    expect(fieldOf(() => validateServiceSpec(globalJob('*/5 * * * *')))).toBe('mode.globalJob.schedule')
  })

  it('refuses a bad schedule in an update, and allows adding or removing a schedule', () => {
    const old = replicatedJob(undefined)
    expect(fieldOf(() => validateServiceUpdate(old, replicatedJob({ cron: 'nope' })))).toBe('mode.replicatedJob.schedule.cron')
    expect(() => validateServiceUpdate(old, replicatedJob({ cron: '0 * * * *' }))).not.toThrow()
    expect(() => validateServiceUpdate(replicatedJob({ cron: '0 * * * *' }), old)).not.toThrow()
  })
})

describe('job schedule defaults', () => {
  it('withServiceDefaults keeps the schedule of a replicated job while filling in the counts', () => {
    const spec = replicatedJob({ cron: '0 3 * * *', timeZone: 'Europe/Paris' })
    const mode = { replicatedJob: { maxConcurrent: 1, schedule: { cron: '0 3 * * *', timeZone: 'Europe/Paris' } } }
    expect(withServiceDefaults({ ...spec, mode }).mode).toEqual({
      replicatedJob: { maxConcurrent: 1, totalCompletions: 1, schedule: { cron: '0 3 * * *', timeZone: 'Europe/Paris' } },
    })
    expect(withServiceDefaults(globalJob({ cron: '0 3 * * *' })).mode).toEqual({ globalJob: { schedule: { cron: '0 3 * * *' } } })
  })
})

describe('job schedule codec', () => {
  it.each([
    replicatedJob({ cron: '*/10 * * * *', timeZone: 'Asia/Kolkata' }),
    replicatedJob({ cron: '0 0 * * *' }),
    globalJob({ cron: '@hourly' }),
    { ...globalJob(undefined), mode: { globalJob: {} } },
  ])('a job spec with schedule %# round-trips exactly', (spec) => {
    expect(decodeSpec('service', encodeSpec('service', spec))).toStrictEqual(spec)
  })

  it('a job status with its schedule bookkeeping round-trips exactly, zeros kept', () => {
    const service: Service = {
      id: 'svc1',
      meta: { version: { index: 3n }, createdAt: 1, updatedAt: 2 },
      spec: replicatedJob({ cron: '*/10 * * * *' }),
      jobStatus: { jobIteration: { index: 4n }, lastExecution: 1_700_000_400_000, nextExecution: 1_700_001_000_000, skippedExecutions: 0, lastSkippedExecution: 0 },
    }
    expect(decodeObject('service', encodeObject('service', service))).toStrictEqual(service)
    const idle: Service = { ...service, jobStatus: { jobIteration: { index: 0n }, nextExecution: 1_700_000_600_000 } }
    expect(decodeObject('service', encodeObject('service', idle))).toStrictEqual(idle)
  })
})
