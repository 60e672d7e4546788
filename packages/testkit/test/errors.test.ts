import { GrpcStatus, SwarmkitError, toGrpcStatus } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { arbServiceMode, ManualClock, SeededRandom } from '../src/index.ts'

/** Runs `fn` and returns what it threw (fails the test when it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

describe('testkit throws the api typed errors', () => {
  it.each([
    ['new SeededRandom(1.5)', () => new SeededRandom(1.5), 'seed'],
    ['SeededRandom.bytes(-1)', () => new SeededRandom(1).bytes(-1), 'n'],
    ['SeededRandom.int(0)', () => new SeededRandom(1).int(0), 'maxExclusive'],
    ['new ManualClock(NaN)', () => new ManualClock(Number.NaN), 'startMs'],
    ['ManualClock.advance(-1)', () => new ManualClock().advance(-1), 'ms'],
    ['arbServiceMode([])', () => arbServiceMode([]), 'kinds'],
  ])('%s: InvalidArgumentError naming the argument, gRPC INVALID_ARGUMENT', (_what, fn, field) => {
    const err = thrown(fn)
    expect(err).toBeInstanceOf(SwarmkitError)
    expect(err).toMatchObject({ name: 'InvalidArgumentError', code: GrpcStatus.INVALID_ARGUMENT, field })
    expect(toGrpcStatus(err).code).toBe(GrpcStatus.INVALID_ARGUMENT)
  })

  it('ManualClock.runAll past its limit: FailedPreconditionError, gRPC FAILED_PRECONDITION', () => {
    const clock = new ManualClock()
    const again = (): void => void clock.setTimeout(again, 1)
    clock.setTimeout(again, 1)
    const err = thrown(() => clock.runAll({ limit: 3 }))
    expect(err).toBeInstanceOf(SwarmkitError)
    expect(err).toMatchObject({ name: 'FailedPreconditionError', code: GrpcStatus.FAILED_PRECONDITION, reason: 'timers-still-pending' })
  })
})
