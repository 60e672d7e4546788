import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidArgumentError, NotFoundError, NotLeaderError, PermissionDeniedError, UnavailableError } from '@swarmkit-ts/api'
import { TlsMaterialSource } from '@swarmkit-ts/pki'
import { addLogsService, authorizeLogsCaller, LogBrokerClient, LogsClient, type LogBroker, type LogMessage, type LogsService } from '../../src/logs/index.ts'
import { NodeServer } from '../../src/server/index.ts'
import { CLUSTER_ID, testPki, type TestPki } from '../helpers/dispatcher-rig.ts'
import { collect, id, LogsRig, msg, T0, take, until } from './rig.ts'

const LEADER = '192.0.2.7:4242'

describe('logs over gRPC with mutual TLS on 127.0.0.1', () => {
  let pki: TestPki
  let rig: LogsRig
  let server: NodeServer
  let service: LogsService
  let broker: LogBroker | undefined
  const clients: { close(): void }[] = []

  const subscriber = async (nodeId = 'm1', role: 'manager' | 'worker' = 'manager'): Promise<LogsClient> => {
    const c = new LogsClient({ address: server.address, credentials: await pki.client(id(nodeId), role) })
    clients.push(c)
    return c
  }
  const brokerClient = async (nodeId: string): Promise<LogBrokerClient> => {
    const c = new LogBrokerClient({ address: server.address, credentials: await pki.client(id(nodeId)) })
    clients.push(c)
    return c
  }
  /** A worker whose LogPublisher talks to the broker over gRPC. */
  const grpcWorker = async (nodeId: string): Promise<void> => {
    const c = await brokerClient(nodeId)
    rig.worker(nodeId, () => c)
  }

  beforeEach(async () => {
    pki = await testPki()
    rig = new LogsRig()
    broker = rig.broker
    await rig.addNode('n1')
    await rig.addNode('n2')
    await rig.addService('web')
    const tls = new TlsMaterialSource(await pki.tls(id('m1'), 'manager'))
    server = new NodeServer({ listenAddress: '127.0.0.1:0', tls, shutdownGraceMs: 0 })
    service = addLogsService(server.server, {
      broker: () => broker,
      authorize: authorizeLogsCaller({ clusterId: CLUSTER_ID }),
      leaderAddress: () => LEADER,
    })
    await server.listen()
  })
  afterEach(async () => {
    await rig.close()
    for (const c of clients.splice(0)) c.close()
    service.closeAll()
    await server.close()
  })

  it("follows a service's logs across a task restart on another node", async () => {
    await rig.runTask('t1', 'web', 'n1')
    await grpcWorker('n1')
    await grpcWorker('n2')
    await until(() => rig.broker.connectedNodes().length === 2)
    rig.say('t1', 'first life', T0 + 1)
    const ctrl = new AbortController()
    const it = (await subscriber()).subscribe({ selector: { serviceIds: [id('web')] }, options: { follow: true } }, { signal: ctrl.signal })[Symbol.asyncIterator]()
    expect(await take(it, 1)).toEqual([msg('t1', 'web', 'n1', 'first life', T0 + 1)])
    rig.say('t1', 'still first', T0 + 2, 'stderr')
    expect(await take(it, 1)).toEqual([msg('t1', 'web', 'n1', 'still first', T0 + 2, 'stderr')])
    await rig.exit('t1')
    await rig.runTask('t2', 'web', 'n2')
    rig.say('t2', 'second life', T0 + 3)
    expect(await take(it, 1)).toEqual([msg('t2', 'web', 'n2', 'second life', T0 + 3)])
    ctrl.abort()
    expect(await it.next()).toEqual({ value: undefined, done: true })
    await until(() => rig.broker.subscriptionCount === 0)
  })

  it('a non-follow subscription with tail and since ends once every node published its part', async () => {
    await rig.runTask('t1', 'web', 'n1')
    await rig.runTask('t2', 'web', 'n2', 2)
    for (let i = 1; i <= 3; i++) rig.say('t1', `a${i}`, T0 + i)
    rig.say('t2', 'b1', T0 + 10)
    await grpcWorker('n1')
    await grpcWorker('n2')
    await until(() => rig.broker.connectedNodes().length === 2)
    const client = await subscriber()
    const tail = await collect(client.subscribe({ selector: { serviceIds: [id('web')] }, options: { tail: 2, since: T0 + 2 } }))
    const byTask = (a: LogMessage, b: LogMessage): number => a.taskId.localeCompare(b.taskId) || a.time - b.time
    expect(tail.sort(byTask)).toEqual([msg('t1', 'web', 'n1', 'a2', T0 + 2), msg('t1', 'web', 'n1', 'a3', T0 + 3), msg('t2', 'web', 'n2', 'b1', T0 + 10)])
    expect(rig.broker.subscriptionCount).toBe(0)
  })

  it('typed errors cross the wire: the bad field, the unknown service, the node that is not connected', async () => {
    const client = await subscriber()
    const failure = (p: Promise<unknown>): Promise<unknown> =>
      p.then(
        () => undefined,
        (e: unknown) => e,
      )
    const bad = await failure(collect(client.subscribe({ selector: { serviceIds: [id('web')] }, options: { tail: 2 ** 60 } })))
    expect(bad).toBeInstanceOf(InvalidArgumentError)
    expect(bad).toMatchObject({ field: 'options.tail' })
    const none = await failure(collect(client.subscribe({ selector: {} })))
    expect(none).toMatchObject({ name: 'InvalidArgumentError', field: 'selector' })
    const unknown = await failure(collect(client.subscribe({ selector: { serviceIds: [id('nope')] } })))
    expect(unknown).toBeInstanceOf(NotFoundError)
    expect(unknown).toMatchObject({ kind: 'service', id: id('nope') })
    await rig.runTask('t1', 'web', 'n1')
    const down = await failure(collect(client.subscribe({ selector: { serviceIds: [id('web')] } })))
    expect(down).toBeInstanceOf(UnavailableError)
    expect((down as Error).message).toBe(`incomplete log stream: node ${id('n1')} not available`)
  })

  it('a worker certificate may not subscribe, and a worker may not publish in the name of another node', async () => {
    const asWorker = await subscriber('n1', 'worker')
    await expect(collect(asWorker.subscribe({ selector: { serviceIds: [id('web')] } }))).rejects.toBeInstanceOf(PermissionDeniedError)
    const n2 = await brokerClient('n2')
    async function* forged(): AsyncGenerator<{ subscriptionId: string; messages: LogMessage[]; close: boolean }> {
      await Promise.resolve()
      yield { subscriptionId: 'x', messages: [msg('t1', 'web', 'n1', 'forged', T0)], close: false }
    }
    const err = await n2.publishLogs(forged()).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(PermissionDeniedError)
    expect((err as Error).message).toBe(`node ${id('n2')} may not publish logs for node ${id('n1')}`)
  })

  it("a manager without a running broker answers NotLeaderError with the leader's address", async () => {
    broker = undefined
    const err = await collect((await subscriber()).subscribe({ selector: { serviceIds: [id('web')] } })).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(NotLeaderError)
    expect(err).toMatchObject({ leaderAddr: LEADER })
    const listen = await collect((await brokerClient('n1')).listenSubscriptions()).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(listen).toBeInstanceOf(NotLeaderError)
  })

  it('closeAll ends follow subscriptions with UnavailableError; the workers listen again', async () => {
    await rig.runTask('t1', 'web', 'n1')
    await grpcWorker('n1')
    await until(() => rig.broker.connectedNodes().length === 1)
    const sub = collect((await subscriber()).subscribe({ selector: { taskIds: [id('t1')] }, options: { follow: true } }))
    await until(() => rig.broker.subscriptionCount === 1)
    service.closeAll()
    await expect(sub).rejects.toBeInstanceOf(UnavailableError)
    await until(() => rig.broker.connectedNodes().length === 1 && rig.broker.subscriptionCount === 0)
    rig.say('t1', 'after', T0 + 9)
    expect(await collect((await subscriber()).subscribe({ selector: { taskIds: [id('t1')] } }))).toEqual([msg('t1', 'web', 'n1', 'after', T0 + 9)])
  })
})
