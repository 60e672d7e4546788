import { sleep } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ManualClock, SeededRandom } from '../src/index.ts'

describe('ManualClock', () => {
  it('starts at the given time and only moves when told', () => {
    expect(new ManualClock().now()).toBe(0)
    const clock = new ManualClock(1_700_000_000_000)
    expect(clock.now()).toBe(1_700_000_000_000)
    clock.advance(250)
    expect(clock.now()).toBe(1_700_000_000_250)
    clock.advance(0)
    expect(clock.now()).toBe(1_700_000_000_250)
  })

  it('rejects a negative or non-finite advance and a non-finite start', () => {
    const clock = new ManualClock()
    expect(() => clock.advance(-1)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'ms' }))
    expect(() => clock.advance(Number.NaN)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'ms' }))
    expect(() => clock.advance(Number.POSITIVE_INFINITY)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'ms' }))
    expect(() => new ManualClock(Number.NaN)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'startMs' }))
    expect(clock.now()).toBe(0)
  })

  it('runs timers in due-time order, each seeing its own due time', () => {
    const clock = new ManualClock(1000)
    const seen: [string, number][] = []
    clock.setTimeout(() => seen.push(['c', clock.now()]), 30)
    clock.setTimeout(() => seen.push(['a', clock.now()]), 10)
    clock.setTimeout(() => seen.push(['b', clock.now()]), 20)
    clock.advance(25)
    expect(seen).toEqual([
      ['a', 1010],
      ['b', 1020],
    ])
    expect(clock.now()).toBe(1025)
    expect(clock.pending()).toBe(1)
    expect(clock.nextDueAt()).toBe(1030)
    clock.advance(5)
    expect(seen).toEqual([
      ['a', 1010],
      ['b', 1020],
      ['c', 1030],
    ])
    expect(clock.pending()).toBe(0)
    expect(clock.nextDueAt()).toBeUndefined()
  })

  it('runs timers due at the same instant in scheduling order (FIFO)', () => {
    const clock = new ManualClock()
    const seen: number[] = []
    for (let i = 0; i < 10; i++) clock.setTimeout(() => seen.push(i), 5)
    clock.setTimeout(() => seen.push(-1), 4)
    clock.advance(5)
    expect(seen).toEqual([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('clamps negative and NaN delays to 0', () => {
    const clock = new ManualClock(50)
    const seen: string[] = []
    clock.setTimeout(() => seen.push('neg'), -10)
    clock.setTimeout(() => seen.push('nan'), Number.NaN)
    expect(clock.nextDueAt()).toBe(50)
    clock.advance(0)
    expect(seen).toEqual(['neg', 'nan'])
    expect(clock.now()).toBe(50)
  })

  it('never runs a cancelled timer; cancel is idempotent and a no-op after running', () => {
    const clock = new ManualClock()
    const seen: string[] = []
    const a = clock.setTimeout(() => seen.push('a'), 10)
    const b = clock.setTimeout(() => seen.push('b'), 10)
    const c = clock.setTimeout(() => seen.push('c'), 20)
    b.cancel()
    b.cancel()
    expect(clock.pending()).toBe(2)
    clock.advance(10)
    a.cancel()
    expect(clock.pending()).toBe(1)
    c.cancel()
    expect(clock.pending()).toBe(0)
    clock.advance(100)
    expect(seen).toEqual(['a'])
  })

  it('lets a callback cancel a later timer due in the same advance', () => {
    const clock = new ManualClock()
    const seen: string[] = []
    const later = clock.setTimeout(() => seen.push('later'), 20)
    clock.setTimeout(() => {
      seen.push('first')
      later.cancel()
    }, 10)
    clock.advance(30)
    expect(seen).toEqual(['first'])
  })

  it('runs timers scheduled by callbacks when they fall within the advance window', () => {
    const clock = new ManualClock()
    const seen: [string, number][] = []
    clock.setTimeout(() => {
      seen.push(['outer', clock.now()])
      clock.setTimeout(() => seen.push(['inner+5', clock.now()]), 5)
      clock.setTimeout(() => seen.push(['inner+0', clock.now()]), 0)
      clock.setTimeout(() => seen.push(['inner+100', clock.now()]), 100)
    }, 10)
    clock.setTimeout(() => seen.push(['sibling', clock.now()]), 12)
    clock.advance(20)
    expect(seen).toEqual([
      ['outer', 10],
      ['inner+0', 10],
      ['sibling', 12],
      ['inner+5', 15],
    ])
    expect(clock.now()).toBe(20)
    expect(clock.nextDueAt()).toBe(110)
  })

  it('never goes backwards when a callback advances the clock itself', () => {
    const clock = new ManualClock()
    const seen: [string, number][] = []
    clock.setTimeout(() => {
      seen.push(['outer', clock.now()])
      clock.advance(50)
    }, 10)
    clock.setTimeout(() => seen.push(['second', clock.now()]), 20)
    clock.setTimeout(() => seen.push(['third', clock.now()]), 100)
    clock.advance(30)
    expect(seen).toEqual([
      ['outer', 10],
      ['second', 20],
    ])
    expect(clock.now()).toBe(60)
    clock.advance(40)
    expect(seen.at(-1)).toEqual(['third', 100])
  })

  it('runNext runs exactly the earliest timer and jumps time to it', () => {
    const clock = new ManualClock()
    const seen: string[] = []
    clock.setTimeout(() => seen.push('b'), 200)
    clock.setTimeout(() => seen.push('a'), 100)
    expect(clock.runNext()).toBe(true)
    expect(seen).toEqual(['a'])
    expect(clock.now()).toBe(100)
    expect(clock.runNext()).toBe(true)
    expect(clock.now()).toBe(200)
    expect(clock.runNext()).toBe(false)
    expect(clock.now()).toBe(200)
  })

  it('runAll drains every timer, including rescheduled ones, and returns the count', () => {
    const clock = new ManualClock()
    let ticks = 0
    const tick = (): void => {
      ticks++
      if (ticks < 5) clock.setTimeout(tick, 1000)
    }
    clock.setTimeout(tick, 1000)
    clock.setTimeout(() => undefined, 2500)
    expect(clock.runAll()).toBe(6)
    expect(ticks).toBe(5)
    expect(clock.now()).toBe(5000)
    expect(clock.runAll()).toBe(0)
  })

  it('runAll throws when a callback keeps rescheduling itself past the limit', () => {
    const clock = new ManualClock()
    let runs = 0
    const forever = (): void => {
      runs++
      clock.setTimeout(forever, 1)
    }
    clock.setTimeout(forever, 1)
    expect(() => clock.runAll({ limit: 50 })).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'timers-still-pending' }))
    expect(runs).toBe(50)
    expect(clock.now()).toBe(50)
    expect(clock.pending()).toBe(1)
  })

  it('leaves the clock at the throwing callback and keeps later timers', () => {
    const clock = new ManualClock()
    const seen: string[] = []
    clock.setTimeout(() => {
      throw new Error('boom')
    }, 10)
    clock.setTimeout(() => seen.push('later'), 20)
    expect(() => clock.advance(30)).toThrow('boom')
    expect(clock.now()).toBe(10)
    expect(clock.pending()).toBe(1)
    clock.advance(20)
    expect(seen).toEqual(['later'])
    expect(clock.now()).toBe(30)
  })

  it('drives sleep() from @swarmkit-ts/api', async () => {
    const clock = new ManualClock()
    let done = false
    const p = sleep(clock, 1000).then(() => {
      done = true
    })
    clock.advance(999)
    await Promise.resolve()
    expect(done).toBe(false)
    clock.advance(1)
    await p
    expect(done).toBe(true)
  })

  it('handles 100,000 timers in order, with a third cancelled', () => {
    const clock = new ManualClock()
    const n = 100_000
    const seeded = new SeededRandom(42)
    const random = Array.from({ length: n }, () => seeded.int(1_000_001))
    const order: number[] = []
    const timers = random.map((delay, i) => clock.setTimeout(() => order.push(i), delay))
    for (let i = 0; i < n; i += 3) timers[i]?.cancel()
    expect(clock.pending()).toBe(n - Math.ceil(n / 3))
    clock.advance(1_000_000)
    expect(order.length).toBe(n - Math.ceil(n / 3))
    for (let k = 1; k < order.length; k++) {
      const prev = order[k - 1] as number
      const cur = order[k] as number
      const dPrev = random[prev] as number
      const dCur = random[cur] as number
      if (dPrev > dCur || (dPrev === dCur && prev > cur)) throw new Error(`out of order at ${k}: ${prev}@${dPrev} before ${cur}@${dCur}`)
    }
    expect(order.some((i) => i % 3 === 0)).toBe(false)
    expect(clock.pending()).toBe(0)
  })

  it('property: any schedule/cancel mix runs exactly the live timers, sorted by (due, seq)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ delay: fc.integer({ min: -5, max: 50 }), cancel: fc.boolean() }), { maxLength: 60 }),
        fc.array(fc.nat(30), { maxLength: 5 }),
        (specs, steps) => {
          const clock = new ManualClock()
          const ran: number[] = []
          const timers = specs.map((s, i) => clock.setTimeout(() => ran.push(i), s.delay))
          specs.forEach((s, i) => {
            if (s.cancel) timers[i]?.cancel()
          })
          for (const step of steps) clock.advance(step)
          clock.runAll()
          const expected = specs
            .map((s, i) => ({ i, due: Math.max(0, s.delay), cancel: s.cancel }))
            .filter((x) => !x.cancel)
            .sort((a, b) => a.due - b.due || a.i - b.i)
            .map((x) => x.i)
          expect(ran).toEqual(expected)
        },
      ),
      { numRuns: 300 },
    )
  })
})
