/** The role of a Raft member. */
export const RaftRole = {
  /** Follows a leader (or waits for one). */
  follower: 'follower',
  /** Asks for pre-votes before starting a real election (PreVote). */
  preCandidate: 'pre-candidate',
  /** Runs an election. */
  candidate: 'candidate',
  /** Leads the cluster. */
  leader: 'leader',
} as const
/** The role of a Raft member. */
export type RaftRole = (typeof RaftRole)[keyof typeof RaftRole]
