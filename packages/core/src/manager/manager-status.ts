/**
 * A built-in leader component: at the start of each term, records in the managers' Node objects
 * who leads and which managers this leader reaches (`managerStatus.leader`, `.reachability`,
 * `.addr`), as SwarmKit's leader does.
 *
 * @module
 */
import type { LeaderComponent, LeaderContext } from './leader-component.ts'
import type { ManagerMember } from './membership.ts'

/** The component; `members` reads the Raft group as this manager sees it. */
export function managerStatusComponent(members: () => readonly ManagerMember[]): LeaderComponent {
  return {
    name: 'manager-status',
    start: async (ctx: LeaderContext) => {
      const byNode = new Map(members().flatMap((m) => (m.nodeId === undefined ? [] : [[m.nodeId, m] as const])))
      try {
        await ctx.store.update((tx) => {
          for (const [nodeId, m] of byNode) {
            const node = tx.nodes.get(nodeId)
            const ms = node?.managerStatus
            if (node === undefined || ms === undefined) continue
            const leader = m.raftId === ctx.raftId
            const reachability = m.reachable ? 'reachable' : 'unreachable'
            if (ms.leader === leader && ms.reachability === reachability && ms.addr === m.addr) continue
            tx.nodes.update(nodeId, (d) => {
              d.managerStatus = { raftId: m.raftId, addr: m.addr === '' ? ms.addr : m.addr, leader, reachability }
            })
          }
        })
      } catch (err) {
        ctx.logger.warn('manager status: recording the leader failed', { err: String(err) })
      }
      return { stop: () => Promise.resolve() }
    },
  }
}
