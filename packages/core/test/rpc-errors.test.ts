import * as grpc from '@grpc/grpc-js'
import {
  AlreadyExistsError,
  ClusterLockedError,
  FailedPreconditionError,
  GrpcStatus,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  NotLeaderError,
  PermissionDeniedError,
  ResourceExhaustedError,
  SequenceConflictError,
  SwarmkitError,
  UnavailableError,
} from '@swarmkit-ts/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromGrpcError, toGrpcError } from '../src/rpc/errors.ts'

/** One error of every class of api's family, with every field set. */
const FAMILY: readonly SwarmkitError[] = [
  new InvalidArgumentError('task.container.image', 'must not be empty'),
  new InvalidArgumentError('', 'the whole value is wrong'),
  new NotFoundError('service', 'web'),
  new AlreadyExistsError('secret', 'db-password'),
  new SequenceConflictError('node', 'n1', { expected: 7n, actual: 18446744073709551615n }),
  new NotLeaderError({ leaderId: 0xfedcba9876543210n, leaderAddr: '10.0.0.2:4242' }),
  new NotLeaderError(),
  new FailedPreconditionError("secret 'db' is in use by the following service: web", { reason: 'in-use' }),
  new PermissionDeniedError('role worker may not call this method', { role: 'worker' }),
  new UnavailableError('raft is not ready'),
  new ClusterLockedError(),
  new ResourceExhaustedError('addresses of 10.0.1.0/24'),
  new InternalError('an invariant broke'),
]

/** The fields a caller reads: class name, gRPC code, message and typed context. */
function shape(e: Error): unknown {
  return e instanceof SwarmkitError ? { name: e.name, code: e.code, message: e.message, context: e.context() } : { name: e.name, message: e.message }
}

describe('toGrpcError / fromGrpcError', () => {
  it.each(FAMILY.map((e) => [e.name, e] as const))('rebuilds %s with the same class, code, message and fields', (_name, err) => {
    const status = toGrpcError(err)
    expect(status.code).toBe(err.code)
    const back = fromGrpcError(status)
    expect(back).toBeInstanceOf(err.constructor)
    expect(shape(back)).toEqual(shape(err))
  })

  it('answers a thrown value that is not a swarmkit error as InternalError with its message', () => {
    const status = toGrpcError(new TypeError('x is undefined'))
    expect(status.code).toBe(GrpcStatus.INTERNAL)
    const back = fromGrpcError(status)
    expect(back).toBeInstanceOf(InternalError)
    expect(back.message).toBe('x is undefined')
  })

  it.each([
    [grpc.status.UNAVAILABLE, 'No connection established'],
    [grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'],
    [grpc.status.CANCELLED, 'Cancelled on client'],
  ])('makes a transport status %i without swarmkit metadata a retryable UnavailableError', (code, details) => {
    const back = fromGrpcError(Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() }))
    expect(back).toBeInstanceOf(UnavailableError)
    expect(back.message).toBe(details)
  })

  it('makes UNIMPLEMENTED, UNKNOWN and non-gRPC values InternalError', () => {
    expect(fromGrpcError({ code: grpc.status.UNIMPLEMENTED, details: 'no such method', metadata: new grpc.Metadata() })).toBeInstanceOf(InternalError)
    expect(fromGrpcError({ code: grpc.status.UNKNOWN, details: 'boom', metadata: new grpc.Metadata() })).toBeInstanceOf(InternalError)
    const plain = fromGrpcError(new RangeError('odd'))
    expect(plain).toBeInstanceOf(InternalError)
    expect(plain.message).toBe('odd')
  })

  it('keeps the class a status code maps to when the metadata names none', () => {
    const back = fromGrpcError({ code: grpc.status.NOT_FOUND, details: 'gone', metadata: new grpc.Metadata() })
    expect(back).toBeInstanceOf(NotFoundError)
    expect(back.message).toBe('gone')
  })
})

describe('typed errors across a real gRPC call', () => {
  const PATH = '/swarmkit.core.v1.ErrorsTest/Fail'
  const identity = (b: Buffer): Buffer => b
  const definition: grpc.ServiceDefinition = {
    Fail: {
      path: PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  }
  let server: grpc.Server
  let client: grpc.Client

  beforeAll(async () => {
    server = new grpc.Server()
    server.addService(definition, {
      Fail: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const index = call.request.readUInt8(0)
        callback(toGrpcError(FAMILY[index]))
      },
    })
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(err)))
    })
    client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure())
  })

  afterAll(async () => {
    client.close()
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()))
  })

  it.each(FAMILY.map((e, i) => [e.name, i] as const))('a server throwing %s reaches the client as the same error', async (_name, index) => {
    const err = await new Promise<grpc.ServiceError>((resolve, reject) => {
      client.makeUnaryRequest(PATH, identity, identity, Buffer.from([index]), (e) => (e === null ? reject(new Error('the call succeeded')) : resolve(e)))
    })
    const expected = FAMILY[index]
    if (expected === undefined) throw new Error('no such error')
    expect(shape(fromGrpcError(err))).toEqual(shape(expected))
  })
})
