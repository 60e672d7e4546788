import { FailedPreconditionError, NotFoundError, SequenceConflictError } from '@swarmkit-ts/api'
import type { NodeSpec , InvalidArgumentError} from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { addNode, caught, controlRig, idOf, nodeCertificate, seedCluster } from './fixture.ts'

describe('StoreControlApi nodes', () => {
  it('gets a node by id or hostname and lists nodes by role, availability, label and name, sorted by id', async () => {
    const { control, store } = controlRig()
    await addNode(store, idOf('m1'), { role: 'manager', hostname: 'alpha', labels: { zone: 'a' } })
    await addNode(store, idOf('w2'), { hostname: 'beta', labels: { zone: 'b' } })
    await addNode(store, idOf('w1'), { hostname: 'gamma', state: 'down' })
    expect((await control.nodes.get('beta')).id).toBe(idOf('w2'))
    expect((await control.nodes.get(idOf('m1'))).description?.hostname).toBe('alpha')
    expect(await caught(control.nodes.get('delta'))).toBeInstanceOf(NotFoundError)
    const hosts = async (f: Parameters<typeof control.nodes.list>[0]): Promise<(string | undefined)[]> => (await control.nodes.list(f)).map((n) => n.description?.hostname)
    expect(await hosts(undefined)).toEqual(['alpha', 'gamma', 'beta'])
    expect(await hosts({ roles: ['worker'] })).toEqual(['gamma', 'beta'])
    expect(await hosts({ labels: { zone: 'b' } })).toEqual(['beta'])
    expect(await hosts({ namePrefixes: ['G'] })).toEqual(['gamma'])
    expect(await hosts({ availabilities: ['drain'] })).toEqual([])
    const bad = await caught(control.nodes.list({ roles: ['boss' as 'worker'] }))
    expect((bad as InvalidArgumentError).field).toBe('filters.roles[0]')
  })

  it('updates availability and labels with the version read; a stale version changes nothing', async () => {
    const { control, store } = controlRig()
    const n = await addNode(store, idOf('w1'))
    const spec: NodeSpec = { ...n.spec, availability: 'drain', annotations: { name: '', labels: { zone: 'a' } } }
    const u = await control.nodes.update(n.id, spec, { version: n.meta.version.index })
    expect(u.spec).toEqual(spec)
    expect(u.meta.version.index).toBeGreaterThan(n.meta.version.index)
    const stale = await caught(control.nodes.update(n.id, { ...spec, availability: 'pause' }, { version: n.meta.version.index }))
    expect(stale).toBeInstanceOf(SequenceConflictError)
    expect((await control.nodes.get(n.id)).spec.availability).toBe('drain')
  })

  it('refuses an invalid spec naming the field, and going back from accepted to pending', async () => {
    const { control, store } = controlRig()
    const n = await addNode(store, idOf('w1'))
    const e1 = await caught(control.nodes.update(n.id, { ...n.spec, availability: 'sleepy' as 'drain' }))
    expect((e1 as InvalidArgumentError).field).toBe('availability')
    const e2 = await caught(control.nodes.update(n.id, { ...n.spec, membership: 'pending' }))
    expect((e2 as InvalidArgumentError).field).toBe('membership')
  })

  it('promotes and demotes through the membership hooks, committing the desired role', async () => {
    const { control, store, membership } = controlRig()
    await addNode(store, idOf('m1'), { role: 'manager' })
    const w = await addNode(store, idOf('w1'))
    const promoted = await control.nodes.update(w.id, { ...w.spec, desiredRole: 'manager' })
    expect(promoted.spec.desiredRole).toBe('manager')
    expect(promoted.role).toBe('worker')
    const demoted = await control.nodes.update(w.id, { ...promoted.spec, desiredRole: 'worker' })
    expect(demoted.spec.desiredRole).toBe('worker')
    expect(membership.calls).toEqual([`promote ${w.id}`, `demote ${w.id}`])
  })

  it('refuses a demotion the membership hook refuses (quorum) and leaves the node as it was', async () => {
    const { control, store, membership } = controlRig()
    const m1 = await addNode(store, idOf('m1'), { role: 'manager' })
    await addNode(store, idOf('m2'), { role: 'manager' })
    membership.refuseDemote.add(m1.id)
    const err = await caught(control.nodes.update(m1.id, { ...m1.spec, desiredRole: 'worker' }))
    expect(err).toBeInstanceOf(FailedPreconditionError)
    expect((err as FailedPreconditionError).reason).toBe('quorum')
    expect(await control.nodes.get(m1.id)).toEqual(m1)
  })

  it('refuses demoting the last manager even without membership hooks', async () => {
    const { control, store, membership } = controlRig({ membership: false })
    const m1 = await addNode(store, idOf('m1'), { role: 'manager' })
    const err = await caught(control.nodes.update(m1.id, { ...m1.spec, desiredRole: 'worker' }))
    expect((err as FailedPreconditionError).reason).toBe('last-manager')
    expect(membership.calls).toEqual([])
  })

  it('refuses removing a node that is up unless forced, and a manager whatever force', async () => {
    const { control, store } = controlRig()
    await seedCluster(store)
    const up = await addNode(store, idOf('w1'))
    const mgr = await addNode(store, idOf('m1'), { role: 'manager', state: 'down' })
    const e1 = await caught(control.nodes.remove(up.id))
    expect((e1 as FailedPreconditionError).reason).toBe('node-up')
    const e2 = await caught(control.nodes.remove(mgr.id, { force: true }))
    expect((e2 as FailedPreconditionError).reason).toBe('manager')
    expect((await control.nodes.list()).map((n) => n.id)).toEqual([mgr.id, up.id])
    await control.nodes.remove(up.id, { force: true })
    expect((await control.nodes.list()).map((n) => n.id)).toEqual([mgr.id])
  })

  it('removes a down node and denies its certificate until the certificate expires', async () => {
    const { control, store, membership } = controlRig()
    await seedCluster(store)
    const cert = await nodeCertificate(idOf('w1'))
    const n = await addNode(store, idOf('w1'), { state: 'down', certificate: cert.pem })
    const bare = await addNode(store, idOf('w2'), { state: 'down' })
    await control.nodes.remove('host-' + n.id)
    await control.nodes.remove(bare.id)
    expect(await control.nodes.list()).toEqual([])
    const cluster = store.view((tx) => tx.clusters.find()[0])
    expect(cluster?.blacklistedCertificates).toEqual({ [n.id]: { expiry: Math.floor(cert.notAfter / 1000) * 1000 }, [bare.id]: {} })
    expect(membership.calls).toEqual([`remove ${n.id}`, `remove ${bare.id}`])
    expect(await caught(control.nodes.remove(n.id))).toBeInstanceOf(NotFoundError)
  })

  it('leaves the node in place when the membership hook refuses its removal', async () => {
    const { control, store, membership } = controlRig()
    await seedCluster(store)
    const n = await addNode(store, idOf('w1'), { state: 'down' })
    membership.refuseRemove.add(n.id)
    const err = await caught(control.nodes.remove(n.id))
    expect((err as FailedPreconditionError).reason).toBe('raft-member')
    expect(await control.nodes.get(n.id)).toEqual(n)
    expect(store.view((tx) => tx.clusters.find()[0]?.blacklistedCertificates)).toBeUndefined()
  })
})
