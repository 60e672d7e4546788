import { Client, Server, ServerCredentials, credentials, type ServiceError } from '@grpc/grpc-js'
import { InvalidArgumentError, TASK_STATES } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { controlPath } from '../../src/control/control-methods.ts'
import { addControlService } from '../../src/control/control-service.ts'
import { decodeRequest, decodeResponse, decodeWatchRequest, encodeRequest, encodeResponse, encodeWatchRequest, type WireRequest } from '../../src/control/control-wire.ts'
import { fromGrpcError } from '../../src/rpc/errors.ts'
import { controlRig } from './fixture.ts'

const word = fc.string({ minLength: 1, maxLength: 12 })
const words = fc.array(word, { minLength: 1, maxLength: 3 })
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })

const arbFilters = fc.record(
  {
    names: words,
    namePrefixes: words,
    idPrefixes: words,
    labels: fc.dictionary(word, fc.string({ maxLength: 8 }), { minKeys: 1, maxKeys: 3 }),
    modes: fc.subarray(['replicated', 'global', 'replicatedJob', 'globalJob'] as const, { minLength: 1 }),
    serviceIds: words,
    nodeIds: words,
    desiredStates: fc.subarray([...TASK_STATES], { minLength: 1 }),
    roles: fc.subarray(['worker', 'manager'] as const, { minLength: 1 }),
    memberships: fc.subarray(['pending', 'accepted'] as const, { minLength: 1 }),
    availabilities: fc.subarray(['active', 'pause', 'drain'] as const, { minLength: 1 }),
  },
  { requiredKeys: [] },
)

const arbRequest: fc.Arbitrary<WireRequest> = fc.record(
  {
    id: word,
    spec: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    version: u64,
    replicas: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    force: fc.constant(true),
    role: fc.constantFrom('worker' as const, 'manager' as const),
    filters: arbFilters,
  },
  { requiredKeys: [] },
)

describe('control wire envelopes', () => {
  it('a request decodes to what was encoded (uint64 versions exact, absent fields absent)', () => {
    fc.assert(
      fc.property(arbRequest, (req) => {
        expect(decodeRequest(encodeRequest(req))).toEqual({ ...req, ...(req.spec === undefined ? {} : { spec: Buffer.from(req.spec) }) })
      }),
      { numRuns: 300 },
    )
  })

  it('a watch request decodes to what was encoded', () => {
    fc.assert(
      fc.property(
        fc.record({ kinds: fc.subarray(['node', 'service', 'task'] as const, { minLength: 1 }), id: fc.string(), namePrefix: fc.string() }, { requiredKeys: [] }),
        fc.option(u64, { nil: undefined }),
        (selector, since) => {
          const req = since === undefined ? { selector } : { selector, since }
          expect(decodeWatchRequest(encodeWatchRequest(req))).toEqual(req)
        },
      ),
    )
  })

  it('a response keeps an empty unlock key apart from none, and tokens', () => {
    expect(decodeResponse(encodeResponse({ key: '' }))).toEqual({ key: '', objects: [] })
    expect(decodeResponse(encodeResponse({}))).toEqual({ objects: [] })
    expect(decodeResponse(encodeResponse({ tokens: { worker: 'w', manager: 'm' } }))).toEqual({ tokens: { worker: 'w', manager: 'm' }, objects: [] })
  })

  it('refuses values that do not fit, naming the field', () => {
    expect(() => encodeRequest({ version: -1n })).toThrow(InvalidArgumentError)
    expect(() => encodeRequest({ replicas: 2.5 })).toThrow(/replicas/)
  })
})

describe('the control service given bytes that do not decode', () => {
  let server: Server
  let client: Client

  beforeAll(async () => {
    server = new Server()
    const rig = controlRig()
    addControlService(server, { control: () => rig.control, authorize: () => undefined })
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(err)))
    })
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure())
  })

  afterAll(async () => {
    client.close()
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()))
  })

  it('answers InvalidArgumentError, and a spec that does not decode names its field', async () => {
    const call = (path: string, bytes: Buffer): Promise<Error> =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, (err: ServiceError | null) => (err === null ? reject(new Error('succeeded')) : resolve(fromGrpcError(err))))
      })
    const truncated = await call(controlPath('CreateService'), Buffer.from([0x0a, 0x7f]))
    expect(truncated).toBeInstanceOf(InvalidArgumentError)
    const badSpec = await call(controlPath('CreateService'), encodeRequest({ spec: new Uint8Array([0x0a, 0x7f]) }))
    expect(badSpec).toBeInstanceOf(InvalidArgumentError)
    const noSpec = await call(controlPath('CreateService'), encodeRequest({}))
    expect((noSpec as InvalidArgumentError).field).toBe('spec')
  })
})
