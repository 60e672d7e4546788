/**
 * GrpcRaftTransport on a grpc.Server the caller owns (shared with other services), and the
 * port-0 bootstrap: bind first, learn the address, then tell peers and start RaftNode.
 */
import { Client, Server, ServerCredentials, credentials, type ServiceDefinition, type ServiceError, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js'
import type { RaftMemberId } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { GrpcRaftTransport, raftServerOptions } from '../src/transport/grpc-transport.ts'
import { allowAnyRaftPeer } from '../src/transport/grpc-transport-auth.ts'
import { STREAM_PATH, deserializeStreamAck, originMetadata, serializeEnvelope, statusError } from '../src/transport/grpc-transport-wire.ts'
import { encodeMessage } from '../src/transport/message-codec.ts'
import { MemoryRaftStorage, RaftNode, type StateMachine } from '../src/index.ts'
import type { Message } from '../src/core/types.ts'
import { until, cleanupAfterEach } from './helpers/real-time.ts'

const A = 0xaan
const B = (1n << 63n) + 0xbbn
const C = 0xccn

const cleanup = cleanupAfterEach()

/** Another service on the same server: one unary method echoing its request's bytes. */
const echoService: ServiceDefinition = {
  Echo: {
    path: '/test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
    originalName: 'echo',
  },
}

/** A server owned by the test, with the echo service, bound to an OS-chosen port. */
async function sharedServer(): Promise<{ server: Server; address: string }> {
  const server = new Server(raftServerOptions())
  server.addService(echoService, { Echo: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => cb(null, Buffer.concat([Buffer.from('echo:'), call.request])) })
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(err))))
  cleanup.push(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())))
  return { server, address: `127.0.0.1:${port}` }
}

function echo(address: string, text: string): Promise<string> {
  const c = new Client(address, credentials.createInsecure())
  cleanup.push(() => c.close())
  return new Promise((resolve, reject) => {
    c.makeUnaryRequest('/test.Echo/Echo', (b: Buffer) => b, (b: Buffer) => b, Buffer.from(text), (err: ServiceError | null, res?: Buffer) => (err === null && res !== undefined ? resolve(res.toString()) : reject(err ?? new Error('no response'))))
  })
}

/** One raw Stream call from `from` with one batch; the outcome's status code (0 = OK). */
function rawStream(address: string, from: RaftMemberId, msgs: Message[]): Promise<{ code: number; name?: string }> {
  const c = new Client(address, credentials.createInsecure())
  cleanup.push(() => c.close())
  return new Promise((resolve) => {
    const s = c.makeClientStreamRequest<readonly Uint8Array[], unknown>(STREAM_PATH, serializeEnvelope, deserializeStreamAck, originMetadata(from, 'x.example:1'), {}, (err: ServiceError | null) => {
      resolve(err === null ? { code: 0 } : { code: err.code, name: statusError(err).name })
    })
    s.write(msgs.map(encodeMessage))
    s.end()
  })
}

const hb = (from: RaftMemberId, to: RaftMemberId, commit: number): Message => ({ type: 'heartbeat', from, to, term: 1, commit, context: new Uint8Array(0) })

describe('GrpcRaftTransport on a caller-owned server', () => {
  it('serves raft next to another service on one port, and leaves the server running when stopped', async () => {
    const { server, address } = await sharedServer()
    const got: Message[] = []
    const origins: unknown[] = []
    const b = new GrpcRaftTransport({ id: B, server, advertiseAddress: address, authorize: allowAnyRaftPeer })
    cleanup.push(() => b.stop())
    expect(b.address).toBe(address)
    await b.start({ message: (m, origin) => { got.push(m); origins.push(origin) } })

    const a = new GrpcRaftTransport({ id: A, listenAddress: '127.0.0.1:0' })
    cleanup.push(() => a.stop())
    await a.start({ message: () => {} })
    a.addPeer(B, address)
    a.send([hb(A, B, 1), hb(A, B, 2)])
    await until(() => got.length === 2, 'raft delivery on the shared port')
    expect(got).toEqual([hb(A, B, 1), hb(A, B, 2)])
    expect(origins).toEqual([{ id: A, address: a.address }, { id: A, address: a.address }].map((o) => expect.objectContaining(o) as unknown))
    expect(await echo(address, 'hi')).toBe('echo:hi')

    await b.stop()
    // The raft service is gone (UNIMPLEMENTED), the other service still answers.
    expect(await rawStream(address, A, [hb(A, B, 3)])).toEqual({ code: 12, name: expect.any(String) as string })
    expect(await echo(address, 'still')).toBe('echo:still')
    expect(got).toHaveLength(2)
  })

  it('applies its authorizer on the shared server', async () => {
    const { server, address } = await sharedServer()
    const got: Message[] = []
    const b = new GrpcRaftTransport({ id: B, server, advertiseAddress: address, authorize: (call) => (call.claimedId === A ? { allowed: true } : { allowed: false, reason: 'only A' }) })
    cleanup.push(() => b.stop())
    await b.start({ message: (m) => got.push(m) })
    expect(await rawStream(address, C, [hb(C, B, 1)])).toEqual({ code: 7, name: 'PermissionDeniedError' })
    expect(await rawStream(address, A, [hb(A, B, 2)])).toEqual({ code: 0 })
    expect(got).toEqual([hb(A, B, 2)])
    expect(b.stats().refusedCalls).toBe(1)
  })

  it('validates the shared-server options, naming the field', async () => {
    const { server, address } = await sharedServer()
    const cases: Array<[ConstructorParameters<typeof GrpcRaftTransport>[0], string]> = [
      [{ id: A }, 'listenAddress'],
      [{ id: A, server, listenAddress: '127.0.0.1:0', advertiseAddress: address, authorize: allowAnyRaftPeer }, 'listenAddress'],
      [{ id: A, server, authorize: allowAnyRaftPeer }, 'advertiseAddress'],
      [{ id: A, server: {} as Server, advertiseAddress: address, authorize: allowAnyRaftPeer }, 'server'],
      [{ id: A, server, advertiseAddress: address }, 'authorize'],
      [{ id: A, server, advertiseAddress: address, authorize: allowAnyRaftPeer, serverCredentials: ServerCredentials.createInsecure() }, 'serverCredentials'],
    ]
    for (const [init, field] of cases) expect(() => new GrpcRaftTransport(init)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
    // Two transports cannot serve raft on one server.
    const first = new GrpcRaftTransport({ id: A, server, advertiseAddress: address, authorize: allowAnyRaftPeer })
    cleanup.push(() => first.stop())
    await first.start({ message: () => {} })
    const second = new GrpcRaftTransport({ id: B, server, advertiseAddress: address, authorize: allowAnyRaftPeer })
    await expect(second.start({ message: () => {} })).rejects.toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'service-registered' }))
  })
})

describe('port 0: bind first, then bootstrap', () => {
  it('listen() binds and gives the address; calls before start are refused UNAVAILABLE and delivered after', async () => {
    const b = new GrpcRaftTransport({ id: B, listenAddress: '127.0.0.1:0' })
    cleanup.push(() => b.stop())
    const address = await b.listen()
    expect(address).toBe(`127.0.0.1:${b.port}`)
    expect(await b.listen()).toBe(address)
    expect(await rawStream(address, A, [hb(A, B, 1)])).toEqual({ code: 14, name: 'UnavailableError' })
    const got: Message[] = []
    await b.start({ message: (m) => got.push(m) })
    expect(b.address).toBe(address)
    expect(await rawStream(address, A, [hb(A, B, 2)])).toEqual({ code: 0 })
    expect(got).toEqual([hb(A, B, 2)])
  })

  it('3 members, each on a shared server bound to port 0, bootstrap from the learnt addresses, elect and commit', async () => {
    const ids = [A, B, C]
    const servers = await Promise.all(ids.map(() => sharedServer()))
    const applied = ids.map(() => [] as string[])
    const nodes = ids.map((id, i) => {
      const { server, address } = servers[i] as { server: Server; address: string }
      const transport = new GrpcRaftTransport({ id, server, advertiseAddress: address, authorize: allowAnyRaftPeer, backoff: { initialMs: 20, maxMs: 200 } })
      const sm: StateMachine = {
        apply: (payload) => {
          applied[i]?.push(Buffer.from(payload).toString())
          return undefined
        },
        snapshot: () => new Uint8Array(0),
        restore: () => {},
      }
      const node = new RaftNode({ id, storage: new MemoryRaftStorage(), transport, stateMachine: sm, tickMs: 20, electionTick: 10 })
      node.bootstrap(ids.map((p, j) => ({ id: p, address: servers[j]?.address as string })))
      cleanup.push(() => node.stop())
      return node
    })
    await Promise.all(nodes.map((n) => n.start()))
    const leader = await (nodes[0] as RaftNode).waitForLeader()
    const l = nodes.find((n) => n.id === leader) as RaftNode
    await l.propose(Buffer.from('x'))
    await l.propose(Buffer.from('y'))
    await until(() => applied.every((a) => a.includes('y')), 'every member applied')
    for (const a of applied) expect(a.filter((v) => v === 'x' || v === 'y')).toEqual(['x', 'y'])
    // The other service still answers on each member's port.
    expect(await echo(servers[1]?.address as string, 'ok')).toBe('echo:ok')
  }, 60_000)
})
