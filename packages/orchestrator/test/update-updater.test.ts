import { UpdateState } from '@swarmkit-ts/api'
import type { ServiceSpec, UpdateConfig } from '@swarmkit-ts/api'
import { afterEach, describe, expect, it } from 'vitest'
import { replicatedSpec } from './helpers/harness.ts'
import { UpdateFixture } from './helpers/update-fixture.ts'

const fixtures: UpdateFixture[] = []
function fixture(): UpdateFixture {
  const f = new UpdateFixture()
  fixtures.push(f)
  return f
}
afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.stop()
})

function withImage(image: string, update?: UpdateConfig): (spec: ServiceSpec) => ServiceSpec {
  return (spec) => ({ ...spec, task: { ...spec.task, container: { image } }, ...(update === undefined ? {} : { update }) })
}

describe('updater: parallelism and delay', () => {
  it('parallelism 1 with a delay replaces one slot per delay, in slot order', async () => {
    const f = fixture()
    const svc = await f.service(replicatedSpec('web', 3), 3)
    await f.update(svc.id, withImage('busybox:2', { parallelism: 1, delayMs: 10_000 }))
    expect(f.runningImages(svc.id)).toEqual(['busybox:1', 'busybox:1', 'busybox:2'])
    expect(f.h.service(svc.id).updateStatus).toEqual({ state: UpdateState.UPDATING, message: 'update in progress', startedAt: f.t0 })
    await f.h.advance(10_000)
    expect(f.runningImages(svc.id)).toEqual(['busybox:1', 'busybox:2', 'busybox:2'])
    await f.h.advance(10_000)
    expect(f.runningImages(svc.id)).toEqual(['busybox:2', 'busybox:2', 'busybox:2'])
    const created = f.history.filter((c) => c.change === 'created' && c.image === 'busybox:2')
    expect(created.map((c) => c.at)).toEqual([0, 10_000, 20_000])
    const slots = created.map((c) => f.h.tasks(svc.id).find((t) => t.id === c.taskId)?.slot)
    expect(slots).toEqual([1, 2, 3])
    expect(f.h.live(svc.id)).toHaveLength(3)
  })

  it('parallelism 2 replaces two slots at a time', async () => {
    const f = fixture()
    const svc = await f.service(replicatedSpec('web', 5), 5)
    await f.update(svc.id, withImage('busybox:2', { parallelism: 2, delayMs: 10_000 }))
    expect(f.runningImages(svc.id).filter((i) => i === 'busybox:2')).toHaveLength(2)
    await f.h.advance(10_000)
    expect(f.runningImages(svc.id).filter((i) => i === 'busybox:2')).toHaveLength(4)
    await f.h.advance(10_000)
    expect(f.runningImages(svc.id)).toEqual(Array(5).fill('busybox:2'))
  })

  it('parallelism 0 replaces every slot at once', async () => {
    const f = fixture()
    const svc = await f.service(replicatedSpec('web', 4), 4)
    await f.update(svc.id, withImage('busybox:2', { parallelism: 0, delayMs: 10_000 }))
    expect(f.runningImages(svc.id)).toEqual(Array(4).fill('busybox:2'))
    const created = f.history.filter((c) => c.change === 'created' && c.image === 'busybox:2')
    expect(created.map((c) => c.at)).toEqual([0, 0, 0, 0])
  })
})

describe('updater: order', () => {
  it('stop-first: the old task is observed stopped before the new one is told to run', async () => {
    const f = fixture()
    const svc = await f.service(replicatedSpec('web', 1), 1)
    const [old] = f.h.tasks(svc.id)
    await f.update(svc.id, withImage('busybox:2'))
    const fresh = f.h.tasks(svc.id).find((t) => t.id !== old?.id)
    const lines = f.history.filter((c) => c.taskId === fresh?.id || c.taskId === old?.id).map((c) => `${c.taskId === old?.id ? 'old' : 'new'} ${c.change}`)
    const at = (line: string): number => lines.indexOf(line)
    // Created and the old one told to stop in one transaction; the new one is told to run only once the old one stopped.
    expect(lines.slice(at('new created'), at('new created') + 2)).toEqual(['new created', 'old desired SHUTDOWN'])
    expect(at('old observed SHUTDOWN')).toBeGreaterThan(at('old desired SHUTDOWN'))
    expect(at('new desired RUNNING')).toBeGreaterThan(at('old observed SHUTDOWN'))
    expect(at('new observed RUNNING')).toBeGreaterThan(at('new desired RUNNING'))
    expect(f.runningImages(svc.id)).toEqual(['busybox:2'])
  })

  it('start-first: the new task runs while the old one still runs, then the old one is shut down', async () => {
    const f = fixture()
    const svc = await f.service(replicatedSpec('web', 1), 1)
    const [old] = f.h.tasks(svc.id)
    await f.update(svc.id, withImage('busybox:2', { order: 'start-first' }))
    const fresh = f.h.tasks(svc.id).find((t) => t.id !== old?.id)
    const lines = f.history.filter((c) => c.taskId === fresh?.id || c.taskId === old?.id).map((c) => `${c.taskId === old?.id ? 'old' : 'new'} ${c.change}`)
    expect(lines.slice(lines.indexOf('new created'))).toEqual([
      'new created',
      'new desired RUNNING',
      'new observed PENDING',
      'new observed ASSIGNED',
      'new observed RUNNING',
      'old desired SHUTDOWN',
      'old observed SHUTDOWN',
    ])
    expect(f.runningImages(svc.id)).toEqual(['busybox:2'])
  })
})
