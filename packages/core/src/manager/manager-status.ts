/**
 * A built-in leader component: records in the managers' Node objects who leads and which managers
 * this leader reaches (`managerStatus.leader`, `.reachability`, `.addr`), at the start of each
 * term and then every `intervalMs`, writing only what changed (SwarmKit's leader does the same).
 * A manager's Node whose Raft member is not in the group is recorded unreachable.
 *
 * @module
 */
import type { Timer } from '@swarmkit-ts/api'
import type { LeaderComponent, LeaderContext } from './leader-component.ts'
import type { ManagerMember } from './membership.ts'

/** How often the leader refreshes the managers' reachability. */
export const MANAGER_STATUS_INTERVAL_MS = 5000

/** The component; `members` reads the Raft group as this manager sees it. */
export function managerStatusComponent(members: () => readonly ManagerMember[], intervalMs = MANAGER_STATUS_INTERVAL_MS): LeaderComponent {
  return {
    name: 'manager-status',
    start: async (ctx: LeaderContext) => {
      let timer: Timer | undefined
      let running: Promise<void> = Promise.resolve()
      const round = async (): Promise<void> => {
        await record(ctx, members())
        if (!ctx.signal.aborted) timer = ctx.clock.setTimeout(() => void (running = round()), intervalMs)
      }
      running = round()
      await running
      return {
        stop: async () => {
          timer?.cancel()
          await running
        },
      }
    },
  }
}

async function record(ctx: LeaderContext, members: readonly ManagerMember[]): Promise<void> {
  try {
    await ctx.store.update((tx) => {
      for (const m of members) {
        if (m.nodeId === undefined) continue
        const ms = tx.nodes.get(m.nodeId)?.managerStatus
        if (ms === undefined) continue
        const leader = m.raftId === ctx.raftId
        const reachability = m.reachable ? 'reachable' : 'unreachable'
        const addr = m.addr === '' ? ms.addr : m.addr
        if (ms.leader === leader && ms.reachability === reachability && ms.addr === addr) continue
        tx.nodes.update(m.nodeId, (d) => void (d.managerStatus = { raftId: m.raftId, addr, leader, reachability }))
      }
      // Managers whose Raft member is gone (a forced new cluster removed them, say): unreachable,
      // not leading, until they are demoted or removed (SwarmKit shows them so too).
      const voters = new Set(members.map((m) => m.raftId))
      for (const n of tx.nodes.find()) {
        const ms = n.managerStatus
        if (ms === undefined || voters.has(ms.raftId) || (ms.reachability === 'unreachable' && !ms.leader)) continue
        tx.nodes.update(n.id, (d) => void (d.managerStatus = { ...ms, leader: false, reachability: 'unreachable' }))
      }
    })
  } catch (err) {
    if (!ctx.signal.aborted) ctx.logger.warn('manager status: recording the managers failed', { err: String(err) })
  }
}
