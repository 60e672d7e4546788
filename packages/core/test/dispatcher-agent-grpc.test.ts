// An Agent (FakeRuntime, real task files) talking to a Dispatcher over gRPC with mutual TLS through
// GrpcDispatcherConnector: a task assigned in the store runs and its status comes back; the
// manager's server restarts and the agent reconnects; an agent sent to a follower ends up on the
// leader, and the follower's channel is closed.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cryptoRandom, systemClock, TaskState } from '@swarmkit-ts/api'
import type { Task, WeightedManager } from '@swarmkit-ts/api'
import { Agent, RuntimeExecutor } from '@swarmkit-ts/agent'
import { FakeRuntime } from '@swarmkit-ts/engine-adapter'
import { Dispatcher } from '@swarmkit-ts/orchestrator'
import { MemoryStore } from '@swarmkit-ts/store'
import { SeededRandom } from '@swarmkit-ts/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GrpcDispatcherConnector } from '../src/dispatcher/index.ts'
import { startDispatcherServer, testPki, type DispatcherServerRig } from './helpers/dispatcher-rig.ts'
import { Cleanup, until } from './helpers/dispatcher-wait.ts'

const WORKER = 'wrk00000000000000000000a1'
const cleanup = new Cleanup()
let root = ''

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'core-dispatcher-agent-'))
})
afterEach(async () => {
  await cleanup.run()
  await rm(root, { recursive: true, force: true })
})

/** A leader's store and running dispatcher, stopped after the test. */
function leaderDispatcher(): { store: MemoryStore; dispatcher: Dispatcher } {
  const store = new MemoryStore()
  const dispatcher = new Dispatcher({ store, clock: systemClock, random: cryptoRandom })
  const handle = dispatcher.start()
  cleanup.add(() => handle.stop())
  return { store, dispatcher }
}

async function server(options: Parameters<typeof startDispatcherServer>[1]): Promise<DispatcherServerRig> {
  const rig = await startDispatcherServer(await testPki(), options)
  cleanup.add(() => rig.close())
  return rig
}

/** A worker's agent on a FakeRuntime, connected through a connector dialling `joinAddress`. */
async function worker(joinAddress: string, managers: readonly WeightedManager[] = []): Promise<{ agent: Agent; runtime: FakeRuntime; connector: GrpcDispatcherConnector }> {
  const connector = new GrpcDispatcherConnector({ credentials: await (await testPki()).client(WORKER), joinAddress })
  const runtime = new FakeRuntime()
  const agent = new Agent({
    dispatcher: connector.connect,
    managers,
    executor: new RuntimeExecutor({ runtime, clock: systemClock, hostname: 'w1' }),
    stateDir: join(root, 'worker'),
    clock: systemClock,
    random: new SeededRandom(7),
  })
  cleanup.add(async () => {
    await agent.stop()
    connector.close()
    for (const c of await runtime.list()) await runtime.remove(c.id, { force: true })
    await runtime.close()
  })
  await agent.start()
  return { agent, runtime, connector }
}

let seq = 0
/** Writes a task ASSIGNED to the worker (desired RUNNING) and returns its id. */
async function assign(store: MemoryStore): Promise<string> {
  const n = ++seq
  const id = `tsk${String(n).padStart(22, '0')}`
  const task: Omit<Task, 'meta'> = {
    id,
    spec: { container: { image: 'busybox:fake', command: ['sleep', '1000'] } },
    serviceId: 'svc0000000000000000000001',
    slot: n,
    nodeId: WORKER,
    annotations: { name: `web.${n}` },
    serviceAnnotations: { name: 'web' },
    status: { timestamp: 1, state: TaskState.ASSIGNED, message: 'scheduler assigned task to node' },
    desiredState: TaskState.RUNNING,
  }
  await store.update((tx) => tx.tasks.create(task))
  return id
}

function stateOf(store: MemoryStore, id: string): TaskState | undefined {
  return store.view((tx) => tx.tasks.get(id))?.status.state
}

describe('an agent over gRPC', () => {
  it('runs a task assigned in the store: its status reaches RUNNING in the store', async () => {
    const { store, dispatcher } = leaderDispatcher()
    const rig = await server({ dispatcher: () => dispatcher })
    const { agent, runtime } = await worker(rig.address)
    await until('the worker registered', () => agent.status.connected)
    expect(store.view((tx) => tx.nodes.get(WORKER))?.description?.hostname).toBe('w1')
    const id = await assign(store)
    await until('the task RUNNING in the store', () => stateOf(store, id) === TaskState.RUNNING)
    expect((await runtime.list()).map((c) => c.state)).toStrictEqual(['running'])
    expect(store.view((tx) => tx.tasks.get(id))?.status.containerStatus?.containerId).toBe((await runtime.list())[0]?.id)
  })

  it("reconnects after the manager's server restarts, keeping its task and running what is assigned after", async () => {
    const { store, dispatcher } = leaderDispatcher()
    const rig = await server({ dispatcher: () => dispatcher })
    const { agent, runtime, connector } = await worker(rig.address)
    const first = await assign(store)
    await until('the first task RUNNING', () => stateOf(store, first) === TaskState.RUNNING)
    expect(agent.status.sessions).toBe(1)

    // Abruptly: the server is shut down under the agent's open streams (no closeAll first).
    await rig.server.close()
    await until('the agent disconnected', () => !agent.status.connected)
    const again = await server({ dispatcher: () => dispatcher, listenAddress: rig.address })
    await until('the agent registered again', () => agent.status.connected && agent.status.sessions === 2, 30_000)

    const second = await assign(store)
    await until('the second task RUNNING', () => stateOf(store, second) === TaskState.RUNNING)
    expect(stateOf(store, first)).toBe(TaskState.RUNNING)
    expect((await runtime.list()).map((c) => c.state)).toStrictEqual(['running', 'running'])
    expect(connector.addresses).toStrictEqual([again.address])
  })

  it('joined through a follower, registers with the leader it names and closes the follower channel', async () => {
    const { store, dispatcher } = leaderDispatcher()
    const leader = await server({ dispatcher: () => dispatcher })
    const follower = await server({ dispatcher: () => undefined, leaderAddress: () => leader.address, managerId: 'mgr00000000000000000000f2' })
    const { agent, connector } = await worker(follower.address)
    await until('the worker registered', () => agent.status.connected)
    expect(store.view((tx) => tx.nodes.get(WORKER))?.status.state).toBe('ready')
    await until('only the leader channel open', () => connector.addresses.length === 1)
    expect(connector.addresses).toStrictEqual([leader.address])
    expect(follower.calls).toBeGreaterThanOrEqual(1)
  })

  it("fails over along the agent's manager list: from a follower to the leader it names", async () => {
    const { store, dispatcher } = leaderDispatcher()
    const leader = await server({ dispatcher: () => dispatcher })
    const follower = await server({ dispatcher: () => undefined, leaderAddress: () => leader.address, managerId: 'mgr00000000000000000000f3' })
    // The follower weighs far more: the agent picks it first, then the leader it names.
    const managers = [
      { nodeId: 'mgr00000000000000000000f3', addr: follower.address, weight: 1_000_000 },
      { nodeId: 'manager00000000000000001', addr: leader.address, weight: 1 },
    ]
    const { agent, connector } = await worker(follower.address, managers)
    await until('the worker registered', () => agent.status.connected)
    expect(agent.status.manager?.addr).toBe(leader.address)
    const id = await assign(store)
    await until('the task RUNNING', () => stateOf(store, id) === TaskState.RUNNING)
    expect(connector.addresses).toStrictEqual([leader.address])
    expect(follower.calls).toBeGreaterThanOrEqual(1)
  })
})
