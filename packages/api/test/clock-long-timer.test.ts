import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SystemClock } from '../src/clock.ts'

describe('SystemClock timers beyond Node’s 2^31 − 1 ms limit', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('a 60-day timer fires after 60 days, not at once', () => {
    const fired: number[] = []
    const days60 = 60 * 86_400_000
    new SystemClock().setTimeout(() => fired.push(Date.now()), days60)
    const start = Date.now()
    vi.advanceTimersByTime(days60 - 1)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual([start + days60])
  })

  it('cancelling a long timer after its first link still cancels it', () => {
    let fired = false
    const timer = new SystemClock().setTimeout(() => (fired = true), 3 * 2_147_483_647)
    vi.advanceTimersByTime(2_147_483_647 + 10)
    timer.cancel()
    vi.advanceTimersByTime(3 * 2_147_483_647)
    expect(fired).toBe(false)
  })
})
