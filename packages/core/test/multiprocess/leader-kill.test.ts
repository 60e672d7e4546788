/**
 * Three managers and two workers as five separate Node processes (the manager-binary example,
 * fake runtime), talking gRPC over mutual TLS on 127.0.0.1; driven through the managers' local
 * control sockets, as the CLI would.
 */
import { describe, expect, it } from 'vitest'
import { NodeState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { churn, controlOf, leaderOf, ledger, ProcessRig, runningByNode, total, until, type TestNode } from './processes.ts'

const REPLICAS = 60

const web: ServiceSpec = {
  annotations: { name: 'web' },
  mode: { replicated: { replicas: REPLICAS } },
  task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'] } },
}

describe('multi-process cluster (3 managers, 2 workers)', () => {
  const rig = new ProcessRig()

  it('converges 60 replicas; after kill -9 of the leader the others elect, replace its tasks, keep every acknowledged write; the killed manager reopens and rejoins', async () => {
    const m1 = await rig.init('m1')
    const m2 = await rig.join('m2', m1, 'manager')
    const m3 = await rig.join('m3', m1, 'manager')
    const [w1, w2] = await Promise.all([rig.join('w1', m1, 'worker'), rig.join('w2', m1, 'worker')])
    expect([m2.ready.role, m3.ready.role, w1.ready.role, w2.ready.role]).toEqual(['manager', 'manager', 'worker', 'worker'])
    const managers = [m1, m2, m3]
    const all = [...managers, w1, w2]
    await until(async () => (await controlOf(m1).nodes.list()).filter((n) => n.status.state === NodeState.READY).length === 5, 'five nodes ready')

    const service = await controlOf(m2).services.create(web)
    await controlOf(m3).services.create(ledger)
    await until(async () => total(await runningByNode(controlOf(m1), service.id)) === REPLICAS, `${REPLICAS} replicas running`)
    const spread = await runningByNode(controlOf(m1), service.id)
    expect([...spread.keys()].sort()).toEqual(all.map((n) => n.ready.nodeId).sort())

    const leader = await leaderOf(controlOf(m1), managers)
    if (leader === undefined) throw new Error('no leader named in the node list')
    const survivors = managers.filter((m) => m !== leader)
    const [s1, s2] = survivors as [TestNode, TestNode]

    // Churn through a surviving manager while the leader is killed.
    let stopping = false
    const writes = churn(() => controlOf(s1), () => stopping)
    await until(async () => Number((await controlOf(s1).services.get('ledger')).spec.annotations.labels?.['gen'] ?? 0) >= 3, 'a few writes acknowledged before the kill')
    await rig.kill(leader)
    await until(async () => (await leaderOf(controlOf(s2), survivors)) !== undefined, 'a new leader among the two others')
    await until(async () => {
      const byNode = await runningByNode(controlOf(s2), service.id)
      return total(byNode) === REPLICAS && !byNode.has(leader.ready.nodeId)
    }, `${REPLICAS} replicas running again, none on the killed manager`)
    const afterKill = (await controlOf(s1).services.get('ledger')).spec.annotations.labels?.['gen']
    await until(async () => Number((await controlOf(s1).services.get('ledger')).spec.annotations.labels?.['gen']) >= Number(afterKill) + 3, 'writes acknowledged by the new leader')
    stopping = true
    const { acked, attempted } = await writes
    for (const m of survivors) {
      const gen = (await controlOf(m).services.get('ledger')).spec.annotations.labels?.['gen']
      expect([String(acked), String(attempted)]).toContain(gen) // every acknowledged write kept; the last attempt may have committed
    }

    const back = await rig.reopen(leader)
    expect([back.ready.nodeId, back.ready.role, back.ready.address]).toEqual([leader.ready.nodeId, 'manager', leader.ready.address])
    await until(async () => {
      const n = await controlOf(s2).nodes.get(back.ready.nodeId)
      return n.status.state === NodeState.READY && n.managerStatus?.reachability === 'reachable'
    }, 'the reopened manager ready and reachable')
    const ledgerThere = await controlOf(back).services.get('ledger')
    expect(ledgerThere.spec.annotations.labels).toEqual((await controlOf(s2).services.get('ledger')).spec.annotations.labels)
    expect(total(await runningByNode(controlOf(back), service.id))).toBe(REPLICAS)
  }, 180_000)
})
