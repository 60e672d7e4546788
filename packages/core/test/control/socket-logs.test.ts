/**
 * Logs on the local control socket: `serveControlSocket(path, control, { logs })` serves
 * `Logs/SubscribeLogs` forwarded to `logs()` (a manager's client of the leader's broker), and
 * `ControlClient.logs` reads it — request passed through, typed errors kept, follow ended by the
 * subscriber's signal.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { ControlClient } from '../../src/control/control-client.ts'
import { connectControlSocket, serveControlSocket, type ControlSocket } from '../../src/control/control-socket.ts'
import type { LogCallOptions, LogMessage, LogsApi, SubscribeLogsRequest } from '../../src/logs/index.ts'
import { controlRig } from './fixture.ts'

const line = (taskId: string, n: number): LogMessage => ({ serviceId: 's1', nodeId: 'n1', taskId, stream: 'stdout', time: 1_700_000_000_000 + n, line: `line ${n}` })

/** A LogsApi that records each request, yields `messages`, then (with follow) waits for the signal. */
class ScriptedLogs implements LogsApi {
  readonly requests: SubscribeLogsRequest[] = []
  readonly ended: boolean[] = []
  readonly messages: readonly LogMessage[]
  fail: Error | undefined
  constructor(messages: readonly LogMessage[]) {
    this.messages = messages
  }

  async *subscribe(request: SubscribeLogsRequest, options: LogCallOptions = {}): AsyncGenerator<LogMessage> {
    this.requests.push(request)
    if (this.fail !== undefined) throw this.fail
    yield* this.messages
    if (request.options?.follow === true) {
      const signal = options.signal
      if (signal !== undefined && !signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
      this.ended.push(signal?.aborted === true)
    }
  }
}

describe('logs on the local control socket', () => {
  let dir: string
  const sockets: ControlSocket[] = []
  const clients: ControlClient[] = []

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctl-logs-'))
  })
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close()
    for (const s of sockets.splice(0)) await s.close()
    rmSync(dir, { recursive: true, force: true })
  })

  async function serve(logs: LogsApi): Promise<ControlClient> {
    const socket = await serveControlSocket(join(dir, 'control.sock'), controlRig().control, { logs: () => logs })
    sockets.push(socket)
    const client = connectControlSocket(socket.path)
    clients.push(client)
    return client
  }

  it('hands the request to the manager’s logs client and yields its lines in order', async () => {
    const logs = new ScriptedLogs([line('t1', 1), line('t1', 2), line('t2', 3)])
    const client = await serve(logs)
    const got: LogMessage[] = []
    for await (const m of client.logs({ selector: { serviceIds: ['s1'] }, options: { tail: 2, since: 5, streams: ['stdout'] } })) got.push(m)
    expect(got).toEqual([line('t1', 1), line('t1', 2), line('t2', 3)])
    expect(logs.requests).toEqual([{ selector: { serviceIds: ['s1'], taskIds: [], nodeIds: [] }, options: { follow: false, tail: 2, since: 5, streams: ['stdout'] } }])
  })

  it('a typed error of the subscription reaches the client as the same error, field named', async () => {
    const logs = new ScriptedLogs([])
    logs.fail = new InvalidArgumentError('selector', 'names no service, task or node')
    const client = await serve(logs)
    const err = await (async () => {
      for await (const m of client.logs({ selector: { serviceIds: ['s1'] } })) void m
    })().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('selector')
  })

  it('with follow, aborting the subscriber’s signal ends the iteration without an error and ends the forwarded subscription', async () => {
    const logs = new ScriptedLogs([line('t1', 1)])
    const client = await serve(logs)
    const stop = new AbortController()
    const got: LogMessage[] = []
    for await (const m of client.logs({ selector: { serviceIds: ['s1'] }, options: { follow: true } }, { signal: stop.signal })) {
      got.push(m)
      stop.abort()
    }
    expect(got).toEqual([line('t1', 1)])
    for (let i = 0; logs.ended.length === 0 && i < 200; i++) await new Promise((resolve) => setTimeout(resolve, 25))
    expect(logs.ended).toEqual([true])
  })
})
