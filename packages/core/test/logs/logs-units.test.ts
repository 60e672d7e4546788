import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, silentLogger, UnavailableError } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { AsyncQueue } from '../../src/logs/async-queue.ts'
import { LogBrokerComponent, selects, validateSubscribeRequest, type LogMessage, type LogSubscriptionOptions } from '../../src/logs/index.ts'
import { logsCodec } from '../../src/logs/wire.ts'

const arbId = fc.stringMatching(/^[0-9a-z]{1,25}$/)
const arbStream = fc.constantFrom<LogMessage['stream']>('stdout', 'stderr')
const arbOptions: fc.Arbitrary<LogSubscriptionOptions> = fc.record(
  {
    follow: fc.boolean(),
    tail: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    since: fc.double({ min: 0, max: 4e12, noNaN: true }),
    streams: fc.uniqueArray(arbStream, { minLength: 1 }),
  },
  { requiredKeys: ['follow'] },
)
const arbMessage: fc.Arbitrary<LogMessage> = fc.record({
  serviceId: arbId,
  nodeId: arbId,
  taskId: arbId,
  stream: arbStream,
  time: fc.double({ min: 0, max: 4e12, noNaN: true }),
  line: fc.string({ unit: 'grapheme', maxLength: 200 }),
})

describe('subscription requests', () => {
  it('validation names the offending field', () => {
    const field = (f: () => unknown): string | undefined => {
      try {
        f()
        return undefined
      } catch (err) {
        return err instanceof InvalidArgumentError ? err.field : 'not an InvalidArgumentError'
      }
    }
    expect(field(() => validateSubscribeRequest({ selector: { serviceIds: [] } }))).toBe('selector')
    expect(field(() => validateSubscribeRequest({ selector: { taskIds: ['a', ''] } }))).toBe('selector.taskIds[1]')
    expect(field(() => validateSubscribeRequest({ selector: { nodeIds: ['a'] }, options: { tail: 1.5 } }))).toBe('options.tail')
    expect(field(() => validateSubscribeRequest({ selector: { nodeIds: ['a'] }, options: { since: -1 } }))).toBe('options.since')
    expect(field(() => validateSubscribeRequest({ selector: { nodeIds: ['a'] }, options: { streams: ['stdin' as 'stdout'] } }))).toBe('options.streams[0]')
  })

  it('normalizes: lists present and deduplicated, follow set, absent options left out', () => {
    expect(validateSubscribeRequest({ selector: { serviceIds: ['s', 's'] }, options: { tail: 0 } })).toEqual({
      selector: { serviceIds: ['s'], taskIds: [], nodeIds: [] },
      options: { follow: false, tail: 0 },
    })
  })

  it('property: a valid request normalizes to itself (idempotent) and selects exactly the tasks its lists name', () => {
    fc.assert(
      fc.property(
        fc.record({ serviceIds: fc.array(arbId, { maxLength: 3 }), taskIds: fc.array(arbId, { maxLength: 3 }), nodeIds: fc.array(arbId, { maxLength: 3 }) }),
        arbOptions,
        fc.record({ id: arbId, serviceId: arbId, nodeId: fc.oneof(fc.constant(''), arbId) }),
        (selector, options, task) => {
          fc.pre(selector.serviceIds.length + selector.taskIds.length + selector.nodeIds.length > 0)
          const once = validateSubscribeRequest({ selector, options })
          expect(validateSubscribeRequest(once)).toEqual(once)
          const expected = selector.taskIds.includes(task.id) || selector.serviceIds.includes(task.serviceId) || (task.nodeId !== '' && selector.nodeIds.includes(task.nodeId))
          expect(selects(once.selector, task)).toBe(expected)
        },
      ),
    )
  })
})

describe('wire codec', () => {
  it('property: requests, subscriptions and published lines survive encoding', () => {
    fc.assert(
      fc.property(fc.array(arbId, { minLength: 1, maxLength: 3 }), arbOptions, fc.array(arbMessage, { maxLength: 5 }), fc.boolean(), (ids, options, messages, close) => {
        const selector = { serviceIds: ids, taskIds: [], nodeIds: ids.slice(1) }
        expect(logsCodec.decodeSubscribeRequest(logsCodec.encodeSubscribeRequest({ selector, options }))).toEqual({ selector, options })
        expect(logsCodec.decodeSubscription(logsCodec.encodeSubscription({ id: ids[0] ?? '', selector, options, close }))).toEqual({
          id: ids[0],
          selector,
          options,
          close,
        })
        expect(logsCodec.decodePublish(logsCodec.encodePublish({ subscriptionId: 'sub', messages, close }))).toEqual({ subscriptionId: 'sub', messages, close })
        expect(logsCodec.decodeBatch(logsCodec.encodeBatch(messages))).toEqual(messages)
      }),
    )
  })

  it('malformed bytes and unknown streams are InvalidArgumentError, not a crash', () => {
    expect(() => logsCodec.decodePublish(Buffer.from([0x0a, 0xff]))).toThrow(InvalidArgumentError)
    // PublishLogsMessage { messages: [{ stream: 7 }] }: field 2 (len 2) holding field 4 varint 7.
    const err = (() => {
      try {
        logsCodec.decodePublish(Buffer.from([0x12, 0x02, 0x20, 0x07]))
        return undefined
      } catch (e) {
        return e
      }
    })()
    expect(err).toMatchObject({ name: 'InvalidArgumentError', field: 'messages[0].stream' })
  })
})

describe('AsyncQueue', () => {
  it('push waits while the queue is full and resumes as the consumer reads', async () => {
    const q = new AsyncQueue<number>(2)
    const order: string[] = []
    const pushes = [1, 2, 3].map((n) => q.push(n).then(() => order.push(`pushed ${n}`)))
    await Promise.resolve()
    await Promise.resolve()
    expect(order).toEqual(['pushed 1', 'pushed 2'])
    expect(await q.next()).toEqual({ value: 1, done: false })
    await Promise.all(pushes)
    expect(order).toEqual(['pushed 1', 'pushed 2', 'pushed 3'])
  })

  it('fail delivers the queued values first, then the error; return drops the rest and calls onReturn once', async () => {
    const q = new AsyncQueue<string>(10)
    await q.push('a')
    q.fail(new UnavailableError('gone'))
    expect(await q.next()).toEqual({ value: 'a', done: false })
    await expect(q.next()).rejects.toThrow('gone')
    let returned = 0
    const r = new AsyncQueue<string>(10, () => returned++)
    await r.push('x')
    await r.return()
    await r.return()
    await r.push('y')
    expect(await r.next()).toEqual({ value: undefined, done: true })
    expect(returned).toBe(1)
  })
})

describe('LogBrokerComponent', () => {
  it('runs a broker per leader term: current() while leading, undefined and its subscriptions ended after stop', async () => {
    const component = new LogBrokerComponent()
    expect(component.name).toBe('log-broker')
    expect(component.current()).toBeUndefined()
    const clock = new ManualClock(0)
    const store = new MemoryStore({ clock })
    const ctx = { store, clock, random: new SeededRandom(1), logger: silentLogger, nodeId: 'm1', raftId: 1n, signal: new AbortController().signal }
    const handle = component.start(ctx)
    const broker = component.current()
    expect(broker?.running).toBe(true)
    const listen = broker?.listenSubscriptions('n1')[Symbol.asyncIterator]()
    await handle.stop()
    expect(component.current()).toBeUndefined()
    expect(broker?.running).toBe(false)
    expect(await listen?.next()).toEqual({ value: undefined, done: true })
    component.start(ctx)
    expect(component.current()).not.toBe(broker)
  })
})
