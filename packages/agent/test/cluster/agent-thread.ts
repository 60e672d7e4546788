/**
 * The agents' side of a {@link ThreadedCluster} (threaded-cluster.ts), run in a `worker_threads`
 * Worker: an `Agent` on a `FakeRuntime` with a `MemoryTaskDb` per node, each talking to the
 * dispatcher on the main thread through the MessagePort binding (port-binding.ts), on a
 * ManualClock of this thread that the main thread moves.
 *
 * The thread works only when a batch arrives from the main thread. After each, it turns its
 * event loop until nothing changes and then reports that it is idle — how many batches it had
 * received by then and when its next timer is due — so that the main thread moves virtual time
 * only when both threads are idle, to the earlier of their next timers.
 *
 * Control values (the binding's `send`): from the main thread `{ advance: ms }` (the clock's new
 * time), `{ ask: 'heap' }` (how much of this thread's heap is in use, after full collections when
 * node runs with `--expose-gc`), `{ ask: 'cpu' }` (this thread's CPU time so far, in ms; -1 where
 * `/proc/thread-self` is missing) and `{ stop: true }`; to it `{ idle: { received, nextDueAt } }`,
 * `{ answer: number }`, `{ stopped: true }` and `{ failed: message }`.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { getHeapStatistics } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { MessagePort } from 'node:worker_threads'
import { silentLogger } from '@swarmkit-ts/api'
import { FakeRuntime } from '@swarmkit-ts/engine-adapter'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { RuntimeExecutor } from '../../src/exec/index.ts'
import { Agent, MemoryTaskDb } from '../../src/worker/index.ts'
import { CLUSTER_IMAGE, serve } from './in-process-cluster.ts'
import { PortDispatcherClient } from './port-binding.ts'
import { turn } from './settle.ts'

/** What the main thread gives the agents' thread (its `workerData`). */
export interface AgentThreadInit {
  /** The agents' end of the dispatcher binding. */
  readonly port: MessagePort
  /** The nodes whose agents run here. */
  readonly nodes: readonly { readonly id: string; readonly hostname: string }[]
  /** Seed of this thread's SeededRandom. */
  readonly seed: number
  /** The virtual time both clocks start at. */
  readonly startMs: number
}

/** A control value of the main thread. */
export type ToAgents = { readonly advance: number } | { readonly ask: 'heap' | 'cpu' } | { readonly stop: true }
/** A control value of the agents' thread. */
export type FromAgents =
  | { readonly idle: { readonly received: number; readonly nextDueAt: number | null } }
  | { readonly answer: number }
  | { readonly stopped: true }
  | { readonly failed: string }

/** Marks the `workerData` of an agents' thread. */
export const AGENT_THREAD = 'swarmkit-agent-thread'

/** This thread's heap in use, after three full collections when `gc` is exposed. */
function heapUsed(): number {
  try {
    const gc = runInNewContext('gc') as () => void
    for (let i = 0; i < 3; i++) gc()
  } catch {
    // no --expose-gc: the heap as it is
  }
  return getHeapStatistics().used_heap_size
}

/** The calling thread's CPU time (user and system) in ms, from `/proc/thread-self/stat` (Linux); -1 elsewhere. */
export function threadCpuMs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (USER_HZ, 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return -1
  }
}

/** Runs the agents of `init.nodes` until the main thread says stop. */
export async function runAgentThread(init: AgentThreadInit): Promise<void> {
  const clock = new ManualClock(init.startMs)
  const random = new SeededRandom(init.seed)
  const agents: Agent[] = []
  const runtimes: FakeRuntime[] = []
  const failed = (err: unknown): void => client.send({ failed: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromAgents)

  let checking = false
  let stopping = false
  /** Turns the event loop until nothing changes, then reports idle. */
  const check = async (): Promise<void> => {
    if (checking || stopping) return
    checking = true
    try {
      let last = ''
      for (let quiet = 0; quiet < 2; ) {
        await turn()
        const c = client.counts
        let containers = 0
        for (const r of runtimes) containers += r.size
        const now = `${c.posted}|${c.received}|${c.pending}|${clock.pending()}|${containers}`
        quiet = now === last ? quiet + 1 : 0
        last = now
      }
      if (!stopping) client.send({ idle: { received: client.counts.received, nextDueAt: clock.nextDueAt() ?? null } } satisfies FromAgents)
    } finally {
      checking = false
    }
  }

  const stop = async (): Promise<void> => {
    stopping = true
    for (const a of agents) await a.stop()
    client.send({ stopped: true } satisfies FromAgents)
  }

  const client = new PortDispatcherClient(init.port, {
    onOther: (value) => {
      const v = value as ToAgents
      if ('advance' in v) clock.advance(Math.max(0, v.advance - clock.now()))
      else if ('ask' in v) client.send({ answer: v.ask === 'heap' ? heapUsed() : threadCpuMs() } satisfies FromAgents)
      else void stop().catch(failed)
    },
  })
  init.port.on('message', () => void check().catch(failed))

  try {
    for (const node of init.nodes) {
      const runtime = new FakeRuntime({ clock, images: { [CLUSTER_IMAGE]: { entrypoint: ['serve'], cmd: [] } }, programs: { serve } })
      const executor = new RuntimeExecutor({ runtime, clock, logger: silentLogger, hostname: node.hostname })
      const api = client.api(node.id)
      const agent = new Agent({ dispatcher: () => api, executor, taskDb: new MemoryTaskDb(), clock, random, logger: silentLogger })
      runtimes.push(runtime)
      agents.push(agent)
      await agent.start()
    }
    await check()
  } catch (err) {
    failed(err)
  }
}
