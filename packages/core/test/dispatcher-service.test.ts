// The dispatcher service on a manager's NodeServer: who the caller is (its certificate, never the
// request), followers refusing with the leader's address, refused callers, malformed requests,
// and closing the streams in progress.
import { credentials as grpcCredentials, Client, Metadata } from '@grpc/grpc-js'
import type { ServiceError } from '@grpc/grpc-js'
import {
  cryptoRandom,
  GrpcStatus,
  InvalidArgumentError,
  NodeState,
  NotLeaderError,
  PermissionDeniedError,
  systemClock,
  TaskState,
  UnavailableError,
} from '@swarmkit-ts/api'
import type { AssignmentsMessage, DispatcherApi } from '@swarmkit-ts/api'
import { Dispatcher } from '@swarmkit-ts/orchestrator'
import type { DispatcherHandle } from '@swarmkit-ts/orchestrator'
import { CertificateDenyList, credentials } from '@swarmkit-ts/pki'
import { MemoryStore } from '@swarmkit-ts/store'
import { afterEach, describe, expect, it } from 'vitest'
import { dispatcherServiceDefinition, GrpcDispatcherClient, peerHost } from '../src/dispatcher/index.ts'
import { startDispatcherServer, testPki, type DispatcherServerRig } from './helpers/dispatcher-rig.ts'
import { caught, Cleanup, until } from './helpers/dispatcher-wait.ts'

const WORKER = 'wrk000000000000000000001a'
const cleanup = new Cleanup()
afterEach(() => cleanup.run())

interface Leader {
  readonly store: MemoryStore
  readonly dispatcher: Dispatcher
  readonly handle: DispatcherHandle
  readonly rig: DispatcherServerRig
}

async function leader(): Promise<Leader> {
  const store = new MemoryStore()
  const dispatcher = new Dispatcher({ store, clock: systemClock, random: cryptoRandom })
  const handle = dispatcher.start()
  cleanup.add(() => handle.stop())
  const rig = await startDispatcherServer(await testPki(), { dispatcher: () => dispatcher })
  cleanup.add(() => rig.close())
  return { store, dispatcher, handle, rig }
}

async function client(address: string, nodeId = WORKER, options: { role?: 'worker' | 'manager'; clusterId?: string } = {}): Promise<GrpcDispatcherClient> {
  const c = new GrpcDispatcherClient({ address, credentials: await (await testPki()).client(nodeId, options.role ?? 'worker', options.clusterId) })
  cleanup.add(() => c.close())
  return c
}

/** The first message of a new session of `api` (the stream stays open). */
async function register(api: DispatcherApi, hostname = 'w1'): Promise<{ sessionId: string; stream: AsyncIterator<unknown> }> {
  const stream = api.session({ description: { hostname } })[Symbol.asyncIterator]()
  cleanup.add(async () => {
    await stream.return?.()
  })
  const first = await stream.next()
  if (first.done === true) throw new Error('the session ended before registering')
  return { sessionId: first.value.sessionId, stream }
}

describe('the dispatcher service', () => {
  it("registers the node named by the caller's certificate, with the peer's IP as its address", async () => {
    const l = await leader()
    await register(await client(l.rig.address))
    const node = l.store.view((tx) => tx.nodes.get(WORKER))
    expect(node?.status).toStrictEqual({ state: NodeState.READY, addr: '127.0.0.1' })
    expect(node?.description).toStrictEqual({ hostname: 'w1' })
    expect(l.store.view((tx) => tx.nodes.find().map((n) => n.id))).toStrictEqual([WORKER])
  })

  it('lets a manager certificate open a session too', async () => {
    const l = await leader()
    const manager = 'mgr000000000000000000002b'
    await register(await client(l.rig.address, manager, { role: 'manager' }))
    expect(l.store.view((tx) => tx.nodes.get(manager))?.status.state).toBe(NodeState.READY)
  })

  it("on a follower refuses every call with NotLeaderError carrying the leader's address", async () => {
    const pki = await testPki()
    const follower = await startDispatcherServer(pki, { dispatcher: () => undefined, leaderAddress: () => '10.0.0.7:2377' })
    cleanup.add(() => follower.close())
    const api = await client(follower.address)
    const expected = { name: 'NotLeaderError', code: GrpcStatus.UNAVAILABLE, leaderAddr: '10.0.0.7:2377', message: 'not the leader; leader is 10.0.0.7:2377' }
    const session = await caught(api.session({ description: {} })[Symbol.asyncIterator]().next())
    expect(session).toBeInstanceOf(NotLeaderError)
    expect(session).toMatchObject(expected)
    expect(await caught(api.heartbeat({ sessionId: 's' }))).toMatchObject(expected)
    expect(await caught(api.assignments({ sessionId: 's' })[Symbol.asyncIterator]().next())).toMatchObject(expected)
    expect(await caught(api.updateTaskStatus({ sessionId: 's', updates: [] }))).toMatchObject(expected)
  })

  it('on a follower that knows no leader refuses with NotLeaderError without an address', async () => {
    const follower = await startDispatcherServer(await testPki(), { dispatcher: () => undefined })
    cleanup.add(() => follower.close())
    const err = await caught((await client(follower.address)).heartbeat({ sessionId: 's' }))
    expect(err).toBeInstanceOf(NotLeaderError)
    expect(err).toMatchObject({ leaderAddr: undefined, message: 'not the leader; leader unknown' })
  })

  it('serves the dispatcher once this manager becomes the leader', async () => {
    const store = new MemoryStore()
    let current: Dispatcher | undefined = undefined
    const rig = await startDispatcherServer(await testPki(), { dispatcher: () => current })
    cleanup.add(() => rig.close())
    const api = await client(rig.address)
    expect(await caught(api.heartbeat({ sessionId: 's' }))).toBeInstanceOf(NotLeaderError)
    current = new Dispatcher({ store, clock: systemClock, random: cryptoRandom })
    const handle = current.start()
    cleanup.add(() => handle.stop())
    const { sessionId } = await register(api)
    expect((await api.heartbeat({ sessionId })).periodMs).toBeGreaterThanOrEqual(4500)
  })

  it("ends open streams of a dispatcher that stops with NotLeaderError carrying the leader's address known by then", async () => {
    const store = new MemoryStore()
    const dispatcher = new Dispatcher({ store, clock: systemClock, random: cryptoRandom })
    const handle = dispatcher.start()
    cleanup.add(() => handle.stop())
    let leaderAddr: string | undefined = undefined
    const rig = await startDispatcherServer(await testPki(), { dispatcher: () => dispatcher, leaderAddress: () => leaderAddr })
    cleanup.add(() => rig.close())
    const api = await client(rig.address)
    const { sessionId, stream } = await register(api)
    leaderAddr = '10.0.0.9:2377'
    await handle.stop()
    const err = await caught(stream.next())
    expect(err).toBeInstanceOf(NotLeaderError)
    expect(err).toMatchObject({ leaderAddr: '10.0.0.9:2377', message: 'not the leader; leader is 10.0.0.9:2377' })
    expect(await caught(api.heartbeat({ sessionId }))).toMatchObject({ name: 'NotLeaderError', leaderAddr: '10.0.0.9:2377' })
  })

  it("carries a complete assignments set larger than gRPC's default 4 MiB message limit", async () => {
    const l = await leader()
    const api = await client(l.rig.address)
    const { sessionId } = await register(api)
    const secrets = Array.from({ length: 12 }, (_, i) => ({ id: `sec${String(i).padStart(22, '0')}`, spec: { annotations: { name: `s${i}` }, data: new Uint8Array(400 * 1024).fill(i) } }))
    // One secret per transaction: a proposal is capped at 1.5 MiB.
    for (const secret of secrets) await l.store.update((tx) => tx.secrets.create(secret))
    await l.store.update((tx) => {
      tx.tasks.create({
        id: 'tsk0000000000000000000001',
        spec: { container: { image: 'busybox', secrets: secrets.map((x) => ({ secretId: x.id, secretName: x.spec.annotations.name, file: { name: x.spec.annotations.name } })) } },
        serviceId: 'svc0000000000000000000001',
        slot: 1,
        nodeId: WORKER,
        annotations: { name: 'web.1' },
        serviceAnnotations: { name: 'web' },
        status: { timestamp: 1, state: TaskState.ASSIGNED },
        desiredState: TaskState.RUNNING,
      })
    })
    const first = await api.assignments({ sessionId })[Symbol.asyncIterator]().next()
    if (first.done === true) throw new Error('the assignments stream ended')
    const complete: AssignmentsMessage = first.value
    expect(complete.type).toBe('complete')
    const received = complete.changes.flatMap((c) => ('secret' in c.assignment ? [c.assignment.secret.spec.data.length] : []))
    expect(received).toStrictEqual(secrets.map(() => 400 * 1024))
  })

  it('refuses a caller without a client certificate with PermissionDeniedError', async () => {
    const l = await leader()
    const pki = await testPki()
    const anonymous = new GrpcDispatcherClient({ address: l.rig.address, credentials: grpcCredentials.createSsl(Buffer.from(pki.ca.certPem)) })
    cleanup.add(() => anonymous.close())
    const err = await caught(anonymous.heartbeat({ sessionId: 's' }))
    expect(err).toBeInstanceOf(PermissionDeniedError)
    expect(err).toMatchObject({ name: 'PermissionDeniedError', message: 'the call carries no TLS client certificate' })
    expect(l.store.view((tx) => tx.nodes.find())).toStrictEqual([])
  })

  it('refuses a certificate of another cluster with PermissionDeniedError naming its role', async () => {
    const l = await leader()
    const foreign = await client(l.rig.address, WORKER, { clusterId: 'otherclusterxxxxxxxxxxxx1' })
    const err = await caught(foreign.session({ description: {} })[Symbol.asyncIterator]().next())
    expect(err).toBeInstanceOf(PermissionDeniedError)
    expect(err).toMatchObject({ role: 'worker', message: 'certificate is for cluster otherclusterxxxxxxxxxxxx1, not clusterdispatch0000000001' })
    expect(l.store.view((tx) => tx.nodes.find())).toStrictEqual([])
  })

  it("refuses a removed node's certificate with PermissionDeniedError, also on a new session", async () => {
    const store = new MemoryStore()
    const dispatcher = new Dispatcher({ store, clock: systemClock, random: cryptoRandom })
    const handle = dispatcher.start()
    cleanup.add(() => handle.stop())
    const denyList = new CertificateDenyList()
    const rig = await startDispatcherServer(await testPki(), { dispatcher: () => dispatcher, denyList })
    cleanup.add(() => rig.close())
    const api = await client(rig.address)
    const { sessionId } = await register(api)
    denyList.add(WORKER, Date.now() + 3_600_000)
    const expected = { name: 'PermissionDeniedError', role: 'worker', message: `node ${WORKER} has been removed from the cluster` }
    expect(await caught(api.heartbeat({ sessionId }))).toMatchObject(expected)
    expect(await caught(api.session({ description: {}, sessionId })[Symbol.asyncIterator]().next())).toMatchObject(expected)
  })

  it('refuses a request that is not a valid message with InvalidArgumentError', async () => {
    const l = await leader()
    const pki = await testPki()
    const raw = new Client(l.rig.address, credentials.forClient(await pki.tls(WORKER, 'worker')), credentials.channelOptions('manager'))
    cleanup.add(() => raw.close())
    const err = await new Promise<ServiceError | null>((resolve) => {
      const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff])
      raw.makeUnaryRequest(dispatcherServiceDefinition.Heartbeat.path, (b: Buffer) => b, (b: Buffer) => b, garbage, new Metadata(), {}, (e) => resolve(e))
    })
    expect(err?.code).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(err?.metadata.get('swarmkit-error-name')).toStrictEqual(['InvalidArgumentError'])
  })

  it('rejects a request the client cannot encode before sending it', async () => {
    const l = await leader()
    const api = await client(l.rig.address)
    const err = await caught(api.heartbeat({ sessionId: 7 as unknown as string }))
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect(err).toMatchObject({ field: 'sessionId' })
  })

  it('closeAll ends the streams in progress with UnavailableError and the node is then disconnected', async () => {
    const l = await leader()
    const api = await client(l.rig.address)
    const { sessionId, stream } = await register(api)
    const assignments = api.assignments({ sessionId })[Symbol.asyncIterator]()
    expect((await assignments.next()).value).toMatchObject({ type: 'complete', changes: [] })
    expect(l.rig.service.openStreams).toBe(2)
    l.rig.service.closeAll()
    const sessionEnd = await caught(stream.next())
    expect(sessionEnd).toBeInstanceOf(UnavailableError)
    expect(sessionEnd).toMatchObject({ message: 'the manager is closing its dispatcher streams' })
    expect(await caught(assignments.next())).toBeInstanceOf(UnavailableError)
    await until('no stream open', () => l.rig.service.openStreams === 0)
    await until('the node DISCONNECTED', () => l.store.view((tx) => tx.nodes.get(WORKER))?.status.state === NodeState.DISCONNECTED)
  })

  it('a client closed mid-stream ends its streams with UnavailableError, and later calls too', async () => {
    const l = await leader()
    const api = await client(l.rig.address)
    const { sessionId, stream } = await register(api)
    api.close()
    expect(await caught(stream.next())).toBeInstanceOf(UnavailableError)
    expect(await caught(api.heartbeat({ sessionId }))).toMatchObject({ name: 'UnavailableError', message: `the dispatcher client of ${l.rig.address} is closed` })
  })
})

describe('peerHost', () => {
  it('reads the IP of the peer strings grpc-js reports', () => {
    expect(['127.0.0.1:40000', 'ipv4:10.1.2.3:5', '[::1]:443', 'ipv6:[fe80::1]:1', 'unix:/tmp/s', 'garbage'].map(peerHost)).toStrictEqual([
      '127.0.0.1',
      '10.1.2.3',
      '::1',
      'fe80::1',
      undefined,
      undefined,
    ])
  })
})
