import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, SequenceConflictError } from '@swarmkit-ts/api'
import { joinTokenDigest, parseJoinToken } from '@swarmkit-ts/pki'
import type { WatchEvent } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { ROOT_PEM, caught, controlRig, replicated, seedCluster } from './fixture.ts'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const file = { name: 'f', uid: '0', gid: '0', mode: 0o444 }

describe('StoreControlApi secrets and configs', () => {
  it('creates a secret and hands it out without its data, by id, by name and in lists', async () => {
    const { control, store } = controlRig()
    const s = await control.secrets.create({ annotations: { name: 'db', labels: { env: 'prod' } }, data: bytes('hunter2') })
    expect(s.spec.data).toEqual(new Uint8Array())
    expect((await control.secrets.get('db')).spec.data).toEqual(new Uint8Array())
    expect((await control.secrets.list({ labels: { env: 'prod' } })).map((x) => x.id)).toEqual([s.id])
    expect(store.view((tx) => tx.secrets.get(s.id))?.spec.data).toEqual(bytes('hunter2'))
    expect(await caught(control.secrets.create({ annotations: { name: 'db' }, data: bytes('x') }))).toBeInstanceOf(AlreadyExistsError)
    const empty = await caught(control.secrets.create({ annotations: { name: 'e' }, data: new Uint8Array() }))
    expect((empty as InvalidArgumentError).field).toBe('data')
  })

  it('updates only labels: data read back empty means unchanged; a new name or new data is refused', async () => {
    const { control, store } = controlRig()
    const s = await control.secrets.create({ annotations: { name: 'db' }, data: bytes('hunter2') })
    const u = await control.secrets.update(s.id, { ...s.spec, annotations: { name: 'db', labels: { a: '1' } } }, { version: s.meta.version.index })
    expect(u.spec.annotations.labels).toEqual({ a: '1' })
    expect(store.view((tx) => tx.secrets.get(s.id))?.spec.data).toEqual(bytes('hunter2'))
    const rename = await caught(control.secrets.update(s.id, { annotations: { name: 'db2' }, data: new Uint8Array() }))
    expect((rename as InvalidArgumentError).field).toBe('annotations.name')
    const data = await caught(control.secrets.update(s.id, { annotations: { name: 'db' }, data: bytes('other') }))
    expect((data as InvalidArgumentError).field).toBe('data')
    const stale = await caught(control.secrets.update(s.id, u.spec, { version: s.meta.version.index }))
    expect(stale).toBeInstanceOf(SequenceConflictError)
  })

  it('refuses removing a secret or config while a service uses it, naming the service', async () => {
    const { control } = controlRig()
    const s = await control.secrets.create({ annotations: { name: 'db' }, data: bytes('x') })
    const c = await control.configs.create({ annotations: { name: 'conf' }, data: bytes('y') })
    await control.services.create(
      replicated('web', 1, {
        task: { container: { image: 'busybox', secrets: [{ secretId: s.id, secretName: 'db', file }], configs: [{ configId: c.id, configName: 'conf', file }] } },
      }),
    )
    const e1 = await caught(control.secrets.remove('db'))
    expect(e1).toBeInstanceOf(FailedPreconditionError)
    expect(e1.message).toBe("secret 'db' is in use by the following service: web")
    expect((e1 as FailedPreconditionError).reason).toBe('in-use')
    const e2 = await caught(control.configs.remove(c.id))
    expect(e2.message).toBe("config 'conf' is in use by the following service: web")
    await control.services.remove('web')
    await control.secrets.remove('db')
    await control.configs.remove('conf')
    expect(await control.secrets.list()).toEqual([])
    expect(await control.configs.list()).toEqual([])
    expect(await caught(control.configs.remove('conf'))).toBeInstanceOf(NotFoundError)
  })

  it('hands configs out with their data and updates their labels', async () => {
    const { control } = controlRig()
    const c = await control.configs.create({ annotations: { name: 'conf' }, data: bytes('y') })
    expect((await control.configs.get('conf')).spec.data).toEqual(bytes('y'))
    const u = await control.configs.update('conf', { annotations: { name: 'conf', labels: { v: '2' } }, data: bytes('y') })
    expect(u.spec).toEqual({ annotations: { name: 'conf', labels: { v: '2' } }, data: bytes('y') })
    expect(u.meta.version.index).toBeGreaterThan(c.meta.version.index)
  })
})

describe('StoreControlApi networks', () => {
  it('creates, gets, lists and removes networks; removal is refused while a service uses one', async () => {
    const { control } = controlRig()
    const n = await control.networks.create({ annotations: { name: 'backend', labels: { team: 'a' } } })
    expect(n.meta.version.index).toBeGreaterThan(0n)
    await control.networks.create({ annotations: { name: 'api-net' } })
    expect((await control.networks.list()).map((x) => x.spec.annotations.name)).toEqual(['api-net', 'backend'])
    expect((await control.networks.list({ labels: { team: 'a' } })).map((x) => x.id)).toEqual([n.id])
    expect((await control.networks.get('backend')).id).toBe(n.id)
    await control.services.create(replicated('web', 1, { task: { container: { image: 'busybox' }, networks: [{ target: n.id }] } }))
    const inUse = await caught(control.networks.remove('backend'))
    expect((inUse as FailedPreconditionError).reason).toBe('network-in-use')
    expect(inUse.message).toBe('network backend is in use by service web')
    await control.networks.remove('api-net')
    expect(await caught(control.networks.get('api-net'))).toBeInstanceOf(NotFoundError)
  })
})

describe('StoreControlApi cluster, join tokens and unlock key', () => {
  it('hands out the cluster without private keys', async () => {
    const { control, store } = controlRig()
    expect(await caught(control.getCluster())).toBeInstanceOf(NotFoundError)
    await seedCluster(store)
    const c = await control.getCluster()
    expect(c.rootCa.caKey).toBeUndefined()
    expect(c.networkBootstrapKeys).toBeUndefined()
    expect(c.unlockKeys).toBeUndefined()
    expect(c.spec.caConfig).toEqual({})
    expect(c.rootCa.joinTokens).toEqual({ worker: 'SWMTKN-1-worker', manager: 'SWMTKN-1-manager' })
  })

  it('updates the cluster spec with its version, refusing invalid specs and stale versions', async () => {
    const { control, store } = controlRig()
    const c = await seedCluster(store)
    const spec = { annotations: { name: 'default' }, orchestration: { taskHistoryRetentionLimit: 2 } }
    const u = await control.updateCluster(spec, { version: c.meta.version.index })
    expect(u.spec).toEqual(spec)
    const stale = await caught(control.updateCluster(spec, { version: c.meta.version.index }))
    expect(stale).toBeInstanceOf(SequenceConflictError)
    const bad = await caught(control.updateCluster({ annotations: { name: 'default' }, caConfig: { nodeCertExpiryMs: 1000 } }))
    expect((bad as InvalidArgumentError).field).toBe('caConfig.nodeCertExpiryMs')
    expect((await control.getCluster()).spec).toEqual(spec)
  })

  it("rotates one role's join token, keeping the other, with the root CA's digest", async () => {
    const { control, store } = controlRig()
    await seedCluster(store)
    const t = await control.rotateJoinToken('worker')
    expect(t.manager).toBe('SWMTKN-1-manager')
    expect(parseJoinToken(t.worker).digest).toBe(joinTokenDigest(ROOT_PEM))
    expect(await control.joinTokens()).toEqual(t)
    const m = await control.rotateJoinToken('manager')
    expect(m.worker).toBe(t.worker)
    expect(m.manager).not.toBe('SWMTKN-1-manager')
    const bad = await caught(control.rotateJoinToken('admin' as 'worker'))
    expect((bad as InvalidArgumentError).field).toBe('role')
  })

  it('answers the unlock key from the key hooks, and without them only while autolock is off', async () => {
    const keys = { unlockKey: () => Promise.resolve('SWMKEY-1-abc'), rotateUnlockKey: () => Promise.resolve('SWMKEY-1-new') }
    const withKeys = controlRig({ keys })
    expect(await withKeys.control.unlockKey()).toBe('SWMKEY-1-abc')
    expect(await withKeys.control.rotateUnlockKey()).toBe('SWMKEY-1-new')
    const off = controlRig()
    await seedCluster(off.store, false)
    expect(await off.control.unlockKey()).toBeUndefined()
    expect(((await caught(off.control.rotateUnlockKey())) as FailedPreconditionError).reason).toBe('autolock-off')
    const on = controlRig()
    await seedCluster(on.store, true)
    expect(((await caught(on.control.unlockKey())) as FailedPreconditionError).reason).toBe('no-key-store')
  })
})

describe('StoreControlApi watch', () => {
  it('yields the selected events, secrets without data, and ends when the signal aborts', async () => {
    const { control } = controlRig()
    const ac = new AbortController()
    const seen: WatchEvent[] = []
    const done = (async () => {
      for await (const ev of control.watch({ kinds: ['secret', 'service'], actions: ['create'] }, { signal: ac.signal })) {
        seen.push(ev)
        if (seen.length === 2) ac.abort()
      }
    })()
    await control.secrets.create({ annotations: { name: 'db' }, data: bytes('hunter2') })
    await control.configs.create({ annotations: { name: 'conf' }, data: bytes('y') })
    await control.services.create(replicated('web', 1))
    await done
    expect(seen.map((e) => (e.action === 'commit' ? 'commit' : `${e.action} ${e.kind}`))).toEqual(['create secret', 'create service'])
    const first = seen[0]
    expect(first?.action === 'create' && first.kind === 'secret' ? first.object.spec.data : undefined).toEqual(new Uint8Array())
  })

  it('refuses a selector naming an unknown kind or action', () => {
    const { control } = controlRig()
    expect(() => control.watch({ kinds: ['volume' as 'node'] })).toThrow(InvalidArgumentError)
    expect(() => control.watch({ actions: ['upsert' as 'create'] })).toThrow(/selector\.actions\[0\]/)
  })
})
