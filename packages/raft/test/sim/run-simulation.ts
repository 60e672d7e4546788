/**
 * Runs one schedule end to end: bootstrap, clients plus nemesis, then heal everything and
 * check liveness (a leader within 10 election timeouts, a fresh proposal committed within 20),
 * convergence of the members' state machines, and linearizability of the client history.
 * Throws {@link SimViolation} (or the driver's error) on the first problem.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import { checkLinearizability, kvModel } from '@swarmkit-ts/testkit'
import type { SeededRandom } from '@swarmkit-ts/testkit'
import { MemorySimNetwork } from './memory-network-adapter.ts'
import type { Action, Schedule } from './schedule.ts'
import { SimViolation } from './sim-checker.ts'
import type { DiskFault } from './sim-disk.ts'
import { NO_FAULTS } from './sim-network.ts'
import type { SimNetwork } from './sim-network.ts'
import { Workload } from './sim-workload.ts'
import { SimWorld } from './sim-world.ts'
import type { SimMember } from './sim-world.ts'

/** Options of {@link runSimulation} beyond the schedule. */
export interface RunOptions {
  /** A deliberately broken disk. @default 'none' */
  diskFault?: DiskFault
  /** Check durable-state invariants. @default true */
  durabilityChecks?: boolean
  /** Receives a line per notable event, for debugging a schedule. */
  trace?: (line: string) => void
  /** Builds the network. @default a {@link MemorySimNetwork} */
  network?: (clock: SimWorld['clock'], random: SeededRandom, directory: (id: bigint) => string | undefined) => SimNetwork
}

/** What a run did (for progress reports and tuning). */
export interface RunReport {
  /** Instants at which timers ran (each followed by the invariant checks). */
  events: number
  /** Virtual time at the end. */
  virtualMs: number
  /** Client operations in the checked history (returned or indeterminate). */
  operations: number
  /** Operations whose outcome stayed unknown. */
  indeterminate: number
  /** Process crashes, how many kept a torn tail, and restarts. */
  crashes: number
  tornCrashes: number
  restarts: number
  /** Empty members started to be added. */
  membersAdded: number
  /** Snapshot messages sent. */
  snapshotsSent: number
  /** Commands applied a second time (a duplicated forwarded proposal); a passing run has none (the run fails on the first). */
  duplicatesApplied: number
  /** Terms that had a leader. */
  leaderTerms: number
  /** The highest committed index. */
  committed: number
  /** Virtual ms from healing to a stable leader, and from then to the fresh proposal's commit. */
  leaderAfterMs: number
  commitAfterMs: number
}

const MAX_MEMBERS_EXTRA = 3

function members(world: SimWorld): SimMember[] {
  return [...world.members.values()]
}

function pick<T>(list: readonly T[], n: number): T | undefined {
  return list.length === 0 ? undefined : list[n % list.length]
}

const ignore = (): void => {}

/** The member with the most recent view of the configuration (the leader if there is one). */
function authority(world: SimWorld): SimMember | undefined {
  return world.leader() ?? world.up().sort((a, b) => b.applied - a.applied)[0]
}

async function apply(world: SimWorld, a: Action): Promise<void> {
  const all = members(world)
  switch (a.kind) {
    case 'wait':
      return
    case 'partition':
      world.net.partition([all.filter((_, i) => (a.mask & (1 << i)) !== 0).map((m) => m.id)])
      return
    case 'isolate': {
      const m = (a.leader === true ? world.leader() : undefined) ?? pick(all, a.node)
      if (m !== undefined) world.net.partition([[m.id]])
      return
    }
    case 'one-way': {
      const from = pick(all, a.from)
      const to = pick(all, a.to)
      if (from !== undefined && to !== undefined && from !== to) world.net.block(from.id, to.id)
      return
    }
    case 'heal':
      world.net.heal()
      return
    case 'faults':
      world.net.setFaults({ dropPercent: a.drop, duplicatePercent: a.duplicate, maxJitterMs: a.jitterMs })
      return
    case 'crash': {
      const m = (a.leader === true ? world.leader() : undefined) ?? pick(world.up(), a.node)
      if (m !== undefined) world.crash(m, a.torn)
      return
    }
    case 'restart': {
      const m = pick(
        all.filter((x) => !x.up),
        a.node,
      )
      if (m !== undefined) await world.restart(m)
      return
    }
    case 'transfer': {
      const l = world.leader()
      const to = l === undefined ? undefined : pick(l.status().config.voters, a.to)
      if (l?.node !== undefined && to !== undefined) l.node.transferLeadership(to).catch(ignore)
      return
    }
    case 'campaign':
      pick(world.up(), a.node)?.node?.campaign()
      return
    case 'add': {
      if (world.members.size >= world.initialSize + MAX_MEMBERS_EXTRA) return
      const via = authority(world)
      if (via?.node === undefined) return
      const m = await world.addEmptyMember(via)
      const address = `sim-${m.id}`
      ;(a.learner ? via.node.addLearner(m.id, address) : via.node.addMember(m.id, address)).catch(ignore)
      return
    }
    case 'promote': {
      const via = authority(world)
      const id = via === undefined ? undefined : pick(via.status().config.learners, a.node)
      if (via?.node !== undefined && id !== undefined) via.node.promote(id).catch(ignore)
      return
    }
    case 'remove': {
      const via = authority(world)
      if (via?.node === undefined) return
      const cfg = via.status().config
      const id = pick([...cfg.voters, ...cfg.learners], a.node)
      // Never propose a change that would leave no voter (the application must refuse it).
      if (id === undefined || (cfg.voters.includes(id) && cfg.voters.length < 3)) return
      via.node.removeMember(id).catch(ignore)
      return
    }
    case 'update': {
      const via = authority(world)
      const cfg = via?.status().config
      const id = cfg === undefined ? undefined : pick([...cfg.voters, ...cfg.learners], a.node)
      if (via?.node !== undefined && id !== undefined) via.node.updateMember(id, `sim-${id}-${world.clock.now()}`).catch(ignore)
      return
    }
  }
}

/** A leader that is a voter of its configuration and known as leader by every member of it. */
function stableLeader(world: SimWorld): SimMember | undefined {
  const l = world.leader()
  if (l === undefined) return undefined
  const cfg = l.status().config
  if (!cfg.voters.includes(l.id)) return undefined
  const ids: RaftMemberId[] = [...cfg.voters, ...cfg.votersOutgoing, ...cfg.learners]
  return ids.every((id) => {
    const m = world.members.get(id)
    return m?.node !== undefined && m.status().softState.lead === l.id
  })
    ? l
    : undefined
}

/** Each running member's role, term, leader, commit, applied and last index (for failure messages). */
function describe(world: SimWorld): string {
  return world
    .up()
    .map((m) => {
      const st = m.status()
      return `member ${m.id}: ${st.softState.state} term ${st.hardState.term} lead ${st.softState.lead} commit ${st.hardState.commit} applied ${m.applied} last ${st.lastIndex} voters ${st.config.voters.join(',')}`
    })
    .join('; ')
}

/** Runs `schedule`; resolves with a report, or throws on a broken invariant. */
export async function runSimulation(schedule: Schedule, options: RunOptions = {}): Promise<RunReport> {
  const world = new SimWorld({
    size: schedule.size,
    seed: schedule.seed,
    snapshotInterval: schedule.snapshotInterval,
    keep: schedule.keep,
    ...(schedule.readOnly === undefined ? {} : { readOnly: schedule.readOnly }),
    ...(schedule.maxSizePerMsg === undefined ? {} : { maxSizePerMsg: schedule.maxSizePerMsg }),
    ...(schedule.maxInflightMsgs === undefined ? {} : { maxInflightMsgs: schedule.maxInflightMsgs }),
    ...(schedule.maxSyncDelayMs === undefined ? {} : { maxSyncDelayMs: schedule.maxSyncDelayMs }),
    ...(schedule.atomicSnapshotWrites === undefined ? {} : { atomicSnapshotWrites: schedule.atomicSnapshotWrites }),
    ...(schedule.commitBroadcastDelayMs === undefined ? {} : { commitBroadcastDelayMs: schedule.commitBroadcastDelayMs }),
    diskFault: options.diskFault ?? 'none',
    durabilityChecks: options.durabilityChecks ?? true,
    network:
      options.network ??
      ((clock, random) =>
        new MemorySimNetwork(clock, random, { wireCodec: schedule.wireCodec ?? false })),
    ...(options.trace === undefined ? {} : { trace: options.trace }),
  })
  const et = world.electionMs
  await world.bootstrap()
  const workload = new Workload(world, { clients: 3, keys: 3, opTimeoutMs: 4 * et, maxThinkMs: 20 })
  world.onCrash = (m) => workload.onCrash(m)
  workload.start()
  for (const step of schedule.steps) {
    world.trace(`nemesis: ${JSON.stringify(step.action)}`)
    await apply(world, step.action)
    world.check()
    await world.runFor(step.waitMs)
  }

  // Heal: no more faults, every member running, no new client operations.
  world.net.heal()
  world.net.setFaults(NO_FAULTS)
  workload.stop()
  for (const m of members(world)) await world.restart(m)
  const healed = world.clock.now()
  if (!(await world.runUntil(() => stableLeader(world) !== undefined, 10 * et))) {
    throw new SimViolation('liveness', 'no stable leader within 10 election timeouts after healing')
  }
  const leaderAt = world.clock.now()

  // A fresh proposal commits within 20 election timeouts (retried if leadership moves).
  const deadline = leaderAt + 20 * et
  let committed = false
  while (!committed && world.clock.now() < deadline) {
    const l = stableLeader(world)
    if (l === undefined) {
      await world.runUntil(() => stableLeader(world) !== undefined, deadline - world.clock.now())
      continue
    }
    let outcome: string | undefined
    void workload.submit(l, 99, { type: 'put', key: 'k0', value: `final-${world.clock.now()}` }).then((o) => (outcome = o))
    await world.runUntil(() => outcome !== undefined, deadline - world.clock.now())
    committed = outcome === 'ok'
  }
  if (!committed) throw new SimViolation('liveness', 'a proposal made after healing did not commit within 20 election timeouts')
  const commitAt = world.clock.now()

  // Convergence: every member of the configuration applies the same state.
  const converged = (): boolean => {
    const l = stableLeader(world)
    if (l === undefined || workload.pending > 0) return false
    const st = l.status()
    if (st.hardState.commit !== l.applied) return false
    const ids = [...st.config.voters, ...st.config.learners]
    return ids.every((id) => world.members.get(id)?.applied === l.applied)
  }
  if (!(await world.runUntil(converged, 20 * et))) {
    throw new SimViolation('liveness', `the members did not converge within 20 election timeouts after healing (${describe(world)}; ${workload.pending} operations pending)`)
  }
  const l = stableLeader(world) as SimMember
  const cfg = l.status().config
  for (const id of [...cfg.voters, ...cfg.learners]) {
    const m = world.get(id)
    if (m.sm?.digest() !== l.sm?.digest()) throw new SimViolation('state-machine safety', `member ${id} and leader ${l.id} applied index ${l.applied} with different states`)
  }
  // Storage incarnations (SimWorld gives each disk one): every member of the configuration ends
  // up with every member's own bound, whatever crashed or was torn (a false refusal would have
  // stopped a member with MemberIdentityError and failed the run).
  const ids = [...cfg.voters, ...cfg.learners]
  const bound = (): boolean => ids.every((id) => ids.every((other) => world.members.get(id)?.node?.memberIncarnations.get(other) === world.get(other).disk.initialState().incarnation))
  if (!(await world.runUntil(bound, 20 * et))) throw new SimViolation('liveness', 'the members did not bind every member\'s storage incarnation within 20 election timeouts after healing')

  const history = workload.finish()
  const result = checkLinearizability(kvModel, history, { minimize: true })
  if (result.ok !== true) {
    const detail = result.ok === false ? JSON.stringify(result.counterexample ?? result.blockedOperation) : 'search ran out of steps'
    throw new SimViolation('linearizability', `key ${result.partition}: ${detail}`)
  }
  return {
    events: world.events,
    virtualMs: world.clock.now(),
    operations: history.length,
    indeterminate: workload.stats.indeterminate,
    crashes: world.stats.crashes,
    tornCrashes: world.stats.tornCrashes,
    restarts: world.stats.restarts,
    membersAdded: world.stats.added,
    snapshotsSent: world.stats.snapshotsSent,
    duplicatesApplied: world.stats.duplicatesApplied + members(world).reduce((n, m) => n + (m.sm?.duplicates ?? 0), 0),
    leaderTerms: world.checker.leaders.size,
    committed: world.checker.maxCommitted,
    leaderAfterMs: leaderAt - healed,
    commitAfterMs: commitAt - leaderAt,
  }
}
