/**
 * Fixtures of the Cluster tests: temporary state directories, fast Raft timing, the fake runtime,
 * waits on conditions (guards only, never timing assertions), cleanup after each test.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { Cluster, type ClusterNode, type ManagerCluster, type WorkerCluster } from '../../src/cluster/index.ts'
import type { ClusterNodeOptions } from '../../src/cluster/index.ts'
import { killWorkloads } from '../../../../scripts/test-support/workloads.ts'

/** Fast Raft timing for 127.0.0.1 (election after 1–2 s without a leader: margin on a loaded machine). */
export const FAST_RAFT = { tickMs: 50, electionTick: 20, heartbeatTick: 1 } as const

/** Options every test node shares: the fake runtime, fast Raft, a 1 s dispatcher heartbeat. */
export const FAST: Pick<ClusterNodeOptions, 'runtime' | 'raft' | 'heartbeatPeriodMs'> = { runtime: 'fake', raft: FAST_RAFT, heartbeatPeriodMs: 1000 }

/** Polls `cond` until it holds; throws naming `what` after `guardMs` (a guard against hanging). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, guardMs = 60_000): Promise<void> {
  const deadline = Date.now() + guardMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** A signal aborted after `ms` (a failure guard of a wait). */
export const guard = (ms = 90_000): AbortSignal => AbortSignal.timeout(ms)

/** Nodes and directories of one test, closed and removed after it. */
export class ClusterRig {
  readonly nodes: ClusterNode[] = []
  readonly #dirs: string[] = []

  constructor() {
    afterEach(async () => {
      for (const n of this.nodes.splice(0).reverse()) await n.close()
      // The process runtime's workloads outlive their node by design: a test leaves none running.
      for (const d of this.#dirs) await killWorkloads(d)
      for (const d of this.#dirs.splice(0)) await rm(d, { recursive: true, force: true })
    })
  }

  /** A new state directory (short path: the control socket lives in it). */
  async dir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'ck-'))
    this.#dirs.push(d)
    return join(d, 's')
  }

  /** Tracks `node` for cleanup. */
  track<T extends ClusterNode>(node: T): T {
    this.nodes.push(node)
    return node
  }

  /** A new cluster's first manager. */
  async init(extra: Partial<Parameters<typeof Cluster.init>[0]> = {}): Promise<ManagerCluster> {
    return this.track(await Cluster.init({ stateDir: await this.dir(), listenAddr: '127.0.0.1:0', ...FAST, ...extra }))
  }

  /** A node joined to `via` with its `role` token. */
  async join(via: ManagerCluster, role: 'manager' | 'worker', extra: Partial<Parameters<typeof Cluster.join>[0]> = {}): Promise<ClusterNode> {
    const tokens = await via.joinTokens()
    return this.track(await Cluster.join({ stateDir: await this.dir(), joinAddr: via.address, token: tokens[role], ...FAST, ...extra }))
  }

  /** A manager joined to `via`. */
  async joinManager(via: ManagerCluster): Promise<ManagerCluster> {
    const node = await this.join(via, 'manager')
    if (node.role !== 'manager') throw new Error('joined as a worker')
    return node
  }

  /** A worker joined to `via`. */
  async joinWorker(via: ManagerCluster): Promise<WorkerCluster> {
    const node = await this.join(via, 'worker')
    if (node.role !== 'worker') throw new Error('joined as a manager')
    return node
  }

  /** Removes `node` from the cleanup list (the test closed it itself). */
  forget(node: ClusterNode): void {
    const i = this.nodes.indexOf(node)
    if (i >= 0) this.nodes.splice(i, 1)
  }
}

/** A replicated service on the fake runtime that prints `hello <n>` then sleeps. */
export function sleeper(name: string, replicas: number, env: readonly string[] = []): ServiceSpec {
  return {
    annotations: { name },
    mode: { replicated: { replicas } },
    task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'echo hello from $HOSTNAME; sleep 3600'], env: [...env] } },
  }
}

/** Tasks of `serviceId` running with desired state RUNNING, seen by `manager`. */
export async function runningTasks(manager: ManagerCluster, serviceId: string): Promise<number> {
  const tasks = await manager.tasks.list({ serviceIds: [serviceId] })
  return tasks.filter((t) => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING).length
}
