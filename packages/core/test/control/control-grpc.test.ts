import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  SequenceConflictError,
  UnavailableError,
} from '@swarmkit-ts/api'
import { RootCA } from '@swarmkit-ts/pki'
import type { WatchEvent } from '@swarmkit-ts/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ControlClient } from '../../src/control/control-client.ts'
import { addNode, caught, controlRig, idOf, replicated, seedCluster, waitFor, type ControlRig } from './fixture.ts'
import { clientFor, nodeMaterial, startControlServer, type ControlServer } from './grpc-fixture.ts'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const file = { name: 'f', uid: '0', gid: '0', mode: 0o444 }

describe('the control API over gRPC with mutual TLS', () => {
  let ca: RootCA
  let rig: ControlRig
  let server: ControlServer
  let client: ControlClient
  const others: ControlClient[] = []

  beforeAll(async () => {
    ca = await RootCA.create()
    rig = controlRig({ keys: { unlockKey: () => Promise.resolve('SWMKEY-1-abc'), rotateUnlockKey: () => Promise.resolve('SWMKEY-1-new') } })
    await seedCluster(rig.store)
    server = await startControlServer(await nodeMaterial(ca, 'mgr1', 'manager'), () => rig.control)
    client = clientFor(server.address, await nodeMaterial(ca, 'mgr2', 'manager'))
  })

  afterAll(async () => {
    client.close()
    for (const c of others) c.close()
    await server.close()
  })

  it('creates, reads, updates, scales, rolls back and removes a service with the same results as the store', async () => {
    const s = await client.services.create(replicated('web', 1, { annotations: { name: 'web', labels: { tier: 'front' } } }))
    expect(s).toEqual(await rig.control.services.get(s.id))
    expect(Object.isFrozen(s)).toBe(true)
    expect(await client.services.get('web')).toEqual(s)
    const u = await client.services.update(s.id, replicated('web', 2), { version: s.meta.version.index })
    expect(u.spec.mode).toEqual({ replicated: { replicas: 2 } })
    expect((await client.services.scale('web', 0)).spec.mode).toEqual({ replicated: { replicas: 0 } })
    expect((await client.services.rollback('web')).spec.mode).toEqual({ replicated: { replicas: 2 } })
    expect((await client.services.list({ labels: { tier: '' } })).map((x) => x.id)).toEqual([])
    expect((await client.services.list({ names: ['web'], modes: ['replicated'] })).map((x) => x.id)).toEqual([s.id])
    await client.services.remove('web')
    expect(await client.services.list()).toEqual([])
  })

  it('carries every refusal as the same typed error with its fields', async () => {
    await client.services.create(replicated('api', 1))
    const dup = await caught(client.services.create(replicated('api', 1)))
    expect(dup).toBeInstanceOf(AlreadyExistsError)
    expect(dup).toMatchObject({ kind: 'service', key: 'api' })
    const bad = await caught(client.services.create(replicated('x', 1, { task: { container: { image: '' } } })))
    expect(bad).toBeInstanceOf(InvalidArgumentError)
    expect((bad as InvalidArgumentError).field).toBe('task.container.image')
    const missing = await caught(client.services.get('nope'))
    expect(missing).toBeInstanceOf(NotFoundError)
    expect(missing).toMatchObject({ kind: 'service', id: 'nope' })
    const api = await client.services.get('api')
    await client.services.scale('api', 3)
    const stale = await caught(client.services.scale('api', 4, { version: api.meta.version.index }))
    expect(stale).toBeInstanceOf(SequenceConflictError)
    expect((stale as SequenceConflictError).expected).toBe(api.meta.version.index)
    const fresh = await client.services.create(replicated('fresh', 1))
    const noPrev = await caught(client.services.rollback(fresh.id, {}))
    expect(noPrev).toBeInstanceOf(FailedPreconditionError)
    expect((noPrev as FailedPreconditionError).reason).toBe('no-previous-spec')
    await client.services.remove(fresh.id)
    const neg = await caught(client.services.scale('api', -2))
    expect((neg as InvalidArgumentError).field).toBe('replicas')
    await client.services.remove('api')
  })

  it('serves tasks, nodes (update, removal refused while up), networks, secrets and configs', async () => {
    const n = await addNode(rig.store, idOf('worker1'), { hostname: 'w1' })
    const drained = await client.nodes.update('w1', { ...n.spec, availability: 'drain' }, { version: n.meta.version.index })
    expect(drained.spec.availability).toBe('drain')
    expect((await client.nodes.list({ availabilities: ['drain'] })).map((x) => x.id)).toEqual([n.id])
    const up = await caught(client.nodes.remove(n.id))
    expect(up).toBeInstanceOf(FailedPreconditionError)
    expect((up as FailedPreconditionError).reason).toBe('node-up')
    await client.nodes.remove(n.id, { force: true })
    expect(await caught(client.nodes.get(n.id))).toBeInstanceOf(NotFoundError)
    expect(await client.tasks.list({ nodeIds: [n.id] })).toEqual([])

    const net = await client.networks.create({ annotations: { name: 'backend' } })
    expect((await client.networks.get('backend')).id).toBe(net.id)
    const secret = await client.secrets.create({ annotations: { name: 'db' }, data: bytes('hunter2') })
    expect(secret.spec.data).toEqual(new Uint8Array())
    const conf = await client.configs.create({ annotations: { name: 'conf' }, data: bytes('y') })
    await client.services.create(
      replicated('db', 1, {
        task: { container: { image: 'busybox', secrets: [{ secretId: secret.id, secretName: 'db', file }], configs: [{ configId: conf.id, configName: 'conf', file }] }, networks: [{ target: 'backend' }] },
      }),
    )
    const inUse = await caught(client.secrets.remove('db'))
    expect(inUse.message).toBe("secret 'db' is in use by the following service: db")
    expect((await caught(client.networks.remove('backend'))) as FailedPreconditionError).toMatchObject({ reason: 'network-in-use' })
    const relabeled = await client.secrets.update(secret.id, { ...secret.spec, annotations: { name: 'db', labels: { a: 'b' } } })
    expect(relabeled.spec.annotations.labels).toEqual({ a: 'b' })
    expect((await client.configs.update('conf', { annotations: { name: 'conf', labels: { v: '1' } }, data: new Uint8Array() })).spec.data).toEqual(bytes('y'))
    await client.services.remove('db')
    await client.secrets.remove('db')
    await client.configs.remove('conf')
    await client.networks.remove('backend')
    expect([await client.secrets.list(), await client.configs.list(), await client.networks.list()]).toEqual([[], [], []])
  })

  it('serves the cluster without keys, join tokens, their rotation and the unlock key', async () => {
    const c = await client.getCluster()
    expect(c.rootCa.caKey).toBeUndefined()
    const spec = { ...c.spec, orchestration: { taskHistoryRetentionLimit: 3 } }
    expect((await client.updateCluster(spec, { version: c.meta.version.index })).spec.orchestration).toEqual({ taskHistoryRetentionLimit: 3 })
    const before = await client.joinTokens()
    const after = await client.rotateJoinToken('manager')
    expect(after.worker).toBe(before.worker)
    expect(after.manager).not.toBe(before.manager)
    expect(await rig.control.joinTokens()).toEqual(after)
    expect((await caught(client.rotateJoinToken('boss' as 'worker'))) as InvalidArgumentError).toMatchObject({ field: 'role' })
    expect(await client.unlockKey()).toBe('SWMKEY-1-abc')
    expect(await client.rotateUnlockKey()).toBe('SWMKEY-1-new')
  })

  it('streams store events from a version on, and ends the stream when the signal aborts', async () => {
    const since = rig.store.version
    await client.configs.create({ annotations: { name: 'w1' }, data: bytes('1') })
    await client.configs.create({ annotations: { name: 'w2' }, data: bytes('2') })
    const ac = new AbortController()
    const seen: string[] = []
    for await (const ev of client.watch({ kinds: ['config'], actions: ['create'] }, { signal: ac.signal, since })) {
      const e: WatchEvent = ev
      if (e.action !== 'commit') seen.push(`${e.action} ${e.kind} ${e.kind === 'config' ? e.object.spec.annotations.name : ''}`)
      if (seen.length === 2) ac.abort()
    }
    expect(seen).toEqual(['create config w1', 'create config w2'])
    const bad = await caught((async () => {
      for await (const ev of client.watch({ kinds: ['volume' as 'node'] })) expect(ev).toBeUndefined()
    })())
    expect((bad as InvalidArgumentError).field).toBe('selector.kinds[0]')
  })

  it("a client that stops reading cancels the call, and the server closes its store watch", async () => {
    const before = rig.store.watcherCount
    const since = rig.store.version
    await client.configs.create({ annotations: { name: 'b1' }, data: bytes('1') })
    for await (const ev of client.watch({ kinds: ['config'] }, { since })) {
      expect(ev.action).toBe('create')
      break
    }
    await waitFor(() => rig.store.watcherCount === before, 'the server to close its watch')
    expect(rig.store.watcherCount).toBe(before)
  })

  it('refuses worker certificates and certificates of another cluster with PermissionDenied', async () => {
    const worker = clientFor(server.address, await nodeMaterial(ca, 'wrk1', 'worker'))
    others.push(worker)
    const denied = await caught(worker.services.list())
    expect(denied).toBeInstanceOf(PermissionDeniedError)
    expect((denied as PermissionDeniedError).role).toBe('worker')
    const foreign = clientFor(server.address, await nodeMaterial(ca, 'mgr9', 'manager', 'othercluster'))
    others.push(foreign)
    expect(await caught(foreign.getCluster())).toBeInstanceOf(PermissionDeniedError)
    const watchDenied = await caught((async () => {
      for await (const ev of worker.watch()) expect(ev).toBeUndefined()
    })())
    expect(watchDenied).toBeInstanceOf(PermissionDeniedError)
  })

  it('fails with UnavailableError when nothing listens', async () => {
    const material = await nodeMaterial(ca, 'mgr3', 'manager')
    const gone = await startControlServer(material, () => rig.control)
    await gone.close()
    const c = clientFor(gone.address, material)
    others.push(c)
    expect(await caught(c.services.list())).toBeInstanceOf(UnavailableError)
  })
})
