import { describe, expect, it, vi } from 'vitest'
import { ConsoleLogger, CryptoRandom, silentLogger, sleep, SystemClock, type Clock, type Timer } from '../src/index.ts'

/** A hand-driven clock, enough to test `sleep` without testkit (which depends on this package). */
class StepClock implements Clock {
  t = 1000
  timers: { at: number; fn: () => void; live: boolean }[] = []
  now(): number {
    return this.t
  }
  setTimeout(fn: () => void, ms: number): Timer {
    const entry = { at: this.t + ms, fn, live: true }
    this.timers.push(entry)
    return { cancel: () => void (entry.live = false) }
  }
  fire(): void {
    for (const e of this.timers.splice(0)) if (e.live) e.fn()
  }
}

describe('SystemClock', () => {
  it('reads real time and runs timers', async () => {
    const clock = new SystemClock()
    const before = Date.now()
    expect(clock.now()).toBeGreaterThanOrEqual(before)
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 1))
    let ran = false
    clock.setTimeout(() => (ran = true), 0).cancel()
    await new Promise((r) => setTimeout(r, 5))
    expect(ran).toBe(false)
  })
})

describe('sleep', () => {
  it('resolves when the clock fires', async () => {
    const clock = new StepClock()
    let done = false
    const p = sleep(clock, 50).then(() => (done = true))
    await Promise.resolve()
    expect(done).toBe(false)
    expect(clock.timers[0]?.at).toBe(1050)
    clock.fire()
    await p
    expect(done).toBe(true)
  })

  it('rejects with the abort reason and cancels its timer', async () => {
    const clock = new StepClock()
    const ac = new AbortController()
    const p = sleep(clock, 50, { signal: ac.signal })
    ac.abort(new Error('stop'))
    await expect(p).rejects.toThrow('stop')
    expect(clock.timers[0]?.live).toBe(false)
    await expect(sleep(clock, 1, { signal: AbortSignal.abort(new Error('already')) })).rejects.toThrow('already')
  })
})

describe('CryptoRandom', () => {
  const r = new CryptoRandom()
  it('draws in range', () => {
    expect(r.bytes(16)).toHaveLength(16)
    for (let i = 0; i < 1000; i++) {
      const n = r.int(7)
      expect(Number.isInteger(n) && n >= 0 && n < 7).toBe(true)
      const f = r.float()
      expect(f >= 0 && f < 1).toBe(true)
    }
    const big = r.int(2 ** 53 - 1)
    expect(Number.isSafeInteger(big)).toBe(true)
  })
  it('rejects a bad bound', () => {
    expect(() => r.int(0)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'maxExclusive' }))
    expect(() => r.int(1.5)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'maxExclusive' }))
  })
})

describe('loggers', () => {
  it('silentLogger drops everything, also from children', () => {
    expect(() => silentLogger.child({ a: 1 }).error('x', { y: 2 })).not.toThrow()
  })

  it('ConsoleLogger filters by level and merges bindings', () => {
    const sink = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }
    const log = new ConsoleLogger({ level: 'info', sink, bindings: { component: 'raft' } })
    log.debug('hidden')
    log.info('became leader', { term: 3, id: 2n ** 64n - 1n })
    log.child({ node: 'n1' }).warn('slow disk')
    expect(sink.debug).not.toHaveBeenCalled()
    expect(sink.info).toHaveBeenCalledWith('info became leader {"component":"raft","term":3,"id":"18446744073709551615"}')
    expect(sink.warn).toHaveBeenCalledWith('warn slow disk {"component":"raft","node":"n1"}')
  })
})
