import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { DockerEventFeed, type DockerEngineEvent } from '../src/docker/docker-events.ts'
import { nanosToSince } from '../src/docker/docker-wire.ts'

function line(id: string, action: string, nano: bigint): string {
  return `${JSON.stringify({ Type: 'container', Action: action, Actor: { ID: id, Attributes: { exitCode: '3', role: 'x' } }, time: Number(nano / 1_000_000_000n) }).slice(0, -1)},"timeNano":${nano}}\n`
}

describe('DockerEventFeed', () => {
  it('reconnects after the stream ends, resuming with since = the last event time, and drops repeats', async () => {
    const opened: { since: string | undefined; stream: PassThrough }[] = []
    const got: DockerEngineEvent[] = []
    const feed = new DockerEventFeed({
      open: (q) => {
        const stream = new PassThrough()
        opened.push({ since: q.since, stream })
        return Promise.resolve(stream)
      },
      filters: { type: ['container'] },
      onEvent: (e) => got.push(e),
      retryDelayMs: 1,
    })
    await feed.start()
    const t0 = BigInt(Date.now() + 60_000) * 1_000_000n + 456_789n
    const first = opened[0]?.stream
    if (first === undefined) throw new Error('not opened')
    first.write(line('a', 'create', t0).slice(0, 30))
    first.write(line('a', 'create', t0).slice(30) + line('a', 'start', t0 + 1n))
    first.end()
    await expect.poll(() => opened.length).toBe(2)
    expect(opened[1]?.since).toBe(nanosToSince(String(t0 + 1n)))
    // The engine replays from `since` inclusive: the start repeats, then new events follow.
    opened[1]?.stream.write(line('a', 'start', t0 + 1n) + line('a', 'die', t0 + 5n))
    await expect.poll(() => got.length).toBe(3)
    expect(got.map((e) => `${e.id}:${e.action}:${e.timeNano}`)).toEqual([
      `a:create:${t0}`,
      `a:start:${t0 + 1n}`,
      `a:die:${t0 + 5n}`,
    ])
    expect(got[2]?.attributes).toEqual({ exitCode: '3', role: 'x' })
    expect(feed.reconnects).toBe(1)
    feed.close()
  })

  it('retries when reconnecting fails, and stops for good on close; says when a reconnect succeeded (not on start)', async () => {
    let calls = 0
    let resubscribed = 0
    const feed = new DockerEventFeed({
      open: () => {
        calls++
        if (calls === 2) return Promise.reject(new Error('engine restarting'))
        return Promise.resolve(new PassThrough())
      },
      filters: {},
      onEvent: () => undefined,
      onResubscribed: () => resubscribed++,
      retryDelayMs: 1,
    })
    await feed.start()
    expect(resubscribed).toBe(0)
    feed.interrupt()
    await expect.poll(() => calls, { timeout: 5_000 }).toBe(3)
    await expect.poll(() => resubscribed, { timeout: 5_000 }).toBe(1)
    feed.close()
    expect(feed.reconnects).toBe(2)
  })
})
