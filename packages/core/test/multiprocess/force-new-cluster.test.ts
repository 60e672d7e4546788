/**
 * Recovering managers, with managers as separate processes (fake runtime):
 * - a manager lost for good (kill -9, its state directory deleted) is demoted, removed and
 *   replaced by a new one: three reachable managers again (Docker's "replace a lost manager");
 * - quorum lost (two of three managers lost for good): writes on the survivor fail with
 *   NotLeaderError (gRPC UNAVAILABLE, Docker's "the swarm does not have a leader"); reopened with `--force-new-cluster` it leads alone with every object kept,
 *   writes work, two new managers join with the same token, and the lost managers' Nodes show
 *   unreachable and can be removed.
 */
import { rm } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { GrpcStatus, NodeState, NotLeaderError } from '@swarmkit-ts/api'
import { NO_LEADER_MESSAGE } from '../../src/control/leader-forwarding.ts'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { controlOf, leaderOf, ProcessRig, settled, until } from './processes.ts'
import { managersReady, reachableManagers, withTokens } from './recovery-fixtures.ts'

const web: ServiceSpec = { annotations: { name: 'web' }, mode: { replicated: { replicas: 3 } }, task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'] } } }
const later: ServiceSpec = { annotations: { name: 'later' }, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'busybox:fake' } } }

describe('multi-process manager recovery', () => {
  const rig = new ProcessRig()

  it('a manager lost for good (kill -9, state deleted): demoted while down (quorum holds), removed, a new manager joins — three reachable managers again', async () => {
    const m1 = await rig.init('m1')
    const m2 = await rig.join('m2', m1, 'manager')
    const m3 = await rig.join('m3', m1, 'manager')
    await managersReady(m1, [m1, m2, m3], 'three managers ready and reachable')
    const leader = (await leaderOf(controlOf(m1), [m1, m2, m3])) ?? m1
    const lost = [m1, m2, m3].find((m) => m !== leader) as typeof m1
    const survivor = [m1, m2, m3].find((m) => m !== leader && m !== lost) as typeof m1
    await rig.kill(lost)
    await rm(lost.stateDir, { recursive: true, force: true })
    const admin = controlOf(leader)
    await until(async () => (await admin.nodes.get(lost.ready.nodeId)).status.state === NodeState.DOWN, `${lost.name} down`, 120_000)
    // A manager that is a Raft member is never removed, force or not: demote it first.
    await expect(admin.nodes.remove(lost.ready.nodeId, { force: true })).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'manager' })
    const node = await admin.nodes.get(lost.ready.nodeId)
    await settled(async () => {
      const cur = await admin.nodes.get(lost.ready.nodeId)
      return admin.nodes.update(cur.id, { ...cur.spec, desiredRole: 'worker' }, { version: cur.meta.version.index })
    })
    expect(node.role).toBe('manager')
    await until(async () => (await admin.nodes.get(lost.ready.nodeId)).role === 'worker', `${lost.name} demoted`)
    await admin.nodes.remove(lost.ready.nodeId, { force: true })
    await expect(admin.nodes.get(lost.ready.nodeId)).rejects.toMatchObject({ name: 'NotFoundError' })
    const m4 = await rig.join('m4', await withTokens(leader), 'manager')
    await managersReady(leader, [leader, survivor, m4], 'three managers again')
    expect(await reachableManagers(leader)).toEqual([leader, survivor, m4].map((m) => m.ready.nodeId).sort())
    const svc = await settled(() => controlOf(m4).services.create(later))
    expect(svc.spec.annotations.name).toBe('later')
  }, 240_000)

  it('quorum lost: writes fail with NotLeaderError (UNAVAILABLE, "the swarm does not have a leader"); reopened with --force-new-cluster the survivor leads alone with every object, writes work, two new managers join with the same token', async () => {
    const m1 = await rig.init('m1')
    const m2 = await rig.join('m2', m1, 'manager')
    const m3 = await rig.join('m3', m1, 'manager')
    await managersReady(m1, [m1, m2, m3], 'three managers ready and reachable')
    const service = await settled(() => controlOf(m1).services.create(web))
    const secret = await settled(() => controlOf(m1).secrets.create({ annotations: { name: 'db-password' }, data: new TextEncoder().encode('s3cr3t') }))
    const tokens = await settled(() => controlOf(m1).joinTokens())
    const cluster = await settled(() => controlOf(m1).getCluster())

    for (const lost of [m2, m3]) {
      await rig.kill(lost)
      await rm(lost.stateDir, { recursive: true, force: true })
    }
    // The survivor cannot commit: NotLeaderError (gRPC UNAVAILABLE) with Docker's message, once it knows no leader.
    let refusal: unknown
    await until(async () => {
      refusal = await controlOf(m1).services.create(later).then(() => undefined, (e: unknown) => e)
      // (While the old leader steps down its refusal names no leader yet; then every call gets Docker's message.)
      return refusal instanceof NotLeaderError && refusal.message === NO_LEADER_MESSAGE
    }, 'writes refused: no leader', 120_000)
    expect(refusal).toMatchObject({ name: 'NotLeaderError', code: GrpcStatus.UNAVAILABLE, message: NO_LEADER_MESSAGE })

    await rig.kill(m1)
    const again = await withTokens(await rig.reopen(m1, ['--force-new-cluster']))
    const admin = controlOf(again)
    await until(async () => (await leaderOf(admin, [again])) === again, 'the survivor leads alone')
    expect((await admin.services.get('web')).id).toBe(service.id)
    expect((await admin.secrets.get('db-password')).id).toBe(secret.id)
    const restored = await admin.getCluster()
    expect(restored.rootCa.caCertHash).toBe(cluster.rootCa.caCertHash)
    expect(await admin.joinTokens()).toEqual(tokens)
    expect((await settled(() => admin.services.create(later))).spec.annotations.name).toBe('later')

    // The lost managers' Nodes stay, unreachable; they can be removed without a demotion.
    await until(async () => {
      const nodes = await admin.nodes.list({ roles: ['manager'] })
      return [m2, m3].every((m) => nodes.find((n) => n.id === m.ready.nodeId)?.managerStatus?.reachability === 'unreachable')
    }, 'the lost managers unreachable')
    expect(await reachableManagers(again)).toEqual([again.ready.nodeId])
    for (const lost of [m2, m3]) await settled(() => admin.nodes.remove(lost.ready.nodeId, { force: true }))

    const m4 = await rig.join('m4', again, 'manager')
    const m5 = await rig.join('m5', again, 'manager')
    await managersReady(again, [again, m4, m5], 'three managers after the forced new cluster')
    expect(await reachableManagers(again)).toEqual([again, m4, m5].map((m) => m.ready.nodeId).sort())
    expect((await controlOf(m5).services.get('web')).id).toBe(service.id)
  }, 240_000)
})
