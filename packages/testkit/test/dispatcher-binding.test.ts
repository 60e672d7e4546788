import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotLeaderError,
  PermissionDeniedError,
  TaskState,
  UnavailableError,
  type AssignmentsMessage,
  type Node,
  type SessionMessage,
} from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { inProcessDispatcher, ManualClock, SeededRandom, type DispatcherFaults } from '../src/index.ts'
import { FakeDispatcher, flush } from './dispatcher-binding-target.ts'

const node: Node = {
  id: 'n'.repeat(25),
  meta: { version: { index: 3n }, createdAt: 1, updatedAt: 2 },
  spec: { annotations: { name: 'w1' }, desiredRole: 'worker', membership: 'accepted', availability: 'active' },
  status: { state: 'ready' },
  role: 'worker',
}
const sessionMessage = (sessionId: string): SessionMessage => ({ sessionId, node, managers: [{ nodeId: 'm'.repeat(25), addr: '10.0.0.1:4242', weight: 1 }], networkBootstrapKeys: [], rootCa: new Uint8Array([1, 2]) })
const assignments = (n: number): AssignmentsMessage => ({ type: n === 0 ? 'complete' : 'incremental', appliesTo: n === 0 ? '' : String(n - 1), resultsIn: String(n), changes: [] })

function setup(faults?: DispatcherFaults, seed = 1): { target: FakeDispatcher; clock: ManualClock; binding: ReturnType<typeof inProcessDispatcher> } {
  const target = new FakeDispatcher()
  const clock = new ManualClock()
  const binding = inProcessDispatcher(target, { clock, random: new SeededRandom(seed), ...(faults === undefined ? {} : { faults }) })
  return { target, clock, binding }
}

/** Collects a stream's outcome: the messages read and how it ended. */
async function drain<M>(stream: AsyncIterable<M>): Promise<{ messages: M[]; error: unknown }> {
  const messages: M[] = []
  try {
    for await (const m of stream) messages.push(m)
    return { messages, error: undefined }
  } catch (error) {
    return { messages, error }
  }
}

describe('inProcessDispatcher without faults', () => {
  it('carries calls at once, handing the target a decoded copy of each request', async () => {
    const { target, binding } = setup()
    const request = { sessionId: 's1', updates: [{ taskId: 't'.repeat(25), status: { timestamp: 5, state: TaskState.RUNNING, message: 'started' } }] }
    await binding.updateTaskStatus(request)
    expect(await binding.heartbeat({ sessionId: 's1' })).toStrictEqual({ periodMs: 5000 })
    expect(target.requests).toStrictEqual([
      { call: 'updateTaskStatus', request },
      { call: 'heartbeat', request: { sessionId: 's1' } },
    ])
    expect(target.requests[0]?.request).not.toBe(request)
    expect(binding.faults.stats).toStrictEqual({ calls: 2, messages: 0, dropped: 0 })
  })

  it('streams the target messages in order, as decoded copies, and ends when the target ends', async () => {
    const { target, binding } = setup()
    const out = drain(binding.assignments({ sessionId: 's1' }))
    await flush()
    const pipe = target.assignmentStreams[0]
    if (pipe === undefined) throw new Error('stream not opened')
    const sent = [assignments(0), assignments(1), assignments(2)]
    for (const m of sent) pipe.push(m)
    pipe.end()
    const { messages, error } = await out
    expect(error).toBeUndefined()
    expect(messages).toStrictEqual(sent)
    expect(messages[0]).not.toBe(sent[0])
    expect(target.requests).toStrictEqual([{ call: 'assignments', request: { sessionId: 's1' } }])
  })

  it('delivers the typed errors as the same classes with the same fields', async () => {
    const { target, binding } = setup()
    target.heartbeatAnswer = new FailedPreconditionError('session s1 is not known', { reason: 'session-invalid' })
    await expect(binding.heartbeat({ sessionId: 's1' })).rejects.toStrictEqual(new FailedPreconditionError('session s1 is not known', { reason: 'session-invalid' }))
    target.heartbeatAnswer = new NotLeaderError({ leaderAddr: '10.0.0.9:4242', leaderId: 2n ** 63n })
    const notLeader: unknown = await binding.heartbeat({ sessionId: 's1' }).catch((e: unknown) => e)
    expect(notLeader).toBeInstanceOf(NotLeaderError)
    expect(notLeader).toMatchObject({ leaderAddr: '10.0.0.9:4242', leaderId: 2n ** 63n, message: 'not the leader; leader is 10.0.0.9:4242' })
    target.updateError = new PermissionDeniedError('task t1 is not assigned to this node')
    const denied: unknown = await binding.updateTaskStatus({ sessionId: 's1', updates: [] }).catch((e: unknown) => e)
    expect(denied).toBeInstanceOf(PermissionDeniedError)
    expect(denied).toMatchObject({ name: 'PermissionDeniedError', message: 'task t1 is not assigned to this node', role: undefined })
    target.heartbeatAnswer = new Error('plain')
    await expect(binding.heartbeat({ sessionId: 's1' })).rejects.toStrictEqual(new Error('plain'))
  })

  it('ends a stream with the error the target ended it with, after the messages before it', async () => {
    const { target, binding } = setup()
    const out = drain(binding.session({ description: { hostname: 'h' } }))
    await flush()
    target.sessions[0]?.push(sessionMessage('s1'))
    target.sessions[0]?.fail(new UnavailableError('too many registrations'))
    const { messages, error } = await out
    expect(messages).toStrictEqual([sessionMessage('s1')])
    expect(error).toBeInstanceOf(UnavailableError)
    expect((error as Error).message).toBe('too many registrations')
    expect(target.requests).toStrictEqual([{ call: 'session', request: { description: { hostname: 'h' } } }])
  })

  it("ends a stream without an error when the caller's signal aborts, and cancels the target's stream", async () => {
    const { target, binding } = setup()
    const ac = new AbortController()
    const out = drain(binding.session({ description: {} }, { signal: ac.signal }))
    await flush()
    target.sessions[0]?.push(sessionMessage('s1'))
    await flush()
    ac.abort()
    expect(await out).toStrictEqual({ messages: [sessionMessage('s1')], error: undefined })
    expect(target.sessions[0]?.signal?.aborted).toBe(true)
  })

  it("cancels the target's stream when the caller stops iterating", async () => {
    const { target, binding } = setup()
    const stream = binding.assignments({ sessionId: 's1' })
    const reading = (async (): Promise<AssignmentsMessage[]> => {
      const got: AssignmentsMessage[] = []
      for await (const m of stream) {
        got.push(m)
        break
      }
      return got
    })()
    await flush()
    target.assignmentStreams[0]?.push(assignments(0))
    expect(await reading).toStrictEqual([assignments(0)])
    expect(target.assignmentStreams[0]?.signal?.aborted).toBe(true)
  })

  it('answers calls of next() made before the messages arrive in order, and the end to those beyond it', async () => {
    const { target, binding } = setup()
    const it = binding.assignments({ sessionId: 's1' })[Symbol.asyncIterator]()
    const reads = [it.next(), it.next(), it.next()]
    await flush()
    target.assignmentStreams[0]?.push(assignments(0))
    target.assignmentStreams[0]?.end()
    expect(await Promise.all(reads)).toStrictEqual([
      { done: false, value: assignments(0) },
      { done: true, value: undefined },
      { done: true, value: undefined },
    ])
  })

  it('rejects a request that does not fit the wire naming the field, without reaching the target', async () => {
    const { target, binding } = setup()
    await expect(binding.heartbeat({ sessionId: 7 } as unknown as { sessionId: string })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'sessionId' })
    const { error } = await drain(binding.assignments({ sessionId: 's', extra: 1 } as unknown as { sessionId: string }))
    expect(error).toMatchObject({ name: 'InvalidArgumentError', field: 'extra' })
    expect(target.requests).toStrictEqual([])
  })

  it('draws nothing from its Random and sets no timer', async () => {
    const target = new FakeDispatcher()
    const clock = new ManualClock()
    const refuse = (): never => {
      throw new Error('drawn')
    }
    const binding = inProcessDispatcher(target, { clock, random: { bytes: refuse, int: refuse, float: refuse } })
    const out = drain(binding.assignments({ sessionId: 's1' }))
    await binding.heartbeat({ sessionId: 's1' })
    await flush()
    target.assignmentStreams[0]?.push(assignments(0))
    target.assignmentStreams[0]?.end()
    expect(await out).toStrictEqual({ messages: [assignments(0)], error: undefined })
    expect(clock.pending()).toBe(0)
    expect(binding.faults.stats).toStrictEqual({ calls: 2, messages: 1, dropped: 0 })
  })

  it('refuses bad fault settings naming the field', () => {
    expect(() => setup({ drop: 2 })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'faults.drop' }))
    const { binding } = setup()
    expect(() => binding.faults.set({ delayMs: [5, 1] })).toThrow(InvalidArgumentError)
    expect(() => binding.faults.set({ delayMs: [5, 1] })).toThrow(expect.objectContaining({ field: 'faults.delayMs' }))
  })
})

describe('inProcessDispatcher with faults', () => {
  it('delays a call by the drawn transit time on the clock', async () => {
    const { target, clock, binding } = setup({ delayMs: [30, 30] })
    let answered = false
    const call = binding.heartbeat({ sessionId: 's1' }).then((r) => {
      answered = true
      return r
    })
    await flush()
    clock.advance(29)
    await flush()
    expect([answered, target.requests.length]).toStrictEqual([false, 0])
    clock.advance(1)
    expect(await call).toStrictEqual({ periodMs: 5000 })
    expect(clock.pending()).toBe(0)
  })

  it('keeps stream messages in order under random delays (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 12 }), async (seed, n) => {
        const { target, clock, binding } = setup({ delayMs: [0, 50] }, seed)
        const out = drain(binding.assignments({ sessionId: 's' }))
        clock.runAll()
        await flush()
        const pipe = target.assignmentStreams[0]
        if (pipe === undefined) throw new Error('stream not opened')
        for (let i = 0; i < n; i++) {
          pipe.push(assignments(i))
          await flush()
          clock.advance(7)
        }
        pipe.end()
        await flush()
        clock.runAll()
        const { messages, error } = await out
        expect(error).toBeUndefined()
        expect(messages.map((m) => m.resultsIn)).toStrictEqual(Array.from({ length: n }, (_, i) => String(i)))
        expect(clock.pending()).toBe(0)
      }),
      { numRuns: 30 },
    )
  })

  it('loses a call as its request (target untouched) or its response (target applied), both with UnavailableError', async () => {
    const { target, binding } = setup({ drop: 1 }, 42)
    const outcomes: string[] = []
    for (let i = 0; i < 20; i++) {
      const before = target.requests.length
      const err: unknown = await binding.heartbeat({ sessionId: 's1' }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(UnavailableError)
      outcomes.push(target.requests.length > before ? 'response' : 'request')
    }
    expect(new Set(outcomes)).toStrictEqual(new Set(['request', 'response']))
    expect(binding.faults.stats).toStrictEqual({ calls: 20, messages: 0, dropped: 20 })
  })

  it('ends a stream with UnavailableError when a message is lost, after the messages sent before it', async () => {
    const { target, binding } = setup()
    const out = drain(binding.assignments({ sessionId: 's1' }))
    await flush()
    const pipe = target.assignmentStreams[0]
    pipe?.push(assignments(0))
    await flush()
    binding.faults.set({ drop: 1 })
    pipe?.push(assignments(1))
    pipe?.push(assignments(2))
    const { messages, error } = await out
    expect(messages).toStrictEqual([assignments(0)])
    expect(error).toBeInstanceOf(UnavailableError)
    expect(pipe?.signal?.aborted).toBe(true)
    expect(binding.faults.stats).toStrictEqual({ calls: 1, messages: 1, dropped: 1 })
  })

  it('a signal aborted while the request is in transit ends the stream without an error, the target never asked', async () => {
    const { target, clock, binding } = setup({ delayMs: [25, 25] })
    const ac = new AbortController()
    const out = drain(binding.session({ description: {} }, { signal: ac.signal }))
    await flush()
    expect(clock.pending()).toBe(1)
    ac.abort()
    expect(await out).toStrictEqual({ messages: [], error: undefined })
    expect(clock.pending()).toBe(0)
    clock.advance(25)
    await flush()
    expect(target.requests).toStrictEqual([])
  })

  it('disconnect ends open streams at once, fails calls until reconnect, and loses what is in transit', async () => {
    const { target, clock, binding } = setup({ delayMs: [10, 10] })
    const session = drain(binding.session({ description: {} }))
    clock.advance(10)
    await flush()
    target.sessions[0]?.push(sessionMessage('s1'))
    await flush()
    clock.advance(10)
    target.sessions[0]?.push(sessionMessage('s2'))
    await flush()
    const inFlight = binding.heartbeat({ sessionId: 's1' })
    binding.faults.disconnect()
    expect(binding.faults.connected).toBe(false)
    const { messages, error } = await session
    expect(messages).toStrictEqual([sessionMessage('s1')])
    expect(error).toBeInstanceOf(UnavailableError)
    expect(target.sessions[0]?.signal?.aborted).toBe(true)
    await expect(inFlight).rejects.toBeInstanceOf(UnavailableError)
    await expect(binding.updateTaskStatus({ sessionId: 's1', updates: [] })).rejects.toBeInstanceOf(UnavailableError)
    expect((await drain(binding.assignments({ sessionId: 's1' }))).error).toBeInstanceOf(UnavailableError)
    expect(clock.pending()).toBe(0)
    expect(target.requests.map((r) => r.call)).toStrictEqual(['session'])
    binding.faults.reconnect()
    const again = binding.heartbeat({ sessionId: 's1' })
    clock.advance(10)
    expect(await again).toStrictEqual({ periodMs: 5000 })
  })

  it("disconnect half-open fails the caller's streams but leaves the target's open, its messages lost", async () => {
    const { target, binding } = setup()
    const session = drain(binding.session({ description: {} }))
    await flush()
    const pipe = target.sessions[0]
    pipe?.push(sessionMessage('s1'))
    await flush()
    binding.faults.disconnect({ halfOpen: true })
    const { messages, error } = await session
    expect(messages).toStrictEqual([sessionMessage('s1')])
    expect(error).toBeInstanceOf(UnavailableError)
    pipe?.push(sessionMessage('s2'))
    await flush()
    expect(pipe?.signal?.aborted).toBe(false)
    expect(binding.faults.stats.messages).toBe(1)
    pipe?.end()
    await flush()
    binding.faults.reconnect()
    binding.faults.disconnect()
    const next = drain(binding.session({ description: {} }))
    expect((await next).error).toBeInstanceOf(UnavailableError)
  })

  it('a call in flight at the target when the connection is cut rejects at once', async () => {
    const { target, binding } = setup()
    let open = (): void => undefined
    target.heartbeatGate = new Promise<void>((resolve) => (open = resolve))
    const call = binding.heartbeat({ sessionId: 's1' })
    await flush()
    expect(target.requests).toHaveLength(1)
    binding.faults.disconnect()
    await expect(call).rejects.toBeInstanceOf(UnavailableError)
    open()
  })

  it('draws the same faults from the same seed', async () => {
    const trace = async (seed: number): Promise<string[]> => {
      const { clock, binding } = setup({ delayMs: [0, 20], drop: 0.3 }, seed)
      const out: string[] = []
      for (let i = 0; i < 30; i++) {
        const call = binding.heartbeat({ sessionId: 's' }).then(
          () => 'ok',
          (e: unknown) => (e as Error).message,
        )
        clock.runAll()
        out.push(`${clock.now()} ${await call}`)
      }
      return out
    }
    const a = await trace(7)
    expect(await trace(7)).toStrictEqual(a)
    expect(await trace(8)).not.toStrictEqual(a)
    expect(a.some((l) => l.endsWith(' ok'))).toBe(true)
    expect(a.some((l) => l.endsWith('lost'))).toBe(true)
  })
})
