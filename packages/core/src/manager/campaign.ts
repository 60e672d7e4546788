/**
 * Starting a one-manager cluster without the election timeout's wait.
 *
 * @module
 */
import type { RaftNode } from '@swarmkit-ts/raft'

/**
 * The only voter need not wait an election timeout (10–20 s at SwarmKit's timing): it campaigns
 * once it has applied its committed entries (Raft refuses to campaign with configuration changes
 * committed but not applied, e.g. right after bootstrap, until their write is synced). Gives up
 * after about five seconds: the election timeout then elects it anyway.
 */
export async function campaignIfAlone(raft: RaftNode): Promise<void> {
  for (let turn = 0; turn < 1000; turn++) {
    const st = raft.status()
    // Committed membership changes decide who votes (a forced new cluster's removals, say): apply them first.
    if (raft.applied < st.hardState.commit && raft.leader === 0n) {
      await new Promise((resolve) => setTimeout(resolve, 5))
      continue
    }
    if (st.config.voters.length !== 1 || st.config.voters[0] !== raft.id || raft.role !== 'follower' || raft.leader !== 0n) return
    raft.campaign()
    return
  }
}

