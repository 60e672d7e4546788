/**
 * Fault schedules: what the nemesis does, step by step, and the fast-check arbitraries that
 * generate (and shrink) them. A schedule is plain JSON, so a failing one can be stored as a
 * regression case and replayed exactly.
 */
import fc from 'fast-check'

/** One nemesis action. Member numbers pick among the current members (modulo their count). */
export type Action =
  | { readonly kind: 'wait' }
  /** Members whose bit is set in `mask` on one side, the rest on the other. */
  | { readonly kind: 'partition'; readonly mask: number }
  /** Cuts one member off (the leader, when `leader` is set and there is one). */
  | { readonly kind: 'isolate'; readonly node: number; readonly leader?: boolean }
  /** Messages from `from` to `to` are dropped (the other direction still works). */
  | { readonly kind: 'one-way'; readonly from: number; readonly to: number }
  | { readonly kind: 'heal' }
  /** Random loss, duplication and reordering on every link (0 = off). */
  | { readonly kind: 'faults'; readonly drop: number; readonly duplicate: number; readonly jitterMs: number }
  /** Kills a running member (the leader, when `leader` is set); with `torn`, part of its unsynced writes survive. */
  | { readonly kind: 'crash'; readonly node: number; readonly torn: boolean; readonly leader?: boolean }
  | { readonly kind: 'restart'; readonly node: number }
  | { readonly kind: 'transfer'; readonly to: number }
  | { readonly kind: 'campaign'; readonly node: number }
  /** Starts an empty member and proposes adding it (as a voter or a learner). */
  | { readonly kind: 'add'; readonly learner: boolean }
  | { readonly kind: 'promote'; readonly node: number }
  | { readonly kind: 'remove'; readonly node: number }
  /** Proposes a new address for a member (an update-node change). */
  | { readonly kind: 'update'; readonly node: number }

/** An action, then virtual time passing. */
export interface Step {
  readonly action: Action
  readonly waitMs: number
}

/** A whole run: cluster size, seeds and parameters, and the nemesis steps. */
export interface Schedule {
  /** Initial voters (3 or 5). */
  readonly size: number
  /** Seeds every random choice of the run (timeouts, latencies, clients). */
  readonly seed: number
  /** Automatic snapshot every this many applied entries (0: never). */
  readonly snapshotInterval: number
  /** Entries kept behind a snapshot. */
  readonly keep: number
  /** How ReadIndex confirms leadership. @default 'safe' */
  readonly readOnly?: 'safe' | 'lease-based'
  /** Flow control: bytes per append message and append messages in flight. @default 65535 and 256 */
  readonly maxSizePerMsg?: number
  readonly maxInflightMsgs?: number
  /** Messages cross the network in their wire encoding (else as deep copies). @default false */
  readonly wireCodec?: boolean
  /** Slowest fsync in ms. @default 2 */
  readonly maxSyncDelayMs?: number
  /**
   * A torn tail never ends between a received snapshot and the hard state written after it (as
   * if both were one record). Works around an open bug (see the regression file) until fixed.
   * @default false
   */
  readonly atomicSnapshotWrites?: boolean
  /** The leader's deferred commit broadcast (`RaftNode` `commitBroadcastDelayMs`). @default 0 */
  readonly commitBroadcastDelayMs?: number
  readonly steps: readonly Step[]
}

const member = fc.nat({ max: 15 })

/** Nemesis actions, weighted towards faults that heal and time passing. */
export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Action>({ kind: 'wait' }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('partition' as const), mask: fc.nat({ max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('isolate' as const), node: member, leader: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('one-way' as const), from: member, to: member }) },
  { weight: 3, arbitrary: fc.constant<Action>({ kind: 'heal' }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('faults' as const),
      drop: fc.constantFrom(0, 0, 5, 20, 50),
      duplicate: fc.constantFrom(0, 0, 5, 20),
      jitterMs: fc.constantFrom(0, 0, 5, 20, 60),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('crash' as const), node: member, torn: fc.boolean(), leader: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('restart' as const), node: member }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('transfer' as const), to: member }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('campaign' as const), node: member }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), learner: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('promote' as const), node: member }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), node: member }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('update' as const), node: member }) },
)

/** How long to let the world run after an action: mostly short, sometimes several election timeouts. */
export const waitArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 30 }) },
  { weight: 2, arbitrary: fc.integer({ min: 30, max: 150 }) },
  { weight: 1, arbitrary: fc.integer({ min: 150, max: 300 }) },
)

/** Options of {@link scheduleArb}. */
export interface ScheduleArbOptions {
  size: number
  /** @default 3 */
  minSteps?: number
  /** @default 12 */
  maxSteps?: number
}

/** Schedules for a cluster of `size` voters. */
export function scheduleArb(opts: ScheduleArbOptions): fc.Arbitrary<Schedule> {
  return fc.record({
    size: fc.constant(opts.size),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    snapshotInterval: fc.constantFrom(0, 3, 8, 20),
    keep: fc.constantFrom(0, 1, 5),
    readOnly: fc.constantFrom('safe' as const, 'lease-based' as const),
    maxSizePerMsg: fc.constantFrom(1, 300, 65535),
    maxInflightMsgs: fc.constantFrom(1, 4, 256),
    maxSyncDelayMs: fc.constantFrom(2, 2, 30),
    wireCodec: fc.constantFrom(false, false, false, true),
    atomicSnapshotWrites: fc.boolean(), // torn snapshot + hard state writes: fixed in RaftCore.loadState
    commitBroadcastDelayMs: fc.constantFrom(0, 0, 5, 50),
    steps: fc.array(fc.record({ action: actionArb, waitMs: waitArb }), { minLength: opts.minSteps ?? 3, maxLength: opts.maxSteps ?? 12 }),
  })
}
