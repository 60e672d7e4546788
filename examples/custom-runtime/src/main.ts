/**
 * A one-manager cluster whose tasks run in {@link RootfsRuntime}, an embedder's own
 * `ContainerRuntime`: `Cluster.init` is given the runtime instance, a 3-replica service with a
 * healthcheck is deployed, its three tasks are found running as healthy chrooted containers (each
 * saying hello), the service is scaled to 1 and removed, and everything is closed.
 *
 * Run (as root, or with user namespaces): pnpm --filter @swarmkit-ts/example-custom-runtime start
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TaskState, type ServiceSpec } from '@swarmkit-ts/api'
import { Cluster, type ManagerCluster } from '@swarmkit-ts/core'
import type { ContainerInfo } from '@swarmkit-ts/engine-adapter'
import { RootfsRuntime, createBusyboxRootfs } from './index.ts'

/** Options of {@link run}. */
export interface RunOptions {
  /** The static busybox the image is built from. @default the host's */
  readonly busybox?: string
  /** Where lines go. @default console.log */
  readonly print?: (line: string) => void
}

/** Raft ticks of 100 ms (SwarmKit's are 1 s): the single manager is leader within a second or two. */
const RAFT = { tickMs: 100, electionTick: 10, heartbeatTick: 1 } as const
/** The label the agent puts on every task container, naming its service. */
const SERVICE_LABEL = 'com.docker.swarm.service.id'
/** A failure guard on every wait (the machine may be slow; nothing here is timed). */
const GUARD_MS = 120_000

/** Polls the runtime until `count` containers of `serviceId` run, returning them. */
async function running(runtime: RootfsRuntime, serviceId: string, count: number): Promise<ContainerInfo[]> {
  const deadline = Date.now() + GUARD_MS
  for (;;) {
    const list = (await runtime.list({ labels: { [SERVICE_LABEL]: serviceId } })).filter((c) => c.state === 'running')
    if (list.length === count) return list
    if (Date.now() > deadline) throw new Error(`expected ${count} running containers of ${serviceId}, found ${list.length}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Whether container `c` said hello with its own hostname (the runtime sets HOSTNAME to its id's first 12 characters). */
async function saidHello(runtime: RootfsRuntime, c: ContainerInfo): Promise<boolean> {
  const ac = new AbortController()
  const guard = setTimeout(() => ac.abort(), GUARD_MS)
  try {
    for await (const l of runtime.logs(c.id, { follow: true, signal: ac.signal })) if (l.line === `hello from ${c.id.slice(0, 12)}`) return true
    return false
  } finally {
    clearTimeout(guard)
    ac.abort()
  }
}

/** Builds the image and the runtime, runs the scenario, closes everything (also on failure). */
export async function run(options: RunOptions = {}): Promise<void> {
  const print = options.print ?? console.log
  const base = await mkdtemp(join(tmpdir(), 'custom-runtime-'))
  let runtime: RootfsRuntime | undefined
  let manager: ManagerCluster | undefined
  try {
    const busybox = await createBusyboxRootfs(join(base, 'images', 'busybox'), options.busybox)
    runtime = await RootfsRuntime.open({ stateDir: join(base, 'runtime'), images: { busybox } })
    const described = await runtime.describe()
    manager = await Cluster.init({ stateDir: join(base, 'm1'), listenAddr: '127.0.0.1:0', runtime, raft: RAFT })
    print(`m1: cluster created, manager ${manager.nodeId} at ${manager.address}, tasks on the ${described.name} runtime`)
    const spec: ServiceSpec = {
      annotations: { name: 'hello' },
      mode: { replicated: { replicas: 3 } },
      task: {
        container: {
          image: 'busybox',
          command: ['sh', '-c', "trap 'exit 0' TERM; echo hello from $HOSTNAME; touch /tmp/ready; while true; do sleep 1; done"],
          // A task is RUNNING once its container is healthy: the probe runs inside the container's root.
          healthcheck: { test: ['CMD-SHELL', 'test -f /tmp/ready'], intervalMs: 200, timeoutMs: 5_000, retries: 3 },
        },
      },
    }
    const hello = await manager.services.create(spec)
    print('hello: created with 3 replicas')
    await manager.services.waitConverged(hello.id, { signal: AbortSignal.timeout(GUARD_MS) })
    const three = await running(runtime, hello.id, 3)
    const tasks = (await manager.tasks.list({ serviceIds: [hello.id] })).filter((t) => t.status.state === TaskState.RUNNING)
    const taskIds = (cs: readonly ContainerInfo[]): string[] => cs.map((c) => c.labels['com.docker.swarm.task.id'] ?? '').sort()
    if (taskIds(three).join() !== tasks.map((t) => t.id).sort().join()) throw new Error('the running containers are not the running tasks')
    const healthy = three.filter((c) => c.health === 'healthy').length
    print(`hello: converged, its 3 running tasks are the 3 running ${described.name} containers, ${healthy} healthy`)
    const hellos = await Promise.all(three.map((c) => saidHello(runtime as RootfsRuntime, c)))
    print(`hello: ${hellos.filter(Boolean).length} containers said hello from their own hostname`)
    await manager.services.scale(hello.id, 1)
    await manager.services.waitConverged(hello.id, { signal: AbortSignal.timeout(GUARD_MS) })
    await running(runtime, hello.id, 1)
    print('hello: scaled to 1, 1 container running')
    await manager.services.remove(hello.id)
    await running(runtime, hello.id, 0)
    print('hello: removed, no container running')
  } finally {
    await manager?.close()
    await runtime?.close() // the embedder owns its runtime: the cluster does not close it
    await rm(base, { recursive: true, force: true })
    print('closed')
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await run()
