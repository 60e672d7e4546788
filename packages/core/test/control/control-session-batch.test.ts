import { EventEmitter } from 'node:events'
import { Metadata, type Client, type ClientDuplexStream, type ServerDuplexStream } from '@grpc/grpc-js'
import { InvalidArgumentError, NotFoundError, UnavailableError } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import {
  ControlSessionClient,
  SESSION_IDLE_MS,
  decodeSessionRequests,
  decodeSessionResponses,
  encodeSessionRequests,
  encodeSessionResponses,
  serveControlSession,
  type SessionRequest,
} from '../../src/control/control-session.ts'
import { toGrpcError } from '../../src/rpc/errors.ts'

/** A stream that records what is written to it (a stand-in for grpc-js' duplex streams). */
class FakeStream extends EventEmitter {
  readonly writes: Buffer[] = []
  ended = false
  cancelled = false
  write(b: Buffer): boolean {
    this.writes.push(b)
    return true
  }
  end(): void {
    this.ended = true
  }
  cancel(): void {
    this.cancelled = true
  }
}

/** A grpc-js client whose bidirectional calls are {@link FakeStream}s. */
function fakeClient(): { client: Client; streams: FakeStream[] } {
  const streams: FakeStream[] = []
  const client = {
    makeBidiStreamRequest: () => {
      const s = new FakeStream()
      streams.push(s)
      return s as unknown as ClientDuplexStream<Buffer, Buffer>
    },
  } as unknown as Client
  return { client, streams }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))
const bytes = (s: string): Buffer => Buffer.from(s)

describe('control session batches', () => {
  it('round-trips batches of request and response frames, errors included', () => {
    const calls: SessionRequest[] = [
      { id: 1, method: 'GetService', request: bytes('a') },
      { id: 2, method: 'UpdateService', request: bytes('') },
    ]
    expect(decodeSessionRequests(encodeSessionRequests(calls)).map((c) => ({ ...c, request: Buffer.from(c.request).toString() }))).toEqual([
      { id: 1, method: 'GetService', request: 'a' },
      { id: 2, method: 'UpdateService', request: '' },
    ])
    const answers = decodeSessionResponses(encodeSessionResponses([{ id: 7, response: bytes('ok') }, { id: 8, error: { code: 5, details: 'gone', metadata: { kind: 'service' } } }]))
    expect(answers.map((a) => ('error' in a ? a : { id: a.id, response: Buffer.from(a.response).toString() }))).toEqual([
      { id: 7, response: 'ok' },
      { id: 8, error: { code: 5, details: 'gone', metadata: { kind: 'service' } } },
    ])
    expect(decodeSessionRequests(encodeSessionRequests([]))).toEqual([])
  })

  it('refuses a request frame without a call id, naming it', () => {
    const err = (() => {
      try {
        decodeSessionRequests(encodeSessionRequests([{ id: 1, method: 'A', request: bytes('') }, { id: 0, method: 'B', request: bytes('') }]))
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('calls.1.id')
  })

  it('the client sends the calls of one turn in one message, and settles each from one answer message', async () => {
    const { client, streams } = fakeClient()
    const session = new ControlSessionClient(client, () => new Metadata(), undefined)
    const results = ['a', 'b', 'c'].map((m) => session.call(m, bytes(m)))
    await tick()
    expect(streams).toHaveLength(1)
    const stream = streams[0] as FakeStream
    expect(stream.writes).toHaveLength(1)
    const sent = decodeSessionRequests(stream.writes[0] as Buffer)
    expect(sent.map((c) => [c.id, c.method, Buffer.from(c.request).toString()])).toEqual([
      [1, 'a', 'a'],
      [2, 'b', 'b'],
      [3, 'c', 'c'],
    ])
    // Answers out of order, one of them an error, plus an id nobody waits for.
    const notFound = toGrpcError(new NotFoundError('service', 'b'))
    const metadata: Record<string, string> = {}
    for (const [k, v] of Object.entries(notFound.metadata.getMap())) if (typeof v === 'string') metadata[k] = v
    stream.emit(
      'data',
      encodeSessionResponses([
        { id: 3, response: bytes('C') },
        { id: 99, response: bytes('?') },
        { id: 2, error: { code: notFound.code, details: notFound.details, metadata } },
        { id: 1, response: bytes('A') },
      ]),
    )
    const settled = await Promise.allSettled(results)
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value.toString() : (s.reason as unknown)))).toEqual(['A', expect.any(NotFoundError), 'C'])
    session.close()
  })

  it('a call made after the session broke goes out on a new session; frames queued on the broken one are not resent', async () => {
    const { client, streams } = fakeClient()
    const session = new ControlSessionClient(client, () => new Metadata(), undefined)
    const lost = session.call('a', bytes('a'))
    const first = streams[0] as FakeStream
    // The stream fails before the turn's batch was written: the call fails, its frame is dropped.
    first.emit('error', { code: 14, details: 'connection reset', metadata: new Metadata() })
    expect(await lost.then(() => 'resolved', (e: unknown) => e)).toBeInstanceOf(UnavailableError)
    const next = session.call('b', bytes('b'))
    await tick()
    expect(first.writes).toHaveLength(0)
    const second = streams[1] as FakeStream
    expect(decodeSessionRequests(second.writes[0] as Buffer).map((c) => c.method)).toEqual(['b'])
    second.emit('data', encodeSessionResponses([{ id: 2, response: bytes('B') }]))
    expect((await next).toString()).toBe('B')
    session.close()
  })

  it(`ends an idle session after ${SESSION_IDLE_MS} ms and opens a new one for the next call`, async () => {
    const { client, streams } = fakeClient()
    const session = new ControlSessionClient(client, () => new Metadata(), undefined)
    const one = session.call('a', bytes('a'))
    await tick()
    const first = streams[0] as FakeStream
    first.emit('data', encodeSessionResponses([{ id: 1, response: bytes('A') }]))
    expect((await one).toString()).toBe('A')
    await new Promise((r) => setTimeout(r, SESSION_IDLE_MS + 100))
    expect(first.ended).toBe(true)
    const two = session.call('b', bytes('b'))
    await tick()
    const second = streams[1] as FakeStream
    expect(decodeSessionRequests(second.writes[0] as Buffer).map((c) => [c.id, c.method])).toEqual([[2, 'b']])
    second.emit('data', encodeSessionResponses([{ id: 2, response: bytes('B') }]))
    expect((await two).toString()).toBe('B')
    session.close()
  })

  it('the server answers the calls settled in one turn in one message, and ends after the half-close once all are written', async () => {
    const stream = new FakeStream()
    const gates: (() => void)[] = []
    serveControlSession(stream as unknown as ServerDuplexStream<Buffer, Buffer>, async (method, request) => {
      if (method === 'held') await new Promise<void>((r) => gates.push(r))
      if (method === 'bad') throw new NotFoundError('service', request.toString())
      return Buffer.from(method.toUpperCase())
    })
    stream.emit(
      'data',
      encodeSessionRequests([
        { id: 1, method: 'x', request: bytes('') },
        { id: 2, method: 'bad', request: bytes('s1') },
        { id: 3, method: 'held', request: bytes('') },
        { id: 4, method: 'y', request: bytes('') },
      ]),
    )
    stream.emit('end')
    await tick()
    expect(stream.writes).toHaveLength(1)
    const firstBatch = decodeSessionResponses(stream.writes[0] as Buffer)
    expect(firstBatch.map((a) => a.id)).toEqual([1, 2, 4])
    expect(firstBatch[1]).toMatchObject({ id: 2, error: { code: 5 } })
    expect(stream.ended).toBe(false)
    gates.forEach((g) => g())
    await tick()
    expect(stream.writes).toHaveLength(2)
    expect(decodeSessionResponses(stream.writes[1] as Buffer).map((a) => ('response' in a ? [a.id, Buffer.from(a.response).toString()] : a))).toEqual([[3, 'HELD']])
    expect(stream.ended).toBe(true)
  })

  it('the server ends a session whose batch does not decode with INVALID_ARGUMENT', () => {
    const stream = new FakeStream()
    const errors: unknown[] = []
    stream.on('error', (e) => errors.push(e))
    serveControlSession(stream as unknown as ServerDuplexStream<Buffer, Buffer>, () => Promise.resolve(Buffer.alloc(0)))
    stream.emit('data', Buffer.from([0x0a, 0xff]))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ code: 3 })
    stream.emit('data', encodeSessionRequests([{ id: 1, method: 'x', request: bytes('') }]))
    expect(stream.writes).toHaveLength(0)
  })
})
