/**
 * Three managers as separate processes (they run the tasks too, fake runtime): two of them
 * killed with -9 one after the other — the leader, then (once it is back) a follower — while a
 * client keeps writing through one that stays up. Quorum holds throughout; the service
 * converges after each kill and no acknowledged write is lost.
 */
import { describe, expect, it } from 'vitest'
import { NodeState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { churn, controlOf, generation, leaderOf, ledger, ProcessRig, runningByNode, total, until, type TestNode } from './processes.ts'

const REPLICAS = 30

const web: ServiceSpec = {
  annotations: { name: 'web' },
  mode: { replicated: { replicas: REPLICAS } },
  task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'] } },
}

describe('multi-process managers killed one after the other', () => {
  const rig = new ProcessRig()

  it('kill -9 of the leader, reopen, kill -9 of a follower, during churn: a leader throughout, the service converges off each, every acknowledged write kept', async () => {
    const m1 = await rig.init('m1')
    const m2 = await rig.join('m2', m1, 'manager')
    const m3 = await rig.join('m3', m1, 'manager')
    const managers = [m1, m2, m3]
    const service = await controlOf(m1).services.create(web)
    await controlOf(m1).services.create(ledger)
    await until(async () => total(await runningByNode(controlOf(m1), service.id)) === REPLICAS, `${REPLICAS} replicas running`)

    // The client writes through a manager that is not the one killed next.
    let writer = m2
    let stopping = false
    const writes = churn(() => controlOf(writer), () => stopping)
    await until(async () => (await generation(controlOf(writer))) >= 3, 'a few writes acknowledged')

    /** Kills `victim`; waits for a leader among the others, the service converged off it, and more acknowledged writes. */
    const killAndConverge = async (victim: TestNode): Promise<void> => {
      if (victim === writer) writer = managers.find((m) => m !== victim) ?? writer
      const before = await generation(controlOf(writer))
      await rig.kill(victim)
      const up = managers.filter((m) => m !== victim)
      await until(async () => (await leaderOf(controlOf(writer), up)) !== undefined, `a leader among the managers but ${victim.name}`)
      await until(async () => {
        const byNode = await runningByNode(controlOf(writer), service.id)
        return total(byNode) === REPLICAS && !byNode.has(victim.ready.nodeId)
      }, `${REPLICAS} replicas running, none on ${victim.name}`)
      await until(async () => (await generation(controlOf(writer))) >= before + 3, `writes acknowledged after ${victim.name} was killed`)
    }

    // First the leader (a new term: the others elect, its node goes UNKNOWN then DOWN).
    const first = await leaderOf(controlOf(writer), managers)
    if (first === undefined) throw new Error('no leader named in the node list')
    await killAndConverge(first)
    const back = await rig.reopen(first)
    managers[managers.indexOf(first)] = back
    await until(async () => {
      const n = await controlOf(writer).nodes.get(back.ready.nodeId)
      return n.status.state === NodeState.READY && n.managerStatus?.reachability === 'reachable'
    }, `${back.name} reopened and reachable`)
    // Then a follower (same term: its session ends, DISCONNECTED, then DOWN at its heartbeat deadline).
    const leader = await leaderOf(controlOf(writer), managers)
    const second = managers.find((m) => m !== leader && m !== writer)
    if (leader === undefined || second === undefined) throw new Error('no leader, or no follower to kill')
    await killAndConverge(second)

    stopping = true
    const { acked, attempted } = await writes
    const kept = await generation(controlOf(writer))
    expect([acked, attempted]).toContain(kept) // every acknowledged write kept; the last attempt may have committed
    for (const m of managers.filter((n) => n !== second)) expect(await generation(controlOf(m))).toBe(kept)
  }, 180_000)
})
