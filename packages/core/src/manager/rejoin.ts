/**
 * After a restart, a manager whose address changed (a new port, a new host address) makes the
 * Raft group record the new one: the other members still send to the old address, so it cannot
 * learn of a leader through Raft; it asks the members it knows (`Join` with `rejoin`, following
 * the leader a follower names) until the leader records the address. A leader updates itself.
 *
 * @module
 */
import { NotLeaderError, type Clock, type Logger } from '@swarmkit-ts/api'
import type { RaftNode } from '@swarmkit-ts/raft'
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js'
import { MembershipClient } from './membership-service.ts'

/** What {@link keepAddressCurrent} needs. */
export interface RejoinDeps {
  readonly raft: RaftNode
  /** This manager's advertise address now. */
  readonly address: string
  readonly credentials: ChannelCredentials
  readonly channelOptions: ChannelOptions
  readonly clock: Clock
  readonly logger: Logger
  /** Ends the attempts (the manager closing). */
  readonly signal: AbortSignal
  /** Pause between rounds. @default 200 */
  readonly retryMs?: number
}

/** Resolves once the log records `address` for this member (or `signal` aborts). */
export async function keepAddressCurrent(deps: RejoinDeps): Promise<void> {
  const { raft, address, signal } = deps
  const self = raft.id
  while (!signal.aborted && raft.members.get(self) !== address) {
    try {
      if (raft.isLeader) await raft.updateMember(self, address, { signal })
      else await askMembers(deps)
    } catch (err) {
      deps.logger.debug('manager: recording the new address failed; retrying', { err: String(err) })
    }
    if (raft.members.get(self) === address || signal.aborted) break
    await new Promise<void>((resolve) => {
      const t = deps.clock.setTimeout(resolve, deps.retryMs ?? 200)
      signal.addEventListener('abort', () => { t.cancel(); resolve() }, { once: true })
    })
  }
}

/** One round over the known members (and the leaders they name); resolves on the first success. */
async function askMembers(deps: RejoinDeps): Promise<void> {
  const targets = [...deps.raft.members].filter(([id]) => id !== deps.raft.id).map(([, addr]) => addr)
  for (let i = 0; i < targets.length; i++) {
    const target = targets[i] as string
    const client = new MembershipClient(target, deps.credentials, deps.channelOptions)
    try {
      await client.join(deps.address, { rejoin: true, signal: deps.signal, timeoutMs: 5000 })
      return
    } catch (err) {
      if (err instanceof NotLeaderError && err.leaderAddr !== undefined && !targets.includes(err.leaderAddr)) targets.splice(i + 1, 0, err.leaderAddr)
    } finally {
      client.close()
    }
  }
}
