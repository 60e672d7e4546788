/**
 * The pieces of a root rotation that a node's trust and the control API add: a node adopts the
 * cluster's root as its trust root only when its own certificate verifies against it
 * (`NodeCertificateStore.adoptTrustRoot`), and `updateCluster` with a changed
 * `caConfig.forceRotate` starts a rotation (`rootCaForClusterSpec`).
 */
import { readFile } from 'node:fs/promises'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cryptoRandom, FailedPreconditionError, InvalidArgumentError, systemClock, type Cluster } from '@swarmkit-ts/api'
import { createCsr, generateNodeKey, RootCA, RootRotation, type TlsMaterial } from '@swarmkit-ts/pki'
import { MemoryStore } from '@swarmkit-ts/store'
import { bootstrapClusterCA, pemText } from '../../src/ca/index.ts'
import { NodeCertificateStore } from '../../src/certs/index.ts'
import { StoreControlApi } from '../../src/control/index.ts'
import { mintMaterial, TempDirs } from './fixtures.ts'

describe('NodeCertificateStore.adoptTrustRoot', () => {
  const dirs = new TempDirs()
  let old: RootCA
  let next: RootCA
  let rotated: TlsMaterial // issued during a rotation: new-root leaf plus the cross-signed certificate, trusting both roots
  let onOld: TlsMaterial

  beforeAll(async () => {
    old = await RootCA.create()
    next = await RootCA.create()
    const rotation = await RootRotation.start(old, next)
    const key = await generateNodeKey()
    const issued = rotation.signer.issueSync(await createCsr(key), { nodeId: 'node1', role: 'worker', clusterId: 'cluster1' })
    rotated = { keyPem: key.keyPem, certChainPem: issued.chainPem, trustBundlePem: old.certPem + next.certPem }
    onOld = await mintMaterial(old, 'node2', 'worker', 'cluster1')
  })
  afterEach(async () => {
    await dirs.cleanup()
  })

  it('replaces the bundle with the new root once the rotation completed: on disk, in the TLS source, after a reload', async () => {
    const stateDir = await dirs.make()
    const store = new NodeCertificateStore({ stateDir })
    await store.save(rotated)
    const source = store.tlsSource()
    expect(await store.adoptTrustRoot(next.certPem)).toBe(true)
    expect(await readFile(store.paths.rootCa, 'utf8')).toBe(next.certPem)
    expect(source.current.trustBundlePem).toBe(next.certPem)
    expect(await new NodeCertificateStore({ stateDir }).load()).toEqual({ ...rotated, trustBundlePem: next.certPem })
    expect(await store.adoptTrustRoot(next.certPem)).toBe(false) // already the bundle
  })

  it('keeps trusting the root of its own certificate: a root its chain does not verify against is not adopted', async () => {
    const store = new NodeCertificateStore({ stateDir: await dirs.make() })
    await store.save(onOld)
    expect(await store.adoptTrustRoot(next.certPem)).toBe(false)
    expect(await readFile(store.paths.rootCa, 'utf8')).toBe(old.certPem)
    expect(store.current).toEqual(onOld)
  })

  it('refuses a value without a PEM certificate with InvalidArgumentError naming rootPem, changing nothing', async () => {
    const store = new NodeCertificateStore({ stateDir: await dirs.make() })
    await store.save(rotated)
    const err = await store.adoptTrustRoot('not a certificate').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('rootPem')
    expect(store.current).toEqual(rotated)
  })

  it('runs after a save queued before it, and does not undo it', async () => {
    const store = new NodeCertificateStore({ stateDir: await dirs.make() })
    await store.save(onOld)
    const saving = store.save(rotated)
    const adopting = store.adoptTrustRoot(next.certPem)
    await saving
    expect(await adopting).toBe(true)
    expect(store.current).toEqual({ ...rotated, trustBundlePem: next.certPem })
  })
})

describe('updateCluster with caConfig.forceRotate', () => {
  async function seeded(): Promise<{ store: MemoryStore; control: StoreControlApi; rootPem: string }> {
    const ca = await bootstrapClusterCA()
    const store = new MemoryStore()
    await store.update((tx) => tx.clusters.create({ id: ca.clusterId, meta: { version: { index: 0n }, createdAt: 0, updatedAt: 0 }, spec: { annotations: { name: 'default' } }, rootCa: ca.rootCa }))
    return { store, control: new StoreControlApi({ store, clock: systemClock, random: cryptoRandom }), rootPem: ca.rootCA.certPem }
  }
  const stored = (store: MemoryStore): Cluster => {
    const c = store.view((tx) => tx.clusters.find()[0])
    if (c === undefined) throw new Error('no cluster')
    return c
  }

  it('a changed forceRotate starts a rotation to a new root cross-signed by the current one, and records it as lastForcedRotation', async () => {
    const { store, control, rootPem } = await seeded()
    const before = await control.getCluster()
    const answer = await control.updateCluster({ ...before.spec, caConfig: { forceRotate: 1 } })
    const c = stored(store)
    const rot = c.rootCa.rootRotation
    if (rot === undefined) throw new Error('no rotation started')
    expect([pemText(c.rootCa.caCert), c.rootCa.lastForcedRotation, answer.rootCa.lastForcedRotation]).toEqual([rootPem, 1, 1])
    expect(pemText(rot.caCert)).not.toBe(rootPem)
    const oldRoot = await RootCA.fromPEM(rootPem)
    expect(oldRoot.signed(pemText(rot.crossSignedCaCert))).toBe(true)
    expect(answer.rootCa.rootRotation).toEqual({ caCert: rot.caCert, crossSignedCaCert: rot.crossSignedCaCert }) // the new key is not handed out
  })

  it('an update that keeps forceRotate starts none', async () => {
    const { store, control } = await seeded()
    const before = await control.getCluster()
    await control.updateCluster({ ...before.spec, annotations: { name: 'default', labels: { a: 'b' } } })
    expect(stored(store).rootCa.rootRotation).toBeUndefined()
    expect(stored(store).spec.annotations.labels).toEqual({ a: 'b' })
  })

  it('another forceRotate while a rotation runs is FailedPreconditionError (rotation-in-progress), the cluster unchanged', async () => {
    const { store, control } = await seeded()
    const before = await control.getCluster()
    await control.updateCluster({ ...before.spec, caConfig: { forceRotate: 1 } })
    const during = stored(store)
    const err = await control.updateCluster({ ...during.spec, caConfig: { forceRotate: 2 } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(FailedPreconditionError)
    expect((err as FailedPreconditionError).reason).toBe('rotation-in-progress')
    expect(stored(store)).toEqual(during)
  })
})
