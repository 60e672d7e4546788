/**
 * The {@link RaftNode} requests that wait for a leader rather than for the log:
 * `waitForLeader` (until any leader is known) and `transferLeadership` (until the transferee
 * leads). Both listen to `'leader:changed'` and end when the node stops or fails.
 *
 * @internal
 */
import type { EventEmitter } from 'eventemitter3'
import type { Clock, RaftMemberId } from '@swarmkit-ts/api'
import { LeadershipLostError, RaftStoppedError } from '../errors.ts'
import { NONE } from '../core/types.ts'
import type { RaftNodeCallOptions, RaftNodeEvents } from './raft-node-types.ts'
import { abortReason, toError } from './request-waiters.ts'

/** What the waits need from the driver. */
export interface LeaderWaitHost {
  readonly events: EventEmitter<RaftNodeEvents>
  /** Called once when the node stops or fails. */
  readonly endListeners: Set<() => void>
  /** `RaftStoppedError` once the node failed or stopped; else `undefined`. */
  ended(): RaftStoppedError | undefined
}

/**
 * Resolves with the leader's id once `leaderChanged` reports one; rejects when the node ends or
 * the signal aborts (the caller has handled a leader known now, an ended node and an aborted signal).
 */
export function waitForLeaderChange(host: LeaderWaitHost, signal: AbortSignal | undefined): Promise<RaftMemberId> {
  return new Promise<RaftMemberId>((resolve, reject) => {
    const onLeader = (lead: RaftMemberId): void => {
      if (lead === NONE) return
      cleanup()
      resolve(lead)
    }
    const onEnd = (): void => {
      cleanup()
      reject(host.ended() ?? new RaftStoppedError())
    }
    const onAbort = (): void => {
      cleanup()
      reject(abortReason(signal as AbortSignal))
    }
    const cleanup = (): void => {
      host.events.off('leader:changed', onLeader)
      host.endListeners.delete(onEnd)
      signal?.removeEventListener('abort', onAbort)
    }
    host.events.on('leader:changed', onLeader)
    host.endListeners.add(onEnd)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** A leadership transfer to wait for. */
export interface TransferWait {
  /** This member. */
  self: RaftMemberId
  /** The transferee. */
  to: RaftMemberId
  clock: Clock
  /** After this long, the transfer counts as failed (`LeadershipLostError`). */
  timeoutMs: number
  options: RaftNodeCallOptions | undefined
  /** Asks the core to transfer (after the listeners are in place). */
  start(): void
}

/**
 * Resolves when `t.to` is the known leader; rejects with `LeadershipLostError` when another
 * member wins or after `t.timeoutMs`, and when the node ends or the signal aborts.
 */
export function awaitTransfer(host: LeaderWaitHost, t: TransferWait): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timeout = t.clock.setTimeout(() => done(new LeadershipLostError('raft: leadership transfer timed out')), t.timeoutMs)
    const onLeader = (lead: RaftMemberId): void => {
      if (lead === t.to) done()
      else if (lead !== NONE && lead !== t.self) done(new LeadershipLostError(`raft: leadership went to ${lead.toString(16)} instead`))
    }
    const onAbort = (): void => done(t.options?.signal?.reason ?? new RaftStoppedError())
    const onEnd = (): void => done(host.ended() ?? new RaftStoppedError())
    const done = (err?: unknown): void => {
      timeout.cancel()
      host.events.off('leader:changed', onLeader)
      host.endListeners.delete(onEnd)
      t.options?.signal?.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(toError(err))
    }
    host.events.on('leader:changed', onLeader)
    host.endListeners.add(onEnd)
    t.options?.signal?.addEventListener('abort', onAbort, { once: true })
    t.start()
  })
}
