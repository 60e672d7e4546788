import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@swarmkit-ts/api'
import type { Endpoint, ServiceSpec } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import { ManualClock } from '@swarmkit-ts/testkit'
import { describe, expect, it } from 'vitest'
import { checkServiceEndpoint } from '../src/control/endpoint-check.ts'
import { fid, serviceSpec } from './helpers/allocator-fixture.ts'
import type { ServiceOptions } from './helpers/allocator-fixture.ts'

async function cluster(opts: { ingress?: boolean; services?: { name: string; spec: ServiceOptions; endpoint?: Endpoint }[] } = {}): Promise<MemoryStore> {
  const store = new MemoryStore({ clock: new ManualClock(1_700_000_000_000) })
  await store.update((tx) => {
    tx.networks.create({ id: fid('netfront'), spec: { annotations: { name: 'front' } } })
    if (opts.ingress !== false) tx.networks.create({ id: fid('netingress'), spec: { annotations: { name: 'ingress' }, ingress: true } })
    for (const s of opts.services ?? []) {
      tx.services.create({ id: fid(`svc${s.name}`), spec: serviceSpec(s.name, s.spec), ...(s.endpoint && { endpoint: s.endpoint }) })
    }
  })
  return store
}

function check(store: MemoryStore, spec: ServiceSpec, serviceId?: string): unknown {
  try {
    store.view((tx) => checkServiceEndpoint(tx, spec, serviceId))
    return undefined
  } catch (err) {
    return err
  }
}

describe('checkServiceEndpoint', () => {
  it('accepts a service with known networks and free ports', async () => {
    const store = await cluster()
    expect(check(store, serviceSpec('web', { networks: ['front', fid('netfront')], ports: [{ targetPort: 80, publishedPort: 8080 }] }))).toBeUndefined()
  })

  it('refuses an unknown network target with NotFoundError', async () => {
    const store = await cluster()
    const err = check(store, serviceSpec('web', { networks: ['front', 'nowhere'] }))
    expect(err).toBeInstanceOf(NotFoundError)
    expect(err).toMatchObject({ kind: 'network', id: 'nowhere' })
  })

  it('refuses an explicit attachment to the ingress network, naming the field', async () => {
    const store = await cluster()
    expect(check(store, serviceSpec('web', { networks: ['ingress'] }))).toMatchObject({ name: 'InvalidArgumentError', field: 'task.networks[0].target' })
    expect(check(store, serviceSpec('web', { legacyNetworks: ['front', 'ingress'] }))).toMatchObject({ field: 'networks[1].target' })
  })

  it('refuses DNSRR with an ingress-mode port, but not with a host-mode one', async () => {
    const store = await cluster()
    const err = check(store, serviceSpec('web', { mode: 'dnsrr', ports: [{ targetPort: 80 }] }))
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect(err).toMatchObject({ field: 'endpoint.mode' })
    expect(check(store, serviceSpec('web', { mode: 'dnsrr', ports: [{ targetPort: 80, publishMode: 'host', publishedPort: 80 }] }))).toBeUndefined()
  })

  it('refuses a duplicate (published port, protocol) in one spec', async () => {
    const store = await cluster()
    const err = check(store, serviceSpec('web', { ports: [{ targetPort: 80, publishedPort: 8080 }, { targetPort: 81, publishedPort: 8080, publishMode: 'host' }] }))
    expect(err).toMatchObject({ name: 'InvalidArgumentError', field: 'endpoint.ports[1].publishedPort', message: 'endpoint.ports[1].publishedPort: duplicate published port 8080/tcp' })
    expect(check(store, serviceSpec('web', { ports: [{ targetPort: 80, publishedPort: 8080 }, { targetPort: 81, publishedPort: 8080, protocol: 'udp' }] }))).toBeUndefined()
  })

  it("refuses an ingress port another service holds, in its spec or its allocated endpoint, naming it", async () => {
    const store = await cluster({
      services: [
        { name: 'web', spec: { ports: [{ targetPort: 80, publishedPort: 8080 }] } },
        { name: 'dyn', spec: { ports: [{ targetPort: 80 }] }, endpoint: { ports: [{ targetPort: 80, publishedPort: 30000, protocol: 'tcp', publishMode: 'ingress' }] } },
      ],
    })
    const err = check(store, serviceSpec('api', { ports: [{ targetPort: 1, publishedPort: 9000 }, { targetPort: 80, publishedPort: 8080 }] }))
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect(err).toMatchObject({ field: 'endpoint.ports[1].publishedPort', message: "endpoint.ports[1].publishedPort: port 8080/tcp is already in use by service 'web'" })
    expect(check(store, serviceSpec('api', { ports: [{ targetPort: 80, publishedPort: 30000 }] }))).toMatchObject({
      message: "endpoint.ports[0].publishedPort: port 30000/tcp is already in use by service 'dyn'",
    })
    // A host-mode port meets an ingress one too; the service itself is no conflict on update.
    expect(check(store, serviceSpec('api', { ports: [{ targetPort: 80, publishedPort: 8080, publishMode: 'host' }] }))).toBeInstanceOf(InvalidArgumentError)
    expect(check(store, serviceSpec('web', { ports: [{ targetPort: 81, publishedPort: 8080 }] }), fid('svcweb'))).toBeUndefined()
  })

  it('lets host-mode ports be shared between services', async () => {
    const store = await cluster({ services: [{ name: 'h', spec: { ports: [{ targetPort: 80, publishedPort: 8080, publishMode: 'host' }] } }] })
    expect(check(store, serviceSpec('h2', { ports: [{ targetPort: 80, publishedPort: 8080, publishMode: 'host' }] }))).toBeUndefined()
    expect(check(store, serviceSpec('i', { ports: [{ targetPort: 80, publishedPort: 8080 }] }))).toMatchObject({ message: "endpoint.ports[0].publishedPort: port 8080/tcp is already in use by service 'h'" })
  })

  it('refuses ingress-mode ports without an ingress network with FailedPreconditionError no-ingress-network', async () => {
    const store = await cluster({ ingress: false })
    const err = check(store, serviceSpec('web', { ports: [{ targetPort: 80 }] }))
    expect(err).toBeInstanceOf(FailedPreconditionError)
    expect(err).toMatchObject({ reason: 'no-ingress-network' })
    expect(check(store, serviceSpec('web', { ports: [{ targetPort: 80, publishMode: 'host' }] }))).toBeUndefined()
  })
})
