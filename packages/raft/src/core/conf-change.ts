/**
 * Membership changes: computes the next configuration (and progress map) from the current one
 * and a list of single changes, either directly ("simple", at most one voter changes), by
 * entering a joint configuration, or by leaving it. Nothing is mutated: each operation returns
 * fresh objects that the caller switches to.
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { RaftMemberId } from '@swarmkit-ts/api'
import { Progress } from './progress.ts'
import { cloneTrackerConfig, emptyTrackerConfig } from './tracker.ts'
import type { TrackerConfig } from './tracker.ts'
import type { AnyConfChange, ConfChangeSingle, ConfChangeV2, ConfState } from './types.ts'

/** A configuration and the progress of its members. */
export interface ConfigAndProgress {
  config: TrackerConfig
  progress: Map<RaftMemberId, Progress>
}

function fail(message: string): never {
  throw new InvalidArgumentError('confChange', message)
}

/** Converts a one-at-a-time change to the V2 form (transition auto, one change). */
export function toConfChangeV2(cc: AnyConfChange): ConfChangeV2 {
  if (cc.version === 2) return cc
  return { version: 2, transition: 'auto', changes: [{ type: cc.type, nodeId: cc.nodeId }], context: cc.context }
}

/** Whether `cc` asks to leave a joint configuration (a V2 change with no changes). */
export function isLeaveJoint(cc: ConfChangeV2): boolean {
  return cc.changes.length === 0
}

/**
 * Whether `cc` enters a joint configuration, and if so whether it is left automatically: any
 * explicit or implicit joint transition does, and so does an auto transition with more than
 * one change.
 */
export function entersJoint(cc: ConfChangeV2): { joint: boolean; autoLeave: boolean } {
  if (cc.transition !== 'auto' || cc.changes.length > 1) {
    return { joint: true, autoLeave: cc.transition !== 'explicit-joint' }
  }
  return { joint: false, autoLeave: false }
}

/** Computes configuration changes against a current configuration. */
export class Changer {
  readonly #config: TrackerConfig
  readonly #progress: ReadonlyMap<RaftMemberId, Progress>
  readonly #lastIndex: number
  readonly #maxInflight: number

  constructor(current: ConfigAndProgress, lastIndex: number, maxInflight: number) {
    this.#config = current.config
    this.#progress = current.progress
    this.#lastIndex = lastIndex
    this.#maxInflight = maxInflight
  }

  /** Applies a V2 change in the way its transition asks. */
  applyV2(cc: ConfChangeV2): ConfigAndProgress {
    if (isLeaveJoint(cc)) return this.leaveJoint()
    const j = entersJoint(cc)
    if (j.joint) return this.enterJoint(j.autoLeave, cc.changes)
    return this.simple(cc.changes)
  }

  /** Enters a joint configuration: the current voters become the outgoing half, then `changes` apply to the incoming half. */
  enterJoint(autoLeave: boolean, changes: readonly ConfChangeSingle[]): ConfigAndProgress {
    const next = this.#copy()
    if (next.config.votersOutgoing.size > 0) fail('config is already joint')
    if (next.config.voters.size === 0) fail("can't make a zero-voter config joint")
    next.config.votersOutgoing = new Set(next.config.voters)
    this.#apply(next, changes)
    next.config.autoLeave = autoLeave
    return this.#check(next)
  }

  /** Leaves the joint configuration: the outgoing half is dropped and `learnersNext` become learners. */
  leaveJoint(): ConfigAndProgress {
    const next = this.#copy()
    const cfg = next.config
    if (cfg.votersOutgoing.size === 0) fail("can't leave a non-joint config")
    for (const id of cfg.learnersNext) {
      cfg.learners.add(id)
      const pr = next.progress.get(id)
      if (pr !== undefined) {
        const c = pr.clone()
        c.isLearner = true
        next.progress.set(id, c)
      }
    }
    cfg.learnersNext = new Set()
    for (const id of cfg.votersOutgoing) {
      if (!cfg.voters.has(id) && !cfg.learners.has(id)) next.progress.delete(id)
    }
    cfg.votersOutgoing = new Set()
    cfg.autoLeave = false
    return this.#check(next)
  }

  /** Applies `changes` directly; at most one voter may be added or removed. */
  simple(changes: readonly ConfChangeSingle[]): ConfigAndProgress {
    const next = this.#copy()
    if (next.config.votersOutgoing.size > 0) fail("can't apply a simple config change in a joint config")
    this.#apply(next, changes)
    let diff = 0
    for (const id of next.config.voters) if (!this.#config.voters.has(id)) diff++
    for (const id of this.#config.voters) if (!next.config.voters.has(id)) diff++
    if (diff > 1) fail('more than one voter changed without entering a joint config')
    return this.#check(next)
  }

  #copy(): ConfigAndProgress {
    return { config: cloneTrackerConfig(this.#config), progress: new Map(this.#progress) }
  }

  #apply(next: ConfigAndProgress, changes: readonly ConfChangeSingle[]): void {
    for (const cc of changes) {
      if (cc.nodeId === 0n) continue
      switch (cc.type) {
        case 'add-voter':
          this.#makeVoter(next, cc.nodeId)
          break
        case 'add-learner':
          this.#makeLearner(next, cc.nodeId)
          break
        case 'remove':
          this.#remove(next, cc.nodeId)
          break
        case 'update-node':
          break // application data only; the configuration is unchanged
      }
    }
    if (next.config.voters.size === 0) fail('removed all voters')
  }

  #initProgress(next: ConfigAndProgress, id: RaftMemberId, isLearner: boolean): void {
    if (isLearner) next.config.learners.add(id)
    else next.config.voters.add(id)
    // Probe the new member from our last index: it will reject and reveal where it stands.
    next.progress.set(id, new Progress({ match: 0, next: Math.max(this.#lastIndex, 1), maxInflight: this.#maxInflight, isLearner, recentActive: true }))
  }

  #makeVoter(next: ConfigAndProgress, id: RaftMemberId): void {
    const pr = next.progress.get(id)
    if (pr === undefined) {
      this.#initProgress(next, id, false)
      return
    }
    const c = pr.clone()
    c.isLearner = false
    next.progress.set(id, c)
    next.config.learners.delete(id)
    next.config.learnersNext.delete(id)
    next.config.voters.add(id)
  }

  #makeLearner(next: ConfigAndProgress, id: RaftMemberId): void {
    const pr = next.progress.get(id)
    if (pr === undefined) {
      this.#initProgress(next, id, true)
      return
    }
    if (pr.isLearner) return
    // Demote: remove it as a voter, but keep its progress.
    this.#remove(next, id)
    const c = pr.clone()
    next.progress.set(id, c)
    if (next.config.votersOutgoing.has(id)) {
      // Still votes in the outgoing half: becomes a learner when the joint config is left.
      next.config.learnersNext.add(id)
    } else {
      c.isLearner = true
      next.config.learners.add(id)
    }
  }

  #remove(next: ConfigAndProgress, id: RaftMemberId): void {
    if (!next.progress.has(id)) return
    next.config.voters.delete(id)
    next.config.learners.delete(id)
    next.config.learnersNext.delete(id)
    // An outgoing voter keeps its progress until the joint config is left.
    if (!next.config.votersOutgoing.has(id)) next.progress.delete(id)
  }

  #check(next: ConfigAndProgress): ConfigAndProgress {
    checkInvariants(next)
    return next
  }
}

/** Throws `InvalidArgumentError('confChange')` unless the configuration and progress agree. */
export function checkInvariants(cp: ConfigAndProgress): void {
  const { config: cfg, progress } = cp
  for (const ids of [cfg.voters, cfg.votersOutgoing, cfg.learners, cfg.learnersNext]) {
    for (const id of ids) if (!progress.has(id)) fail(`no progress for ${id}`)
  }
  for (const id of cfg.learnersNext) {
    if (!cfg.votersOutgoing.has(id)) fail(`${id} is in learnersNext but not an outgoing voter`)
    if (progress.get(id)?.isLearner === true) fail(`${id} is in learnersNext but already a learner`)
  }
  for (const id of cfg.learners) {
    if (cfg.voters.has(id) || cfg.votersOutgoing.has(id)) fail(`${id} is both a learner and a voter`)
    if (progress.get(id)?.isLearner !== true) fail(`${id} is a learner but its progress is not`)
  }
  if (cfg.votersOutgoing.size === 0) {
    if (cfg.learnersNext.size > 0) fail('learnersNext must be empty outside a joint config')
    if (cfg.autoLeave) fail('autoLeave must be false outside a joint config')
  }
}

/**
 * Rebuilds the configuration described by `cs` from an empty one (on start-up and when a
 * snapshot is installed), by replaying changes so every invariant is checked.
 */
export function restoreConfig(cs: ConfState, lastIndex: number, maxInflight: number): ConfigAndProgress {
  const outgoing: ConfChangeSingle[] = cs.votersOutgoing.map((nodeId) => ({ type: 'add-voter', nodeId }))
  const incoming: ConfChangeSingle[] = [
    ...cs.votersOutgoing.map((nodeId): ConfChangeSingle => ({ type: 'remove', nodeId })),
    ...cs.voters.map((nodeId): ConfChangeSingle => ({ type: 'add-voter', nodeId })),
    ...cs.learners.map((nodeId): ConfChangeSingle => ({ type: 'add-learner', nodeId })),
    ...cs.learnersNext.map((nodeId): ConfChangeSingle => ({ type: 'add-learner', nodeId })),
  ]
  let cur: ConfigAndProgress = { config: emptyTrackerConfig(), progress: new Map() }
  if (outgoing.length === 0) {
    for (const cc of incoming) cur = new Changer(cur, lastIndex, maxInflight).simple([cc])
  } else {
    for (const cc of outgoing) cur = new Changer(cur, lastIndex, maxInflight).simple([cc])
    cur = new Changer(cur, lastIndex, maxInflight).enterJoint(cs.autoLeave, incoming)
  }
  return cur
}
