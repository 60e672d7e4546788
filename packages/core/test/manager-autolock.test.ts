/**
 * Autolock of ManagerNode: a sealed key file needs the unlock key after a restart; the key lives
 * in the cluster object, turned on and rotated through the control API's key hooks, and every
 * manager re-seals its own key file under the current key.
 */
import { describe, expect, it } from 'vitest'
import { ClusterLockedError, cryptoRandom, generateId } from '@swarmkit-ts/api'
import { ManagerKeyStore, generateUnlockKey } from '@swarmkit-ts/pki'
import { ManagerNode, managerStatePaths } from '../src/manager/index.ts'
import { cleanupAfterEach, managerInit, until } from './helpers/manager-rig.ts'

const cleanup = cleanupAfterEach()

function track(m: ManagerNode): ManagerNode {
  cleanup.push(() => m.close())
  return m
}

async function createSecret(m: ManagerNode, name: string): Promise<string> {
  const id = generateId(cryptoRandom)
  await m.store.update((tx) => tx.secrets.create({ id, spec: { annotations: { name }, data: new TextEncoder().encode(name) } }))
  return id
}

describe('ManagerNode autolock', () => {
  it('an autolocked manager stays locked after a restart until given its unlock key', async () => {
    const unlockKey = generateUnlockKey()
    const init = await managerInit(cleanup, generateId(cryptoRandom), { unlockKey })
    const m = track(await ManagerNode.init(init))
    expect(m.autolock).toBe(true)
    await expect(m.keyHooks().unlockKey()).resolves.toBe(unlockKey)
    const id = await createSecret(m, 'locked-secret')
    await m.close()

    const { unlockKey: _k, ...withoutKey } = init
    await expect(ManagerNode.open(withoutKey)).rejects.toBeInstanceOf(ClusterLockedError)
    await expect(ManagerNode.open({ ...withoutKey, unlockKey: generateUnlockKey() })).rejects.toBeInstanceOf(ClusterLockedError)
    const again = track(await ManagerNode.open(init))
    await until(() => again.store.view((tx) => tx.secrets.get(id))?.spec.annotations.name === 'locked-secret', 'the secret after unlocking')
  })

  it('turning autolock on makes a key that seals every manager, rotating it re-seals them, turning it off unseals them', async () => {
    const m1 = track(await ManagerNode.init(await managerInit(cleanup, generateId(cryptoRandom))))
    const init2 = await managerInit(cleanup, generateId(cryptoRandom))
    const m2 = track(await ManagerNode.join({ ...init2, joinAddress: m1.server.address }))
    await expect(m1.keyHooks().unlockKey()).resolves.toBeUndefined()
    await expect(m1.keyHooks().rotateUnlockKey()).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'autolock-off' })

    await m1.store.update((tx) => {
      const c = tx.clusters.find()[0]
      if (c !== undefined) tx.clusters.update(c.id, (d) => void (d.spec.encryptionConfig = { autoLockManagers: true }))
    })
    await until(() => m1.sealedUnder !== undefined && m2.sealedUnder === m1.sealedUnder, 'both managers sealed under the new key')
    const first = await m1.keyHooks().unlockKey()
    expect(first).toBe(m1.sealedUnder)

    const rotated = await m1.keyHooks().rotateUnlockKey()
    expect(rotated).not.toBe(first)
    await until(() => m1.sealedUnder === rotated && m2.sealedUnder === rotated, 'both managers re-sealed under the rotated key')
    const keyFile = managerStatePaths(init2.stateDir).keys
    await expect(ManagerKeyStore.open(keyFile, { unlockKey: first })).rejects.toBeInstanceOf(ClusterLockedError)
    expect((await ManagerKeyStore.open(keyFile, { unlockKey: rotated })).autolock).toBe(true)

    await m1.store.update((tx) => {
      const c = tx.clusters.find()[0]
      if (c !== undefined) tx.clusters.update(c.id, (d) => void (d.spec.encryptionConfig = { autoLockManagers: false }))
    })
    await until(() => m1.sealedUnder === undefined && m2.sealedUnder === undefined, 'both managers unsealed')
    expect(await ManagerKeyStore.isLocked(keyFile)).toBe(false)
  })
})
