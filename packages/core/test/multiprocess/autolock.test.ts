/**
 * Autolock with managers as separate processes: a manager killed with -9 stays locked until given
 * the unlock key (and keeps nothing secret readable on disk meanwhile); after a key rotation only
 * the new key opens it; with autolock turned off it opens without a key.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { NodeState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { ManagerKeyStore } from '@swarmkit-ts/pki'
import { controlOf, leaderOf, ProcessRig, until, type TestNode } from './processes.ts'
import { filesContaining, openExpectingFailure } from './t-fixtures.ts'

/** A name that appears nowhere but in this service's spec (replicas 0: no task database holds it). */
const NAME = 'autolocked-svc-5b1f0c9e'
const held: ServiceSpec = { annotations: { name: NAME }, mode: { replicated: { replicas: 0 } }, task: { container: { image: 'busybox:fake' } } }

const keyFile = (n: TestNode): string => join(n.stateDir, 'manager-keys.json')

/** Whether `n`'s key file opens with `key` (undefined: whether it is not sealed). */
async function opensWith(n: TestNode, key: string | undefined): Promise<boolean> {
  if (key === undefined) return !(await ManagerKeyStore.isLocked(keyFile(n)))
  return ManagerKeyStore.open(keyFile(n), { unlockKey: key }).then(
    () => true,
    () => false,
  )
}

describe('multi-process autolock (3 managers)', () => {
  const rig = new ProcessRig()

  it('a killed manager stays locked without the key (one-line ClusterLockedError, nothing in clear on disk), opens with it; after a rotation only the new key opens it; with autolock off no key is needed', async () => {
    const m1 = await rig.init('m1', ['--autolock'])
    const key1 = m1.ready.unlockKey
    if (key1 === undefined) throw new Error('init --autolock printed no unlock key')
    expect(key1).toMatch(/^SWMKEY-1-/)
    const m2 = await rig.join('m2', m1, 'manager')
    const m3 = await rig.join('m3', m1, 'manager')
    const managers = [m1, m2, m3]
    const reachable = async (n: TestNode, via: TestNode): Promise<boolean> => {
      const node = await controlOf(via).nodes.get(n.ready.nodeId)
      return node.status.state === NodeState.READY && node.managerStatus?.reachability === 'reachable'
    }
    await until(async () => (await Promise.all(managers.map((m) => reachable(m, m1)))).every(Boolean), 'three managers ready and reachable')
    await controlOf(m2).services.create(held)

    const leader = await leaderOf(controlOf(m1), managers)
    if (leader === undefined) throw new Error('no leader named in the node list')
    let follower = managers.find((m) => m !== leader) as TestNode
    const other = managers.find((m) => m !== leader && m !== follower) as TestNode

    // kill -9 of a follower; without the key it does not start.
    await rig.kill(follower)
    const locked = await openExpectingFailure(follower)
    expect(locked.exit).toEqual({ code: 1, signal: null })
    expect(locked.stderr.trim().split('\n')).toHaveLength(1)
    expect(locked.stderr).toMatch(/^manager-binary: ClusterLockedError: /)

    // Nothing secret in clear in any manager's state directory (the write is in at least two WALs).
    expect(await filesContaining(follower.stateDir, follower.ready.nodeId)).toContain('manager.json') // the scan reads the files
    for (const m of managers) {
      expect(await filesContaining(m.stateDir, 'PRIVATE KEY')).toEqual([])
      expect(await filesContaining(m.stateDir, NAME)).toEqual([])
      expect(await filesContaining(m.stateDir, key1)).toEqual([])
    }

    // With the key it rejoins and reads the service.
    follower = await rig.reopen(follower, ['--unlock-key', key1])
    expect(follower.ready.role).toBe('manager')
    await until(() => reachable(follower, leader), 'the reopened follower ready and reachable')
    expect((await controlOf(follower).services.get(NAME)).spec.annotations.name).toBe(NAME)

    // Rotation: once the follower re-sealed its keys under the new key, the old one no longer opens it.
    const key2 = await controlOf(other).rotateUnlockKey()
    expect(key2).toMatch(/^SWMKEY-1-/)
    expect(key2).not.toBe(key1)
    expect(await controlOf(follower).unlockKey()).toBe(key2)
    await until(() => opensWith(follower, key2), "the follower's keys sealed under the new key")
    await rig.kill(follower)
    const stale = await openExpectingFailure(follower, ['--unlock-key', key1])
    expect(stale.exit).toEqual({ code: 1, signal: null })
    expect(stale.stderr).toMatch(/^manager-binary: ClusterLockedError: /)
    follower = await rig.reopen(follower, ['--unlock-key', key2])
    await until(() => reachable(follower, leader), 'the follower reopened with the new key, ready and reachable')
    expect((await controlOf(follower).services.get(NAME)).spec.annotations.name).toBe(NAME)

    // Autolock off: once the follower unsealed its keys, it opens without one.
    const cluster = await controlOf(leader).getCluster()
    await controlOf(leader).updateCluster({ ...cluster.spec, encryptionConfig: { autoLockManagers: false } }, { version: cluster.meta.version.index })
    await until(async () => (await controlOf(follower).unlockKey()) === undefined, 'the unlock key dropped')
    await until(() => opensWith(follower, undefined), "the follower's keys no longer sealed")
    await rig.kill(follower)
    follower = await rig.reopen(follower)
    await until(() => reachable(follower, leader), 'the follower reopened without a key, ready and reachable')
    expect((await controlOf(follower).services.get(NAME)).spec.annotations.name).toBe(NAME)
  }, 240_000)
})
