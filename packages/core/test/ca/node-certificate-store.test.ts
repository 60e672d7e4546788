import { readFile, stat, writeFile } from 'node:fs/promises'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { ClusterLockedError, InvalidArgumentError, NotFoundError } from '@swarmkit-ts/api'
import { generateUnlockKey, ManagerKeyStore, RootCA, type TlsMaterial } from '@swarmkit-ts/pki'
import { NodeCertificateStore, type NodeKeyStorage } from '../../src/certs/index.ts'
import { mintMaterial, TempDirs } from './fixtures.ts'

describe('NodeCertificateStore', () => {
  const dirs = new TempDirs()
  let ca: RootCA
  let first: TlsMaterial
  let second: TlsMaterial

  beforeAll(async () => {
    ca = await RootCA.create()
    first = await mintMaterial(ca, 'node1', 'worker', 'cluster1')
    second = await mintMaterial(ca, 'node1', 'manager', 'cluster1')
  })
  afterEach(async () => {
    await dirs.cleanup()
  })

  it('saves the key 0600 and the certificate and bundle 0644 in <stateDir>/certificates (0700), and loads them back', async () => {
    const stateDir = await dirs.make()
    const store = new NodeCertificateStore({ stateDir })
    expect(await store.exists()).toBe(false)
    await store.save(first)
    const modes = await Promise.all([store.paths.dir, store.paths.key, store.paths.cert, store.paths.rootCa].map(async (p) => (await stat(p)).mode & 0o777))
    expect(modes).toEqual([0o700, 0o600, 0o644, 0o644])
    expect(await readFile(store.paths.key, 'utf8')).toBe(first.keyPem)
    const again = new NodeCertificateStore({ stateDir })
    expect(await again.exists()).toBe(true)
    expect(await again.load()).toEqual(first)
    expect(again.identity).toEqual({ nodeId: 'node1', role: 'worker', clusterId: 'cluster1', spiffeId: 'spiffe://cluster1/swarm-worker/node1' })
  })

  it('load without a saved certificate is NotFoundError', async () => {
    const store = new NodeCertificateStore({ stateDir: await dirs.make() })
    await expect(store.load()).rejects.toBeInstanceOf(NotFoundError)
  })

  it('refuses a key that does not match the certificate, writing nothing', async () => {
    const store = new NodeCertificateStore({ stateDir: await dirs.make() })
    const err = await store.save({ ...first, keyPem: second.keyPem }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('keyPem')
    expect(await store.exists()).toBe(false)
  })

  it('refuses a trust bundle whose roots do not sign the certificate, writing nothing', async () => {
    const store = new NodeCertificateStore({ stateDir: await dirs.make() })
    const other = await RootCA.create()
    const err = await store.save({ ...first, trustBundlePem: other.certPem }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('trustBundlePem')
    expect(await store.exists()).toBe(false)
  })

  it('the TLS source follows later saves', async () => {
    const store = new NodeCertificateStore({ stateDir: await dirs.make() })
    await store.save(first)
    const source = store.tlsSource()
    await store.save(second)
    expect(store.tlsSource()).toBe(source)
    expect(source.current).toEqual(second)
    expect(store.identity?.role).toBe('manager')
  })

  it('a save interrupted before its commit point is undone on load (old key and certificate kept)', async () => {
    const stateDir = await dirs.make()
    const store = new NodeCertificateStore({ stateDir })
    await store.save(first)
    // The state after writing the *.new files, before renaming the key.
    await writeFile(store.paths.cert + '.new', second.certChainPem)
    await writeFile(store.paths.rootCa + '.new', second.trustBundlePem)
    await writeFile(store.paths.key + '.new', second.keyPem)
    expect(await new NodeCertificateStore({ stateDir }).load()).toEqual(first)
    await expect(stat(store.paths.cert + '.new')).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(stat(store.paths.key + '.new')).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('a save interrupted after its commit point is completed on load (new key with its new certificate)', async () => {
    const stateDir = await dirs.make()
    const store = new NodeCertificateStore({ stateDir })
    await store.save(first)
    // The state right after renaming the key into place.
    await writeFile(store.paths.key, second.keyPem)
    await writeFile(store.paths.cert + '.new', second.certChainPem)
    await writeFile(store.paths.rootCa + '.new', second.trustBundlePem)
    expect(await new NodeCertificateStore({ stateDir }).load()).toEqual(second)
  })

  it('keeps the key in an external key storage when given one (no swarm-node.key file)', async () => {
    let kept: string | undefined
    const keyStorage: NodeKeyStorage = {
      load: () => Promise.resolve(kept),
      save: (k) => {
        kept = k
        return Promise.resolve()
      },
    }
    const stateDir = await dirs.make()
    await new NodeCertificateStore({ stateDir, keyStorage }).save(first)
    expect(kept).toBe(first.keyPem)
    const store = new NodeCertificateStore({ stateDir, keyStorage })
    await expect(stat(store.paths.key)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(await store.load()).toEqual(first)
  })

  it("with autolock, a manager's key lives sealed in its ManagerKeyStore: not readable on disk, and locked until the unlock key is given", async () => {
    const stateDir = await dirs.make()
    const keysPath = join(stateDir, 'manager-keys.json')
    const unlockKey = generateUnlockKey()
    const keys = await ManagerKeyStore.create(keysPath, { tlsKeyPem: first.keyPem, unlockKey })
    const storageOf = (ks: ManagerKeyStore): NodeKeyStorage => ({ load: () => Promise.resolve(ks.tlsKeyPem), save: (k) => ks.setTlsKey(k) })
    await new NodeCertificateStore({ stateDir, keyStorage: storageOf(keys) }).save(second)
    const secretBody = second.keyPem.split('\n')[1] ?? ''
    expect(secretBody.length).toBeGreaterThan(10)
    expect(await readFile(keysPath, 'utf8')).not.toContain(secretBody)
    await expect(stat(join(stateDir, 'certificates', 'swarm-node.key'))).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(ManagerKeyStore.open(keysPath)).rejects.toBeInstanceOf(ClusterLockedError)
    const unlocked = await ManagerKeyStore.open(keysPath, { unlockKey })
    expect(await new NodeCertificateStore({ stateDir, keyStorage: storageOf(unlocked) }).load()).toEqual(second)
  })
})
