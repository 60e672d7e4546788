/**
 * The whole-orchestrator property test's operations and its invariant check, as plain data so
 * a failing sequence can be kept in `testdata/property-regressions.json` and replayed.
 */
import { NodeAvailability, NodeState, TaskState, UpdateState, isTerminal } from '@swarmkit-ts/api'
import type { Node, ServiceSpec, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { isInvalidNode, isTaskDirty, modeKind, nodeMatchesConstraints } from '../../src/index.ts'
import type { Harness } from './harness.ts'

/** One step of a property-test scenario. Indexes pick among existing nodes or services (modulo). */
export type Op =
  | { readonly op: 'create'; readonly kind: 'replicated' | 'global'; readonly replicas: number; readonly zone?: 'a' | 'b' | undefined }
  | { readonly op: 'createJob'; readonly maxConcurrent: number; readonly totalCompletions: number }
  | {
      readonly op: 'update'
      readonly service: number
      readonly image: 'good' | 'bad'
      readonly parallelism: number
      readonly order: 'stop-first' | 'start-first'
      readonly failureAction: 'pause' | 'continue' | 'rollback'
      readonly monitorMs: number
    }
  | { readonly op: 'scale'; readonly service: number; readonly replicas: number }
  | { readonly op: 'remove'; readonly service: number }
  | { readonly op: 'join'; readonly zone: 'a' | 'b' }
  | { readonly op: 'leave'; readonly node: number }
  | { readonly op: 'availability'; readonly node: number; readonly availability: 'active' | 'pause' | 'drain' }
  | { readonly op: 'down'; readonly node: number }
  | { readonly op: 'relabel'; readonly node: number }
  | { readonly op: 'up'; readonly node: number }
  | { readonly op: 'fail'; readonly task: number }
  | { readonly op: 'leaderChange' }
  | { readonly op: 'noLeader' }
  | { readonly op: 'advance'; readonly ms: number }

/** What the scenario created, to pick targets by index. */
export interface ModelState {
  services: string[]
  nodes: string[]
  images: Map<string, number>
}

/** Runs one operation on the harness. */
export async function runOp(h: Harness, m: ModelState, o: Op): Promise<void> {
  const pick = <T>(xs: readonly T[], i: number): T | undefined => (xs.length === 0 ? undefined : xs[i % xs.length])
  switch (o.op) {
    case 'create': {
      const name = `s${m.services.length}`
      const task: ServiceSpec['task'] = {
        container: { image: 'busybox:0' },
        ...(o.zone === undefined ? {} : { placement: { constraints: [`node.labels.zone==${o.zone}`] } }),
      }
      const spec: ServiceSpec =
        o.kind === 'replicated'
          ? { annotations: { name }, mode: { replicated: { replicas: o.replicas } }, task }
          : { annotations: { name }, mode: { global: {} }, task }
      const s = await h.createService(spec)
      m.services.push(s.id)
      m.images.set(s.id, 0)
      break
    }
    case 'createJob': {
      const name = `s${m.services.length}`
      const s = await h.createService({
        annotations: { name },
        mode: { replicatedJob: { maxConcurrent: o.maxConcurrent, totalCompletions: o.totalCompletions } },
        task: { container: { image: 'busybox:0' }, restart: { condition: 'on-failure', delayMs: 1000 } },
      })
      m.services.push(s.id)
      m.images.set(s.id, 0)
      break
    }
    case 'update': {
      const id = pick(m.services, o.service)
      if (id === undefined || !exists(h, id)) return
      const n = (m.images.get(id) ?? 0) + 1
      m.images.set(id, n)
      const image = o.image === 'bad' ? `bad:${n}` : `busybox:${n}`
      if (o.image === 'bad') h.driver.failingImages.add(image)
      if ('replicatedJob' in h.service(id).spec.mode) {
        // A job has no update config; any update starts a new iteration.
        await h.updateService(id, (spec) => ({ ...spec, task: { ...spec.task, container: { ...spec.task.container, image } } }))
        break
      }
      await h.updateService(id, (spec) => ({
        ...spec,
        task: { ...spec.task, container: { ...spec.task.container, image } },
        update: { parallelism: o.parallelism, order: o.order, failureAction: o.failureAction, monitorMs: o.monitorMs, delayMs: 0 },
        rollback: { parallelism: 0, order: 'stop-first', failureAction: 'pause', monitorMs: 0, delayMs: 0 },
      }))
      break
    }
    case 'scale': {
      const id = pick(m.services, o.service)
      if (id === undefined || !exists(h, id) || !('replicated' in h.service(id).spec.mode)) return
      await h.updateService(id, (spec) => ({ ...spec, mode: { replicated: { replicas: o.replicas } } }))
      break
    }
    case 'remove': {
      const id = pick(m.services, o.service)
      if (id === undefined || !exists(h, id)) return
      await h.control.remove(id)
      break
    }
    case 'join':
      m.nodes.push(await h.addNode(`n${m.nodes.length}`, { labels: { zone: o.zone } }))
      break
    case 'leave': {
      const id = pick(m.nodes, o.node)
      if (id === undefined || !nodeExists(h, id)) return
      await h.removeNode(id)
      break
    }
    case 'availability': {
      const id = pick(m.nodes, o.node)
      if (id === undefined || !nodeExists(h, id)) return
      await h.setAvailability(id, o.availability)
      break
    }
    case 'relabel': {
      // The node moves to the other zone: tasks constrained to its old zone no longer fit.
      const id = pick(m.nodes, o.node)
      if (id === undefined || !nodeExists(h, id)) return
      await h.updateNode(id, (n) => {
        n.spec.annotations.labels = { zone: n.spec.annotations.labels?.['zone'] === 'a' ? 'b' : 'a' }
      })
      break
    }
    case 'down':
    case 'up': {
      const id = pick(m.nodes, o.node)
      if (id === undefined || !nodeExists(h, id)) return
      await h.setNodeState(id, o.op === 'down' ? NodeState.DOWN : NodeState.READY)
      break
    }
    case 'fail': {
      const running = h.store.view((tx) => tx.tasks.find({ state: TaskState.RUNNING }))
      running.sort((a, b) => (a.id < b.id ? -1 : 1))
      const t = pick(running, o.task)
      if (t !== undefined) await h.driver.fail(t.id)
      break
    }
    case 'leaderChange':
      await h.leaderChange()
      break
    case 'noLeader':
      // No orchestrator runs until the next leader change (or quiescence): the changes made
      // meanwhile must be found by the next run's start.
      await h.stop()
      break
    case 'advance':
      await h.advance(o.ms)
      break
  }
  await h.settle()
}

function exists(h: Harness, id: string): boolean {
  return h.store.view((tx) => tx.services.get(id)) !== undefined
}

function nodeExists(h: Harness, id: string): boolean {
  return h.store.view((tx) => tx.nodes.get(id)) !== undefined
}

/**
 * Brings the scenario to quiescence: every node back READY (removed nodes stay removed), bad
 * images fixed, at least one ACTIVE node per zone, then virtual time runs until nothing
 * changes any more (restart delays, update monitors, reaper ticks).
 */
export async function quiesce(h: Harness, m: ModelState): Promise<void> {
  // The bad images get fixed: failures happened during the scenario; now everything can run.
  h.driver.failingImages.clear()
  if (!h.started) await h.leaderChange()
  for (const id of m.nodes) if (nodeExists(h, id)) await h.setNodeState(id, NodeState.READY)
  for (const zone of ['a', 'b'] as const) {
    const active = h.store.view((tx) => tx.nodes.find()).some((n) => n.spec.availability === 'active' && n.spec.annotations.labels?.['zone'] === zone)
    if (!active) m.nodes.push(await h.addNode(`n${m.nodes.length}`, { labels: { zone } }))
  }
  // Long enough for a 5 s restart delay after each failure of a bad image's task (the
  // supervisor waits out each delay), several update monitors and the reaper.
  let stable = 0
  for (let i = 0; i < 200 && stable < 2; i++) {
    const before = h.store.version
    await h.advance(10_000)
    stable = h.store.version === before ? stable + 1 : 0
  }
}

/** Every invariant the orchestrator promises once quiescent; returns the violations found. */
export function checkInvariants(h: Harness, m: ModelState, retention = 5): string[] {
  const problems: string[] = []
  const { nodes, services, tasks } = h.store.view((tx) => ({ nodes: tx.nodes.find(), services: tx.services.find(), tasks: tx.tasks.find() }))
  const nodeById = new Map(nodes.map((n) => [n.id, n]))
  const serviceIds = new Set(services.map((s) => s.id))
  const runningTasks = (sid: string): Frozen<Task>[] =>
    tasks.filter((t) => t.serviceId === sid && t.desiredState === TaskState.RUNNING && t.status.state === TaskState.RUNNING)

  for (const t of tasks) {
    // A task of a deleted service on a node that was removed never reports again: it must at
    // least be marked for removal.
    const stuck = t.nodeId !== '' && !nodeById.has(t.nodeId) && t.desiredState === TaskState.REMOVE
    if (!serviceIds.has(t.serviceId) && !stuck) problems.push(`task ${t.id} of deleted service ${t.serviceId} still exists (state ${t.status.state}, desired ${t.desiredState})`)
    if (t.nodeId !== '' && t.desiredState <= TaskState.RUNNING && isInvalidNode(nodeById.get(t.nodeId))) {
      problems.push(`task ${t.id} desired ${t.desiredState} on invalid node ${t.nodeId}`)
    }
  }
  for (const s of services) {
    const running = runningTasks(s.id)
    // A paused node keeps a global task at its old spec: no updates there until it is active (SwarmKit).
    const keptOnPausedNode = (t: Frozen<Task>): boolean => modeKind(s) === 'global' && nodeById.get(t.nodeId)?.spec.availability === NodeAvailability.PAUSE
    const stale = running.filter((t) => isTaskDirty(s, t, nodeById.get(t.nodeId)) && !keptOnPausedNode(t))
    const state = s.updateStatus?.state
    if (state === UpdateState.UPDATING || state === UpdateState.ROLLBACK_STARTED) problems.push(`service ${s.spec.annotations.name}: update still ${state}`)
    if (state === UpdateState.PAUSED && s.previousSpec === undefined) problems.push(`service ${s.spec.annotations.name}: paused without a previous spec`)
    const paused = state === UpdateState.PAUSED || state === UpdateState.ROLLBACK_PAUSED
    if (!paused && stale.length > 0) problems.push(`service ${s.spec.annotations.name}: ${stale.length} running tasks at an old spec with update state ${String(state)}`)
    if (modeKind(s) === 'replicatedJob') {
      // The current iteration completed exactly totalCompletions tasks, one per slot 0..n-1, and
      // nothing of an older iteration still runs.
      const mode = 'replicatedJob' in s.spec.mode ? s.spec.mode.replicatedJob : {}
      const total = mode.totalCompletions ?? mode.maxConcurrent ?? 1
      const iteration = s.jobStatus?.jobIteration.index
      const mine = tasks.filter((t) => t.serviceId === s.id)
      const done = mine.filter((t) => t.jobIteration?.index === iteration && t.status.state === TaskState.COMPLETE)
      const slots = [...new Set(done.map((t) => t.slot))].sort((a, b) => a - b)
      if (done.length !== total || slots.join() !== Array.from({ length: total }, (_, i) => i).join()) {
        problems.push(`job ${s.spec.annotations.name}: ${done.length} completed in slots [${slots.join()}], want ${total}`)
      }
      const stale = mine.filter((t) => t.jobIteration?.index !== iteration && t.status.state <= TaskState.RUNNING && t.desiredState <= TaskState.COMPLETE)
      if (stale.length > 0) problems.push(`job ${s.spec.annotations.name}: ${stale.length} tasks of an older iteration may still run`)
      continue
    }
    if (modeKind(s) === 'replicated') {
      const want = 'replicated' in s.spec.mode ? (s.spec.mode.replicated.replicas ?? 1) : 0
      const slots = new Set(running.map((t) => t.slot))
      if ((running.length !== want || slots.size !== want)) {
        problems.push(`service ${s.spec.annotations.name}: ${running.length} running in ${slots.size} slots, want ${want}`)
      }
      const live = tasks.filter((t) => t.serviceId === s.id && t.desiredState <= TaskState.RUNNING)
      for (const t of running) {
        const n = nodeById.get(t.nodeId)
        // A paused node's tasks are left alone, fitting or not (SwarmKit's constraint enforcer).
        if (n !== undefined && n.spec.availability !== NodeAvailability.PAUSE && !nodeMatchesConstraints(s.spec.task, n)) problems.push(`service ${s.spec.annotations.name}: task ${t.id} runs on node ${n.id}, which no longer matches`)
      }
      const liveSlots = new Set(live.map((t) => t.slot))
      if (liveSlots.size !== want) problems.push(`service ${s.spec.annotations.name}: ${liveSlots.size} slots with a live task, want ${want}`)
      for (const slot of liveSlots) if (slot < 1 || slot > want + 64) problems.push(`service ${s.spec.annotations.name}: slot ${slot}`)
    } else {
      for (const n of nodes) {
        const eligible = !isInvalidNode(n) && nodeMatchesConstraints(s.spec.task, n)
        const on = tasks.filter((t) => t.serviceId === s.id && t.nodeId === n.id && t.desiredState <= TaskState.RUNNING)
        // A paused node keeps its task even when it stopped matching (no updates there, as SwarmKit).
        const paused = n.spec.availability === NodeAvailability.PAUSE && !isInvalidNode(n)
        if (!eligible && !paused && on.length > 0) problems.push(`global ${s.spec.annotations.name}: ${on.length} live tasks on ineligible node ${n.id}`)
        if (eligible && n.spec.availability === NodeAvailability.ACTIVE && on.length !== 1) {
          problems.push(`global ${s.spec.annotations.name}: ${on.length} live tasks on eligible node ${n.id}`)
        }
        if (paused && on.length > 1) problems.push(`global ${s.spec.annotations.name}: ${on.length} live tasks on paused node ${n.id}`)
      }
    }
    // History: per slot (replicated) or per node (global), at most the retention limit — or the
    // tasks that may still run, which are never pruned. Jobs are not pruned by history.
    if (modeKind(s) === 'replicatedJob') continue
    const groups = new Map<string, { n: number; live: number }>()
    for (const t of tasks) {
      if (t.serviceId !== s.id) continue
      const k = `${t.slot}/${t.slot === 0 ? t.nodeId : ''}`
      const g = groups.get(k) ?? { n: 0, live: 0 }
      g.n++
      if (t.status.state <= TaskState.RUNNING && !(t.status.state < TaskState.ASSIGNED && t.desiredState > TaskState.RUNNING)) g.live++
      groups.set(k, g)
    }
    for (const [k, g] of groups) {
      if (g.n > Math.max(retention, g.live)) problems.push(`service ${s.spec.annotations.name}: ${g.n} tasks (${g.live} live) in slot ${k} (retention ${retention})`)
    }
  }
  void m
  return problems
}

/** Whether a task is terminal (exported for tests). */
export function ended(t: Frozen<Task>): boolean {
  return isTerminal(t.status.state)
}

/** The node's label zone. */
export function zoneOf(n: Frozen<Node>): string | undefined {
  return n.spec.annotations.labels?.['zone']
}
