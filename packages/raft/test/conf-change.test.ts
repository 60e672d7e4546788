import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Changer, restoreConfig } from '../src/core/conf-change.ts'
import type { ConfigAndProgress } from '../src/core/conf-change.ts'
import { ProgressTracker } from '../src/core/tracker.ts'
import { decodeConfChange, encodeConfChange, leaveJointConfChange } from '../src/index.ts'
import type { AnyConfChange, ConfChangeSingle, ConfState } from '../src/index.ts'

const none = new Uint8Array(0)

function confState(cp: ConfigAndProgress): ConfState {
  const t = new ProgressTracker(8)
  t.config = cp.config
  t.progress = cp.progress
  return t.confState()
}

function start(voters: bigint[], learners: bigint[] = []): ConfigAndProgress {
  return restoreConfig({ voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false }, 10, 8)
}

const add = (nodeId: bigint): ConfChangeSingle => ({ type: 'add-voter', nodeId })
const learner = (nodeId: bigint): ConfChangeSingle => ({ type: 'add-learner', nodeId })
const remove = (nodeId: bigint): ConfChangeSingle => ({ type: 'remove', nodeId })

describe('Changer', () => {
  it('simple changes alter at most one voter', () => {
    const c = new Changer(start([1n, 2n, 3n]), 10, 8)
    expect(confState(c.simple([add(4n)])).voters).toEqual([1n, 2n, 3n, 4n])
    expect(confState(c.simple([remove(3n)])).voters).toEqual([1n, 2n])
    expect(confState(c.simple([learner(4n), add(9n)]))).toMatchObject({ voters: [1n, 2n, 3n, 9n], learners: [4n] })
    expect(() => c.simple([add(4n), add(5n)])).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'confChange' }))
    expect(() => new Changer(start([1n]), 10, 8).simple([remove(1n)])).toThrow(/removed all voters/)
  })

  it('a new member is probed from the last index', () => {
    const cp = new Changer(start([1n]), 10, 8).simple([add(2n)])
    expect([cp.progress.get(2n)?.match, cp.progress.get(2n)?.next]).toEqual([0, 10])
  })

  it('promotes a learner and demotes a voter', () => {
    const c = new Changer(start([1n, 2n, 3n], [4n]), 10, 8)
    const promoted = c.simple([add(4n)])
    expect(confState(promoted)).toMatchObject({ voters: [1n, 2n, 3n, 4n], learners: [] })
    expect(promoted.progress.get(4n)?.isLearner).toBe(false)
    const demoted = new Changer(promoted, 10, 8).simple([learner(2n)])
    expect(confState(demoted)).toMatchObject({ voters: [1n, 3n, 4n], learners: [2n] })
  })

  it('enters and leaves a joint configuration; demoted outgoing voters wait in learnersNext', () => {
    const base = start([1n, 2n, 3n])
    const joint = new Changer(base, 10, 8).enterJoint(false, [add(4n), remove(1n), learner(3n)])
    expect(confState(joint)).toEqual({ voters: [2n, 4n], votersOutgoing: [1n, 2n, 3n], learners: [], learnersNext: [3n], autoLeave: false })
    expect(joint.progress.has(1n)).toBe(true) // still an outgoing voter
    expect(() => new Changer(joint, 10, 8).simple([add(5n)])).toThrow(/joint/)
    expect(() => new Changer(joint, 10, 8).enterJoint(true, [add(5n)])).toThrow(/already joint/)
    const left = new Changer(joint, 10, 8).leaveJoint()
    expect(confState(left)).toEqual({ voters: [2n, 4n], votersOutgoing: [], learners: [3n], learnersNext: [], autoLeave: false })
    expect([left.progress.has(1n), left.progress.get(3n)?.isLearner]).toEqual([false, true])
    expect(() => new Changer(left, 10, 8).leaveJoint()).toThrow(/non-joint/)
  })

  it('does not mutate the configuration it started from', () => {
    const base = start([1n, 2n], [3n])
    const before = confState(base)
    new Changer(base, 10, 8).simple([add(3n)])
    expect(confState(base)).toEqual(before)
    expect(base.progress.get(3n)?.isLearner).toBe(true)
  })

  it('restores any configuration reachable by valid changes', () => {
    const id = fc.bigInt({ min: 1n, max: 6n })
    const op = fc.oneof(
      fc.record({ kind: fc.constant('simple' as const), cc: fc.record({ type: fc.constantFrom('add-voter' as const, 'add-learner' as const, 'remove' as const), nodeId: id }) }),
      fc.record({ kind: fc.constant('joint' as const), auto: fc.boolean(), ccs: fc.array(fc.record({ type: fc.constantFrom('add-voter' as const, 'add-learner' as const, 'remove' as const), nodeId: id }), { maxLength: 4 }) }),
      fc.constant({ kind: 'leave' as const }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        let cur = start([1n])
        for (const o of ops) {
          try {
            const c = new Changer(cur, 10, 8)
            cur = o.kind === 'simple' ? c.simple([o.cc]) : o.kind === 'joint' ? c.enterJoint(o.auto, o.ccs) : c.leaveJoint()
          } catch (err) {
            expect(err).toMatchObject({ name: 'InvalidArgumentError', field: 'confChange' })
          }
        }
        const cs = confState(cur)
        expect(confState(restoreConfig(cs, 10, 8))).toEqual(cs)
      }),
    )
  })
})

describe('conf change codec', () => {
  it('round-trips V1 and V2 changes with 64-bit ids and context', () => {
    const big = (1n << 64n) - 1n
    const samples: AnyConfChange[] = [
      { version: 1, type: 'add-voter', nodeId: big, context: new Uint8Array([1, 2, 3]) },
      { version: 1, type: 'remove', nodeId: 1n, context: none },
      { version: 2, transition: 'explicit-joint', changes: [{ type: 'add-learner', nodeId: (1n << 63n) - 1n }, { type: 'remove', nodeId: 7n }], context: new Uint8Array([9]) },
      { version: 2, transition: 'implicit-joint', changes: [], context: new Uint8Array([4]) },
      leaveJointConfChange(),
    ]
    for (const cc of samples) expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc)
    expect(encodeConfChange(leaveJointConfChange()).byteLength).toBe(0)
  })

  it('rejects malformed data with InvalidArgumentError("data")', () => {
    for (const bad of [[9], [1, 0, 0], [2, 0, 0, 0, 0, 5], [1, 7, 0, 0, 0, 0, 0, 0, 0, 1], [2, 9, 0, 0, 0, 0]]) {
      expect(() => decodeConfChange(new Uint8Array(bad))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'data' }))
    }
    expect(() => encodeConfChange({ version: 1, type: 'remove', nodeId: 1n << 64n, context: none })).toThrow(expect.objectContaining({ field: 'confChange.nodeId' }))
  })
})
