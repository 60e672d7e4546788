/**
 * A 3-manager cluster on localhost in one process: `Cluster.init` and two `Cluster.join`s, each
 * a real node (its own state directory, gRPC over mutual TLS on 127.0.0.1, Raft), then a
 * service deployed through one manager, scaled through another, its progress printed as it
 * converges, and every node closed.
 *
 * Run: pnpm --filter @swarmkit-ts/example-three-managers start [--runtime process]
 * (the fake runtime by default; `process` runs the tasks as real child processes)
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, type ManagerCluster } from '@swarmkit-ts/core'
import type { ServiceSpec } from '@swarmkit-ts/api'

/** Options of {@link run}. */
export interface RunOptions {
  /** Where tasks run. @default 'fake' */
  readonly runtime?: 'fake' | 'process'
  /** Replicas first deployed, then scaled to. @default [3, 6] */
  readonly replicas?: readonly [number, number]
  /** Where lines go. @default console.log */
  readonly print?: (line: string) => void
}

/** Raft ticks of 100 ms (SwarmKit's are 1 s): elections within a few seconds on localhost. */
const RAFT = { tickMs: 100, electionTick: 10, heartbeatTick: 1 } as const

/** Prints progress lines of service `name` on `manager` until it converges with `replicas` running. */
async function follow(manager: ManagerCluster, name: string, replicas: number, print: (line: string) => void): Promise<void> {
  let last = -1
  for await (const p of manager.services.progress(name, { signal: AbortSignal.timeout(120_000) })) {
    if (p.running !== last) print(`${name}: ${p.running}/${p.desired} running`)
    last = p.running
    if (p.converged && p.desired === replicas) return
  }
  throw new Error(`${name} did not converge to ${replicas} replicas in time`)
}

/** Waits until no task container runs on any of `managers`. */
async function stopped(managers: readonly ManagerCluster[]): Promise<void> {
  const deadline = Date.now() + 60_000
  for (const m of managers) {
    while ((await m.worker.runtime?.list())?.some((c) => c.state === 'running') === true) {
      if (Date.now() > deadline) throw new Error(`tasks still running on ${m.nodeId}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

/** Starts the cluster, deploys and scales a service, closes everything (also on failure). */
export async function run(options: RunOptions = {}): Promise<void> {
  const runtime = options.runtime ?? 'fake'
  const [first, second] = options.replicas ?? [3, 6]
  const print = options.print ?? console.log
  const base = await mkdtemp(join(tmpdir(), 'three-managers-'))
  const managers: ManagerCluster[] = []
  try {
    const m1 = await Cluster.init({ stateDir: join(base, 'm1'), listenAddr: '127.0.0.1:0', runtime, raft: RAFT })
    managers.push(m1)
    print(`m1: cluster created, manager ${m1.nodeId} at ${m1.address}`)
    const { manager: token } = await m1.joinTokens()
    for (const name of ['m2', 'm3']) {
      const node = await Cluster.join({ stateDir: join(base, name), joinAddr: m1.address, token, runtime, raft: RAFT })
      if (node.role !== 'manager') throw new Error(`${name} joined as a ${node.role}`)
      managers.push(node)
      print(`${name}: joined as a manager at ${node.address}`)
    }
    const [, m2, m3] = managers as [ManagerCluster, ManagerCluster, ManagerCluster]
    const spec: ServiceSpec = {
      annotations: { name: 'web' },
      mode: { replicated: { replicas: first } },
      task: { container: { image: runtime === 'fake' ? 'busybox:fake' : 'busybox', command: ['sh', '-c', 'echo hello from $HOSTNAME; exec sleep 3600'] } },
    }
    const web = await m2.services.create(spec) // a follower (or the leader) forwards to the leader
    print(`web: created through m2 with ${first} replicas`)
    await follow(m3, 'web', first, print)
    await m3.services.scale(web.id, second)
    print(`web: scaled to ${second} through m3`)
    await follow(m1, 'web', second, print)
    const tasks = await m1.tasks.list({ serviceIds: [web.id] })
    const perNode = new Map<string, number>()
    for (const t of tasks) if (t.nodeId !== '' && t.desiredState === t.status.state) perNode.set(t.nodeId, (perNode.get(t.nodeId) ?? 0) + 1)
    print(`web: tasks on ${perNode.size} managers`)
    // Closing a node does not stop its tasks on an engine that outlives it (process, docker):
    // remove the service first, so every task is stopped.
    await m1.services.remove(web.id)
    await stopped(managers)
    print('web: removed, every task stopped')
  } finally {
    for (const m of managers.reverse()) await m.close()
    await rm(base, { recursive: true, force: true })
    print('closed')
  }
}

const runtimeFlag = process.argv.indexOf('--runtime')
if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const runtime = runtimeFlag >= 0 ? process.argv[runtimeFlag + 1] : 'fake'
  if (runtime !== 'fake' && runtime !== 'process') {
    console.error(`three-managers: --runtime must be fake or process, got ${JSON.stringify(runtime)}`)
    process.exit(2)
  }
  await run({ runtime })
}
