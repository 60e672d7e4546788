import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeState, type ServiceSpec } from '@swarmkit-ts/api'
import { Cluster, type ClusterNode } from '@swarmkit-ts/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RootfsRuntime, createBusyboxRootfs, type RootfsImage } from '../src/index.ts'
import { rootfsHost } from './host.ts'

const host = await rootfsHost()

const RAFT = { tickMs: 100, electionTick: 10, heartbeatTick: 1 } as const
const SERVICE_LABEL = 'com.docker.swarm.service.id'
/** Failure guard of every wait (nothing here is timed). */
const GUARD_MS = 120_000

function service(name: string, replicas: number): ServiceSpec {
  return {
    annotations: { name },
    mode: { replicated: { replicas } },
    task: { container: { image: 'busybox', command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 1; done"] } },
  }
}

/** Ids of the running containers of `serviceId` on `runtime`, sorted. */
async function runningIds(runtime: RootfsRuntime, serviceId: string): Promise<string[]> {
  return (await runtime.list({ labels: { [SERVICE_LABEL]: serviceId } }))
    .filter((c) => c.state === 'running')
    .map((c) => c.id)
    .sort()
}

/** Polls `read` until `done` holds for its value; throws naming `what` after the guard. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + GUARD_MS
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe.skipIf(host.skipped)('Cluster with RootfsRuntime instances', () => {
  let base = ''
  let image: RootfsImage
  const nodes: ClusterNode[] = []
  const runtimes: RootfsRuntime[] = []

  async function runtime(name: string): Promise<RootfsRuntime> {
    const r = await RootfsRuntime.open({ stateDir: join(base, `${name}-runtime`), images: { busybox: image } })
    runtimes.push(r)
    return r
  }

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'custom-runtime-cluster-'))
    image = await createBusyboxRootfs(join(base, 'images', 'busybox'), host.busybox)
  })
  afterEach(async () => {
    for (const n of nodes.splice(0).reverse()) await n.close()
    for (const r of runtimes.splice(0)) await r.close() // the embedder's: nodes never close them
    await rm(base, { recursive: true, force: true })
  })

  it('a worker joined with its own instance runs its share: 4 replicas, 2 in each node\'s runtime', async () => {
    const r1 = await runtime('m1')
    const r2 = await runtime('w1')
    const m1 = await Cluster.init({ stateDir: join(base, 'm1'), listenAddr: '127.0.0.1:0', runtime: r1, raft: RAFT })
    nodes.push(m1)
    const w1 = await Cluster.join({ stateDir: join(base, 'w1'), joinAddr: m1.address, token: (await m1.joinTokens()).worker, runtime: r2 })
    nodes.push(w1)
    expect(w1.role).toBe('worker')
    await until(() => m1.nodes.list(), (ns) => ns.length === 2 && ns.every((n) => n.status.state === NodeState.READY), 'both nodes ready')
    const web = await m1.services.create(service('web', 4))
    await m1.services.waitConverged(web.id, { signal: AbortSignal.timeout(GUARD_MS) })
    expect((await runningIds(r1, web.id)).length).toBe(2)
    expect((await runningIds(r2, web.id)).length).toBe(2)
  }, 240_000)

  it('a manager reopened with the same instance adopts the containers it left running: scaled from 2 to 3, the 2 are kept and 1 is added', async () => {
    const r1 = await runtime('m1')
    const stateDir = join(base, 'm1')
    const first = await Cluster.init({ stateDir, listenAddr: '127.0.0.1:0', runtime: r1, raft: RAFT })
    nodes.push(first)
    const web = await first.services.create(service('web', 2))
    await first.services.waitConverged(web.id, { signal: AbortSignal.timeout(GUARD_MS) })
    const before = await until(() => runningIds(r1, web.id), (ids) => ids.length === 2, '2 running containers')
    await first.close()
    nodes.splice(nodes.indexOf(first), 1)
    expect(await runningIds(r1, web.id)).toEqual(before) // closing a node leaves an instance's containers running
    const again = await Cluster.open({ stateDir, runtime: r1, raft: RAFT })
    nodes.push(again)
    if (again.role !== 'manager') throw new Error(`reopened as a ${again.role}`)
    // A scale through the reopened node proves its agent is back: one container added beside the two adopted.
    await again.services.scale(web.id, 3)
    await again.services.waitConverged(web.id, { signal: AbortSignal.timeout(GUARD_MS) })
    const after = await until(() => runningIds(r1, web.id), (ids) => ids.length === 3, '3 running containers')
    expect(after.filter((id) => before.includes(id))).toEqual(before)
    expect((await r1.list({ labels: { [SERVICE_LABEL]: web.id } })).length).toBe(3)
  }, 240_000)
})
