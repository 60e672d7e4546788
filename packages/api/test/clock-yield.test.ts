import { createConnection, createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { SystemClock, systemClock, yieldToIo } from '../src/index.ts'
import type { Clock } from '../src/index.ts'

describe('Clock.yieldToIo', () => {
  it('on the system clock resolves after the microtasks and the immediates already queued', async () => {
    const order: string[] = []
    setImmediate(() => order.push('immediate'))
    void Promise.resolve().then(() => order.push('microtask'))
    const y = yieldToIo(systemClock)
    expect(y).toBeInstanceOf(Promise)
    await y
    order.push('yielded')
    expect(order).toEqual(['microtask', 'immediate', 'yielded'])
  })

  it('lets a socket write of this turn reach the peer before the caller goes on', async () => {
    const server = createServer()
    const received = new Promise<string>((resolve) => server.on('connection', (s) => s.once('data', (d: Buffer) => resolve(d.toString()))))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const socket = createConnection((server.address() as AddressInfo).port, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    try {
      socket.write('ping')
      await new SystemClock({ unref: true }).yieldToIo()
      expect(socket.bytesWritten).toBe(4)
      expect(await received).toBe('ping')
    } finally {
      socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('is undefined for a clock without it (the caller goes on at once)', () => {
    const virtual: Clock = { now: () => 0, setTimeout: () => ({ cancel: () => undefined }) }
    expect(yieldToIo(virtual)).toBeUndefined()
  })
})
