import { InvalidArgumentError, NotFoundError, UnavailableError } from '@swarmkit-ts/api'
import { RootCA, credentials } from '@swarmkit-ts/pki'
import type { Frozen } from '@swarmkit-ts/store'
import type { Service } from '@swarmkit-ts/api'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ControlApi, ServicesApi } from '../../src/control/control-api.ts'
import { ControlClient } from '../../src/control/control-client.ts'
import { encodeRequest } from '../../src/control/control-wire.ts'
import { caught, controlRig, replicated, seedCluster, type ControlRig } from './fixture.ts'
import { CLUSTER_ID, clientFor, nodeMaterial, startControlServer, type ControlServer } from './grpc-fixture.ts'
import type { TlsMaterial } from '@swarmkit-ts/pki'

/** A control API whose `services.get` answers only when the test releases the id. */
function gatedGets(base: ControlApi): { control: ControlApi; release: (id: string) => void; waiting: () => string[] } {
  const gates = new Map<string, () => void>()
  const services: ServicesApi = Object.create(base.services) as ServicesApi
  services.get = (id: string): Promise<Frozen<Service>> =>
    new Promise<void>((resolve) => gates.set(id, resolve)).then(() => base.services.get(id))
  const control: ControlApi = Object.create(base) as ControlApi
  Object.defineProperty(control, 'services', { value: services })
  return {
    control,
    release: (id) => {
      gates.get(id)?.()
      gates.delete(id)
    },
    waiting: () => [...gates.keys()],
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !cond(); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('ControlClient calls multiplexed on one session stream', () => {
  let ca: RootCA
  let serverMaterial: TlsMaterial
  let clientMaterial: TlsMaterial
  let rig: ControlRig
  const servers: ControlServer[] = []
  const clients: ControlClient[] = []

  beforeAll(async () => {
    ca = await RootCA.create()
    serverMaterial = await nodeMaterial(ca, 'mgr1', 'manager')
    clientMaterial = await nodeMaterial(ca, 'mgr2', 'manager')
  })

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close()
    for (const s of servers.splice(0)) await s.close()
  })

  async function serve(control: ControlApi): Promise<ControlServer> {
    const s = await startControlServer(serverMaterial, () => control)
    servers.push(s)
    return s
  }

  function client(address: string, callTimeoutMs?: number): ControlClient {
    const c =
      callTimeoutMs === undefined
        ? clientFor(address, clientMaterial)
        : new ControlClient({ address, credentials: credentials.forClient(clientMaterial, { clusterId: CLUSTER_ID }), channelOptions: credentials.channelOptions('manager'), callTimeoutMs })
    clients.push(c)
    return c
  }

  it('answers concurrent calls each with its own result, in whatever order the answers come', async () => {
    rig = controlRig()
    await seedCluster(rig.store)
    const names = ['a', 'b', 'c', 'd']
    for (const n of names) await rig.control.services.create(replicated(n, 1))
    const gated = gatedGets(rig.control)
    const c = client((await serve(gated.control)).address)
    const calls = names.map((n) => c.services.get(n))
    await until(() => gated.waiting().length === names.length, 'all four calls to reach the server')
    for (const n of [...names].reverse()) gated.release(n)
    expect((await Promise.all(calls)).map((s) => s.spec.annotations.name)).toEqual(names)
  })

  it('carries a refusal as its typed error with its fields, and an unknown method as InvalidArgumentError naming it', async () => {
    rig = controlRig()
    await seedCluster(rig.store)
    const c = client((await serve(rig.control)).address)
    const missing = await caught(c.services.get('nope'))
    expect(missing).toBeInstanceOf(NotFoundError)
    expect(missing).toMatchObject({ kind: 'service', id: 'nope' })
    const unknown = await caught(c.forwardRaw('NoSuchMethod', encodeRequest({})))
    expect(unknown).toBeInstanceOf(InvalidArgumentError)
    expect((unknown as InvalidArgumentError).field).toBe('method')
    // The session still serves calls after refusals.
    expect((await c.services.create(replicated('after', 1))).spec.annotations.name).toBe('after')
  })

  it('fails a call with UnavailableError after callTimeoutMs without an answer, and answers the next one', async () => {
    rig = controlRig()
    await seedCluster(rig.store)
    await rig.control.services.create(replicated('slow', 1))
    await rig.control.services.create(replicated('fast', 1))
    const gated = gatedGets(rig.control)
    const c = client((await serve(gated.control)).address, 300)
    const timedOut = await caught(c.services.get('slow'))
    expect(timedOut).toBeInstanceOf(UnavailableError)
    expect(timedOut.message).toBe('the control call GetService got no answer within 300 ms')
    const next = c.services.get('fast')
    await until(() => gated.waiting().includes('fast'), 'the next call to reach the server')
    gated.release('fast')
    expect((await next).spec.annotations.name).toBe('fast')
    gated.release('slow')
  })

  it('fails the calls in flight with UnavailableError when the client is closed', async () => {
    rig = controlRig()
    await seedCluster(rig.store)
    await rig.control.services.create(replicated('held', 1))
    const gated = gatedGets(rig.control)
    const c = client((await serve(gated.control)).address)
    const call = c.services.get('held')
    await until(() => gated.waiting().length === 1, 'the call to reach the server')
    c.close()
    expect(await caught(call)).toBeInstanceOf(UnavailableError)
    expect(await caught(c.services.get('held'))).toBeInstanceOf(UnavailableError)
    gated.release('held')
  })

  it('ends an idle session, so that the server shuts down without cancelling it while the client stays open', async () => {
    rig = controlRig()
    await seedCluster(rig.store)
    const s = await startControlServer(serverMaterial, () => rig.control)
    const c = client(s.address)
    await c.services.create(replicated('x', 1))
    // tryShutdown completes only once no call is open (it never cancels one): the session must
    // end by itself, SESSION_IDLE_MS after its last call.
    await s.close()
    expect(await caught(c.services.get('x'))).toBeInstanceOf(UnavailableError)
  })
})
