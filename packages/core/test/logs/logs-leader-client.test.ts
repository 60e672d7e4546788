import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { UnavailableError } from '@swarmkit-ts/api'
import { TlsMaterialSource } from '@swarmkit-ts/pki'
import { addLogsService, authorizeLogsCaller, LeaderLogsClient, type LogBroker, type LogsService } from '../../src/logs/index.ts'
import { NodeServer } from '../../src/server/index.ts'
import { CLUSTER_ID, testPki, type TestPki } from '../helpers/dispatcher-rig.ts'
import { collect, id, LogsRig, msg, T0, take, until } from './rig.ts'

/** A manager's server with the logs services; `broker` undefined makes it a follower. */
async function startManager(pki: TestPki, name: string, broker: () => LogBroker | undefined, leaderAddress: () => string | undefined): Promise<{ server: NodeServer; service: LogsService }> {
  const server = new NodeServer({ listenAddress: '127.0.0.1:0', tls: new TlsMaterialSource(await pki.tls(id(name), 'manager')), shutdownGraceMs: 0 })
  const service = addLogsService(server.server, { broker, authorize: authorizeLogsCaller({ clusterId: CLUSTER_ID }), leaderAddress })
  await server.listen()
  return { server, service }
}

describe('LeaderLogsClient: subscribers and workers reach the leader through any manager', () => {
  let pki: TestPki
  let rig: LogsRig
  let leader: { server: NodeServer; service: LogsService }
  let follower: { server: NodeServer; service: LogsService }
  const clients: LeaderLogsClient[] = []

  const client = async (nodeId: string, role: 'manager' | 'worker', managers: () => readonly string[]): Promise<LeaderLogsClient> => {
    const c = new LeaderLogsClient({ credentials: await pki.client(id(nodeId), role), managers })
    clients.push(c)
    return c
  }

  beforeEach(async () => {
    pki = await testPki()
    rig = new LogsRig()
    await rig.addNode('n1')
    await rig.addService('web')
    leader = await startManager(pki, 'm1', () => rig.broker, () => undefined)
    follower = await startManager(pki, 'm2', () => undefined, () => leader.server.address)
  })
  afterEach(async () => {
    await rig.close()
    for (const c of clients.splice(0)) c.close()
    for (const m of [leader, follower]) {
      m.service.closeAll()
      await m.server.close()
    }
  })

  it('a worker and a subscriber that know the follower first are redirected to the leader', async () => {
    await rig.runTask('t1', 'web', 'n1')
    const managers = (): readonly string[] => [follower.server.address, leader.server.address]
    const worker = await client('n1', 'worker', () => [follower.server.address])
    rig.worker('n1', () => worker)
    await until(() => rig.broker.connectedNodes().length === 1)
    expect(worker.target()).toBe(leader.server.address)
    const subscriber = await client('m3', 'manager', managers)
    expect(subscriber.target()).toBe(follower.server.address)
    const ctrl = new AbortController()
    const it = subscriber.subscribe({ selector: { serviceIds: [id('web')] }, options: { follow: true } }, { signal: ctrl.signal })[Symbol.asyncIterator]()
    rig.say('t1', 'via the leader', T0 + 1)
    expect(await take(it, 1)).toEqual([msg('t1', 'web', 'n1', 'via the leader', T0 + 1)])
    expect(subscriber.target()).toBe(leader.server.address)
    ctrl.abort()
    expect(await it.next()).toEqual({ value: undefined, done: true })
  })

  it('an unreachable manager fails the call with UnavailableError and is tried last next time', async () => {
    const gone = await startManager(pki, 'm4', () => undefined, () => undefined)
    const goneAddress = gone.server.address
    await gone.server.close()
    const subscriber = await client('m3', 'manager', () => [goneAddress, leader.server.address])
    await expect(collect(subscriber.subscribe({ selector: { serviceIds: [id('web')] } }))).rejects.toBeInstanceOf(UnavailableError)
    expect(subscriber.target()).toBe(leader.server.address)
    expect(await collect(subscriber.subscribe({ selector: { serviceIds: [id('web')] } }))).toEqual([])
  })
})
