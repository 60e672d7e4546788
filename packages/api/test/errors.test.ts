import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AlreadyExistsError,
  ClusterLockedError,
  ResourceExhaustedError,
  ERROR_CONTEXT_METADATA_KEY,
  ERROR_NAME_METADATA_KEY,
  FailedPreconditionError,
  fromGrpcStatus,
  GrpcStatus,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  NotLeaderError,
  PermissionDeniedError,
  SequenceConflictError,
  SwarmkitError,
  toGrpcStatus,
  UnavailableError,
} from '../src/index.ts'

/** Every typed field an error carries, for comparing a restored error with the original. */
function shape(e: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: e.name, message: e.message }
  if (e instanceof SwarmkitError) Object.assign(out, { code: e.code }, e.context())
  return out
}

const samples: [SwarmkitError, number][] = [
  [new InvalidArgumentError('task.resources.limits.memoryBytes', 'must be at least 4 MiB'), GrpcStatus.INVALID_ARGUMENT],
  [new InvalidArgumentError('', 'spec must be an object'), GrpcStatus.INVALID_ARGUMENT],
  [new NotFoundError('service', 'web'), GrpcStatus.NOT_FOUND],
  [new AlreadyExistsError('secret', 'db-password'), GrpcStatus.ALREADY_EXISTS],
  [new SequenceConflictError('task', 'abc', { expected: 2n ** 64n - 1n, actual: 2n ** 63n + 1n }), GrpcStatus.ABORTED],
  [new SequenceConflictError('task', 'abc'), GrpcStatus.ABORTED],
  [new NotLeaderError({ leaderId: 0xfedcba9876543210n, leaderAddr: '127.0.0.1:4242' }), GrpcStatus.UNAVAILABLE],
  [new NotLeaderError(), GrpcStatus.UNAVAILABLE],
  [new FailedPreconditionError('secret is in use by service web', { reason: 'secret-in-use' }), GrpcStatus.FAILED_PRECONDITION],
  [new PermissionDeniedError('method requires swarm-manager', { role: 'swarm-worker' }), GrpcStatus.PERMISSION_DENIED],
  [new UnavailableError('no quorum'), GrpcStatus.UNAVAILABLE],
  [new ClusterLockedError(), GrpcStatus.FAILED_PRECONDITION],
  [new ResourceExhaustedError('addresses of 10.0.1.0/24'), GrpcStatus.RESOURCE_EXHAUSTED],
  [new InternalError('codec schema: no message Task'), GrpcStatus.INTERNAL],
]

describe('typed errors', () => {
  it.each(samples)('%s has its name, code and is an Error', (err, code) => {
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe(err.constructor.name)
    expect(err.code).toBe(code)
  })

  it('name the field in the message and keep it as a property', () => {
    const e = new InvalidArgumentError('endpoint.ports[1].publishedPort', 'duplicate published port 80/tcp')
    expect(e.field).toBe('endpoint.ports[1].publishedPort')
    expect(e.message).toBe('endpoint.ports[1].publishedPort: duplicate published port 80/tcp')
  })

  it('keep a cause', () => {
    const cause = new Error('disk full')
    expect(new UnavailableError('write failed', { cause }).cause).toBe(cause)
    expect(new NotLeaderError({ cause }).cause).toBe(cause)
  })

  it('describe the leader when known', () => {
    expect(new NotLeaderError({ leaderAddr: '10.0.0.1:2377' }).message).toBe('not the leader; leader is 10.0.0.1:2377')
    expect(new NotLeaderError().message).toBe('not the leader; leader unknown')
  })
})

describe('gRPC status mapping', () => {
  it.each(samples)('%s round-trips with name, message and context', (err, code) => {
    const status = toGrpcStatus(err)
    expect(status.code).toBe(code)
    expect(status.details).toBe(err.message)
    expect(status.metadata[ERROR_NAME_METADATA_KEY]).toBe(err.name)
    const back = fromGrpcStatus(status)
    expect(back.constructor).toBe(err.constructor)
    expect(shape(back)).toEqual(shape(err))
  })

  it('keeps 64-bit context exact', () => {
    const back = fromGrpcStatus(toGrpcStatus(new SequenceConflictError('node', 'n', { expected: 18446744073709551615n, actual: 9223372036854775809n })))
    expect(back).toMatchObject({ expected: 18446744073709551615n, actual: 9223372036854775809n })
    const leader = fromGrpcStatus(toGrpcStatus(new NotLeaderError({ leaderId: 18446744073709551615n })))
    expect(leader).toMatchObject({ name: 'NotLeaderError', leaderId: 18446744073709551615n })
  })

  it('maps untyped errors to UNKNOWN with their message', () => {
    expect(toGrpcStatus(new TypeError('boom'))).toEqual({ code: GrpcStatus.UNKNOWN, details: 'boom', metadata: {} })
    expect(toGrpcStatus('plain string')).toEqual({ code: GrpcStatus.UNKNOWN, details: 'plain string', metadata: {} })
  })

  it.each([
    [GrpcStatus.INVALID_ARGUMENT, 'InvalidArgumentError'],
    [GrpcStatus.NOT_FOUND, 'NotFoundError'],
    [GrpcStatus.ALREADY_EXISTS, 'AlreadyExistsError'],
    [GrpcStatus.ABORTED, 'SequenceConflictError'],
    [GrpcStatus.FAILED_PRECONDITION, 'FailedPreconditionError'],
    [GrpcStatus.PERMISSION_DENIED, 'PermissionDeniedError'],
    [GrpcStatus.UNAUTHENTICATED, 'PermissionDeniedError'],
    [GrpcStatus.UNAVAILABLE, 'UnavailableError'],
    [GrpcStatus.INTERNAL, 'InternalError'],
    [GrpcStatus.DEADLINE_EXCEEDED, 'Error'],
    [GrpcStatus.UNKNOWN, 'Error'],
  ])('a status with code %i and no metadata becomes %s', (code, name) => {
    const e = fromGrpcStatus({ code, details: 'from a foreign server', metadata: {} })
    expect(e.name).toBe(name)
    expect(e.message).toBe('from a foreign server')
  })

  it('ignores malformed context metadata', () => {
    for (const raw of ['{not json', '[1,2]', 'null', '{"kind": 5}']) {
      const e = fromGrpcStatus({ code: 5, details: 'gone', metadata: { [ERROR_NAME_METADATA_KEY]: 'NotFoundError', [ERROR_CONTEXT_METADATA_KEY]: raw } })
      expect(e).toMatchObject({ name: 'NotFoundError', message: 'gone', kind: 'object', id: '' })
    }
  })

  it('round-trips arbitrary messages and contexts', () => {
    const text = fc.string({ maxLength: 40 })
    const big = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
    const arbErr: fc.Arbitrary<SwarmkitError> = fc.oneof(
      fc.tuple(text, text).map(([f, m]) => new InvalidArgumentError(f, m)),
      fc.tuple(text, text, text).map(([k, i, m]) => new NotFoundError(k, i, { message: m })),
      fc.tuple(text, text, text).map(([k, i, m]) => new AlreadyExistsError(k, i, { message: m })),
      fc.tuple(text, text, fc.option(big, { nil: undefined }), fc.option(big, { nil: undefined })).map(
        ([k, i, expected, actual]) => new SequenceConflictError(k, i, { expected, actual }),
      ),
      fc.tuple(fc.option(big.filter((b) => b > 0n), { nil: undefined }), fc.option(text, { nil: undefined })).map(
        ([leaderId, leaderAddr]) => new NotLeaderError({ leaderId, leaderAddr }),
      ),
      fc.tuple(text, fc.option(text, { nil: undefined })).map(([m, reason]) => new FailedPreconditionError(m, { reason })),
      fc.tuple(text, fc.option(text, { nil: undefined })).map(([m, role]) => new PermissionDeniedError(m, { role })),
      text.map((m) => new UnavailableError(m)),
      text.map((m) => new ClusterLockedError(m)),
      fc.tuple(text, text).map(([r, m]) => new ResourceExhaustedError(r, { message: m })),
      text.map((m) => new InternalError(m)),
    )
    fc.assert(
      fc.property(arbErr, (err) => {
        expect(shape(fromGrpcStatus(toGrpcStatus(err)))).toEqual(shape(err))
      }),
      { numRuns: 1000 },
    )
  })
})
