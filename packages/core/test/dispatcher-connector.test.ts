// GrpcDispatcherConnector on its own: its options, a connection to no manager, one channel per
// manager address (the one in use kept, the others closed once unused), and close().
import { cryptoRandom, InvalidArgumentError, systemClock, UnavailableError } from '@swarmkit-ts/api'
import { Dispatcher } from '@swarmkit-ts/orchestrator'
import { MemoryStore } from '@swarmkit-ts/store'
import { afterEach, describe, expect, it } from 'vitest'
import { GrpcDispatcherClient, GrpcDispatcherConnector } from '../src/dispatcher/index.ts'
import { startDispatcherServer, testPki, type DispatcherServerRig } from './helpers/dispatcher-rig.ts'
import { caught, Cleanup } from './helpers/dispatcher-wait.ts'

const WORKER = 'wrk00000000000000000000c1'
const cleanup = new Cleanup()
afterEach(() => cleanup.run())

async function leaderServer(): Promise<DispatcherServerRig> {
  const dispatcher = new Dispatcher({ store: new MemoryStore(), clock: systemClock, random: cryptoRandom })
  const handle = dispatcher.start()
  cleanup.add(() => handle.stop())
  const rig = await startDispatcherServer(await testPki(), { dispatcher: () => dispatcher })
  cleanup.add(() => rig.close())
  return rig
}

async function connector(joinAddress?: string): Promise<GrpcDispatcherConnector> {
  const credentials = await (await testPki()).client(WORKER)
  const c = new GrpcDispatcherConnector(joinAddress === undefined ? { credentials } : { credentials, joinAddress })
  cleanup.add(() => c.close())
  return c
}

describe('GrpcDispatcherConnector', () => {
  it('refuses bad options with InvalidArgumentError naming the field', async () => {
    const credentials = await (await testPki()).client(WORKER)
    const fields = [
      () => new GrpcDispatcherConnector({ credentials, joinAddress: 'no-port' }),
      () => new GrpcDispatcherConnector({ credentials, callTimeoutMs: -1 }),
      () => new GrpcDispatcherClient({ credentials, address: '127.0.0.1:0' }),
    ].map((make) => {
      try {
        make()
        return 'accepted'
      } catch (err) {
        return err instanceof InvalidArgumentError ? err.field : String(err)
      }
    })
    expect(fields).toStrictEqual(['joinAddress', 'callTimeoutMs', 'address'])
  })

  it('without a join address or a manager, every call fails with UnavailableError', async () => {
    const api = (await connector()).connect()
    const err = await caught(api.heartbeat({ sessionId: 's' }))
    expect(err).toBeInstanceOf(UnavailableError)
    expect(err).toMatchObject({ message: 'no manager known: give the connector a joinAddress' })
  })

  it('keeps one channel per manager: the one in use stays open, one left is closed once its calls end', async () => {
    const a = await leaderServer()
    const b = await leaderServer()
    const c = await connector()
    const onA = c.connect({ nodeId: 'mgra', addr: a.address, weight: 1 })
    const stream = onA.session({ description: {} })[Symbol.asyncIterator]()
    const { sessionId } = (await stream.next()).value as { sessionId: string }
    await onA.heartbeat({ sessionId })
    expect(c.addresses).toStrictEqual([a.address])
    // The agent moves to b while a's session stream is still open: a's channel stays until it ends.
    const onB = c.connect({ nodeId: 'mgrb', addr: b.address, weight: 1 })
    await caught(onB.heartbeat({ sessionId: 'unknown' }))
    expect(c.addresses).toStrictEqual([a.address, b.address])
    await stream.return?.()
    expect(c.addresses).toStrictEqual([b.address])
    // A call on a's api again opens a channel for it, closed when that call ends (b is in use).
    await caught(onA.heartbeat({ sessionId }))
    expect(c.addresses).toStrictEqual([b.address])
  })

  it('close() ends the streams in progress with UnavailableError and refuses later calls', async () => {
    const a = await leaderServer()
    const c = await connector(a.address)
    const api = c.connect()
    const stream = api.session({ description: {} })[Symbol.asyncIterator]()
    await stream.next()
    c.close()
    expect(await caught(stream.next())).toBeInstanceOf(UnavailableError)
    expect(c.addresses).toStrictEqual([])
    expect(await caught(api.heartbeat({ sessionId: 's' }))).toMatchObject({ name: 'UnavailableError', message: 'the dispatcher connector is closed' })
  })
})
