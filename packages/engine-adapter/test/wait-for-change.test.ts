import { describe, expect, it } from 'vitest'
import { waitForChange } from '../src/shared/wait-for-change.ts'

describe('waitForChange', () => {
  it('resolves when the owner calls the wakers', async () => {
    const wakers: (() => void)[] = []
    const p = waitForChange(wakers, undefined)
    expect(wakers).toHaveLength(1)
    for (const w of wakers.splice(0)) w()
    await expect(p).resolves.toBeUndefined()
  })

  it('an aborted reader resolves and takes its waker back', async () => {
    const wakers: (() => void)[] = []
    const ac = new AbortController()
    const kept = waitForChange(wakers, undefined)
    const gone = waitForChange(wakers, ac.signal)
    expect(wakers).toHaveLength(2)
    ac.abort()
    await expect(gone).resolves.toBeUndefined()
    expect(wakers).toHaveLength(1)
    for (const w of wakers.splice(0)) w()
    await expect(kept).resolves.toBeUndefined()
  })

  it('resolves at once for a signal that is already aborted, registering nothing', async () => {
    const wakers: (() => void)[] = []
    await expect(waitForChange(wakers, AbortSignal.abort())).resolves.toBeUndefined()
    expect(wakers).toHaveLength(0)
  })
})
