import { describe, expect, it } from 'vitest'
import { Inflights } from '../src/core/inflights.ts'
import { Progress } from '../src/core/progress.ts'

const mk = (match: number, next: number, maxInflight = 3): Progress => new Progress({ match, next, maxInflight, isLearner: false, recentActive: true })

describe('Inflights', () => {
  it('fills, frees up to an index, and resets', () => {
    const f = new Inflights(3)
    f.add(5)
    f.add(7)
    expect([f.count, f.full()]).toEqual([2, false])
    f.add(9)
    expect(f.full()).toBe(true)
    f.freeLE(7)
    expect(f.count).toBe(1)
    f.freeLE(100)
    expect(f.count).toBe(0)
    for (let i = 0; i < 200; i++) {
      f.add(i + 200)
      f.freeLE(i + 200)
    }
    expect(f.count).toBe(0)
    f.add(1000)
    expect(f.clone().count).toBe(1)
    f.reset()
    expect(f.count).toBe(0)
  })
})

describe('Progress', () => {
  it('probe: one append in flight until an answer or heartbeat', () => {
    const p = mk(3, 5)
    expect(p.isPaused()).toBe(false)
    p.sentEntries(2, 6)
    expect([p.isPaused(), p.next]).toEqual([true, 5])
    expect(p.maybeUpdate(6)).toBe(true)
    expect([p.match, p.next, p.isPaused()]).toEqual([6, 7, false])
    expect(p.maybeUpdate(4)).toBe(false)
  })

  it('replicate: optimistic next, bounded by the in-flight window', () => {
    const p = mk(3, 4)
    p.becomeReplicate()
    p.sentEntries(2, 5)
    p.sentEntries(1, 6)
    p.sentEntries(1, 7)
    expect([p.next, p.inflights.count, p.isPaused()]).toEqual([8, 3, true])
    p.maybeUpdate(6)
    p.inflights.freeLE(6)
    expect(p.inflights.count).toBe(1)
  })

  it('rejections: stale ones are ignored; probe backs up to the hint; replicate falls back to match + 1', () => {
    const p = mk(5, 10)
    expect(p.maybeDecrTo(8, 6)).toBe(false) // not the probe in flight (next - 1 = 9)
    expect(p.maybeDecrTo(9, 6)).toBe(true)
    expect([p.match, p.next]).toEqual([5, 7])
    const q = mk(5, 10)
    expect(q.maybeDecrTo(9, 5)).toBe(true)
    expect([q.match, q.next]).toEqual([5, 6]) // never below match + 1 while the hint is not below match
    const r = mk(5, 6)
    r.becomeReplicate()
    r.sentEntries(4, 9)
    expect(r.maybeDecrTo(4, 0)).toBe(false) // < match: stale
    expect(r.maybeDecrTo(5, 5)).toBe(false) // match itself, with a hint at match: stale
    expect(r.maybeDecrTo(7, 0)).toBe(true)
    expect([r.match, r.next]).toEqual([5, 6])
  })

  it('a follower that lost acknowledged entries (a hint below match) is probed from its hint, match forgotten', () => {
    // Probe in flight at match (next = match + 1), the follower's log now ends at 3.
    const p = mk(9, 10)
    expect(p.maybeDecrTo(9, 3)).toBe(true)
    expect([p.state, p.match, p.next, p.isPaused()]).toEqual(['probe', 0, 4, false])
    // Probe in flight above match.
    const q = mk(5, 10)
    expect(q.maybeDecrTo(9, 3)).toBe(true)
    expect([q.match, q.next]).toEqual([0, 4])
    // Replicate, rejecting match itself (an idle leader learns it from a heartbeat's commit).
    const r = mk(9, 10)
    r.becomeReplicate()
    r.sentEntries(2, 11)
    expect(r.maybeDecrTo(9, 0)).toBe(true)
    expect([r.state, r.match, r.next, r.inflights.count, r.isPaused()]).toEqual(['probe', 0, 1, 0, false])
    // Once the follower acknowledges again, match moves forward from there.
    expect(r.maybeUpdate(11)).toBe(true)
    expect([r.match, r.next]).toEqual([11, 12])
  })

  it('snapshot: paused; probing resumes after the snapshot index', () => {
    const p = mk(2, 3)
    p.becomeSnapshot(20)
    expect([p.isPaused(), p.next, p.pendingSnapshot]).toEqual([true, 21, 20])
    p.becomeProbe()
    expect([p.state, p.next, p.pendingSnapshot]).toEqual(['probe', 21, 0])
  })

  it('tracks the commit index sent', () => {
    const p = mk(5, 8)
    expect(p.canBumpCommit(4)).toBe(true)
    p.sentCommitTo(7)
    expect(p.canBumpCommit(9)).toBe(false) // already sent a commit covering next - 1
    p.sentCommitTo(5)
    expect(p.canBumpCommit(6)).toBe(true)
    expect(p.canBumpCommit(5)).toBe(false)
  })
})
