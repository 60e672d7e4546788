/**
 * Backup and restore of a manager's state directory, with nodes as separate processes (fake
 * runtime): a manager stopped (SIGTERM), its directory copied; the whole control plane destroyed
 * (every manager killed, every manager directory deleted); the copy opened with
 * `--force-new-cluster` → the service, the secret, the CA and the join tokens are there, it leads,
 * writes work; the worker that kept running reconnects by itself (the restored manager listens on
 * the address the backup recorded, one of the managers the worker knows) and runs the service's
 * tasks; a new manager joins with the same manager token.
 */
import { rm } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { NodeState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { controlOf, leaderOf, ProcessRig, runningByNode, settled, total, until } from './processes.ts'
import { copyStateDir, managersReady, reachableManagers } from './recovery-fixtures.ts'

const web: ServiceSpec = { annotations: { name: 'web' }, mode: { replicated: { replicas: 4 } }, task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'] } } }
const after: ServiceSpec = { annotations: { name: 'after-restore' }, mode: { replicated: { replicas: 0 } }, task: { container: { image: 'busybox:fake' } } }

describe('multi-process backup and restore', () => {
  const rig = new ProcessRig()

  it('a stopped manager’s copied state directory, opened with --force-new-cluster after the cluster is destroyed, holds the service, secret, CA and tokens; it leads and writes; the running worker reconnects; a new manager joins with the same token', async () => {
    const m1 = await rig.init('m1')
    const m2 = await rig.join('m2', m1, 'manager')
    const m3 = await rig.join('m3', m1, 'manager')
    const w1 = await rig.join('w1', m1, 'worker')
    await managersReady(m1, [m1, m2, m3], 'three managers ready and reachable')
    const admin = controlOf(m1)
    await until(async () => (await admin.nodes.get(w1.ready.nodeId)).status.state === NodeState.READY, 'the worker ready')
    const service = await settled(() => admin.services.create(web))
    const secret = await settled(() => admin.secrets.create({ annotations: { name: 'api-key' }, data: new TextEncoder().encode('k3y') }))
    await until(async () => total(await runningByNode(admin, service.id)) === 4, 'four replicas running')
    const tokens = await settled(() => admin.joinTokens())
    const caHash = (await admin.getCluster()).rootCa.caCertHash

    // Back up a follower: stop it (SIGTERM: a clean close), copy its state directory.
    const leader = (await leaderOf(admin, [m1, m2, m3])) ?? m1
    const backedUp = [m1, m2, m3].find((m) => m !== leader) as typeof m1
    backedUp.control?.close()
    backedUp.control = undefined
    expect((await backedUp.process.stop()).code).toBe(0)
    const backup = await copyStateDir(rig, backedUp.stateDir)

    // Destroy the control plane: every manager killed, every manager directory gone.
    for (const m of [m1, m2, m3]) {
      await rig.kill(m)
      await rm(m.stateDir, { recursive: true, force: true })
    }

    const restored = await rig.open('restored', backup, ['--force-new-cluster'])
    expect(restored.ready).toMatchObject({ nodeId: backedUp.ready.nodeId, role: 'manager', address: backedUp.ready.address })
    const control = controlOf(restored)
    await until(async () => (await leaderOf(control, [restored])) === restored, 'the restored manager leads')
    expect((await control.services.get('web')).id).toBe(service.id)
    expect((await control.secrets.get('api-key')).id).toBe(secret.id)
    expect((await control.getCluster()).rootCa.caCertHash).toBe(caHash)
    expect(await control.joinTokens()).toEqual(tokens)
    expect((await settled(() => control.services.create(after))).spec.annotations.name).toBe('after-restore')

    // The worker reconnects to the address it knew, and the service runs on the nodes left.
    await until(async () => (await control.nodes.get(w1.ready.nodeId)).status.state === NodeState.READY, 'the worker reconnected', 120_000)
    await until(async () => {
      const byNode = await runningByNode(control, service.id)
      return total(byNode) === 4 && [...byNode.keys()].every((n) => n === w1.ready.nodeId || n === restored.ready.nodeId)
    }, 'four replicas running on the worker and the restored manager', 120_000)

    // A new manager joins with the manager token of before.
    restored.ready = { ...restored.ready, tokens: { manager: tokens.manager, worker: tokens.worker } }
    const m4 = await rig.join('m4', restored, 'manager')
    await managersReady(restored, [restored, m4], 'the restored manager and the new one ready')
    expect(await reachableManagers(restored)).toEqual([restored.ready.nodeId, m4.ready.nodeId].sort())
  }, 240_000)
})
