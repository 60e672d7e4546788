import { describe, expect, it } from 'vitest'
import type { ManagerCluster } from '@swarmkit-ts/core'
import { CliRig, cliOf, rowsOf } from './commands-rig.ts'

describe('swarmkit against three managers', { timeout: 90_000 }, () => {
  const rig = new CliRig()

  it("works through a follower's socket (forwarded to the leader) and lists the managers' status", async () => {
    const m1 = await rig.init()
    const m2 = (await rig.join(m1, 'manager', 'm2')) as ManagerCluster
    const m3 = (await rig.join(m1, 'manager', 'm3')) as ManagerCluster
    expect([m2.role, m3.role]).toEqual(['manager', 'manager'])
    const viaFollower = cliOf(m2)
    const created = await viaFollower('service', 'create', '--name', 'web', '--replicas', '3', '--update-monitor', '100ms', 'busybox:fake', 'sleep', '3600')
    expect(created.stderr).toBe('')
    const web = await m1.services.get('web')
    const lines = created.stdout.trimEnd().split('\n')
    expect([lines[0], lines.at(-1)]).toEqual([web.id, `verify: Service ${web.id} converged`])
    expect(rowsOf((await cliOf(m3)('service', 'ls')).stdout)[1]?.slice(0, 4)).toEqual([web.id.slice(0, 12), 'web', 'replicated', '3/3'])

    // Managers' reachability settles after their first heartbeats (a guard, not a timing assertion).
    const statuses = async (): Promise<string[][]> => rowsOf((await cliOf(m3)('node', 'ls')).stdout).slice(1).map((r) => [r[1] ?? '', r[4] ?? ''])
    const wanted = [
      ['m1', 'Leader'],
      ['m2', 'Reachable'],
      ['m3', 'Reachable'],
    ]
    for (let i = 0; i < 600 && JSON.stringify(await statuses()) !== JSON.stringify(wanted); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await statuses()).toEqual(wanted)
  })
})
