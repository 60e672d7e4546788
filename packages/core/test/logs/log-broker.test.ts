import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidArgumentError, NotFoundError, PermissionDeniedError, UnavailableError } from '@swarmkit-ts/api'
import type { LogMessage } from '../../src/logs/index.ts'
import { collect, id, LogsRig, msg, T0, take, until } from './rig.ts'

const byTask = (a: LogMessage, b: LogMessage): number => a.taskId.localeCompare(b.taskId) || a.time - b.time

describe('LogBroker with LogPublishers on FakeRuntime containers (in process)', () => {
  let rig: LogsRig

  beforeEach(async () => {
    rig = new LogsRig()
    await rig.addNode('n1')
    await rig.addNode('n2')
    await rig.addService('web')
  })
  afterEach(async () => {
    await rig.close()
  })

  it("a non-follow subscription gets every line of the service's tasks on every node, then ends", async () => {
    await rig.runTask('t1', 'web', 'n1', 1)
    await rig.runTask('t2', 'web', 'n2', 2)
    rig.say('t1', 'one', T0 + 1)
    rig.say('t2', 'two', T0 + 2, 'stderr')
    rig.say('t1', 'three', T0 + 3)
    rig.worker('n1')
    rig.worker('n2')
    await until(() => rig.broker.connectedNodes().length === 2)
    const lines = await collect(rig.broker.subscribe({ selector: { serviceIds: [id('web')] } }))
    expect(lines.sort(byTask)).toEqual([
      msg('t1', 'web', 'n1', 'one', T0 + 1),
      msg('t1', 'web', 'n1', 'three', T0 + 3),
      msg('t2', 'web', 'n2', 'two', T0 + 2, 'stderr'),
    ])
    expect(rig.broker.subscriptionCount).toBe(0)
  })

  it("tail gives each task's last lines, since drops older lines, streams picks stdout or stderr", async () => {
    await rig.runTask('t1', 'web', 'n1')
    await rig.runTask('t2', 'web', 'n2', 2)
    for (let i = 1; i <= 4; i++) rig.say('t1', `a${i}`, T0 + i * 10)
    rig.say('t2', 'b1', T0 + 45)
    rig.say('t2', 'b2', T0 + 50, 'stderr')
    rig.worker('n1')
    rig.worker('n2')
    await until(() => rig.broker.connectedNodes().length === 2)

    const tail = await collect(rig.broker.subscribe({ selector: { serviceIds: [id('web')] }, options: { tail: 1 } }))
    expect(tail.sort(byTask)).toEqual([msg('t1', 'web', 'n1', 'a4', T0 + 40), msg('t2', 'web', 'n2', 'b2', T0 + 50, 'stderr')])

    const since = await collect(rig.broker.subscribe({ selector: { taskIds: [id('t1')] }, options: { since: T0 + 30 } }))
    expect(since).toEqual([msg('t1', 'web', 'n1', 'a3', T0 + 30), msg('t1', 'web', 'n1', 'a4', T0 + 40)])

    const stderr = await collect(rig.broker.subscribe({ selector: { nodeIds: [id('n2')] }, options: { streams: ['stderr'] } }))
    expect(stderr).toEqual([msg('t2', 'web', 'n2', 'b2', T0 + 50, 'stderr')])

    const none = await collect(rig.broker.subscribe({ selector: { serviceIds: [id('web')] }, options: { tail: 0 } }))
    expect(none).toEqual([])
  })

  it('follow delivers lines written later until the subscriber aborts; the workers then stop publishing', async () => {
    await rig.runTask('t1', 'web', 'n1')
    rig.say('t1', 'before', T0 + 1)
    const worker = rig.worker('n1')
    await until(() => rig.broker.connectedNodes().length === 1)
    const ctrl = new AbortController()
    const it = rig.broker.subscribe({ selector: { serviceIds: [id('web')] }, options: { follow: true } }, { signal: ctrl.signal })[Symbol.asyncIterator]()
    expect(await take(it, 1)).toEqual([msg('t1', 'web', 'n1', 'before', T0 + 1)])
    rig.say('t1', 'after', T0 + 2)
    expect(await take(it, 1)).toEqual([msg('t1', 'web', 'n1', 'after', T0 + 2)])
    expect(worker.activeSubscriptions()).toHaveLength(1)
    ctrl.abort()
    expect(await it.next()).toEqual({ value: undefined, done: true })
    expect(rig.broker.subscriptionCount).toBe(0)
    await until(() => worker.activeSubscriptions().length === 0)
  })

  it('follow across a task restart: the replacement task, on another node, joins the subscription with all its lines', async () => {
    await rig.runTask('t1', 'web', 'n1')
    rig.say('t1', 'old, before the subscription', T0)
    rig.say('t1', 'first life', T0 + 1)
    rig.worker('n1')
    rig.worker('n2')
    await until(() => rig.broker.connectedNodes().length === 2)
    const ctrl = new AbortController()
    // tail 1 gives t1's last line only; a replacement task is new to the subscriber: none of its lines are skipped.
    const it = rig.broker.subscribe({ selector: { serviceIds: [id('web')] }, options: { follow: true, tail: 1 } }, { signal: ctrl.signal })[Symbol.asyncIterator]()
    expect(await take(it, 1)).toEqual([msg('t1', 'web', 'n1', 'first life', T0 + 1)])
    await rig.exit('t1')
    // The orchestrator's replacement: a new task of the same slot, placed on n2, which writes two lines at once.
    const early = [
      { line: 'second life', at: T0 + 2 },
      { line: 'second life, line 2', at: T0 + 3 },
    ]
    await rig.runTask('t1b', 'web', 'n2', 1, early)
    expect(await take(it, 2)).toEqual([msg('t1b', 'web', 'n2', 'second life', T0 + 2), msg('t1b', 'web', 'n2', 'second life, line 2', T0 + 3)])
    // And a replacement back on n1 (whose first task was tailed) is picked up by n1's publisher, untailed.
    await rig.exit('t1b')
    await rig.runTask('t1c', 'web', 'n1', 1, [
      { line: 'third life', at: T0 + 4 },
      { line: 'third life, line 2', at: T0 + 5 },
    ])
    expect(await take(it, 2)).toEqual([msg('t1c', 'web', 'n1', 'third life', T0 + 4), msg('t1c', 'web', 'n1', 'third life, line 2', T0 + 5)])
    ctrl.abort()
  })

  it('a non-follow subscription over a node that is not connected ends with UnavailableError naming it, after the other lines', async () => {
    await rig.runTask('t1', 'web', 'n1')
    await rig.runTask('t2', 'web', 'n2', 2)
    rig.say('t1', 'here', T0 + 1)
    rig.worker('n1')
    await until(() => rig.broker.connectedNodes().length === 1)
    const err = await collect(rig.broker.subscribe({ selector: { serviceIds: [id('web')] } })).then(
      () => undefined,
      (e: unknown) => e as UnavailableError & { collected: LogMessage[] },
    )
    expect(err).toBeInstanceOf(UnavailableError)
    expect(err?.message).toBe(`incomplete log stream: node ${id('n2')} not available`)
    expect(err?.collected).toEqual([msg('t1', 'web', 'n1', 'here', T0 + 1)])
  })

  it('a node whose listen stream ends before its part is complete is reported unavailable', async () => {
    await rig.runTask('t1', 'web', 'n1')
    const listen = rig.broker.listenSubscriptions(id('n1'))[Symbol.asyncIterator]()
    const sub = collect(rig.broker.subscribe({ selector: { serviceIds: [id('web')] } }))
    const [m] = await take(listen, 1)
    expect(m).toMatchObject({ selector: { serviceIds: [id('web')], taskIds: [], nodeIds: [] }, options: { follow: false }, close: false })
    await listen.return?.()
    await expect(sub).rejects.toThrow(`incomplete log stream: node ${id('n1')} not available`)
  })

  it('a service without running tasks gives an empty non-follow stream; tasks that never ran are not waited for', async () => {
    expect(await collect(rig.broker.subscribe({ selector: { serviceIds: [id('web')] } }))).toEqual([])
  })

  it('bad requests are refused with typed errors naming the field', async () => {
    const first = (req: Parameters<typeof rig.broker.subscribe>[0]): Promise<unknown> =>
      rig.broker.subscribe(req)[Symbol.asyncIterator]().next().then(
        () => undefined,
        (e: unknown) => e,
      )
    await expect(first({ selector: {} })).resolves.toMatchObject({ name: 'InvalidArgumentError', field: 'selector' })
    await expect(first({ selector: { serviceIds: [id('web')] }, options: { tail: -1 } })).resolves.toMatchObject({ field: 'options.tail' })
    await expect(first({ selector: { serviceIds: [id('web')] }, options: { since: Number.NaN } })).resolves.toMatchObject({ field: 'options.since' })
    await expect(first({ selector: { serviceIds: [id('web')] }, options: { streams: [] } })).resolves.toBeInstanceOf(InvalidArgumentError)
    await expect(first({ selector: { serviceIds: [id('nope')] } })).resolves.toMatchObject({ name: 'NotFoundError', kind: 'service', id: id('nope') })
    await expect(first({ selector: { taskIds: [id('nope')] } })).resolves.toBeInstanceOf(NotFoundError)
    await expect(first({ selector: { nodeIds: [id('nope')] } })).resolves.toMatchObject({ kind: 'node', id: id('nope') })
  })

  it('a node may not publish lines in the name of another node', async () => {
    await rig.runTask('t1', 'web', 'n1')
    async function* forged(): AsyncGenerator<{ subscriptionId: string; messages: LogMessage[]; close: boolean }> {
      await Promise.resolve()
      yield { subscriptionId: 'x', messages: [msg('t1', 'web', 'n1', 'forged', T0)], close: false }
    }
    await expect(rig.broker.publishLogs(id('n2'), forged())).rejects.toBeInstanceOf(PermissionDeniedError)
  })

  it('stop ends follow subscriptions with UnavailableError and the workers listen again to the next broker', async () => {
    await rig.runTask('t1', 'web', 'n1')
    const worker = rig.worker('n1')
    await until(() => rig.broker.connectedNodes().length === 1)
    const sub = collect(rig.broker.subscribe({ selector: { serviceIds: [id('web')] }, options: { follow: true } }))
    await until(() => worker.activeSubscriptions().length === 1)
    await rig.broker.stop()
    await expect(sub).rejects.toBeInstanceOf(UnavailableError)
    await until(() => worker.activeSubscriptions().length === 0)
    expect(rig.broker.connectedNodes()).toEqual([])
    rig.broker.start()
    await until(() => rig.broker.connectedNodes().length === 1)
    rig.say('t1', 'again', T0 + 5)
    expect(await collect(rig.broker.subscribe({ selector: { taskIds: [id('t1')] } }))).toEqual([msg('t1', 'web', 'n1', 'again', T0 + 5)])
  })

  it("a slow subscriber holds publishers back without losing or reordering a task's lines", async () => {
    const small = new LogsRig(2)
    try {
      await small.addNode('n1')
      await small.addService('web')
      await small.runTask('t1', 'web', 'n1')
      const expected = Array.from({ length: 50 }, (_, i) => msg('t1', 'web', 'n1', `line ${i}`, T0 + i + 1))
      for (let i = 0; i < 50; i++) small.say('t1', `line ${i}`, T0 + i + 1)
      small.worker('n1')
      await until(() => small.broker.connectedNodes().length === 1)
      const got: LogMessage[] = []
      for await (const m of small.broker.subscribe({ selector: { serviceIds: [id('web')] } })) {
        got.push(m)
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
      expect(got).toEqual(expected)
    } finally {
      await small.close()
    }
  })
})
